/*
 * The signal's node table: who is registered, under which session token,
 * and when each was last heard from.  In memory only; a restarted signal is
 * refilled by re-registrations.
 *
 * Invariants: each entry is in the id map, the token map and the LRU list
 * exactly once; the LRU list is ordered by last_seen (oldest first) because
 * every touch moves an entry to the tail, so eviction pops from the head.
 * The generation increases on every change a listing would show except
 * last_seen (join, leave, eviction, changed addresses/labels/version).
 */
#ifndef AGENTFLOW_SIGNAL_TABLE_H
#define AGENTFLOW_SIGNAL_TABLE_H

#include <event2/buffer.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SIGNAL_TOKEN_HEX 64

struct signal_table;

/* What a registration carries.  Strings are copied; the JSON values are
 * referenced (json_incref) by the table. */
struct signal_reg {
	const char	*node_id;
	json_t		*addresses;	/* array of strings */
	json_t		*labels;	/* object of strings */
	const char	*version;	/* may be NULL */
	const char	*observed;	/* source IP */
	const char	*fingerprint;	/* "sha256:..." */
	const unsigned char *serial;	/* certificate serial, raw bytes */
	size_t		 serial_len;	/* at most 32 */
};

struct signal_table *signal_table_new(size_t max_nodes);
void signal_table_free(struct signal_table *);
size_t signal_table_count(const struct signal_table *);
uint64_t signal_table_generation(const struct signal_table *);
/* Moves on every change, heartbeats (last_seen) included: what a cached
 * rendering of the peer list is keyed on. */
uint64_t signal_table_revision(const struct signal_table *);

/*
 * Adds or replaces the node's entry with a fresh session token (given by the
 * caller, SIGNAL_TOKEN_HEX hex chars).  The previous token of that node, if
 * any, stops working.  Returns 0, or -1 when the table is full (a node
 * already present can always re-register).
 */
int signal_table_register(struct signal_table *, const struct signal_reg *,
    const char *token, uint64_t now_ms);

/* Node id for a live token, or NULL.  Marks it seen at now_ms when touch. */
const char *signal_table_lookup_token(struct signal_table *, const char *token,
    uint64_t now_ms, int touch);

/* Removes the node holding token.  Returns 0, or -1 if the token is unknown. */
int signal_table_leave(struct signal_table *, const char *token);

/* Removes every entry not seen for ttl_ms; calls evicted(id, arg) for each
 * before it goes.  Returns how many were evicted. */
size_t signal_table_evict(struct signal_table *, uint64_t now_ms, uint64_t ttl_ms,
    void (*evicted)(const char *node_id, void *arg), void *arg);

/* Appends the peer list as API.md's "peers" JSON array to out.  Each
 * entry's JSON is serialized once when it registers; rendering only joins
 * those pieces with the current last_seen, so a list of 10,000 nodes costs
 * a copy, not 10,000 encodings. */
void signal_table_peers_render(const struct signal_table *, struct evbuffer *out);

/* Removes every entry whose certificate serial revoked(serial, len, arg)
 * says is revoked; calls evicted(id, arg) for each.  Returns how many. */
size_t signal_table_evict_revoked(struct signal_table *,
    int (*revoked)(const unsigned char *serial, size_t len, void *arg),
    void (*evicted)(const char *node_id, void *arg), void *arg);

#endif
