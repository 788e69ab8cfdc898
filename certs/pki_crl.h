/*
 * An X.509 v2 CRL writer, the part mbedTLS 2.28 lacks (it parses CRLs but
 * cannot write them).  The DER is assembled with mbedtls/asn1write.h and the
 * TBSCertList is signed with mbedtls_pk_sign(), so the only hand-written
 * code is the RFC 5280 section 5.1 layout.
 */
#ifndef AGENTFLOW_PKI_CRL_H
#define AGENTFLOW_PKI_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

/* All pointers are borrowed for the duration of pki_crl_write_der(). */
struct pki_crl_params {
	const mbedtls_x509_crt	*issuer;	/* the CA: its subject becomes the CRL issuer */
	mbedtls_pk_context	*key;		/* the CA's private key (EC) */
	const mbedtls_x509_crl	*prev;		/* entries copied verbatim; may be NULL */
	const mbedtls_x509_buf	*serial;	/* INTEGER content to add; may be NULL */
	uint64_t		 number;	/* cRLNumber extension */
	mbedtls_x509_time	 this_update;	/* also the new entry's revocation date */
	mbedtls_x509_time	 next_update;
	int			(*f_rng)(void *, unsigned char *, size_t);
	void			*p_rng;
};

/* An upper bound of the DER size pki_crl_write_der() needs for p. */
size_t pki_crl_der_bound(const struct pki_crl_params *p);

/*
 * Writes the signed CRL at the END of buf (mbedTLS writer convention) and
 * returns its length, or a negative mbedTLS error code.
 */
int pki_crl_write_der(const struct pki_crl_params *p, unsigned char *buf,
    size_t size);

/*
 * Prepends at *p (mbedTLS writer convention) the tag and length of the len
 * bytes of content already written after it.  Returns the length of that
 * header, or a negative mbedTLS error code.  pki.c wraps its certificate
 * extensions with it too.
 */
int pki_crl_write_header(unsigned char **p, unsigned char *start, size_t len,
    int tag);

/*
 * Finds extension oid in exts (an mbedTLS-parsed Extensions SEQUENCE such
 * as crt->v3_ext or crl->crl_ext) and points *val and *len at its extnValue
 * content, inside exts.  Returns 0, or -1 if absent or malformed.
 */
int pki_crl_find_extension(const mbedtls_x509_buf *exts, const char *oid,
    size_t oid_len, const unsigned char **val, size_t *len);

/* The CRL's cRLNumber in *number (0 if it has none); -1 if malformed or too big. */
int pki_crl_number(const mbedtls_x509_crl *crl, uint64_t *number);

/* 1 if serial (INTEGER content) is listed in crl, else 0. */
int pki_crl_lists(const mbedtls_x509_crl *crl, const mbedtls_x509_buf *serial);

#endif
