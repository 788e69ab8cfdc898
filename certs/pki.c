/*
 * The mesh CA in memory (see pki.h).
 *
 * A struct pki_ca holds the parsed CA certificate, its private key, its own
 * random generator (common/rng.c, seeded once: issuing thousands of
 * certificates must not reseed each time; being unlocked, it is why a
 * struct pki_ca belongs to one thread), and the CA subject as an mbedTLS
 * name list so issued certificates name their issuer with exactly the bytes
 * of the CA's subject; pki_ca_load() checks that this holds, because chain
 * building in OpenSSL and mbedTLS compares those names.
 *
 * Extensions mbedTLS 2.28 cannot write itself (subjectAltName and
 * extendedKeyUsage) are encoded here with asn1write and attached with
 * mbedtls_x509write_crt_set_extension().
 */
#include "pki.h"
#include "pki_crl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "node_id.h"
#include "rng.h"

#define CERT_PEM_MAX	16384
#define KEY_PEM_MAX	1024
#define SAN_DER_MAX	(PKI_SAN_MAX * 300 + 512)
#define DNS_NAME_MAX	253

struct pki_ca {
	mbedtls_x509_crt		 crt;
	mbedtls_pk_context		 key;
	struct rng			*rng;
	mbedtls_asn1_named_data		*subject;	/* crt's subject, for issuing */
	char				*cert_pem;
};

static void
seterr(char *err, size_t errlen, const char *what, int ret)
{
	char msg[128];

	if (err == NULL || errlen == 0)
		return;
	if (ret != 0) {
		mbedtls_strerror(ret, msg, sizeof(msg));
		snprintf(err, errlen, "%s: %s (-0x%04x)", what, msg,
		    (unsigned int)-ret);
	} else
		snprintf(err, errlen, "%s", what);
}

/* "YYYYMMDDhhmmss" for mbedtls_x509write_crt_set_validity(). */
static int
format_time(time_t t, char out[15])
{
	char buf[64];	/* room for any int, so the compiler sees no truncation */
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1950)
		return -1;
	if (snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec) != 14)
		return -1;
	memcpy(out, buf, 15);
	return 0;
}

static int
set_validity(mbedtls_x509write_cert *w, time_t not_before, unsigned int days,
    char *err, size_t errlen)
{
	char nb[15], na[15];

	if (days < 1 || days > PKI_DAYS_MAX) {
		snprintf(err, errlen, "validity of %u days is outside [1, %d]",
		    days, PKI_DAYS_MAX);
		return -1;
	}
	if (not_before == 0)
		not_before = time(NULL) - PKI_BACKDATE;
	if (format_time(not_before, nb) != 0 ||
	    format_time(not_before + (time_t)days * 86400, na) != 0) {
		snprintf(err, errlen, "validity period outside years 1950-9999");
		return -1;
	}
	if (mbedtls_x509write_crt_set_validity(w, nb, na) != 0) {
		snprintf(err, errlen, "cannot set validity %s-%s", nb, na);
		return -1;
	}
	return 0;
}

/* A random positive serial of at most 127 bits, never zero. */
static int
set_serial(mbedtls_x509write_cert *w, struct rng *rng)
{
	unsigned char b[16];
	mbedtls_mpi s;
	int ret;

	do {
		/* rng_mbedtls(), not rng_bytes(): callers report its code. */
		if ((ret = rng_mbedtls(rng, b, sizeof(b))) != 0)
			return ret;
		b[0] &= 0x7f;
	} while (b[0] == 0 && b[1] == 0);	/* also keeps >= 15 octets */
	mbedtls_mpi_init(&s);
	if ((ret = mbedtls_mpi_read_binary(&s, b, sizeof(b))) == 0)
		ret = mbedtls_x509write_crt_set_serial(w, &s);
	mbedtls_mpi_free(&s);
	return ret;
}

