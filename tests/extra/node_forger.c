/*
 * The test-only forger build of agentflow-node (agentflow-node-forger,
 * tests/node.cmake): the same node, holding a valid certificate of the mesh
 * CA, that tries to speak for other members (tests/system/test_trust.py).
 *
 * AGENTFLOW_TEST_FORGE="A,B,C" (three node ids) makes it, every FORGE_MS
 * once a link is up, send every up peer:
 *   - a user event "forged" claiming origin B, numbered right after B's
 *     latest event as the forger sees it, with no signature, and one with
 *     64 bytes of nonsense as its signature;
 *   - a snapshot of C: C's life, seq 10^12, status frozen with CPU 99, no
 *     proof;
 *   - a run_task command for C claiming origin A and principal
 *     "token:write", once unsigned and once signed by the forger's own key
 *     (which names the forger, not A);
 *   - in its own name, properly signed, a freeze command for C whose
 *     principal holds the read role, and one with a role that is none;
 *   - in its own name, properly signed, run_task commands for C whose
 *     principal is a signed token's, "alice": without a proof (role admin
 *     by its word), with a proof made for another command, with a valid
 *     proof of a read token, with a valid proof of an expired token, and
 *     (from its second round on) with a valid proof of a token it revoked
 *     a round before, its TokenRevoked event sent (tokens it mints
 *     itself, so C knows their issuer);
 *   - in its own name, properly signed, a job_run for C of principal
 *     alice whose job grant (her valid write token's) was made for other
 *     arguments;
 *   - an Offer (the answer to an anti-entropy ask) saying it holds B up to
 *     seq 10^12 and FORGE_LURES invented origins ("lure-N");
 * and once, events of FORGE_GHOSTS invented origins ("ghost-N").  Its
 * Hellos carry an unfreeze of epoch 5 claiming A as its issuer and an
 * admin as its principal, unsigned, and (every other round) its own,
 * signed, for principal mallory, an admin by its word, without her proof
 * (Hello.freeze).
 * Each forged command's id is logged ("forged command"), so the test can
 * look for it on C.
 */
#include "test_hooks.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_auth.h"
#include "clock.h"
#include "command_sign.h"
#include "job_grant.h"
#include "jobs_spec.h"
#include "links.h"
#include "log.h"
#include "mesh.h"
#include "node.h"
#include "rng.h"
#include "sync.h"
#include "sync_json.h"
#include "tokens.h"

#define FORGE_MS	400
#define FORGE_GHOSTS	1100
#define GHOST_BATCH	500
#define FORGE_LURES	1000	/* invented origins in a lying Offer */

static struct event *tick;
static char ids[3][64];
static int ghosts_sent, ticks;

struct up_peers {
	char	 id[16][64];
	size_t	 n;
};

static int
up_peers(struct node *n, struct up_peers *up)
{
	json_t *peers = links_status(n->links), *p;
	size_t i;

	up->n = 0;
	json_array_foreach(peers, i, p)
		if (up->n < 16 && strcmp(json_string_value(json_object_get(p,
		    "state")), "up") == 0)
			snprintf(up->id[up->n++], sizeof(up->id[0]), "%s",
			    json_string_value(json_object_get(p, "peer")));
	json_decref(peers);
	return up->n > 0;
}

/* origin's life and latest seq as we see it: 0 when unknown. */
static int
seen(struct node *n, const char *origin, uint64_t *inc, uint64_t *seq)
{
	json_t *o = sync_json_origin(n->sync, origin, 0);

	*inc = (uint64_t)json_integer_value(json_object_get(o, "incarnation"));
	*seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	json_decref(o);
	return *inc != 0;
}

static void
send_all(struct node *n, const struct up_peers *up,
    const Agentflow__Mesh__V1__Frame *f)
{
	for (size_t i = 0; i < up->n; i++)
		links_send_frame(n->links, up->id[i], f);
}

