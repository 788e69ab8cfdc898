/*
 * Shared by the API's files (api.c: routing, auth, mesh state;
 * api_work.c: commands, tasks, alerts; api_audit.c: the audit, api_audit).
 */
#ifndef AGENTFLOW_API_PRIV_H
#define AGENTFLOW_API_PRIV_H

#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>

#include "principal.h"

struct evkeyvalq;

struct api_work;
struct commands_request;
struct node;
struct ratelimit;

struct api {
	struct node		*n;
	struct api_work		*work;
	struct ratelimit	*auth_audit;	/* auth failures audited per IP */
	struct principal	 principal;	/* of the request being served */
};

/* One request as a route handler sees it. */
struct api_call {
	struct evhttp_request	*req;
	struct node		*n;
	struct api		*api;
	const char		*arg;		/* rest of a prefix route's path */
	/* Who asks (api_auth.h); NULL on open routes. */
	const struct principal	*principal;
};

/*
 * 0 when the caller's role is at least need; otherwise answers 403
 * forbidden naming the role needed and the role held (what: the action
 * refused, e.g. "POST /api/tokens"), audits auth.failed "forbidden" and
 * returns -1.
 */
int api_require_role(const struct api_call *, enum principal_role need,
    const char *what);
/* audit_record with the caller as actor and its token id (signed tokens)
 * added to details (stolen, may be NULL). */
void api_audit(const struct api_call *, const char *action,
    const char *result, json_t *details);

struct api_work *api_work_new(struct node *);
void api_work_free(struct api_work *);
void api_work_changed(struct api_work *, const char *command_id);

void api_work_commands_list(const struct api_call *);	/* GET /api/commands */
void api_work_commands_post(const struct api_call *);	/* POST: issue */
void api_work_command(const struct api_call *);	/* GET /api/commands/{id} */
void api_work_tasks(const struct api_call *);
void api_work_task(const struct api_call *);	/* {node}/{id}[/logs] */
void api_work_alerts(const struct api_call *);
void api_work_notices(const struct api_call *);
/* GET /api/audit and /api/audit/verify (api_audit.c). */
void api_audit_list(const struct api_call *);
void api_audit_verify(const struct api_call *);

/*
 * Answers a command's record (stolen; NULL when it is gone) to req; the
 * record may still be pending when the wait ran out.
 */
typedef void (*api_reply_fn)(struct evhttp_request *req, const char *id,
    json_t *rec);
/* Answers rec with reply now if it is done, else when it is done or
 * wait_ms pass (api_work.c). */
void api_work_wait(const struct api_call *, const char *id, json_t *rec,
    long wait_ms, api_reply_fn reply);
/* A target naming one node no node here has heard of: 1 with err saying
 * so and offering the closest name ("no node named nod-2 (did you mean
 * node-2?)"), so a typo is not taken for a node that is down; 0 for any
 * other target (api_work.c). */
int api_unknown_node(struct node *, const json_t *target, char *err,
    size_t errlen);
/*
 * Another node's read over the mesh (api_audit.c): api_remote_ask issues
 * a command of type with args (borrowed) to node as the caller and
 * answers with reply when it is done (404 unknown_node or no_target, 400 when it cannot
 * be issued); api_remote_answer, for reply, answers the result's body
 * when it holds an array named key, else the remote failure as an error
 * (502 unreachable, 504 timeout, 501 unsupported...).  rec is stolen.
 */
void api_remote_ask(const struct api_call *, const char *node,
    const char *type, json_t *args, api_reply_fn reply);
void api_remote_answer(struct evhttp_request *req, const char *id,
    json_t *rec, const char *key);
/* GET /api/history (api_history.c). */
void api_history_get(const struct api_call *);
void api_work_definitions(const struct api_call *);
/* POST /api/nodes/{id}/forget (api_nodes.c). */
void api_nodes_post(const struct api_call *);
/* GET and POST /api/tokens, POST /api/tokens/{id}/revoke (api_tokens.c). */
void api_tokens_list(const struct api_call *);
void api_tokens_issue(const struct api_call *);
void api_tokens_post_id(const struct api_call *);
/* GET and POST /api/jobs, GET /api/jobs/{id}, POST /api/jobs/{id}/cancel
 * (api_jobs.c). */