static int
gen_key(mbedtls_pk_context *key, struct rng *rng)
{
	int ret;

	if ((ret = mbedtls_pk_setup(key,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0)
		return ret;
	return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
	    rng_mbedtls, rng);
}

static int
is_p256(const mbedtls_pk_context *key)
{
	return mbedtls_pk_get_type(key) == MBEDTLS_PK_ECKEY &&
	    mbedtls_pk_ec(*key)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

static struct pki_ca *
ca_alloc(char *err, size_t errlen)
{
	struct pki_ca *ca;

	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		seterr(err, errlen, "out of memory", 0);
		return NULL;
	}
	mbedtls_x509_crt_init(&ca->crt);
	mbedtls_pk_init(&ca->key);
	if ((ca->rng = rng_new("agentflow-pki")) == NULL) {
		seterr(err, errlen, "cannot seed the random generator", 0);
		pki_ca_free(ca);
		return NULL;
	}
	return ca;
}

void
pki_ca_free(struct pki_ca *ca)
{
	if (ca == NULL)
		return;
	mbedtls_x509_crt_free(&ca->crt);
	mbedtls_pk_free(&ca->key);
	rng_free(ca->rng);
	mbedtls_asn1_free_named_data_list(&ca->subject);
	free(ca->cert_pem);
	free(ca);
}

/*
 * Copies the CA subject into a name list that mbedtls_x509_write_names()
 * turns back into the same DER, and checks that it does (multi-valued
 * RDNs, for one, would not survive).
 */
static int
copy_subject(struct pki_ca *ca, char *err, size_t errlen)
{
	const mbedtls_x509_name *n;
	mbedtls_asn1_named_data *cur;
	unsigned char buf[1024], *c;
	int len;

	for (n = &ca->crt.subject; n != NULL; n = n->next) {
		if (n->oid.p == NULL)
			continue;
		/* Prepend: the writer emits the list last element first. */
		if ((cur = mbedtls_calloc(1, sizeof(*cur))) == NULL ||
		    (cur->oid.p = mbedtls_calloc(1, n->oid.len)) == NULL ||
		    (cur->val.p = mbedtls_calloc(1, n->val.len + 1)) == NULL) {
			if (cur != NULL)
				mbedtls_free(cur->oid.p);
			mbedtls_free(cur);
			seterr(err, errlen, "out of memory", 0);
			return -1;
		}
		memcpy(cur->oid.p, n->oid.p, n->oid.len);
		cur->oid.len = n->oid.len;
		cur->oid.tag = n->oid.tag;
		memcpy(cur->val.p, n->val.p, n->val.len);
		cur->val.len = n->val.len;
		cur->val.tag = n->val.tag;
		cur->next = ca->subject;
		ca->subject = cur;
	}
	c = buf + sizeof(buf);
	len = mbedtls_x509_write_names(&c, buf, ca->subject);
	if (len < 0 || (size_t)len != ca->crt.subject_raw.len ||
	    memcmp(c, ca->crt.subject_raw.p, (size_t)len) != 0) {
		seterr(err, errlen,
		    "the CA subject name cannot be reproduced exactly "
		    "(multi-valued or oversized name)", 0);
		return -1;
	}
	return 0;
}

/*
 * Makes a copy of cert_pem the CA certificate (ca->key is already set),
 * parses it into ca->crt and prepares the issuer name.
 */
static int
ca_finish(struct pki_ca *ca, const char *cert_pem, char *err, size_t errlen)
{
	int ret;

	if ((ca->cert_pem = strdup(cert_pem)) == NULL) {
		seterr(err, errlen, "out of memory", 0);
		return -1;
	}
	ret = mbedtls_x509_crt_parse(&ca->crt,
	    (const unsigned char *)ca->cert_pem, strlen(ca->cert_pem) + 1);
	if (ret != 0) {
		seterr(err, errlen, "cannot parse the CA certificate", ret);
		return -1;
	}
	if (!ca->crt.ca_istrue) {
		seterr(err, errlen,
		    "the certificate is not a CA (basicConstraints CA:false)", 0);
		return -1;
	}
	if (!is_p256(&ca->crt.pk) || !is_p256(&ca->key)) {
		seterr(err, errlen, "the CA key is not ECDSA P-256", 0);
		return -1;
	}
	if ((ret = mbedtls_pk_check_pair(&ca->crt.pk, &ca->key)) != 0) {
		seterr(err, errlen,
		    "the CA private key does not match the CA certificate", ret);
		return -1;
	}
	return copy_subject(ca, err, errlen);
}

static int
valid_ca_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > PKI_NAME_MAX || name[0] == ' ' || name[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '\\')
			return 0;
	return 1;
}