static void
forge_events(struct node *n, const struct up_peers *up)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	Agentflow__Mesh__V1__Event e[2], *ep[2] = { &e[0], &e[1] };
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	uint8_t nonsense[64];
	uint64_t inc, seq;

	if (!seen(n, ids[1], &inc, &seq))
		return;
	memset(nonsense, 0xa5, sizeof(nonsense));
	u.name = "forged";
	for (int i = 0; i < 2; i++) {
		agentflow__mesh__v1__event__init(&e[i]);
		e[i].origin = ids[1];
		e[i].incarnation = inc;
		e[i].seq = seq + 1 + (uint64_t)i;
		e[i].time_ms = clock_wall_ms();
		e[i].hop_limit = 8;
		e[i].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
		e[i].user = &u;
	}
	e[1].signature.data = nonsense;
	e[1].signature.len = sizeof(nonsense);
	b.n_events = 2;
	b.events = ep;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &b;
	send_all(n, up, &f);
}

static void
forge_snapshot(struct node *n, const struct up_peers *up)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Snapshot snap = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	Agentflow__Mesh__V1__OriginState st = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	Agentflow__Mesh__V1__OriginState *stp = &st;
	Agentflow__Mesh__V1__Cursor c = AGENTFLOW__MESH__V1__CURSOR__INIT;
	Agentflow__Mesh__V1__NodeStatus ns = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	uint64_t inc, seq;

	if (!seen(n, ids[2], &inc, &seq))
		return;
	c.origin = ids[2];
	c.incarnation = inc;
	c.seq = 1000000000000ull;
	ns.cpu_percent = 99;
	ns.cpu_count = 2;
	ns.frozen = 1;
	st.cursor = &c;
	st.status = &ns;
	st.status_ms = clock_wall_ms();
	snap.n_origins = 1;
	snap.origins = &stp;
	snap.last = 1;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = &snap;
	send_all(n, up, &f);
}

/* An anti-entropy answer that lies (sync_pull.c): B held up to seq 10^12,
 * and FORGE_LURES origins nobody has.  Cursors are not vouched for: the
 * receiver may ask us for them, and must get nothing wrong from it. */
static void
forge_offer(struct node *n, const struct up_peers *up)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Offer offer = AGENTFLOW__MESH__V1__OFFER__INIT;
	Agentflow__Mesh__V1__Cursor *c, **cp;
	char (*names)[32];
	uint64_t inc, seq;

	if (!seen(n, ids[1], &inc, &seq))
		return;
	c = calloc(FORGE_LURES + 1, sizeof(*c));
	cp = calloc(FORGE_LURES + 1, sizeof(*cp));
	names = calloc(FORGE_LURES, sizeof(*names));
	if (c == NULL || cp == NULL || names == NULL)
		goto out;
	for (size_t i = 0; i <= FORGE_LURES; i++) {
		agentflow__mesh__v1__cursor__init(&c[i]);
		if (i == FORGE_LURES) {
			c[i].origin = ids[1];
			c[i].incarnation = inc;
			c[i].seq = 1000000000000ull;
		} else {
			snprintf(names[i], sizeof(names[i]), "lure-%zu", i);
			c[i].origin = names[i];
			c[i].incarnation = 1;
			c[i].seq = 5;
		}
		cp[i] = &c[i];
	}
	offer.n_cursors = FORGE_LURES + 1;
	offer.cursors = cp;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_OFFER;
	f.offer = &offer;
	send_all(n, up, &f);
out:
	free(c);
	free(cp);
	free(names);
}

/* A run_task (or another type's) command for C, as it leaves the forger. */
struct forgery {
	Agentflow__Mesh__V1__Command	 cmd;
	char				 id[40];
	char				*path[1];
	uint8_t				 sig[ORIGIN_KEYS_SIGNATURE];
};

static const char hello_args[] = "{\"task\":\"hello\"}";

