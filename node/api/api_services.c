/*
 * The service routes (services.h, docs/services.md):
 *
 *   GET    /api/services[?name=&node=]  every service on every node, as
 *                                       the mesh told this node
 *   GET    /api/services/NAME           this node's NAME (definition,
 *                                       state, checks) and "instances":
 *                                       NAME on every node
 *   PUT    /api/services/NAME           add or replace the definition on
 *                                       this node (write): 201 new, 200
 *                                       replaced, 400 {error:
 *                                       "invalid_service", errors: [{path,
 *                                       error}]} with nothing changed
 *   DELETE /api/services/NAME           stop and remove it (write)
 *   POST   /api/services/NAME/start     desired running (write); stop,
 *                                       restart likewise
 *
 *   GET    /api/discovery?service=NAME[&tag=&node=&endpoint=]
 *                                       the ready instances of NAME on
 *                                       every node, one per endpoint,
 *                                       with their node's address
 *   GET    /api/resolve?service=NAME[&tag=]&strategy=random|round_robin|
 *          hash[&key=]                  one of them; 404 when none
 *
 * Another node's services are driven with the "service" command
 * (POST /api/commands), which calls the same functions there.  Changes
 * are audited with the caller.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_priv.h"
#include "http_json.h"
#include "node.h"
#include "node_id.h"
#include "service_spec.h"
#include "services.h"
#include "service_registry.h"
#include "sync_services.h"

static int
name_ok(const struct api_call *call, const char *name)
{
	if (service_name_valid(name))
		return 1;
	http_reply_error(call->req, 400, "invalid_field", "not a service name "
	    "(1-63 of [A-Za-z0-9_-]): %.64s", name);
	return 0;
}

/* Answers status with out (consumed): the service, or its error. */
static void
reply(const struct api_call *call, int status, json_t *out)
{
	char msg[64];

	if (status == 200 || status == 201) {
		http_reply_json(call->req, status, out);
		return;
	}
	if (status == 400 && json_object_get(out, "errors") != NULL) {
		snprintf(msg, sizeof(msg), "%zu error%s in the service",
		    json_array_size(json_object_get(out, "errors")),
		    json_array_size(json_object_get(out, "errors")) == 1 ? "" :
		    "s");
		http_reply_json(call->req, 400, json_pack("{s:s, s:s, s:O}",
		    "error", "invalid_service", "message", msg, "errors",
		    json_object_get(out, "errors")));
	} else
		http_reply_error(call->req, status, status == 404 ? "not_found" :
		    status == 409 ? "conflict" : status == 403 ? "forbidden" :
		    status == 507 ? "too_many" :
		    status == 400 ? "invalid_field" : "internal", "%s",
		    json_string_value(json_object_get(out, "error")));
	json_decref(out);
}

void
api_services_list(const struct api_call *call)
{
	struct evkeyvalq q;
	const char *name, *node;

	if (api_query(call->req, &q) != 0)
		return;
	name = evhttp_find_header(&q, "name");
	node = evhttp_find_header(&q, "node");
	if ((name != NULL && !name_ok(call, name)) || (node != NULL &&
	    !node_id_valid(node, strlen(node)))) {
		if (name == NULL || service_name_valid(name))
			http_reply_error(call->req, 400, "invalid_field",
			    "node: not a node id");
		evhttp_clear_headers(&q);
		return;
	}
	http_reply_json(call->req, 200, json_pack("{s:o}", "services",
	    sync_services_list(call->n->sync, name, node)));
	evhttp_clear_headers(&q);
}

void
api_services_get(const struct api_call *call)
{
	json_t *local, *inst;

	if (!name_ok(call, call->arg))
		return;
	local = call->n->services != NULL ? services_get(call->n->services,
	    call->arg) : NULL;
	inst = sync_services_list(call->n->sync, call->arg, NULL);
	if (local == NULL && json_array_size(inst) == 0) {
		json_decref(inst);
		http_reply_error(call->req, 404, "not_found", "no service named "
		    "%s on any node", call->arg);
		return;
	}
	if (local == NULL)
		local = json_pack("{s:s, s:n}", "name", call->arg, "definition");
	json_object_set_new(local, "instances", inst);
	http_reply_json(call->req, 200, local);
}

