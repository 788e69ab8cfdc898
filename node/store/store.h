/*
 * The node's SQLite storage: <data dir>/agentflow.db.
 *
 * One struct store per process, used only from the loop thread.  The
 * database runs in WAL mode with foreign keys on and a busy timeout; its
 * schema is brought up to date at open by the migration steps in store.c,
 * numbered by PRAGMA user_version.  A database written by a newer binary is
 * refused and left untouched.
 *
 * Every function returning int returns 0 on success and -1 on failure;
 * store_error() then says why (SQLite's message included).  Strings and
 * blobs handed to callbacks are valid only during the callback, and a
 * callback must not call into the same store (its statement is mid-walk).
 * Pointers passed in are only read during the call; the store keeps none.
 * uint64 values (incarnation, seq) round-trip exactly; SQLite holds them as
 * their int64 bit pattern.
 */
#ifndef AGENTFLOW_STORE_H
#define AGENTFLOW_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_FILE	"agentflow.db"

/*
 * Opens (creating dir with mode 0700 and the database if missing) and
 * migrates dir/agentflow.db.  Returns NULL with err set if the directory
 * cannot be made, the file is not a SQLite database, its schema is newer
 * than this binary's, or a migration fails (which is rolled back).
 */
struct store *store_open(const char *dir, char *err, size_t errlen);

/* Finalizes statements and closes the database.  NULL is a no-op. */
void store_close(struct store *st);

/* Why the last failing call failed; valid until the next call on st. */
const char *store_error(const struct store *st);

/* The schema version this binary writes (the highest migration). */
int store_schema_version(void);

/*
 * Increments the persisted incarnation counter and returns the new value
 * (1 on a fresh database) in *out.  The increment is committed, with a full
 * fsync, before the value is returned, so a value is never handed out twice,
 * not even across a crash or a power loss.
 */
int store_next_incarnation(struct store *st, uint64_t *out);
/*
 * Like store_next_incarnation, but the new value is also above seen (an
 * incarnation of ours a peer holds: a restored backup or a copied data
 * directory counted less): max(counter, seen) + 1.  seen must be below
 * STORE_INCARNATION_MAX, or -1; so is the stored counter, or -1 (a counter
 * at the limit would repeat itself at every start).
 */
#define STORE_INCARNATION_MAX	((uint64_t)1 << 62)
int store_incarnation_above(struct store *st, uint64_t seen, uint64_t *out);

/*
 * Free-form key/value metadata (the incarnation lives here too, under
 * "incarnation").  store_meta_get copies the value into buf (NUL-terminated,
 * truncated to buflen) and returns 1 if found, 0 if not, -1 on error.
 */
int store_meta_set(struct store *st, const char *key, const char *value);
int store_meta_get(struct store *st, const char *key, char *buf,
    size_t buflen);

/*
 * Groups the writes between them into one transaction: a batch of events
 * costs one commit instead of one each.  No other store call that makes
 * its own transaction (store_peers_replace) may run inside a batch.
 */
int store_batch_begin(struct store *st);
int store_batch_end(struct store *st);
/*
 * Makes the writes between them all or nothing, inside a batch or not (a
 * savepoint: on its own it is a transaction).  store_atomic_end keeps
 * them when ok and they commit, else drops them (and only them) and
 * returns -1, store_error() saying why.  Not nested.
 */
int store_atomic_begin(struct store *st);
int store_atomic_end(struct store *st, int ok);

/*
 * The last known peer list, so a node restarted while the signal is down
 * can still dial its peers.  addresses and labels are JSON texts, stored as
 * given (the caller renders and parses them); any pointer but node_id may
 * be NULL.
 */
struct store_peer {
	const char	*node_id;
	const char	*addresses;		/* JSON array of "host:port" */
	const char	*observed_address;
	const char	*labels;		/* JSON object */
	const char	*cert_fingerprint;
	int64_t		 last_seen_ms;
};

/*
 * Replaces the whole stored list with peers[0..n) in one transaction: on
 * error the previous list is kept.  Of two entries with one node_id the
 * later wins.  addresses and labels must be valid JSON or NULL.
 */
int store_peers_replace(struct store *st, const struct store_peer *peers,
    size_t n);

/*
 * Calls cb once per stored peer, ordered by node_id.  A non-zero return
 * from cb stops the walk and is returned (so use values other than -1 to
 * tell a stop from an error).
 */
typedef int (*store_peer_cb)(void *arg, const struct store_peer *peer);
int store_peers_load(struct store *st, store_peer_cb cb, void *arg);