static void
forgery_init(struct node *n, struct forgery *fg, char tag, char *origin,
    const char *principal, const char *role, int type)
{
	agentflow__mesh__v1__command__init(&fg->cmd);
	rng_hex(n->rng, fg->id + 1, 16);
	fg->id[0] = tag;
	fg->path[0] = origin;
	fg->cmd.id = fg->id;
	fg->cmd.origin = origin;
	fg->cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	fg->cmd.node_id = ids[2];
	fg->cmd.destination = ids[2];
	fg->cmd.principal = (char *)principal;
	fg->cmd.role = (char *)role;
	fg->cmd.type = type;
	if (type == AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK) {
		fg->cmd.args_json.data = (uint8_t *)hello_args;
		fg->cmd.args_json.len = sizeof(hello_args) - 1;
	}
	fg->cmd.issued_ms = clock_wall_ms();
	fg->cmd.hop_limit = 8;
	fg->cmd.n_path = 1;
	fg->cmd.path = fg->path;
}

/* Sends it to C, signed by us when sign, and logs its id with what. */
static void
forgery_send(struct node *n, struct forgery *fg, int sign, const char *key,
    const char *what)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;

	if (sign)
		command_sign(mesh_origin_keys(n->mesh), &fg->cmd, fg->sig);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	f.command = &fg->cmd;
	if (links_send_frame(n->links, ids[2], &f) == 0)
		log_event(LOG_INFO, "forged command", "{s:s, s:s}", "id", fg->id,
		    key, what);
}

static void
forge_command(struct node *n, int sign)
{
	struct forgery fg;

	forgery_init(n, &fg, 'f', ids[0], "token:write", "admin",
	    AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK);
	fg.cmd.hops = 1;
	forgery_send(n, &fg, sign, "signed", sign ? "yes" : "no");
}

/* Ours, signed, but beyond the principal's role (or with no real role). */
static void
forge_role(struct node *n, const char *role)
{
	struct forgery fg;

	forgery_init(n, &fg, 'r', (char *)n->id, "token:read", role,
	    AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_FREEZE);
	forgery_send(n, &fg, 1, "role", role);
}

/* alice's token of role, minted by us at now - age_ms for an hour, into
 * text (TOKEN_TEXT_MAX): 0, or -1 (no tokens here). */
static int
mint_text(struct node *n, enum principal_role role, int64_t age_ms,
    char *text, struct token_claims *c)
{
	struct tokens *tk = n->auth != NULL ? api_auth_tokens(n->auth) : NULL;
	char err[256];

	return tk == NULL || tokens_issue(tk, "alice", role, 3600000,
	    (int64_t)clock_wall_ms() - age_ms, text, TOKEN_TEXT_MAX, c, err,
	    sizeof(err)) != 0 ? -1 : 0;
}

/* The same as a proof maker. */
static int
mint(struct node *n, enum principal_role role, int64_t age_ms,
    struct command_proof *cp, struct token_claims *c)
{
	char text[TOKEN_TEXT_MAX];

	if (mint_text(n, role, age_ms, text, c) != 0)
		return -1;
	return command_proof_init(cp, text);
}

/* alice's write token, revoked here and its revocation sent: its proof
 * goes out a round later, once C has the TokenRevoked event. */
static struct command_proof revoked_cp;
static int revoked_ready;

static void
revoke_one(struct node *n)
{
	struct token_claims c;

	if (revoked_ready || mint(n, PRINCIPAL_WRITE, 0, &revoked_cp, &c) != 0)
		return;
	if (tokens_revoke(api_auth_tokens(n->auth), c.id,
	    (int64_t)clock_wall_ms()) == 0) {
		sync_emit_token_revoked(n->sync, c.id);
		revoked_ready = 1;
	}
}

/* Ours, signed, for signed-token principal alice: kind "none" (no proof,
 * role admin by our word), "replay" (a proof made for another command),
 * "read" (a read token's valid proof) or "expired" (an expired token's). */
