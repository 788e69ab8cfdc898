/*
 * X.509 v2 CRL writer (see pki_crl.h).
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
 *   TBSCertList ::= SEQUENCE {
 *       version v2, signature AlgorithmIdentifier, issuer Name,
 *       thisUpdate Time, nextUpdate Time,
 *       revokedCertificates SEQUENCE OF SEQUENCE { serial, date, ... } OPTIONAL,
 *       crlExtensions [0] EXPLICIT Extensions }
 *
 * asn1write builds DER backwards from the end of a buffer, so every
 * structure below is written last field first.  Earlier entries are copied
 * byte for byte, which keeps their revocation dates and any entry
 * extensions another tool may have written.  The list is left out entirely
 * when empty, as RFC 5280 requires.  ECDSA AlgorithmIdentifiers carry no
 * parameters (RFC 5758), unlike mbedTLS 2.28's own writers which add NULL.
 */
#include "pki_crl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>

#define CHK(expr) do {						\
	int r_ = (expr);					\
	if (r_ < 0)						\
		return r_;					\
	len += (size_t)r_;					\
} while (0)

/* Time as UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
static int
write_time(unsigned char **p, unsigned char *start, const mbedtls_x509_time *t)
{
	char s[64];	/* room for any int values */
	size_t len = 0;
	int n;

	if (t->year < 1950 || t->year > 9999)
		return MBEDTLS_ERR_ASN1_INVALID_DATA;
	n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", t->year,
	    t->mon, t->day, t->hour, t->min, t->sec);
	if (n != 15)
		return MBEDTLS_ERR_ASN1_INVALID_DATA;
	if (t->year < 2050) {
		CHK(mbedtls_asn1_write_raw_buffer(p, start,
		    (const unsigned char *)s + 2, 13));
		CHK(mbedtls_asn1_write_len(p, start, len));
		CHK(mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_UTC_TIME));
	} else {
		CHK(mbedtls_asn1_write_raw_buffer(p, start,
		    (const unsigned char *)s, 15));
		CHK(mbedtls_asn1_write_len(p, start, len));
		CHK(mbedtls_asn1_write_tag(p, start,
		    MBEDTLS_ASN1_GENERALIZED_TIME));
	}
	return (int)len;
}

int
pki_crl_write_header(unsigned char **p, unsigned char *start, size_t len,
    int tag)
{
	size_t hdr = 0;
	int r;

	if ((r = mbedtls_asn1_write_len(p, start, len)) < 0)
		return r;
	hdr += (size_t)r;
	if ((r = mbedtls_asn1_write_tag(p, start, (unsigned char)tag)) < 0)
		return r;
	hdr += (size_t)r;
	return (int)hdr;
}

