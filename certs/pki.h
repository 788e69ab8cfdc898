/*
 * The mesh PKI in memory: a CA (ECDSA P-256, self-signed) that issues node
 * certificates and signs CRLs.  Everything goes in and out as NUL-terminated
 * PEM strings, so callers decide where bytes live (files for the CLI,
 * memory for tests and benchmarks).
 *
 * A node certificate names its node id twice, as the subject CN and as a DNS
 * SAN, carries serverAuth + clientAuth (the same certificate serves both ends
 * of a mutual-TLS link) and a random positive 128-bit serial.
 *
 * Errors: functions returning int give 0 on success and -1 on failure;
 * functions returning a pointer give NULL on failure.  Either way err (may
 * be NULL) receives a message saying what failed and why.
 *
 * A struct pki_ca is not thread-safe (it owns a DRBG); use one per thread.
 */
#ifndef AGENTFLOW_PKI_H
#define AGENTFLOW_PKI_H

#include <stddef.h>
#include <time.h>

#define PKI_DAYS_MAX		36500	/* validity cap, keeps dates below 9999 */
#define PKI_BACKDATE		300	/* default not-before is now minus this (clock skew) */
#define PKI_SAN_MAX		32	/* extra DNS + IP SANs per certificate */
#define PKI_NAME_MAX		64	/* CA common name (X.520 ub-common-name) */
#define PKI_SERIAL_MAX		20	/* RFC 5280 serial octets */

struct pki_ca;

/* Parameters of a node certificate; all pointers are borrowed for the call. */
struct pki_cert_params {
	const char		 *node_id;	/* must pass node_id_valid() */
	time_t			  not_before;	/* 0: now - PKI_BACKDATE */
	unsigned int		  days;		/* 1..PKI_DAYS_MAX */
	const char *const	 *dns;		/* extra DNS SANs, may be NULL */
	size_t			  ndns;
	const char *const	 *ips;		/* extra IP SANs (IPv4/IPv6 text) */
	size_t			  nips;
	/*
	 * NULL: generate a new P-256 key (returned in *key_pem).  Otherwise
	 * certify this existing P-256 key (PEM, private or public) and return
	 * no key.
	 */
	const char		 *key_pem;
};

/*
 * Creates a new CA in memory: a fresh P-256 key and a self-signed v3
 * certificate with subject CN=name, CA:true (path length 0) and keyUsage
 * keyCertSign + cRLSign.  name is 1..PKI_NAME_MAX printable ASCII
 * characters.  not_before 0 means now - PKI_BACKDATE.  The caller owns the
 * result and frees it with pki_ca_free().
 */
struct pki_ca *pki_ca_new(const char *name, time_t not_before,
    unsigned int days, char *err, size_t errlen);

/*
 * Loads a CA from its certificate and private key (PEM strings).  Fails if
 * the certificate is not a CA or the key does not match it.  The strings are
 * copied; the caller owns the result (pki_ca_free()).
 */
struct pki_ca *pki_ca_load(const char *cert_pem, const char *key_pem,
    char *err, size_t errlen);

/* Frees the CA and wipes its key.  pki_ca_free(NULL) is a no-op. */
void pki_ca_free(struct pki_ca *ca);

/* The CA certificate as PEM; borrowed, valid until pki_ca_free(). */
const char *pki_ca_cert_pem(const struct pki_ca *ca);

/*
 * The CA private key as PEM (SEC1 "EC PRIVATE KEY").  The caller owns the
 * string and frees it with pki_secret_free().
 */
char *pki_ca_key_pem(const struct pki_ca *ca, char *err, size_t errlen);

/*
 * Issues a node certificate.  *cert_pem receives the certificate (free()),
 * *key_pem the new private key (pki_secret_free()), or NULL when
 * params->key_pem was given.  Nothing is returned on failure.
 */
int pki_ca_issue(struct pki_ca *ca, const struct pki_cert_params *params,
    char **cert_pem, char **key_pem, char *err, size_t errlen);

/*
 * Signs a new CRL (X.509 v2, with CRL number and authority key identifier)
 * and returns it in *crl_pem (free()).  prev_crl_pem (may be NULL) is this
 * CA's current CRL: its entries are kept with their original revocation
 * dates and its CRL number is incremented.  cert_pem (may be NULL, which
 * gives an empty or re-signed CRL) is the certificate to revoke; it must
 * have been issued by this CA.  If it is already listed, *already is set to
 * 1 (it may be NULL) and the result is still a freshly signed CRL.
 * thisUpdate is now (0: time(NULL)); nextUpdate is the CA's notAfter,
 * because these CRLs are distributed as files, not fetched on expiry.
 */
int pki_ca_revoke(struct pki_ca *ca, const char *prev_crl_pem,
    const char *cert_pem, time_t now, char **crl_pem, int *already,
    char *err, size_t errlen);

/*
 * 1 if s may be a DNS SAN: 1-253 characters of letters, digits, '-', '_'
 * and non-empty dot-separated labels, optionally starting with "*.".
 */
int pki_dns_name_valid(const char *s);

/* Wipes and frees a string holding key material; NULL is a no-op. */
void pki_secret_free(char *secret);

#endif