static void
forge_proof(struct node *n, const char *kind)
{
	struct forgery fg;
	struct command_proof cp;
	struct token_claims c;

	forgery_init(n, &fg, 'p', (char *)n->id, "alice", "admin",
	    AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK);
	if (strcmp(kind, "none") == 0) {
		forgery_send(n, &fg, 1, "proof", kind);
		return;
	}
	if (strcmp(kind, "revoked") == 0) {
		if (!revoked_ready)
			return;
		command_proof_sign(&revoked_cp, &fg.cmd);
		forgery_send(n, &fg, 1, "proof", kind);
		return;
	}
	if (mint(n, strcmp(kind, "read") == 0 ? PRINCIPAL_READ :
	    PRINCIPAL_WRITE, strcmp(kind, "expired") == 0 ? 7200000 : 0,
	    &cp, &c) != 0)
		return;
	command_proof_sign(&cp, &fg.cmd);
	/* proved for this id, sent under another */
	if (strcmp(kind, "replay") == 0)
		rng_hex(n->rng, fg.id + 1, 16);
	forgery_send(n, &fg, 1, "proof", kind);
	command_proof_clear(&cp);
}

/* Ours, signed, a JOB_RUN of task hello for alice whose job grant, by
 * her valid write token, was made for other arguments (args_hash). */
static void
forge_grant(struct node *n)
{
	static char args_text[4096];
	struct forgery fg;
	struct token_claims c;
	struct job_grant_fields f;
	char text[TOKEN_TEXT_MAX], jid[24] = "jforged";
	int64_t now = (int64_t)clock_wall_ms();
	json_t *args;
	size_t len;

	if (mint_text(n, PRINCIPAL_WRITE, 0, text, &c) != 0)
		return;
	forgery_init(n, &fg, 'g', (char *)n->id, "alice", "write",
	    AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_JOB_RUN);
	rng_hex(n->rng, jid + 7, 8);
	args = json_pack("{s:s, s:i, s:s, s:n, s:n, s:n, s:s, s:I, s:I, s:s}",
	    "job_id", jid, "epoch", 1, "task", "hello", "args", "command",
	    "payload", "principal", "alice", "deadline_ms", (json_int_t)(now +
	    60000), "submitted_ms", (json_int_t)now, "to", ids[2]);
	json_object_set_new(args, "args_hash", jobs_spec_args_hash(args));
	f = (struct job_grant_fields){ jid, n->id, "alice", "sha256:other",
	    ids[2], now + 60000, now };
	json_object_set_new(args, "grant", job_grant_make(text, &f));
	len = json_dumpb(args, args_text, sizeof(args_text), JSON_COMPACT);
	json_decref(args);
	if (len == 0 || len >= sizeof(args_text))
		return;
	fg.cmd.args_json.data = (uint8_t *)args_text;
	fg.cmd.args_json.len = len;
	forgery_send(n, &fg, 1, "grant", "other args");
}

static void
forge_ghosts(struct node *n, const struct up_peers *up)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	Agentflow__Mesh__V1__Event *e = calloc(GHOST_BATCH, sizeof(*e));
	Agentflow__Mesh__V1__Event **ep = calloc(GHOST_BATCH, sizeof(*ep));
	char (*names)[32] = calloc(GHOST_BATCH, sizeof(*names));

	if (e == NULL || ep == NULL || names == NULL)
		goto out;
	u.name = "ghost";
	for (int base = 0; base < FORGE_GHOSTS; base += GHOST_BATCH) {
		size_t k = 0;
		for (; k < GHOST_BATCH && base + (int)k < FORGE_GHOSTS; k++) {
			agentflow__mesh__v1__event__init(&e[k]);
			snprintf(names[k], sizeof(names[k]), "ghost-%d",
			    base + (int)k);
			e[k].origin = names[k];
			e[k].incarnation = 1;
			e[k].seq = 1;
			e[k].time_ms = clock_wall_ms();
			e[k].hop_limit = 8;
			e[k].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
			e[k].user = &u;
			ep[k] = &e[k];
		}
		b.n_events = k;
		b.events = ep;
		f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
		f.events = &b;
		send_all(n, up, &f);
	}
	ghosts_sent = 1;
	log_event(LOG_INFO, "forged invented origins", "{s:i}", "count",
	    FORGE_GHOSTS);
