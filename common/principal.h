/*
 * Who asks: the principal behind a request or a command.  A role orders
 * what it may do (read < write < admin); the name is what the audit and
 * the command record show ("alice" for a signed token, "token:write" for
 * a static token of tokens.json); token_id names the signed token ("" for
 * a static one).  Plain data, copied by value.
 */
#ifndef AGENTFLOW_PRINCIPAL_H
#define AGENTFLOW_PRINCIPAL_H

#include <stddef.h>

enum principal_role {
	PRINCIPAL_NONE = 0,	/* no or an unknown token */
	PRINCIPAL_READ,
	PRINCIPAL_WRITE,
	PRINCIPAL_ADMIN,
};

#define PRINCIPAL_NAME_MAX	64
#define PRINCIPAL_TOKEN_ID_MAX	32

struct principal {
	char			 name[PRINCIPAL_NAME_MAX + 16];
	char			 token_id[PRINCIPAL_TOKEN_ID_MAX + 1];
	enum principal_role	 role;
	/*
	 * The signed token that carries a key (token.h's seed part), as the
	 * request gave it: what this node signs the principal's commands
	 * with (Command.principal_proof).  A secret: never logged, stored or
	 * sent; "" for a static token or a token without a key.
	 */
	char			 token[1024];
};

/* "read", "write", "admin" ("none" for PRINCIPAL_NONE); static strings. */
const char *principal_role_name(enum principal_role);
/* The role named s, or PRINCIPAL_NONE for anything else. */
enum principal_role principal_role_parse(const char *s);

#endif