/*
 * The last known state of each remote origin.  status is opaque bytes (an
 * encoded NodeStatus); status may be NULL when status_len is 0.
 */
struct store_remote {
	const char	*origin;
	uint64_t	 incarnation;
	uint64_t	 seq;
	const void	*status;
	size_t		 status_len;
	int64_t		 updated_ms;
};

/* Inserts or replaces the row of r->origin. */
int store_remote_upsert(struct store *st, const struct store_remote *r);

/* Calls cb per stored origin, ordered by origin; stops as store_peers_load. */
typedef int (*store_remote_cb)(void *arg, const struct store_remote *r);
int store_remote_load(struct store *st, store_remote_cb cb, void *arg);

/*
 * What a forget remembers of a node (forget.c), so that after a restart a
 * stale signal entry or a peer's snapshot of it cannot bring it back.
 */
struct store_forgotten {
	int64_t		 forgot_ms;	/* our wall clock at the forget */
	uint64_t	 incarnation;	/* the highest life forgotten (0: none held) */
	int64_t		 signal_ms;	/* the signal's clock at the forget, estimated */
};

/*
 * Forgets a node (agentflow forget, pruning): its stored peer row and its
 * remote state, so a restart neither redials nor shows it, and, unless
 * remember is NULL, records remember for node_id (a second forget keeps
 * the higher incarnation and signal_ms), keeping only the keep most
 * recently forgotten nodes.  Its events, tasks and alerts stay: they are
 * history, trimmed as usual.  -1 with store_error() on failure.
 */
int store_forget_node(struct store *st, const char *node_id,
    const struct store_forgotten *remember, unsigned keep);

/* Calls cb per remembered node, the least recently forgotten first;
 * stops as store_peers_load. */
typedef int (*store_forgotten_cb)(void *arg, const char *node_id,
    const struct store_forgotten *f);
int store_forgotten_load(struct store *st, store_forgotten_cb cb, void *arg);

/*
 * Events, keyed by (origin, incarnation, seq).  kind is the Event oneof
 * case number from mesh.proto (never 0); body is the opaque encoded event.
 */
struct store_event {
	const char	*origin;
	uint64_t	 incarnation;
	uint64_t	 seq;
	int		 kind;
	int64_t		 time_ms;	/* when the origin emitted it */
	const void	*body;
	size_t		 body_len;
	int64_t		 received_ms;	/* when it reached this node (0: unknown) */
	const void	*sig;		/* the origin's signature (NULL, 0: none) */
	size_t		 sig_len;
	int		 unchecked;	/* 1: taken from its origin, sig not
					 * checked; STORE_EVENT_FORGED: it failed */
};

/*
 * Appends one event.  Appending a key that is already stored is not an
 * error and changes nothing (*added, if not NULL, says which happened), so
 * a redelivered event is harmless.
 */
int store_event_append(struct store *st, const struct store_event *ev,
    int *added);

/*
 * Sets the unchecked mark of one stored event (struct store_event): 0 once
 * its signature held, STORE_EVENT_FORGED once it did not.  Not inside a
 * walk of the events (a callback of store_events_*).
 */
#define STORE_EVENT_FORGED	2
int store_event_mark(struct store *st, const char *origin,
    uint64_t incarnation, uint64_t seq, int unchecked);

/*
 * Which events store_events_query returns: those with time_ms >= since_ms
 * and, when until_ms is not 0, time_ms < until_ms (a page of older history),
 * from origin (NULL: any), of kind (0: any) and not of not_kind (0: no
 * exclusion), oldest first by time then by
 * arrival, at most limit (0: no limit): the oldest ones, or with newest
 * set the newest ones (still given oldest first).
 */
struct store_event_query {
	int64_t		 since_ms;
	const char	*origin;
	int		 kind;
	unsigned	 limit;
	int		 newest;
	int		 not_kind;
	int64_t		 until_ms;
};

typedef int (*store_event_cb)(void *arg, const struct store_event *ev);
int store_events_query(struct store *st, const struct store_event_query *q,
    store_event_cb cb, void *arg);

/*
 * The events of origin's incarnation with seq > after_seq, in seq order, at
 * most limit (0: all): what a peer that holds up to after_seq lacks.
 */
int store_events_after(struct store *st, const char *origin,
    uint64_t incarnation, uint64_t after_seq, unsigned limit,
    store_event_cb cb, void *arg);

/* Retention of the event log: store_trim.h (shares per origin). */

#endif
