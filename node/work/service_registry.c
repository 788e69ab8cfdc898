/*
 * Finding services by name (see service_registry.h).
 */
#include "service_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "links.h"
#include "node.h"
#include "rng.h"
#include "sync_json.h"
#include "sync_services.h"
#include "text.h"
#include "xalloc.h"

struct service_registry {
	struct hmap	*next;		/* service name → uint64_t *, round robin */
};

struct service_registry *
service_registry_new(void)
{
	struct service_registry *r = xcalloc(1, sizeof(*r));

	r->next = hmap_new();
	return r;
}

static int
free_one(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
	return 1;
}

void
service_registry_free(struct service_registry *r)
{
	if (r == NULL)
		return;
	hmap_sweep(r->next, free_one, NULL);
	hmap_free(r->next);
	free(r);
}

int
service_registry_host(const char *address, char *out, size_t len)
{
	const char *colon;
	size_t n;

	if (address == NULL || address[0] == '\0')
		return -1;
	if (address[0] == '[') {
		if ((colon = strchr(address, ']')) == NULL)
			return -1;
		n = (size_t)(colon - address - 1);
		address++;
	} else if ((colon = strrchr(address, ':')) != NULL)
		n = (size_t)(colon - address);
	else
		n = strlen(address);
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, address, n);
	out[n] = '\0';
	return 0;
}

/* The host node is reached at, into out; 0, or -1 (unknown). */
static int
node_host(const struct node *n, const char *id, char *out, size_t len)
{
	json_t *o, *links, *l;
	const char *addr = NULL;
	size_t i;
	int rc = -1;

	if (strcmp(id, n->id) == 0)
		return service_registry_host(json_string_value(json_array_get(
		    n->addresses, 0)), out, len);
	if ((o = sync_json_origin(n->sync, id, 0)) != NULL) {
		addr = json_string_value(json_array_get(json_object_get(
		    json_object_get(o, "info"), "addresses"), 0));
		rc = service_registry_host(addr, out, len);
		json_decref(o);
	}
	if (rc == 0 || n->links == NULL)
		return rc;
	links = links_status(n->links);
	json_array_foreach(links, i, l)
		if (strcmp(json_string_value(json_object_get(l, "peer")) ?
		    json_string_value(json_object_get(l, "peer")) : "", id) == 0) {
			rc = service_registry_host(json_string_value(
			    json_object_get(l, "address")), out, len);
			break;
		}
	json_decref(links);
	return rc;
}

static int
ready(const json_t *row)
{
	const char *st = json_string_value(json_object_get(row, "state"));

	return st != NULL && (strcmp(st, "running") == 0 ||
	    strcmp(st, "healthy") == 0);
}

static int
has_tag(const json_t *ep, const char *tag)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(ep, "tags"), i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
			return 1;
	return 0;
}

json_t *
service_registry_instances(const struct node *n, const char *name,
    const char *tag, const char *node, const char *endpoint)
{
	json_t *rows = sync_services_list(n->sync, name, node), *out = json_array();
	json_t *row, *ep;
	char host[256];
	size_t i, j;

	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "node"));
		int known;

		if (!ready(row) || id == NULL)
			continue;
		known = node_host(n, id, host, sizeof(host)) == 0;
		json_array_foreach(json_object_get(row, "endpoints"), j, ep) {
			const char *epname = json_string_value(json_object_get(ep,
			    "name"));

			if ((tag != NULL && !has_tag(ep, tag)) || (endpoint !=
			    NULL && (epname == NULL || strcmp(epname, endpoint) !=
			    0)))
				continue;
			json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:O,"
			    " s:o, s:O, s:O, s:O, s:O}", "node", id, "service",
			    json_object_get(row, "name"), "endpoint",
			    json_object_get(ep, "name"), "protocol",
			    json_object_get(ep, "protocol"), "address", known ?
			    json_string(host) : json_null(), "port",
			    json_object_get(ep, "port"), "tags",
			    json_object_get(ep, "tags"), "state",
			    json_object_get(row, "state"), "version",
			    json_object_get(row, "version")));
		}
	}
	json_decref(rows);
	return out;
}

/* Rendezvous: the instance whose hash with key is highest. */
static size_t
pick_hash(json_t *all, const char *key)
{
	uint64_t best = 0, h;
	size_t i, at = 0;
	json_t *e;
	char buf[1400];	/* a key of 1024 and the instance's names */

	json_array_foreach(all, i, e) {
		const char *node = json_string_value(json_object_get(e, "node"));
		const char *ep = json_string_value(json_object_get(e,
		    "endpoint"));

		snprintf(buf, sizeof(buf), "%s\n%s\n%s\n%lld", key,
		    node != NULL ? node : "", ep != NULL ? ep : "",
		    (long long)json_integer_value(json_object_get(e, "port")));
		h = text_fnv1a(buf, strlen(buf), TEXT_FNV1A_BASIS);
		if (i == 0 || h > best) {
			best = h;
			at = i;
		}
	}
	return at;
}

json_t *
service_registry_resolve(struct service_registry *r, struct node *n,
    const char *name, const char *tag, const char *strategy,
    const char *key, int *bad, char *err, size_t errlen)
{
	json_t *all, *one;
	size_t count, at;
	uint64_t *next, rnd = 0;

	*bad = 0;
	if (strategy == NULL)
		strategy = "random";
	if (strcmp(strategy, "random") != 0 && strcmp(strategy,
	    "round_robin") != 0 && strcmp(strategy, "hash") != 0) {
		*bad = 1;
		snprintf(err, errlen, "strategy: random, round_robin or hash");
		return NULL;
	}
	if (strcmp(strategy, "hash") == 0 && (key == NULL || key[0] == '\0')) {
		*bad = 1;
		snprintf(err, errlen, "strategy hash needs a key");
		return NULL;
	}
	all = service_registry_instances(n, name, tag, NULL, NULL);
	if ((count = json_array_size(all)) == 0) {
		json_decref(all);
		snprintf(err, errlen, "no ready instance of service %s%s%s",
		    name, tag != NULL ? " with tag " : "", tag != NULL ? tag : "");
		return NULL;
	}
	if (strcmp(strategy, "hash") == 0)
		at = pick_hash(all, key);
	else if (strcmp(strategy, "round_robin") == 0) {
		if ((next = hmap_get(r->next, name)) == NULL) {
			next = xcalloc(1, sizeof(*next));
			hmap_put(r->next, name, next);
		}
		at = (size_t)((*next)++ % count);
	} else {
		(void)rng_bytes(n->rng, &rnd, sizeof(rnd));
		at = (size_t)(rnd % count);
	}
	one = json_incref(json_array_get(all, at));
	json_decref(all);
	return one;
}