void api_jobs_list(const struct api_call *);
void api_jobs_post(const struct api_call *);
void api_jobs_get(const struct api_call *);
void api_jobs_post_id(const struct api_call *);
/* POST /api/jobs/{id}/replay and /api/jobs/replay (api_replay.c). */
void api_jobs_replay(const struct api_call *, const char *id);
void api_jobs_replay_batch(const struct api_call *);

/*
 * Query parameters as the node API reads them: absent leaves *out as it
 * was (api_param_node: NULL); a value out of range or not a node id
 * answers 400 invalid_field naming the parameter and returns -1.  *out
 * points into q.
 */
/* The request's query into q: 0, or -1 when it does not parse (answered
 * 400, q empty). */
int api_query(struct evhttp_request *, struct evkeyvalq *q);
int api_param_int(struct evhttp_request *, const struct evkeyvalq *q,
    const char *name, long long min, long long max, long long *out);
int api_param_node(struct evhttp_request *, const struct evkeyvalq *q,
    const char *name, const char **out);

/*
 * The bodies' parsers, shared with tests/fuzz/fuzz_api_json.c so that it
 * fuzzes these and not a copy.
 *
 * api_command_fields: a POST /api/commands object's fields into cr and
 * *wait_ms (cr's strings stay the body's; target, type and args are
 * checked by commands_issue); -1 with the message of a 400
 * invalid_field.
 *
 * api_event_payload: a POST /api/events payload as the bytes sent: a
 * string's own, any other JSON's compact text (*text, freed by the
 * caller), nothing for none or null.
 */
int api_command_fields(const json_t *body, struct commands_request *cr,
    long *wait_ms, char *err, size_t errlen);
void api_event_payload(const json_t *payload, const char **raw, size_t *len,
    char **text);

/* POST /api/purge (api_purge.c). */
void api_purge_post(const struct api_call *);
/* POST /api/workflows/check (api_workflows.c). */
void api_workflows_check(const struct api_call *);
/* GET /api/events/{origin}/{incarnation}/{seq} (api_events.c). */
void api_events_one(const struct api_call *);
/* 1 after answering 423 when the node is frozen; else 0. */
int api_frozen(const struct api_call *);
/* GET and POST /api/rollouts, GET /api/rollouts/ID, POST
 * /api/rollouts/ID/{pause,resume,abort} (api_rollouts.c). */
void api_rollouts_list(const struct api_call *);
void api_rollouts_post(const struct api_call *);
void api_rollouts_get(const struct api_call *);
void api_rollouts_post_id(const struct api_call *);
/* GET /api/artifacts, PUT and DELETE /api/artifacts/ID (api_artifacts.c). */
void api_artifacts_list(const struct api_call *);
void api_artifacts_put(const struct api_call *);
void api_artifacts_delete(const struct api_call *);
/* GET /api/services, GET/PUT/DELETE /api/services/NAME, POST
 * /api/services/NAME/{start,stop,restart} (api_services.c). */
void api_services_list(const struct api_call *);
void api_services_get(const struct api_call *);
void api_services_put(const struct api_call *);
void api_services_delete(const struct api_call *);
void api_services_post_name(const struct api_call *);
/* GET /api/discovery, GET /api/resolve (api_services.c). */
void api_services_discovery(const struct api_call *);
void api_services_resolve(const struct api_call *);
/* GET/POST /api/schedules, GET/DELETE /api/schedules/NAME, POST
 * /api/schedules/NAME/{pause,resume} (api_schedules.c). */
/* Silences (api_silences.c). */
void api_silences_list(const struct api_call *);
void api_silences_post(const struct api_call *);
void api_silences_delete(const struct api_call *);
/* Marks the open alerts (GET /api/alerts rows) a silence here matches:
 * "silenced": true, "silence_id". */
void api_silences_mark(struct node *, json_t *alerts);
void api_schedules_list(const struct api_call *);
void api_schedules_post(const struct api_call *);
void api_schedules_get(const struct api_call *);
void api_schedules_delete(const struct api_call *);
void api_schedules_post_name(const struct api_call *);
/* The workflows themselves (api_workflows.c, workflows.h). */
void api_workflows_post(const struct api_call *);
void api_workflows_list(const struct api_call *);
void api_workflows_get(const struct api_call *);
void api_workflows_post_id(const struct api_call *);

#endif
