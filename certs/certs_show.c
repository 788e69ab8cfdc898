/*
 * `agentflow certs show` output (see certs_show.h).  The kind of input is
 * found by trying the mbedTLS parsers in turn: certificate, CRL, private
 * key, public key.  Serials print as uppercase hex without leading zero
 * octets, the form `openssl x509 -serial` uses, so the two can be compared.
 */
#include "certs_show.h"

#include <arpa/inet.h>
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "trust.h"

static void
print_serial(FILE *out, const mbedtls_x509_buf *s)
{
	const unsigned char *p = s->p;
	size_t n = s->len;

	while (n > 1 && p[0] == 0) {
		p++;
		n--;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02X", p[i]);
}

static void
print_time(FILE *out, const mbedtls_x509_time *t)
{
	fprintf(out, "%04d-%02d-%02d %02d:%02d:%02d UTC", t->year, t->mon,
	    t->day, t->hour, t->min, t->sec);
}

static void
print_name(FILE *out, const mbedtls_x509_name *n)
{
	char buf[1024];

	if (mbedtls_x509_dn_gets(buf, sizeof(buf), n) < 0)
		snprintf(buf, sizeof(buf), "(unprintable)");
	fputs(buf, out);
}

static void
print_key(FILE *out, const mbedtls_pk_context *pk)
{
	const char *curve = "";

	if (mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY ||
	    mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY_DH) {
		const mbedtls_ecp_curve_info *ci =
		    mbedtls_ecp_curve_info_from_grp_id(mbedtls_pk_ec(*pk)->grp.id);

		if (ci != NULL && ci->grp_id == MBEDTLS_ECP_DP_SECP256R1)
			curve = " P-256";
		else if (ci != NULL)
			curve = ci->name;
	}
	fprintf(out, "%s%s%s (%zu bits)", mbedtls_pk_get_name(pk),
	    curve[0] == ' ' || curve[0] == '\0' ? "" : " ", curve,
	    mbedtls_pk_get_bitlen(pk));
}

/* SHA-256 of the DER SubjectPublicKeyInfo: matches a key file to its cert. */
static void
print_pubkey_fingerprint(FILE *out, const mbedtls_pk_context *pk)
{
	unsigned char buf[1024];
	char fp[TRUST_FINGERPRINT_SIZE];
	int n;

	/* mbedtls_pk_write_pubkey_der() takes a non-const context. */
	n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)pk, buf,
	    sizeof(buf));
	if (n <= 0)
		return;
	trust_fingerprint_der(buf + sizeof(buf) - n, (size_t)n, fp);
	fprintf(out, "  public key id: %s\n", fp);
}

/* A key file: what is printed of a certificate's key, and no secret. */
static void
show_key(FILE *out, const char *what, const mbedtls_pk_context *pk)
{
	fprintf(out, "%s\n  type:          ", what);
	print_key(out, pk);
	fprintf(out, "\n");
	print_pubkey_fingerprint(out, pk);
}

static const struct {
	unsigned int	 bit;
	const char	*name;
} key_usages[] = {
	{ MBEDTLS_X509_KU_DIGITAL_SIGNATURE,	"digitalSignature" },
	{ MBEDTLS_X509_KU_NON_REPUDIATION,	"nonRepudiation" },
	{ MBEDTLS_X509_KU_KEY_ENCIPHERMENT,	"keyEncipherment" },
	{ MBEDTLS_X509_KU_DATA_ENCIPHERMENT,	"dataEncipherment" },
	{ MBEDTLS_X509_KU_KEY_AGREEMENT,	"keyAgreement" },
	{ MBEDTLS_X509_KU_KEY_CERT_SIGN,	"keyCertSign" },
	{ MBEDTLS_X509_KU_CRL_SIGN,		"cRLSign" },
	{ MBEDTLS_X509_KU_ENCIPHER_ONLY,	"encipherOnly" },
	{ MBEDTLS_X509_KU_DECIPHER_ONLY,	"decipherOnly" },
};

static void
print_sans(FILE *out, const mbedtls_x509_sequence *s)
{
	char ip[INET6_ADDRSTRLEN];
	const char *sep = "";

	fprintf(out, "  alt names:     ");
	for (; s != NULL; s = s->next) {
		int tag = s->buf.tag & 0x1f;

		if (s->buf.p == NULL)
			continue;
		if (tag == 2)
			fprintf(out, "%sDNS:%.*s", sep, (int)s->buf.len,
			    (const char *)s->buf.p);
		else if (tag == 7 && s->buf.len == 4 &&
		    inet_ntop(AF_INET, s->buf.p, ip, sizeof(ip)) != NULL)
			fprintf(out, "%sIP:%s", sep, ip);
		else if (tag == 7 && s->buf.len == 16 &&
		    inet_ntop(AF_INET6, s->buf.p, ip, sizeof(ip)) != NULL)
			fprintf(out, "%sIP:%s", sep, ip);
		else
			fprintf(out, "%s(type %d)", sep, tag);
		sep = ", ";
	}
	fprintf(out, "\n");
}

