/*
 * CA + CRL verification (see trust.h).  mbedTLS does the X.509 work; this
 * file decides which of its flags means which refusal, and checks the
 * identity rule our certificates follow: CN = node id = one DNS SAN.
 */
#include "trust.h"

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "xalloc.h"

struct trust {
	mbedtls_x509_crt	 ca;
	mbedtls_x509_crl	 crl;
	int			 have_crl;
	char			*crl_path;
	struct timespec		 crl_mtime;
	unsigned char		*crl_bytes;	/* of the CRL in force */
	size_t			 crl_len;
};

#define CRL_FILE_MAX (16u << 20)

int
trust_set_crl(struct trust *t, const unsigned char *buf, size_t len, char *err,
    size_t errlen)
{
	mbedtls_x509_crl crl;
	unsigned char *copy;
	int rc;

	/* PEM parsing wants a terminating NUL counted in the length. */
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	mbedtls_x509_crl_init(&crl);
	/* PEM is parsed with its NUL, DER without. */
	rc = mbedtls_x509_crl_parse(&crl, copy,
	    strstr((char *)copy, "-----BEGIN X509 CRL-----") ? len + 1 : len);
	if (rc != 0) {
		snprintf(err, errlen, "cannot parse CRL%s%s (mbedTLS -0x%04x)",
		    t->crl_path ? " " : "", t->crl_path ? t->crl_path : "",
		    (unsigned)-rc);
		mbedtls_x509_crl_free(&crl);
		free(copy);
		return -1;
	}
	if (t->have_crl)
		mbedtls_x509_crl_free(&t->crl);
	free(t->crl_bytes);
	t->crl = crl;
	t->have_crl = 1;
	t->crl_bytes = copy;
	t->crl_len = len;
	return 0;
}

const unsigned char *
trust_crl_bytes(const struct trust *t, size_t *len)
{
	*len = t->have_crl ? t->crl_len : 0;
	return t->have_crl ? t->crl_bytes : NULL;
}

static int
load_crl(struct trust *t, char *err, size_t errlen)
{
	char why[256];
	struct stat st;
	char *buf;
	size_t n = 0;
	int rc, e;

	buf = file_read(t->crl_path, CRL_FILE_MAX, &n, &st, why, sizeof(why));
	e = errno;
	if (buf == NULL && e != EFBIG) {
		snprintf(err, errlen, "cannot read CRL %s: %s", t->crl_path, why);
		return -1;
	}
	if (buf == NULL || n == 0) {
		snprintf(err, errlen, "CRL %s is empty or larger than %u bytes",
		    t->crl_path, CRL_FILE_MAX);
		free(buf);
		return -1;
	}
	rc = trust_set_crl(t, (const unsigned char *)buf, n, err, errlen);
	free(buf);
	/* Remember the mtime even on failure: a broken file is reported once,
	 * not on every check, and the old CRL stays in force. */
	t->crl_mtime = st.st_mtim;
	return rc;
}

struct trust *
trust_new(const char *ca_path, const char *crl_path, char *err, size_t errlen)
{
	struct trust *t = xcalloc(1, sizeof(*t));
	int rc;

	mbedtls_x509_crt_init(&t->ca);
	mbedtls_x509_crl_init(&t->crl);
	if (access(ca_path, R_OK) != 0) {
		snprintf(err, errlen, "cannot read CA certificate %s: %s", ca_path,
		    strerror(errno));
		trust_free(t);
		return NULL;
	}
	if ((rc = mbedtls_x509_crt_parse_file(&t->ca, ca_path)) != 0) {
		snprintf(err, errlen, "cannot load CA certificate %s (mbedTLS -0x%04x)",
		    ca_path, (unsigned)-rc);
		trust_free(t);
		return NULL;
	}
	if (crl_path != NULL && crl_path[0] != '\0') {
		t->crl_path = xstrdup(crl_path);
		if (load_crl(t, err, errlen) != 0) {
			trust_free(t);
			return NULL;
		}
	}
	return t;
}