out:
	free(e);
	free(ep);
	free(names);
}

static void forge_hello_freeze(struct node *, int);

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct up_peers up;

	(void)fd;
	(void)what;
	if (!up_peers(n, &up))
		return;
	/* Commands first: what follows gets the link closed. */
	forge_command(n, 0);
	forge_command(n, 1);
	forge_role(n, "read");
	forge_role(n, "root");
	forge_proof(n, "none");
	forge_proof(n, "replay");
	forge_proof(n, "read");
	forge_proof(n, "expired");
	forge_proof(n, "revoked");
	forge_grant(n);
	revoke_one(n);
	forge_offer(n, &up);
	forge_snapshot(n, &up);
	forge_events(n, &up);
	if (!ghosts_sent && ++ticks >= 3)
		forge_ghosts(n, &up);
	/* The next Hellos (links closed for the forgeries come back)
	 * carry the other kind. */
	forge_hello_freeze(n, ticks % 2);
}

/* An unfreeze in every Hello we send: unsigned "from" A, or (own) ours,
 * signed, for signed-token principal mallory without her proof. */
static void
forge_hello_freeze(struct node *n, int own)
{
	Agentflow__Mesh__V1__Command cmd = AGENTFLOW__MESH__V1__COMMAND__INIT;
	static const char args[] = "{\"epoch\":5}";
	char *path[1] = { own ? (char *)n->id : ids[0] };
	uint8_t buf[1024], sig[ORIGIN_KEYS_SIGNATURE];
	size_t len;

	cmd.id = "fhello";
	cmd.origin = path[0];
	cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL;
	cmd.all = 1;
	cmd.destination = ids[0];
	cmd.principal = "mallory";
	cmd.role = "admin";
	cmd.type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_UNFREEZE;
	cmd.args_json.data = (uint8_t *)args;
	cmd.args_json.len = sizeof(args) - 1;
	cmd.issued_ms = clock_wall_ms();
	cmd.hop_limit = 8;
	cmd.n_path = 1;
	cmd.path = path;
	if (own)
		command_sign(mesh_origin_keys(n->mesh), &cmd, sig);
	if (agentflow__mesh__v1__command__get_packed_size(&cmd) > sizeof(buf))
		return;
	len = agentflow__mesh__v1__command__pack(&cmd, buf);
	links_set_freeze(n->links, buf, len);
}

void
test_hooks_start(struct node *n)
{
	struct timeval tv = { FORGE_MS / 1000, (FORGE_MS % 1000) * 1000 };
	const char *env = getenv("AGENTFLOW_TEST_FORGE");

	if (env == NULL || sscanf(env, "%63[^,],%63[^,],%63s", ids[0], ids[1],
	    ids[2]) != 3) {
		log_event(LOG_WARN, "forger build without AGENTFLOW_TEST_FORGE="
		    "A,B,C: forging nothing", NULL);
		return;
	}
	forge_hello_freeze(n, 0);
	tick = event_new(n->base, -1, EV_PERSIST, tick_cb, n);
	event_add(tick, &tv);
	log_event(LOG_INFO, "forger build: speaking for others", "{s:s}",
	    "ids", env);
}

void
test_hooks_stop(void)
{
	if (tick != NULL)
		event_free(tick);
	tick = NULL;
	if (revoked_ready)
		command_proof_clear(&revoked_cp);
	revoked_ready = 0;
}
