/* The kill switch as mesh state with an epoch (freeze.h). */
#include "freeze.h"

#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "command_exec.h"
#include "command_sign.h"
#include "log.h"
#include "links.h"
#include "mesh.h"
#include "mesh_names.h"
#include "node.h"
#include "principal.h"
#include "store.h"
#include "tasks.h"
#include "xalloc.h"

#define PACKED_MAX	8192	/* a freeze command kept for Hellos, packed */
/* How far above ours an epoch may jump: an honest one is ours plus one
 * (or a few, from nodes that saw more); a huge one would lock the switch
 * (nothing could ever be newer). */
#define EPOCH_JUMP_MAX	1024
#define META_MAX	(PACKED_MAX * 4 / 3 + 8)

/* The "epoch" of a freeze or unfreeze's args; 0 when it has none. */
static uint64_t
args_epoch(const Agentflow__Mesh__V1__Command *c, int *stop)
{
	json_t *args = NULL, *v;
	uint64_t epoch = 0;

	*stop = 0;
	if (c->args_json.len > 0)
		args = json_loadb((const char *)c->args_json.data,
		    c->args_json.len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(args)) {
		v = json_object_get(args, "epoch");
		if (json_is_integer(v) && json_integer_value(v) > 0)
			epoch = (uint64_t)json_integer_value(v);
		else if (v != NULL)
			epoch = UINT64_MAX;	/* there, but no epoch: refused */
		*stop = json_is_true(json_object_get(args, "stop"));
	}
	json_decref(args);
	return epoch;
}

/* Keeps c (packed) for our Hellos and in the store with epoch. */
static void
keep(struct node *n, const Agentflow__Mesh__V1__Command *c, uint64_t epoch)
{
	size_t len = agentflow__mesh__v1__command__get_packed_size(c);
	char *text = NULL;
	uint8_t *buf;
	size_t olen = 0;

	freeze_issued(n, epoch);	/* the epoch, held and persisted */
	if (len > PACKED_MAX) {
		log_event(LOG_WARN, "freeze command too large to hand on in "
		    "Hellos; applied here only", "{s:I}", "bytes", (json_int_t)len);
		return;
	}
	buf = xmalloc(len + 1);
	agentflow__mesh__v1__command__pack(c, buf);
	if (n->links != NULL)
		links_set_freeze(n->links, buf, len);
	text = xmalloc(META_MAX);
	if (mbedtls_base64_encode((unsigned char *)text, META_MAX, &olen, buf,
	    len) == 0 && store_meta_set(n->store, "freeze_cmd", text) != 0)
		log_event(LOG_ERROR, "cannot persist the freeze command", "{s:s}",
		    "error", store_error(n->store));
	free(text);
	free(buf);
}

/* Applies c, of epoch (above ours); stop cancels what is unfinished. */
static void
apply(struct node *n, const Agentflow__Mesh__V1__Command *c, uint64_t epoch,
    int stop, const char *from)
{
	int on = c->type == AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_FREEZE;
	size_t cancelled = 0;

	command_exec_set_frozen(n, on);
	/* Mesh state only when meant for every node; a targeted one moves
	 * the epoch but is not handed on. */
	if (c->target_case == AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL)
		keep(n, c, epoch);
	else
		freeze_issued(n, epoch);
	if (on && stop && n->tasks != NULL)
		cancelled = tasks_cancel_all(n->tasks);
	log_event(LOG_WARN, on ? "freeze applied" : "unfreeze applied",
	    "{s:I, s:s, s:s, s:s, s:I}", "epoch", (json_int_t)epoch, "by",
	    c->principal, "origin", c->origin, "from", from,
	    "tasks_stopped", (json_int_t)cancelled);
}

