/*
 * The mesh's trust anchor: the CA certificate and, optionally, its CRL.
 * Verifies a presented certificate chain and the identity it carries, and
 * says precisely why one is refused.  Used by the signal for registrations
 * and by the node for links.
 */
#ifndef AGENTFLOW_TRUST_H
#define AGENTFLOW_TRUST_H

#include <mbedtls/x509_crt.h>
#include <stddef.h>

struct trust;

enum trust_result {
	TRUST_OK = 0,
	TRUST_BAD_CERT,		/* unparsable, not ECDSA P-256, or not from our CA */
	TRUST_EXPIRED,		/* outside its validity period (or its CA's) */
	TRUST_REVOKED,		/* listed in the CRL */
	TRUST_IDENTITY_MISMATCH,/* CN / DNS SAN differ from the expected id */
};

/* Loads ca_path (PEM) and crl_path (PEM or DER; may be NULL).  On failure
 * returns NULL with a message in err. */
struct trust *trust_new(const char *ca_path, const char *crl_path,
    char *err, size_t errlen);
void trust_free(struct trust *);
/* Re-reads the CRL file if its modification time changed.  Returns 1 if it
 * was reloaded, 0 if unchanged, -1 on error (the old CRL stays in force). */
int trust_reload_crl(struct trust *, char *err, size_t errlen);
/* The bytes of the CRL in force (NULL, 0 when none), valid until the next
 * reload; and installing a CRL from bytes, which is how other threads'
 * copies of a trust follow the one that watches the file. */
const unsigned char *trust_crl_bytes(const struct trust *, size_t *len);
int trust_set_crl(struct trust *, const unsigned char *buf, size_t len,
    char *err, size_t errlen);

/* 1 if the CRL in force lists this certificate serial (raw bytes, as in
 * mbedtls_x509_crt.serial). */
int trust_serial_revoked(const struct trust *, const unsigned char *serial,
    size_t len);

/* Stable text for logs and error messages. */
const char *trust_result_str(enum trust_result);

/*
 * Verifies a PEM chain (leaf first) against the CA and CRL, and that the
 * leaf's identity is expected_id: its CN equals it and it is one of its DNS
 * SANs.  On TRUST_OK and when fingerprint is non-NULL, writes
 * "sha256:<64 hex>" (72 bytes with NUL) of the leaf's DER.  detail gets a
 * human sentence on refusal.
 */
enum trust_result trust_verify_pem(struct trust *, const char *pem, size_t len,
    const char *expected_id, mbedtls_x509_crt *out_chain, char *fingerprint,
    char *detail, size_t detaillen);

/* The same of one DER certificate (a leaf alone: no chain). */
enum trust_result trust_verify_der(struct trust *, const unsigned char *der,
    size_t len, const char *expected_id, mbedtls_x509_crt *out_chain,
    char *fingerprint, char *detail, size_t detaillen);

#define TRUST_FINGERPRINT_SIZE 72	/* "sha256:" + 64 hex + NUL */

/* Writes "sha256:<64 lowercase hex>" of der (a certificate's DER, or any
 * bytes) into out, which holds TRUST_FINGERPRINT_SIZE bytes. */
void trust_fingerprint_der(const unsigned char *der, size_t len, char *out);
/* The same of a parsed certificate. */
void trust_fingerprint(const mbedtls_x509_crt *crt, char *out);

/* The certificate's identity: its CN, when it is also a DNS SAN.  Returns 0
 * and writes it into out, or -1 when the certificate carries none. */
int trust_cert_identity(const mbedtls_x509_crt *crt, char *out, size_t outlen);

#endif
