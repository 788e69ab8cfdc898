/*
 * The content rules of a registration (signal/API.md, "POST /v1/register"):
 * which fields, their types, syntax and bounds.  Pure: it reads a parsed
 * JSON body and the configured limits, and says precisely what is wrong,
 * so it can be tested and fuzzed without a server.  Proving the body's
 * origin (certificate and signature) is trust.c's and signed_request.c's.
 */
#ifndef AGENTFLOW_SIGNAL_REGISTER_H
#define AGENTFLOW_SIGNAL_REGISTER_H

#include <jansson.h>
#include <stddef.h>

#include "signal_config.h"
#include "signal_metrics.h"

/* The fields of a valid body; pointers into the JSON it was parsed from. */
struct signal_reg_fields {
	const char	*node_id;
	const char	*cert;
	size_t		 cert_len;
	json_t		*addresses;	/* array, or NULL when absent */
	json_t		*labels;	/* object, or NULL when absent */
	const char	*version;
	json_int_t	 timestamp;
	const char	*nonce;
};

/*
 * Checks body (a JSON object) against the rules and the limits in cfg.
 * Returns 0 and fills f, or -1 with the refusal in *why (invalid_field,
 * too_many_addresses or too_many_labels) and a message naming the field.
 */
int signal_register_parse(const struct signal_config *cfg, json_t *body,
    struct signal_reg_fields *f, enum signal_refusal *why, char *msg,
    size_t msglen);

#endif
