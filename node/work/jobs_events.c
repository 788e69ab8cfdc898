/*
 * Our jobs to the mesh (jobs_events.h): a job's record (jobs.c's JSON)
 * cut down to a JobUpdate, bounded as mesh.proto says (a placement or a
 * reason longer than the wire allows is cut, never refused: the job's
 * story stays whole on this node).
 */
#include "jobs_events.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frame_codec.h"
#include "json_check.h"
#include "jobs_spec.h"
#include "log.h"
#include "node.h"
#include "node_id.h"
#include "store.h"
#include "store_jobs.h"
#include "sync.h"
#include "sync_jobs.h"

/* Seeded jobs: as many as one of our snapshots carries. */
#define SEED_MAX	SYNC_JOBS_SNAPSHOT

/* Buffers the message's cut strings live in. */
struct cut {
	char	to[FRAME_CODEC_MAX_TEXT + 1];
	char	reason[FRAME_CODEC_MAX_TEXT + 1];
};

/* An id field (parent, replay_of, node): "" unless it has the syntax. */
/* Our own record's fields (json_check.h), as the message's strings. */
#define text(o, k)	((char *)json_text_of((o), (k)))
#define ms(o, k)	json_u64_of((o), (k))

static char *
id(const json_t *rec, const char *k)
{
	char *s = text(rec, k);

	return node_id_valid(s, strlen(s)) ? s : "";
}

/* rec as u; u's strings point into rec and c. */
static void
to_update(const json_t *rec, Agentflow__Mesh__V1__JobUpdate *u, struct cut *c)
{
	int state = jobs_state_parse(text(rec, "state"));
	const json_t *code = json_object_get(rec, "exit_code");

	agentflow__mesh__v1__job_update__init(u);
	u->job_id = text(rec, "id");
	u->state = text(rec, "state");
	u->task = text(rec, "task");
	u->to = jobs_clean_text(text(rec, "to"), c->to, sizeof(c->to));
	u->node = id(rec, "node");
	u->epoch = ms(rec, "epoch");
	u->exited = json_is_integer(code);
	u->exit_code = (int32_t)json_integer_value(code);
	u->term_signal = (int32_t)json_integer_value(json_object_get(rec,
	    "term_signal"));
	if (u->term_signal < 0 || u->term_signal > FRAME_CODEC_MAX_SIGNAL)
		u->term_signal = 0;
	u->reason = jobs_clean_text(text(rec, "reason"), c->reason,
	    sizeof(c->reason));
	u->principal = text(rec, "principal");
	u->submitted_ms = ms(rec, "submitted_ms");
	u->updated_ms = ms(rec, "updated_ms");
	/* finished_ms says "final" to every receiver. */
	u->finished_ms = state >= 0 && jobs_state_final((enum jobs_state)state) ?
	    ms(rec, "finished_ms") : 0;
	if (u->finished_ms == 0 && state >= 0 &&
	    jobs_state_final((enum jobs_state)state))
		u->finished_ms = u->updated_ms;
	u->parent = id(rec, "parent");
	u->replay_of = id(rec, "replay_of");
}

void
jobs_events_changed(struct node *n, const json_t *rec)
{
	Agentflow__Mesh__V1__JobUpdate u;
	struct cut c;

	if (n->sync == NULL)
		return;
	to_update(rec, &u, &c);
	/* Refused (logged) only for a record outside the bounds: the job
	 * goes on, unseen by the mesh until its next change. */
	sync_emit_job(n->sync, &u);
}

static int
seed_one(void *arg, const char *s)
{
	struct node *n = arg;
	Agentflow__Mesh__V1__JobUpdate u;
	json_t *rec = json_loads(s, 0, NULL);
	struct cut c;

	if (rec != NULL) {
		to_update(rec, &u, &c);
		sync_jobs_seed(n->sync, &u);
	}
	json_decref(rec);
	return 0;
}

void
jobs_events_seed(struct node *n)
{
	if (n->sync == NULL)
		return;
	/* Every open job (however old), then the newest: a job seeded
	 * twice is kept once. */
	if (store_jobs_open(n->store, seed_one, n) < 0 ||
	    store_jobs_query(n->store, NULL, NULL, SEED_MAX, seed_one, n) < 0)
		log_event(LOG_WARN, "cannot read our jobs for the mesh", "{s:s}",
		    "error", store_error(n->store));
}