void
trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_x509_crl_free(&t->crl);
	free(t->crl_path);
	free(t->crl_bytes);
	free(t);
}

int
trust_reload_crl(struct trust *t, char *err, size_t errlen)
{
	struct stat st;

	if (t->crl_path == NULL)
		return 0;
	if (stat(t->crl_path, &st) != 0) {
		snprintf(err, errlen, "cannot stat CRL %s", t->crl_path);
		return -1;
	}
	if (st.st_mtim.tv_sec == t->crl_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == t->crl_mtime.tv_nsec)
		return 0;
	return load_crl(t, err, errlen) == 0 ? 1 : -1;
}

int
trust_serial_revoked(const struct trust *t, const unsigned char *serial,
    size_t len)
{
	const mbedtls_x509_crl *crl;
	const mbedtls_x509_crl_entry *e;

	if (!t->have_crl)
		return 0;
	for (crl = &t->crl; crl != NULL; crl = crl->next)
		for (e = &crl->entry; e != NULL; e = e->next)
			if (e->serial.len == len && e->serial.p != NULL &&
			    memcmp(e->serial.p, serial, len) == 0)
				return 1;
	return 0;
}

const char *
trust_result_str(enum trust_result r)
{
	switch (r) {
	case TRUST_OK: return "ok";
	case TRUST_BAD_CERT: return "bad_certificate";
	case TRUST_EXPIRED: return "certificate_expired";
	case TRUST_REVOKED: return "certificate_revoked";
	case TRUST_IDENTITY_MISMATCH: return "identity_mismatch";
	}
	return "unknown";
}

void
trust_fingerprint(const mbedtls_x509_crt *crt, char *out)
{
	trust_fingerprint_der(crt->raw.p, crt->raw.len, out);
}

void
trust_fingerprint_der(const unsigned char *der, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[32];

	mbedtls_sha256_ret(der, len, h, 0);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[h[i] >> 4];
		out[7 + 2 * i + 1] = hex[h[i] & 15];
	}
	out[71] = '\0';
}

static int
get_cn(const mbedtls_x509_crt *crt, char *out, size_t outlen)
{
	const mbedtls_x509_name *n;

	for (n = &crt->subject; n != NULL; n = n->next) {
		if (n->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
			continue;
		if (n->val.len == 0 || n->val.len >= outlen ||
		    memchr(n->val.p, '\0', n->val.len) != NULL)
			return -1;
		memcpy(out, n->val.p, n->val.len);
		out[n->val.len] = '\0';
		return 0;
	}
	return -1;
}

static int
has_dns_san(const mbedtls_x509_crt *crt, const char *id)
{
	const mbedtls_x509_sequence *s;
	size_t len = strlen(id);

	if (!(crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME))
		return 0;
	for (s = &crt->subject_alt_names; s != NULL; s = s->next) {
		if (s->buf.p == NULL)
			continue;
		if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) &&
		    s->buf.len == len && memcmp(s->buf.p, id, len) == 0)
			return 1;
	}
	return 0;
}

int
trust_cert_identity(const mbedtls_x509_crt *crt, char *out, size_t outlen)
{
	if (get_cn(crt, out, outlen) != 0 || !has_dns_san(crt, out))
		return -1;
	return 0;
}

/* Checks a parsed chain (rc: what parsing it returned); frees it unless
 * it is handed to out_chain. */