static void
print_eku(FILE *out, const mbedtls_x509_sequence *s)
{
	char num[64];
	const char *sep = "";

	fprintf(out, "  ext key usage: ");
	for (; s != NULL; s = s->next) {
		if (s->buf.p == NULL)
			continue;
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_SERVER_AUTH, &s->buf) == 0)
			fprintf(out, "%sserverAuth", sep);
		else if (MBEDTLS_OID_CMP(MBEDTLS_OID_CLIENT_AUTH, &s->buf) == 0)
			fprintf(out, "%sclientAuth", sep);
		else if (mbedtls_oid_get_numeric_string(num, sizeof(num),
		    &s->buf) > 0)
			fprintf(out, "%s%s", sep, num);
		sep = ", ";
	}
	fprintf(out, "\n");
}

static void
show_crt(FILE *out, const mbedtls_x509_crt *c)
{
	char fp[TRUST_FINGERPRINT_SIZE];

	for (; c != NULL; c = c->next) {
		fprintf(out, "certificate\n  subject:       ");
		print_name(out, &c->subject);
		fprintf(out, "\n  issuer:        ");
		print_name(out, &c->issuer);
		fprintf(out, "\n  serial:        ");
		print_serial(out, &c->serial);
		fprintf(out, "\n  not before:    ");
		print_time(out, &c->valid_from);
		fprintf(out, "\n  not after:     ");
		print_time(out, &c->valid_to);
		fprintf(out, "%s\n", mbedtls_x509_time_is_past(&c->valid_to) ?
		    " (expired)" : mbedtls_x509_time_is_future(&c->valid_from) ?
		    " (not yet valid)" : "");
		fprintf(out, "  CA:            %s\n", c->ca_istrue ? "yes" : "no");
		fprintf(out, "  key:           ");
		print_key(out, &c->pk);
		fprintf(out, "\n");
		if (c->ext_types & MBEDTLS_X509_EXT_KEY_USAGE) {
			const char *sep = "";

			fprintf(out, "  key usage:     ");
			for (size_t i = 0;
			    i < sizeof(key_usages) / sizeof(key_usages[0]); i++)
				if (c->key_usage & key_usages[i].bit) {
					fprintf(out, "%s%s", sep,
					    key_usages[i].name);
					sep = ", ";
				}
			fprintf(out, "\n");
		}
		if (c->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE)
			print_eku(out, &c->ext_key_usage);
		if (c->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME)
			print_sans(out, &c->subject_alt_names);
		trust_fingerprint(c, fp);
		fprintf(out, "  fingerprint:   %s\n", fp);
		print_pubkey_fingerprint(out, &c->pk);
	}
}

static void
show_crl(FILE *out, const mbedtls_x509_crl *crl)
{
	const mbedtls_x509_crl_entry *e;
	size_t n = 0;

	for (e = &crl->entry; e != NULL; e = e->next)
		if (e->raw.len > 0)
			n++;
	fprintf(out, "CRL\n  issuer:        ");
	print_name(out, &crl->issuer);
	fprintf(out, "\n  this update:   ");
	print_time(out, &crl->this_update);
	fprintf(out, "\n  next update:   ");
	print_time(out, &crl->next_update);
	fprintf(out, "\n  revoked:       %zu\n", n);
	for (e = &crl->entry; e != NULL; e = e->next) {
		if (e->raw.len == 0)
			continue;
		fprintf(out, "    serial ");
		print_serial(out, &e->serial);
		fprintf(out, " revoked ");
		print_time(out, &e->revocation_date);
		fprintf(out, "\n");
	}
}

int
certs_show(const unsigned char *buf, size_t len, FILE *out, char *err,
    size_t errlen)
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crl crl;
	mbedtls_pk_context pk;
	int rc = 0;

	mbedtls_x509_crt_init(&crt);
	mbedtls_x509_crl_init(&crl);
	mbedtls_pk_init(&pk);
	/* A PEM bundle may hold several certificates: show them all. */
	if (mbedtls_x509_crt_parse(&crt, buf, len) == 0)
		show_crt(out, &crt);
	else if (mbedtls_x509_crl_parse(&crl, buf, len) == 0)
		show_crl(out, &crl);
	else if (mbedtls_pk_parse_key(&pk, buf, len, NULL, 0) == 0)
		show_key(out, "private key", &pk);
	else {
		mbedtls_pk_free(&pk);
		mbedtls_pk_init(&pk);
		if (mbedtls_pk_parse_public_key(&pk, buf, len) == 0)
			show_key(out, "public key", &pk);
		else {
			snprintf(err, errlen, "not a certificate, CRL or key "
			    "(PEM or DER), or encrypted");
			rc = -1;
		}
	}
	mbedtls_pk_free(&pk);
	mbedtls_x509_crl_free(&crl);
	mbedtls_x509_crt_free(&crt);
	return rc;
}