struct pki_ca *
pki_ca_new(const char *name, time_t not_before, unsigned int days, char *err,
    size_t errlen)
{
	char subject[2 * PKI_NAME_MAX + 8], *d;
	unsigned char buf[CERT_PEM_MAX];
	mbedtls_x509write_cert w;
	struct pki_ca *ca;
	int ret;

	if (name == NULL || !valid_ca_name(name)) {
		seterr(err, errlen, "invalid CA name: use 1-64 printable "
		    "ASCII characters, no backslash or surrounding spaces", 0);
		return NULL;
	}
	/* mbedTLS's name parser only knows the "\," escape. */
	d = subject + snprintf(subject, sizeof(subject), "CN=");
	for (const char *s = name; *s != '\0'; s++) {
		if (*s == ',')
			*d++ = '\\';
		*d++ = *s;
	}
	*d = '\0';

	if ((ca = ca_alloc(err, errlen)) == NULL)
		return NULL;
	if ((ret = gen_key(&ca->key, ca->rng)) != 0) {
		seterr(err, errlen, "cannot generate the CA key", ret);
		pki_ca_free(ca);
		return NULL;
	}

	mbedtls_x509write_crt_init(&w);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, &ca->key);
	mbedtls_x509write_crt_set_issuer_key(&w, &ca->key);
	if (set_validity(&w, not_before, days, err, errlen) != 0)
		goto fail_quiet;
	if ((ret = set_serial(&w, ca->rng)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&w, subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_key_usage(&w,
	    MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_pem(&w, buf, sizeof(buf),
	    rng_mbedtls, ca->rng)) != 0) {
		seterr(err, errlen, "cannot create the CA certificate", ret);
		goto fail_quiet;
	}
	mbedtls_x509write_crt_free(&w);
	if (ca_finish(ca, (const char *)buf, err, errlen) != 0) {
		pki_ca_free(ca);
		return NULL;
	}
	return ca;

fail_quiet:
	mbedtls_x509write_crt_free(&w);
	pki_ca_free(ca);
	return NULL;
}

struct pki_ca *
pki_ca_load(const char *cert_pem, const char *key_pem, char *err,
    size_t errlen)
{
	struct pki_ca *ca;
	int ret;

	if ((ca = ca_alloc(err, errlen)) == NULL)
		return NULL;
	ret = mbedtls_pk_parse_key(&ca->key, (const unsigned char *)key_pem,
	    strlen(key_pem) + 1, NULL, 0);
	if (ret != 0) {
		seterr(err, errlen, "cannot parse the CA private key", ret);
		pki_ca_free(ca);
		return NULL;
	}
	if (ca_finish(ca, cert_pem, err, errlen) != 0) {
		pki_ca_free(ca);
		return NULL;
	}
	return ca;
}

const char *
pki_ca_cert_pem(const struct pki_ca *ca)
{
	return ca->cert_pem;
}

static char *
key_to_pem(mbedtls_pk_context *key, char *err, size_t errlen)
{
	unsigned char buf[KEY_PEM_MAX];
	char *s;
	int ret;

	if ((ret = mbedtls_pk_write_key_pem(key, buf, sizeof(buf))) != 0) {
		seterr(err, errlen, "cannot encode the private key", ret);
		mbedtls_platform_zeroize(buf, sizeof(buf));
		return NULL;
	}
	s = strdup((char *)buf);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	if (s == NULL)
		seterr(err, errlen, "out of memory", 0);
	return s;
}

char *
pki_ca_key_pem(const struct pki_ca *ca, char *err, size_t errlen)
{
	/* mbedtls_pk_write_key_pem() takes a non-const context. */
	return key_to_pem((mbedtls_pk_context *)&ca->key, err, errlen);
}

