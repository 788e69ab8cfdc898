/*
 * A command's target, as a request names it, turned into the nodes it
 * goes to: one node id, "all", a "key=value,..." selector or
 * {"labels": {...}}, resolved against the routing table's members.
 */
#ifndef AGENTFLOW_COMMAND_TARGET_H
#define AGENTFLOW_COMMAND_TARGET_H

#include <jansson.h>

struct routing;

struct command_target {
	json_t		*display;	/* as the record shows it */
	json_t		*dests;		/* array of node ids, sorted */
	json_t		*match;		/* selector, or NULL */
	/* A selector's nodes it may match but cannot tell, as the record
	 * shows them: [{"node", "reason"}] (their labels are not known here
	 * yet); empty otherwise.  Never silently left out. */
	json_t		*skipped;
	const char	*node;		/* one node (borrowed from the request), or NULL */
	int		 all;
};

/*
 * Fills out from t (a request's "target", borrowed: out->node points into
 * it).  Returns 0, or -1 with *code ("invalid_target", "no_target", or
 * "labels_unknown": a selector matches none of the nodes whose labels are
 * known, and some are not, listed in err) and err set and nothing to
 * clear.
 */
int command_target_resolve(struct routing *, const json_t *t,
    struct command_target *out, const char **code, char *err, size_t errlen);
/* Drops what command_target_resolve filled. */
void command_target_clear(struct command_target *);
/* A "k=v,k2=v2" selector checked by the same rules as a target's, as
 * {"k": "v", ...} (new reference), or NULL with err set. */
json_t *command_target_selector(const char *text, char *err, size_t errlen);

#endif