void
freeze_load(struct node *n)
{
	char buf[META_MAX];
	unsigned char *packed = NULL;
	size_t len = 0;

	if (store_meta_get(n->store, "freeze_epoch", buf, sizeof(buf)) == 1)
		n->freeze_epoch = strtoull(buf, NULL, 10);
	if (store_meta_get(n->store, "freeze_cmd", buf, sizeof(buf)) == 1) {
		packed = xmalloc(PACKED_MAX + 1);
		if (mbedtls_base64_decode(packed, PACKED_MAX, &len,
		    (const unsigned char *)buf, strlen(buf)) == 0 &&
		    n->links != NULL)
			links_set_freeze(n->links, packed, len);
		free(packed);
	}
}

uint64_t
freeze_next_epoch(const struct node *n)
{
	return n->freeze_epoch + 1;
}

void
freeze_issued(struct node *n, uint64_t epoch)
{
	char num[32];

	if (epoch <= n->freeze_epoch)
		return;
	n->freeze_epoch = epoch;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)epoch);
	if (store_meta_set(n->store, "freeze_epoch", num) != 0)
		log_event(LOG_ERROR, "cannot persist the freeze epoch", "{s:s}",
		    "error", store_error(n->store));
}

int
freeze_command(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	int on = c->type == AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_FREEZE;
	int stop = 0;
	uint64_t epoch = args_epoch(c, &stop);

	(void)args;
	(void)err;
	(void)errlen;
	if (epoch == 0 || epoch == UINT64_MAX ||
	    epoch > n->freeze_epoch + EPOCH_JUMP_MAX) {
		snprintf(err, errlen, "args: \"epoch\" must be above %llu and at "
		    "most %llu", (unsigned long long)n->freeze_epoch,
		    (unsigned long long)(n->freeze_epoch + EPOCH_JUMP_MAX));
		return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_INVALID;
	}
	if (epoch <= n->freeze_epoch) {
		snprintf(err, errlen, "stale: epoch %llu, %s holds %llu "
		    "(frozen: %s)", (unsigned long long)epoch, n->id,
		    (unsigned long long)n->freeze_epoch, n->frozen ? "yes" : "no");
		return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_REFUSED;
	}
	apply(n, c, epoch, stop, c->origin);
	*body = json_pack("{s:b, s:I}", "frozen", on, "epoch",
	    (json_int_t)n->freeze_epoch);
	return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_OK;
}

void
freeze_hello(struct node *n, const char *peer,
    const Agentflow__Mesh__V1__Hello *h)
{
	const Agentflow__Mesh__V1__Command *c = h->freeze;
	char why[512] = "";
	uint64_t epoch;
	int stop, proved;

	if (c == NULL || n->work == NULL || n->mesh == NULL)
		return;
	if (c->type != AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_FREEZE &&
	    c->type != AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_UNFREEZE)
		return;
	if ((epoch = args_epoch(c, &stop)) <= n->freeze_epoch)
		return;		/* what we hold already, or older */
	if (epoch == UINT64_MAX || epoch > n->freeze_epoch + EPOCH_JUMP_MAX)
		snprintf(why, sizeof(why), "epoch more than %d above ours",
		    EPOCH_JUMP_MAX);
	else if (c->target_case != AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL)
		snprintf(why, sizeof(why), "not meant for every node");
	else if (principal_role_parse(c->role) < PRINCIPAL_ADMIN)
		snprintf(why, sizeof(why), "its principal holds the %s role, "
		    "not admin", c->role[0] ? c->role : "no");
	else if (command_sign_check(mesh_origin_keys(n->mesh), c, why,
	    sizeof(why)) == 0)
		/* A signed token's principal by its proof, as it stood when
		 * the freeze was issued: a node away since then learns it. */
		command_sign_check_principal(n->auth != NULL ?
		    api_auth_tokens(n->auth) : NULL, c, PRINCIPAL_ADMIN,
		    (int64_t)c->issued_ms, &proved, why, sizeof(why));
	if (why[0] != '\0') {
		log_event(LOG_WARN, "a peer's freeze state refused", "{s:s, s:I, "
		    "s:s}", "peer", peer, "epoch", (json_int_t)epoch, "why", why);
		return;
	}
	/* The state, not the act: a Hello never stops tasks (an old
	 * freeze --stop replayed to a fresh node would). */
	apply(n, c, epoch, 0, peer);
}