/* SEQUENCE { OID ecdsa-with-SHA256 }, no parameters. */
static int
write_sig_alg(unsigned char **p, unsigned char *start)
{
	size_t len = 0;

	CHK(mbedtls_asn1_write_oid(p, start, MBEDTLS_OID_ECDSA_SHA256,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256)));
	CHK(pki_crl_write_header(p, start, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

/* Extension ::= SEQUENCE { extnID, extnValue OCTET STRING } (non-critical). */
static int
write_extension(unsigned char **p, unsigned char *start, const char *oid,
    size_t oid_len, size_t value_len)
{
	size_t len = value_len;

	CHK(pki_crl_write_header(p, start, len, MBEDTLS_ASN1_OCTET_STRING));
	CHK(mbedtls_asn1_write_oid(p, start, oid, oid_len));
	CHK(pki_crl_write_header(p, start, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)(len - value_len);
}

static int
write_crl_extensions(unsigned char **p, unsigned char *start,
    const struct pki_crl_params *cp)
{
	const unsigned char *ski;
	unsigned char num[9];
	size_t len = 0, vlen, n, skilen;
	uint64_t v = cp->number;

	/* cRLNumber: a non-negative INTEGER, minimal big-endian content. */
	n = 0;
	do {
		num[sizeof(num) - 1 - n++] = (unsigned char)(v & 0xff);
		v >>= 8;
	} while (v != 0);
	if (num[sizeof(num) - n] & 0x80)
		num[sizeof(num) - 1 - n++] = 0;
	CHK(mbedtls_asn1_write_raw_buffer(p, start, num + sizeof(num) - n, n));
	CHK(pki_crl_write_header(p, start, n, MBEDTLS_ASN1_INTEGER));
	vlen = len;
	CHK(write_extension(p, start, MBEDTLS_OID_CRL_NUMBER,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_CRL_NUMBER), vlen));

	/*
	 * authorityKeyIdentifier = the CA's subjectKeyIdentifier, so
	 * verifiers can pick the right key.  A CA without one gets no AKI.
	 */
	if (pki_crl_find_extension(&cp->issuer->v3_ext,
	    MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER),
	    &ski, &skilen) == 0) {
		unsigned char *q = (unsigned char *)ski;
		const unsigned char *end = ski + skilen;
		size_t idlen, before = len;

		if (mbedtls_asn1_get_tag(&q, end, &idlen,
		    MBEDTLS_ASN1_OCTET_STRING) == 0 && q + idlen == end) {
			CHK(mbedtls_asn1_write_raw_buffer(p, start, q, idlen));
			CHK(pki_crl_write_header(p, start, idlen,
			    MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0));
			CHK(pki_crl_write_header(p, start, len - before,
			    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
			CHK(write_extension(p, start,
			    MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
			    MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER),
			    len - before));
		}
	}

	CHK(pki_crl_write_header(p, start, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	CHK(pki_crl_write_header(p, start, len,
	    MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0));
	return (int)len;
}

static int
write_entries(unsigned char **p, unsigned char *start,
    const struct pki_crl_params *cp)
{
	const mbedtls_x509_crl_entry *e;
	size_t len = 0, count = 0;

	if (cp->serial != NULL) {
		size_t elen = len;

		CHK(write_time(p, start, &cp->this_update));
		CHK(mbedtls_asn1_write_raw_buffer(p, start, cp->serial->p,
		    cp->serial->len));
		CHK(pki_crl_write_header(p, start, cp->serial->len,
		    MBEDTLS_ASN1_INTEGER));
		CHK(pki_crl_write_header(p, start, len - elen,
		    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
		count++;
	}
	/*
	 * Previous entries: mbedTLS keeps a singly linked list in file order.
	 * Writing backwards would reverse it, so collect them first.  CRLs
	 * here are small (one entry per revoked node), so a second pass over
	 * the list per entry would also do, but an array is simpler to read.
	 */
	if (cp->prev != NULL) {
		size_t n = 0, i;
		const mbedtls_x509_crl_entry **v;

		for (e = &cp->prev->entry; e != NULL; e = e->next)
			if (e->raw.len > 0)
				n++;
		if (n > 0) {
			v = calloc(n, sizeof(*v));
			if (v == NULL)
				return MBEDTLS_ERR_ASN1_ALLOC_FAILED;
			i = 0;
			for (e = &cp->prev->entry; e != NULL; e = e->next)
				if (e->raw.len > 0)
					v[i++] = e;
			while (i-- > 0) {
				int r;

				r = mbedtls_asn1_write_raw_buffer(p, start,
				    v[i]->raw.p, v[i]->raw.len);
				if (r >= 0) {
					len += (size_t)r;
					r = pki_crl_write_header(p, start,
					    v[i]->raw.len,
					    MBEDTLS_ASN1_CONSTRUCTED |
					    MBEDTLS_ASN1_SEQUENCE);
				}
				if (r < 0) {
					free(v);
					return r;
				}
				len += (size_t)r;
				count++;
			}
			free(v);
		}
	}
	if (count > 0)
		CHK(pki_crl_write_header(p, start, len,
		    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

size_t
pki_crl_der_bound(const struct pki_crl_params *p)
{
	size_t n = 1024 + p->issuer->subject_raw.len;

	if (p->prev != NULL)
		n += p->prev->raw.len;
	if (p->serial != NULL)
		n += p->serial->len + 64;
	return n;
}

#define OUT_CHK(expr) do {					\
	if ((r = (expr)) < 0)					\
		goto out;					\
	len += (size_t)r;					\
} while (0)

int
pki_crl_write_der(const struct pki_crl_params *cp, unsigned char *buf,
    size_t size)
{
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	unsigned char *tbs, *c, *tbs_end;
	size_t len = 0, sig_len, tbs_len;
	int r;

	if (cp->issuer == NULL || cp->key == NULL ||
	    !mbedtls_pk_can_do(cp->key, MBEDTLS_PK_ECDSA))
		return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
	/*
	 * The TBS is built in its own buffer: it must be hashed before the
	 * fields that follow it in the output exist.
	 */
	if ((tbs = malloc(size)) == NULL)
		return MBEDTLS_ERR_ASN1_ALLOC_FAILED;
	c = tbs_end = tbs + size;
	OUT_CHK(write_crl_extensions(&c, tbs, cp));
	OUT_CHK(write_entries(&c, tbs, cp));
	OUT_CHK(write_time(&c, tbs, &cp->next_update));
	OUT_CHK(write_time(&c, tbs, &cp->this_update));
	OUT_CHK(mbedtls_asn1_write_raw_buffer(&c, tbs,
	    cp->issuer->subject_raw.p, cp->issuer->subject_raw.len));
	OUT_CHK(write_sig_alg(&c, tbs));
	OUT_CHK(mbedtls_asn1_write_int(&c, tbs, 1));	/* v2 */
	OUT_CHK(pki_crl_write_header(&c, tbs, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	tbs_len = len;

	if ((r = mbedtls_sha256_ret(c, len, hash, 0)) != 0)
		goto out;
	if ((r = mbedtls_pk_sign(cp->key, MBEDTLS_MD_SHA256, hash, sizeof(hash),
	    sig, &sig_len, cp->f_rng, cp->p_rng)) != 0)
		goto out;

	/* CertificateList: the signature, its algorithm, then the TBS. */
	c = buf + size;
	len = 0;
	OUT_CHK(mbedtls_asn1_write_bitstring(&c, buf, sig, sig_len * 8));
	OUT_CHK(write_sig_alg(&c, buf));
	OUT_CHK(mbedtls_asn1_write_raw_buffer(&c, buf, tbs_end - tbs_len,
	    tbs_len));
	OUT_CHK(pki_crl_write_header(&c, buf, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	r = (int)len;
out:
	free(tbs);
	return r;
}

int
pki_crl_find_extension(const mbedtls_x509_buf *exts, const char *oid,
    size_t oid_len, const unsigned char **val, size_t *vlen)
{
	unsigned char *p = exts->p, *end, *ext_end;
	size_t len;
	int crit;

	if (p == NULL || exts->len == 0)
		return -1;
	end = p + exts->len;
	if (mbedtls_asn1_get_tag(&p, end, &len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
		return -1;
	end = p + len;
	while (p < end) {
		if (mbedtls_asn1_get_tag(&p, end, &len,
		    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
			return -1;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &len,
		    MBEDTLS_ASN1_OID) != 0)
			return -1;
		if (len == oid_len && memcmp(p, oid, oid_len) == 0) {
			p += len;
			if (mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0)
				crit = 0;
			if (mbedtls_asn1_get_tag(&p, ext_end, &len,
			    MBEDTLS_ASN1_OCTET_STRING) != 0 ||
			    p + len != ext_end)
				return -1;
			*val = p;
			*vlen = len;
			return 0;
		}
		p = ext_end;
	}
	return -1;
}

int
pki_crl_number(const mbedtls_x509_crl *crl, uint64_t *number)
{
	const unsigned char *v;
	unsigned char *p;
	size_t vlen, len;

	*number = 0;
	if (crl->crl_ext.p == NULL || crl->crl_ext.len == 0)
		return 0;
	if (pki_crl_find_extension(&crl->crl_ext, MBEDTLS_OID_CRL_NUMBER,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_CRL_NUMBER), &v, &vlen) != 0)
		return 0;
	p = (unsigned char *)v;
	if (mbedtls_asn1_get_tag(&p, v + vlen, &len, MBEDTLS_ASN1_INTEGER) != 0 ||
	    p + len != v + vlen || len == 0 || (p[0] & 0x80))
		return -1;
	while (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (len > 8)
		return -1;
	while (len-- > 0)
		*number = (*number << 8) | *p++;
	return 0;
}

/* Serial content bytes without the sign-padding zeros. */
static void
strip(const unsigned char **p, size_t *len)
{
	while (*len > 1 && (*p)[0] == 0) {
		(*p)++;
		(*len)--;
	}
}

int
pki_crl_lists(const mbedtls_x509_crl *crl, const mbedtls_x509_buf *serial)
{
	const mbedtls_x509_crl_entry *e;
	const unsigned char *a = serial->p, *b;
	size_t alen = serial->len, blen;

	strip(&a, &alen);
	for (e = &crl->entry; e != NULL; e = e->next) {
		if (e->raw.len == 0)
			continue;
		b = e->serial.p;
		blen = e->serial.len;
		strip(&b, &blen);
		if (alen == blen && memcmp(a, b, alen) == 0)
			return 1;
	}
	return 0;
}