void
api_services_put(const struct api_call *call)
{
	json_t *body, *out = NULL;
	int status;

	if (!name_ok(call, call->arg) || api_frozen(call))
		return;
	if ((body = http_body_json(call->req)) == NULL)
		return;		/* answered */
	status = services_put(call->n->services, call->arg, body, &out);
	api_audit(call, "service.put", status == 201 ? "created" : status ==
	    200 ? "replaced" : "invalid", json_pack("{s:s, s:O?}", "name",
	    call->arg, "version", json_object_get(out, "version")));
	reply(call, status, out);
	json_decref(body);
}

void
api_services_delete(const struct api_call *call)
{
	json_t *out = NULL;
	int status;

	if (!name_ok(call, call->arg) || api_frozen(call))
		return;
	status = services_delete(call->n->services, call->arg, &out);
	if (status != 404)
		api_audit(call, "service.delete", status == 200 ? "ok" : "error",
		    json_pack("{s:s}", "name", call->arg));
	reply(call, status, out);
}

/* POST /api/services/NAME/{start,stop,restart} */
void
api_services_post_name(const struct api_call *call)
{
	char name[SERVICE_NAME_MAX + 2], verb[16];
	json_t *out = NULL;
	char action[32];
	int status;

	if (sscanf(call->arg, "%64[^/]/%15s", name, verb) != 2 ||
	    (strcmp(verb, "start") != 0 && strcmp(verb, "stop") != 0 &&
	    strcmp(verb, "restart") != 0)) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/services/%.64s (POST /api/services/NAME/start, "
		    "/stop or /restart)", call->arg);
		return;
	}
	if (!name_ok(call, name))
		return;
	/* Stop is taken while frozen: the kill switch may only stop more. */
	if (strcmp(verb, "stop") != 0 && api_frozen(call))
		return;
	status = services_action(call->n->services, name, verb, &out);
	snprintf(action, sizeof(action), "service.%s", verb);
	if (status != 404)
		api_audit(call, action, status == 200 ? "ok" : "error",
		    json_pack("{s:s}", "name", name));
	reply(call, status, out);
}

/* The service=, tag=, node= and endpoint= of a discovery query, checked;
 * -1 after answering 400. */
static int
discovery_query(const struct api_call *call, struct evkeyvalq *q,
    const char **name, const char **tag, const char **node,
    const char **endpoint)
{
	*name = evhttp_find_header(q, "service");
	*tag = evhttp_find_header(q, "tag");
	*node = evhttp_find_header(q, "node");
	*endpoint = evhttp_find_header(q, "endpoint");
	if (*name == NULL || !service_name_valid(*name)) {
		http_reply_error(call->req, 400, "invalid_field", "service: a "
		    "service name (1-63 of [A-Za-z0-9_-]) is required");
		return -1;
	}
	if ((*tag != NULL && !service_name_valid(*tag)) || (*endpoint != NULL &&
	    !service_name_valid(*endpoint)) || (*node != NULL &&
	    !node_id_valid(*node, strlen(*node)))) {
		http_reply_error(call->req, 400, "invalid_field", "tag and "
		    "endpoint: names (1-63 of [A-Za-z0-9_-]); node: a node id");
		return -1;
	}
	return 0;
}

void
api_services_discovery(const struct api_call *call)
{
	const char *name, *tag, *node, *endpoint;
	struct evkeyvalq q;

	if (api_query(call->req, &q) != 0)
		return;
	if (discovery_query(call, &q, &name, &tag, &node, &endpoint) == 0)
		http_reply_json(call->req, 200, json_pack("{s:s, s:o}",
		    "service", name, "instances", service_registry_instances(
		    call->n, name, tag, node, endpoint)));
	evhttp_clear_headers(&q);
}

void
api_services_resolve(const struct api_call *call)
{
	const char *name, *tag, *node, *endpoint, *key;
	struct evkeyvalq q;
	char err[256];
	json_t *one;
	int bad;

	if (api_query(call->req, &q) != 0)
		return;
	if (discovery_query(call, &q, &name, &tag, &node, &endpoint) != 0)
		goto out;
	key = evhttp_find_header(&q, "key");
	if (key != NULL && strlen(key) > 1024) {
		http_reply_error(call->req, 400, "invalid_field", "key: at most "
		    "1024 bytes");
		goto out;
	}
	one = service_registry_resolve(call->n->registry, call->n, name, tag,
	    evhttp_find_header(&q, "strategy"), key, &bad, err, sizeof(err));
	if (one == NULL)
		http_reply_error(call->req, bad ? 400 : 404, bad ?
		    "invalid_field" : "not_found", "%s", err);
	else
		http_reply_json(call->req, 200, json_pack("{s:o}", "instance",
		    one));
out:
	evhttp_clear_headers(&q);
}