int
pki_dns_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > DNS_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || (c == '*' && i == 0 && s[1] == '.')))
			return 0;
	}
	return strstr(s, "..") == NULL;
}

/* GeneralName [tag] IMPLICIT value, prepended at *p. */
static int
write_general_name(unsigned char **p, unsigned char *start, int tag,
    const void *v, size_t vlen)
{
	return mbedtls_asn1_write_tagged_string(p, start,
	    MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag, v, vlen);
}

/*
 * subjectAltName: the node id, then the extra DNS names, then the IPs.
 * Returns the DER length at the end of buf, or -1 with err set.
 */
static int
build_san(const struct pki_cert_params *cp, unsigned char *buf, size_t size,
    unsigned char **out, char *err, size_t errlen)
{
	unsigned char *c = buf + size, ip[16];
	size_t len = 0;
	int r;

	for (size_t i = cp->nips; i-- > 0;) {
		size_t iplen;

		if (inet_pton(AF_INET, cp->ips[i], ip) == 1)
			iplen = 4;
		else if (inet_pton(AF_INET6, cp->ips[i], ip) == 1)
			iplen = 16;
		else {
			snprintf(err, errlen, "invalid IP address \"%s\"",
			    cp->ips[i]);
			return -1;
		}
		if ((r = write_general_name(&c, buf, 7, ip, iplen)) < 0)
			goto toobig;
		len += (size_t)r;
	}
	for (size_t i = cp->ndns; i-- > 0;) {
		if (!pki_dns_name_valid(cp->dns[i])) {
			snprintf(err, errlen, "invalid DNS name \"%.64s\"",
			    cp->dns[i]);
			return -1;
		}
		if (strcasecmp(cp->dns[i], cp->node_id) == 0)
			continue;	/* already there, first */
		if ((r = write_general_name(&c, buf, 2, cp->dns[i],
		    strlen(cp->dns[i]))) < 0)
			goto toobig;
		len += (size_t)r;
	}
	if ((r = write_general_name(&c, buf, 2, cp->node_id,
	    strlen(cp->node_id))) < 0)
		goto toobig;
	len += (size_t)r;
	if ((r = pki_crl_write_header(&c, buf, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		goto toobig;
	len += (size_t)r;
	*out = c;
	return (int)len;
toobig:
	snprintf(err, errlen, "subjectAltName too large");
	return -1;
}

/* extendedKeyUsage: serverAuth and clientAuth, one cert for both ends. */
static int
build_eku(unsigned char *buf, size_t size, unsigned char **out)
{
	unsigned char *c = buf + size;
	size_t len = 0;
	int r;

	if ((r = mbedtls_asn1_write_oid(&c, buf, MBEDTLS_OID_CLIENT_AUTH,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH))) < 0)
		return r;
	len += (size_t)r;
	if ((r = mbedtls_asn1_write_oid(&c, buf, MBEDTLS_OID_SERVER_AUTH,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH))) < 0)
		return r;
	len += (size_t)r;
	if ((r = pki_crl_write_header(&c, buf, len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		return r;
	len += (size_t)r;
	*out = c;
	return (int)len;
}

int
pki_ca_issue(struct pki_ca *ca, const struct pki_cert_params *cp,
    char **cert_pem, char **key_pem, char *err, size_t errlen)
{
	unsigned char san[SAN_DER_MAX], eku[64], *san_p, *eku_p;
	unsigned char *pem = NULL;
	char subject[8 + NODE_ID_MAX];
	mbedtls_x509write_cert w;
	mbedtls_pk_context key;
	int ret, san_len, eku_len;

	*cert_pem = NULL;
	*key_pem = NULL;
	if (cp->node_id == NULL ||
	    !node_id_valid(cp->node_id, strlen(cp->node_id))) {
		snprintf(err, errlen, "invalid node id \"%.80s\": use 1-%d "
		    "characters of A-Z a-z 0-9 . _ -, starting with a letter "
		    "or digit", cp->node_id ? cp->node_id : "", NODE_ID_MAX);
		return -1;
	}
	if (cp->ndns + cp->nips > PKI_SAN_MAX) {
		snprintf(err, errlen, "too many extra SANs (%zu, at most %d)",
		    cp->ndns + cp->nips, PKI_SAN_MAX);
		return -1;
	}
	if ((san_len = build_san(cp, san, sizeof(san), &san_p, err,
	    errlen)) < 0)
		return -1;
	if ((eku_len = build_eku(eku, sizeof(eku), &eku_p)) < 0) {
		seterr(err, errlen, "cannot encode extendedKeyUsage", eku_len);
		return -1;
	}

	mbedtls_pk_init(&key);
	if (cp->key_pem != NULL) {
		size_t n = strlen(cp->key_pem) + 1;

		ret = mbedtls_pk_parse_public_key(&key,
		    (const unsigned char *)cp->key_pem, n);
		if (ret != 0) {
			mbedtls_pk_free(&key);
			mbedtls_pk_init(&key);
			ret = mbedtls_pk_parse_key(&key,
			    (const unsigned char *)cp->key_pem, n, NULL, 0);
		}
		if (ret != 0) {
			seterr(err, errlen, "cannot parse the node key", ret);
			goto fail;
		}
		if (!is_p256(&key)) {
			seterr(err, errlen, "the node key is not ECDSA P-256", 0);
			goto fail;
		}
	} else if ((ret = gen_key(&key, ca->rng)) != 0) {
		seterr(err, errlen, "cannot generate the node key", ret);
		goto fail;
	}

	snprintf(subject, sizeof(subject), "CN=%s", cp->node_id);
	mbedtls_x509write_crt_init(&w);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, &key);
	mbedtls_x509write_crt_set_issuer_key(&w, &ca->key);
	/* Borrowed; detached again before mbedtls_x509write_crt_free(). */
	w.issuer = ca->subject;
	if (set_validity(&w, cp->not_before, cp->days, err, errlen) != 0)
		goto fail_w;
	if ((pem = malloc(CERT_PEM_MAX)) == NULL) {
		seterr(err, errlen, "out of memory", 0);
		goto fail_w;
	}
	if ((ret = set_serial(&w, ca->rng)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_key_usage(&w,
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_extension(&w,
	    MBEDTLS_OID_EXTENDED_KEY_USAGE,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
	    eku_p, (size_t)eku_len)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_extension(&w,
	    MBEDTLS_OID_SUBJECT_ALT_NAME,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
	    san_p, (size_t)san_len)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_pem(&w, pem, CERT_PEM_MAX,
	    rng_mbedtls, ca->rng)) != 0) {
		seterr(err, errlen, "cannot create the node certificate", ret);
		goto fail_w;
	}
	w.issuer = NULL;
	mbedtls_x509write_crt_free(&w);

	if (cp->key_pem == NULL &&
	    (*key_pem = key_to_pem(&key, err, errlen)) == NULL)
		goto fail;
	if ((*cert_pem = strdup((char *)pem)) == NULL) {
		seterr(err, errlen, "out of memory", 0);
		pki_secret_free(*key_pem);
		*key_pem = NULL;
		goto fail;
	}
	free(pem);
	mbedtls_pk_free(&key);
	return 0;

fail_w:
	w.issuer = NULL;
	mbedtls_x509write_crt_free(&w);
fail:
	free(pem);
	mbedtls_pk_free(&key);
	return -1;
}

static void
to_x509_time(time_t t, mbedtls_x509_time *out)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	out->year = tm.tm_year + 1900;
	out->mon = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->min = tm.tm_min;
	out->sec = tm.tm_sec;
}

/* Whether crl names crt's subject as issuer and carries its signature. */
static int
crl_signed_by(const mbedtls_x509_crl *crl, const mbedtls_x509_crt *crt)
{
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];
	const mbedtls_md_info_t *md;

	if (crl->issuer_raw.len != crt->subject_raw.len ||
	    memcmp(crl->issuer_raw.p, crt->subject_raw.p,
	    crl->issuer_raw.len) != 0)
		return 0;
	if ((md = mbedtls_md_info_from_type(crl->sig_md)) == NULL ||
	    mbedtls_md(md, crl->tbs.p, crl->tbs.len, hash) != 0)
		return 0;
	/* mbedtls_pk_verify_ext() takes a non-const context. */
	return mbedtls_pk_verify_ext(crl->sig_pk, crl->sig_opts,
	    (mbedtls_pk_context *)&crt->pk, crl->sig_md, hash,
	    mbedtls_md_get_size(md), crl->sig.p, crl->sig.len) == 0;
}

int
pki_ca_revoke(struct pki_ca *ca, const char *prev_crl_pem,
    const char *cert_pem, time_t now, char **crl_pem, int *already,
    char *err, size_t errlen)
{
	struct pki_crl_params p = {
		.issuer = &ca->crt,
		.key = &ca->key,
		.f_rng = rng_mbedtls,
		.p_rng = ca->rng,
	};
	mbedtls_x509_crl prev;
	mbedtls_x509_crt crt;
	unsigned char *der = NULL, *pem = NULL;
	size_t size, olen;
	uint32_t flags;
	int ret, rc = -1, len;

	*crl_pem = NULL;
	if (already != NULL)
		*already = 0;
	mbedtls_x509_crl_init(&prev);
	mbedtls_x509_crt_init(&crt);

	if (prev_crl_pem != NULL) {
		ret = mbedtls_x509_crl_parse(&prev,
		    (const unsigned char *)prev_crl_pem,
		    strlen(prev_crl_pem) + 1);
		if (ret != 0) {
			seterr(err, errlen, "cannot parse the current CRL", ret);
			goto out;
		}
		if (prev.next != NULL) {
			seterr(err, errlen,
			    "the current CRL file holds more than one CRL", 0);
			goto out;
		}
		if (!crl_signed_by(&prev, &ca->crt)) {
			seterr(err, errlen,
			    "the current CRL was not issued by this CA", 0);
			goto out;
		}
		if (pki_crl_number(&prev, &p.number) != 0) {
			seterr(err, errlen,
			    "the current CRL has a malformed CRL number", 0);
			goto out;
		}
		p.prev = &prev;
	}
	p.number++;

	if (cert_pem != NULL) {
		ret = mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem,
		    strlen(cert_pem) + 1);
		if (ret != 0) {
			seterr(err, errlen, "cannot parse the certificate to revoke",
			    ret);
			goto out;
		}
		/*
		 * Only the signature matters here: expired or otherwise
		 * unusable certificates can still be revoked.
		 */
		ret = mbedtls_x509_crt_verify(&crt, &ca->crt, NULL, NULL, &flags,
		    NULL, NULL);
		if (ret != 0 && (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED |
		    MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
		    MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_OTHER))) {
			seterr(err, errlen,
			    "the certificate to revoke was not issued by this CA", 0);
			goto out;
		}
		if (p.prev != NULL && pki_crl_lists(&prev, &crt.serial)) {
			if (already != NULL)
				*already = 1;
		} else
			p.serial = &crt.serial;
	}

	to_x509_time(now != 0 ? now : time(NULL), &p.this_update);
	p.next_update = ca->crt.valid_to;
	size = pki_crl_der_bound(&p);
	if ((der = malloc(size)) == NULL ||
	    (pem = malloc(size * 2 + 128)) == NULL) {
		seterr(err, errlen, "out of memory", 0);
		goto out;
	}
	if ((len = pki_crl_write_der(&p, der, size)) < 0) {
		seterr(err, errlen, "cannot write the CRL", len);
		goto out;
	}
	ret = mbedtls_pem_write_buffer("-----BEGIN X509 CRL-----\n",
	    "-----END X509 CRL-----\n", der + size - (size_t)len, (size_t)len,
	    pem, size * 2 + 128, &olen);
	if (ret != 0) {
		seterr(err, errlen, "cannot encode the CRL", ret);
		goto out;
	}
	*crl_pem = (char *)pem;
	pem = NULL;
	rc = 0;
out:
	free(der);
	free(pem);
	mbedtls_x509_crt_free(&crt);
	mbedtls_x509_crl_free(&prev);
	return rc;
}

void
pki_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	mbedtls_platform_zeroize(secret, strlen(secret));
	free(secret);
}
