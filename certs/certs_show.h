/*
 * Human-readable description of a certificate, CRL or key for
 * `agentflow certs show`.  Never prints secret key material.
 */
#ifndef AGENTFLOW_CERTS_SHOW_H
#define AGENTFLOW_CERTS_SHOW_H

#include <stddef.h>
#include <stdio.h>

/*
 * Describes buf (PEM, NUL-terminated with len counting the NUL, or DER) on
 * out.  Returns 0, or -1 with err set when buf is none of the three kinds.
 */
int certs_show(const unsigned char *buf, size_t len, FILE *out, char *err,
    size_t errlen);

#endif
