/*
 * Node table (see signal_table.h): two hash maps (id → entry,
 * token → entry) and an LRU list in last_seen order.
 */
#include "signal_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "check.h"
#include "hmap.h"
#include "node_id.h"
#include "xalloc.h"

struct entry {
	char			 id[NODE_ID_MAX + 1];
	char			 token[SIGNAL_TOKEN_HEX + 1];
	json_t			*addresses;
	json_t			*labels;
	char			*version;
	char			 observed[64];
	char			 fingerprint[72];
	unsigned char		 serial[32];
	size_t			 serial_len;
	uint64_t		 registered_at;
	uint64_t		 last_seen;
	char			*json;		/* {...,"last_seen": without the value */
	size_t			 json_len;
	TAILQ_ENTRY(entry)	 lru;
};

TAILQ_HEAD(entry_list, entry);

struct signal_table {
	struct hmap		*by_id;
	struct hmap		*by_token;
	struct entry_list	 lru;
	size_t			 max_nodes;
	uint64_t		 generation;
	uint64_t		 revision;
};

struct signal_table *
signal_table_new(size_t max_nodes)
{
	struct signal_table *t = xcalloc(1, sizeof(*t));

	t->by_id = hmap_new();
	t->by_token = hmap_new();
	TAILQ_INIT(&t->lru);
	t->max_nodes = max_nodes;
	t->generation = 1;
	return t;
}

static void
entry_free(struct entry *e)
{
	json_decref(e->addresses);
	json_decref(e->labels);
	free(e->version);
	free(e->json);
	free(e);
}

static void
entry_remove(struct signal_table *t, struct entry *e)
{
	hmap_del(t->by_id, e->id);
	hmap_del(t->by_token, e->token);
	TAILQ_REMOVE(&t->lru, e, lru);
	entry_free(e);
	t->generation++;
	t->revision++;
}

void
signal_table_free(struct signal_table *t)
{
	struct entry *e;

	if (t == NULL)
		return;
	while ((e = TAILQ_FIRST(&t->lru)) != NULL)
		entry_remove(t, e);
	hmap_free(t->by_id);
	hmap_free(t->by_token);
	free(t);
}

size_t
signal_table_count(const struct signal_table *t)
{
	return hmap_count(t->by_id);
}

uint64_t
signal_table_generation(const struct signal_table *t)
{
	return t->generation;
}

uint64_t
signal_table_revision(const struct signal_table *t)
{
	return t->revision;
}

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Encodes everything but last_seen once; see signal_table_peers_render. */
static void
serialize(struct entry *e)
{
	json_t *p = json_pack("{s:s, s:O, s:s, s:O, s:s*, s:s, s:I}",
	    "node_id", e->id, "addresses", e->addresses,
	    "observed_address", e->observed, "labels", e->labels,
	    "version", e->version, "cert_fingerprint", e->fingerprint,
	    "registered_at", (json_int_t)e->registered_at);
	char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;

	json_decref(p);
	CHECK(text != NULL);	/* only allocation can fail here */
	len = strlen(text);
	/* Replace the closing brace with the last_seen key. */
	e->json = xmalloc(len + sizeof(",\"last_seen\":"));
	memcpy(e->json, text, len - 1);
	memcpy(e->json + len - 1, ",\"last_seen\":", sizeof(",\"last_seen\":"));
	e->json_len = len - 1 + sizeof(",\"last_seen\":") - 1;
	free(text);
}

int
signal_table_register(struct signal_table *t, const struct signal_reg *r,
    const char *token, uint64_t now_ms)
{
	struct entry *e = hmap_get(t->by_id, r->node_id);
	int changed = 0;

	if (e == NULL) {
		if (hmap_count(t->by_id) >= t->max_nodes)
			return -1;
		e = xcalloc(1, sizeof(*e));
		snprintf(e->id, sizeof(e->id), "%s", r->node_id);
		hmap_put(t->by_id, e->id, e);
		changed = 1;
	} else {
		hmap_del(t->by_token, e->token);
		TAILQ_REMOVE(&t->lru, e, lru);
		changed = !json_equal(e->addresses, r->addresses) ||
		    !json_equal(e->labels, r->labels) ||
		    !same_str(e->version, r->version) ||
		    strcmp(e->observed, r->observed) != 0 ||
		    strcmp(e->fingerprint, r->fingerprint) != 0;
		json_decref(e->addresses);
		json_decref(e->labels);
		free(e->version);
		free(e->json);
	}
	e->addresses = json_incref(r->addresses);
	e->labels = json_incref(r->labels);
	e->version = r->version ? xstrdup(r->version) : NULL;
	snprintf(e->observed, sizeof(e->observed), "%s", r->observed);
	snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", r->fingerprint);
	e->serial_len = r->serial_len <= sizeof(e->serial) ? r->serial_len : 0;
	if (e->serial_len > 0)
		memcpy(e->serial, r->serial, e->serial_len);
	snprintf(e->token, sizeof(e->token), "%s", token);
	e->registered_at = now_ms;
	e->last_seen = now_ms;
	serialize(e);
	hmap_put(t->by_token, e->token, e);
	TAILQ_INSERT_TAIL(&t->lru, e, lru);
	if (changed)
		t->generation++;
	t->revision++;
	return 0;
}

const char *
signal_table_lookup_token(struct signal_table *t, const char *token,
    uint64_t now_ms, int touch)
{
	struct entry *e = hmap_get(t->by_token, token);

	if (e == NULL)
		return NULL;
	if (touch) {
		e->last_seen = now_ms;
		TAILQ_REMOVE(&t->lru, e, lru);
		TAILQ_INSERT_TAIL(&t->lru, e, lru);
		t->revision++;
	}
	return e->id;
}

int
signal_table_leave(struct signal_table *t, const char *token)
{
	struct entry *e = hmap_get(t->by_token, token);

	if (e == NULL)
		return -1;
	entry_remove(t, e);
	return 0;
}

size_t
signal_table_evict(struct signal_table *t, uint64_t now_ms, uint64_t ttl_ms,
    void (*evicted)(const char *, void *), void *arg)
{
	struct entry *e;
	size_t n = 0;

	while ((e = TAILQ_FIRST(&t->lru)) != NULL &&
	    e->last_seen + ttl_ms <= now_ms) {
		if (evicted != NULL)
			evicted(e->id, arg);
		entry_remove(t, e);
		n++;
	}
	return n;
}

size_t
signal_table_evict_revoked(struct signal_table *t,
    int (*revoked)(const unsigned char *, size_t, void *),
    void (*evicted)(const char *, void *), void *arg)
{
	struct entry *e, *next;
	size_t n = 0;

	for (e = TAILQ_FIRST(&t->lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e->serial_len == 0 || !revoked(e->serial, e->serial_len, arg))
			continue;
		if (evicted != NULL)
			evicted(e->id, arg);
		entry_remove(t, e);
		n++;
	}
	return n;
}

void
signal_table_peers_render(const struct signal_table *t, struct evbuffer *out)
{
	const struct entry *e;
	char num[32];
	int n;

	evbuffer_add(out, "[", 1);
	TAILQ_FOREACH(e, &t->lru, lru) {
		if (e != TAILQ_FIRST(&t->lru))
			evbuffer_add(out, ",", 1);
		evbuffer_add(out, e->json, e->json_len);
		n = snprintf(num, sizeof(num), "%" PRIu64 "}", e->last_seen);
		evbuffer_add(out, num, (size_t)n);
	}
	evbuffer_add(out, "]", 1);
}