static enum trust_result
verify_chain(struct trust *t, mbedtls_x509_crt *chain, int rc,
    const char *form, const char *expected_id, mbedtls_x509_crt *out_chain, char *fingerprint,
    char *detail, size_t detaillen)
{
	char ident[256];
	uint32_t flags = 0;
	enum trust_result r = TRUST_OK;

	if (rc != 0 || chain->raw.p == NULL) {
		snprintf(detail, detaillen, "certificate is not a valid %s X.509 chain",
		    form);
		r = TRUST_BAD_CERT;
		goto out;
	}
	if (mbedtls_pk_get_type(&chain->pk) != MBEDTLS_PK_ECKEY ||
	    mbedtls_pk_ec(chain->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
		snprintf(detail, detaillen, "certificate key is not ECDSA P-256");
		r = TRUST_BAD_CERT;
		goto out;
	}
	rc = mbedtls_x509_crt_verify(chain, &t->ca, t->have_crl ? &t->crl : NULL,
	    NULL, &flags, NULL, NULL);
	/* A stale CRL must not lock everybody out; it is logged at load. */
	flags &= ~(uint32_t)(MBEDTLS_X509_BADCRL_EXPIRED | MBEDTLS_X509_BADCRL_FUTURE);
	if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING |
	    MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_BAD_MD |
	    MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_OTHER |
	    MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE |
	    MBEDTLS_X509_BADCERT_NS_CERT_TYPE | MBEDTLS_X509_BADCRL_NOT_TRUSTED)) {
		snprintf(detail, detaillen,
		    "certificate does not chain to the mesh CA");
		r = TRUST_BAD_CERT;
	} else if (flags & MBEDTLS_X509_BADCERT_REVOKED) {
		snprintf(detail, detaillen, "certificate is revoked by the mesh CRL");
		r = TRUST_REVOKED;
	} else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) {
		snprintf(detail, detaillen,
		    "certificate is outside its validity period");
		r = TRUST_EXPIRED;
	} else if (flags != 0 || rc != 0) {
		snprintf(detail, detaillen, "certificate verification failed (flags 0x%x)",
		    (unsigned)flags);
		r = TRUST_BAD_CERT;
	} else if (trust_cert_identity(chain, ident, sizeof(ident)) != 0) {
		snprintf(detail, detaillen,
		    "certificate carries no identity (CN that is also a DNS SAN)");
		r = TRUST_IDENTITY_MISMATCH;
	} else if (strcmp(ident, expected_id) != 0) {
		snprintf(detail, detaillen,
		    "node_id \"%s\" does not match the certificate identity \"%s\"",
		    expected_id, ident);
		r = TRUST_IDENTITY_MISMATCH;
	}
	if (r == TRUST_OK && fingerprint != NULL)
		trust_fingerprint(chain, fingerprint);
out:
	if (r == TRUST_OK && out_chain != NULL)
		*out_chain = *chain;	/* the caller frees it */
	else
		mbedtls_x509_crt_free(chain);
	return r;
}

enum trust_result
trust_verify_pem(struct trust *t, const char *pem, size_t len,
    const char *expected_id, mbedtls_x509_crt *out_chain, char *fingerprint,
    char *detail, size_t detaillen)
{
	mbedtls_x509_crt chain;
	unsigned char *buf;
	int rc;

	/* mbedtls_x509_crt_parse wants a NUL-terminated PEM with len counting it. */
	buf = xmalloc(len + 1);
	memcpy(buf, pem, len);
	buf[len] = '\0';
	mbedtls_x509_crt_init(&chain);
	rc = mbedtls_x509_crt_parse(&chain, buf, len + 1);
	free(buf);
	return verify_chain(t, &chain, rc, "PEM", expected_id, out_chain, fingerprint,
	    detail, detaillen);
}

enum trust_result
trust_verify_der(struct trust *t, const unsigned char *der, size_t len,
    const char *expected_id, mbedtls_x509_crt *out_chain, char *fingerprint,
    char *detail, size_t detaillen)
{
	mbedtls_x509_crt chain;
	int rc;

	mbedtls_x509_crt_init(&chain);
	rc = mbedtls_x509_crt_parse_der(&chain, der, len);
	return verify_chain(t, &chain, rc, "DER", expected_id, out_chain, fingerprint,
	    detail, detaillen);
}
