/*
 * The link manager's insides, shared by its files: links.c (streams, the
 * Hello, the link and member state machines), links_dial.c (whom we dial
 * under --max-links, which address, the redial backoff), links_view.c
 * (what the links report: member states, status, counts) and
 * links_forget.c (tombstones of forgotten peers).  Nothing outside
 * node/mesh/links*.c includes this.
 */
#ifndef AGENTFLOW_LINKS_PRIV_H
#define AGENTFLOW_LINKS_PRIV_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>

#include "links.h"
#include "mesh.pb-c.h"

/* A redial waits this long after a failure, doubled at each up to the
 * most (links_dial.c); a new peer, a new neighbour and a link that
 * lasted start again from the least. */
#define BACKOFF_MIN_MS		500
#define BACKOFF_MAX_MS		30000

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP };
enum member_state { MEMBER_ALIVE, MEMBER_SUSPECT, MEMBER_DEAD, MEMBER_LEFT };

/* Our states as mesh.proto's, which also give their names (links.c). */
extern const Agentflow__Mesh__V1__LinkState links_state_pb[];
extern const Agentflow__Mesh__V1__MemberState links_member_pb[];
const char *links_link_name(enum link_state);
const char *links_member_name(enum member_state);

struct peer;

struct lstream {
	struct transport_stream	*ts;
	struct peer		*peer;		/* known once opened */
	int			 hello_in;	/* their Hello arrived */
	uint64_t		 opened_ms;	/* monotonic; 0 not yet */
	int			 refused;	/* we closed it: last_error says why */
	LIST_ENTRY(lstream)	 entry;
};

struct peer {
	struct links		*l;
	char			 id[64];
	json_t			*addresses;	/* array of "host:port" */
	enum link_state		 state;
	enum member_state	 member;
	struct transport_stream	*active;	/* the stream in use, when UP */
	struct transport_stream	*dialing;	/* our outbound attempt */
	struct event		*redial;
	long			 backoff_ms;
	unsigned		 attempt;	/* picks the address to try */
	char			 address[300];	/* of the current/last dial */
	uint64_t		 since_ms;	/* of the current link state */
	uint64_t		 down_since_ms;
	uint64_t		 last_seen_ms;	/* any frame from it */
	uint64_t		 rtt_us;
	unsigned		 reconnects;
	unsigned		 failures;	/* dials in a row that never came up */
	uint64_t		 next_ping_ms;	/* monotonic; 0: at the next tick */
	uint64_t		 heard_mono_ms;	/* last frame on the active link */
	uint64_t		 incarnation;	/* from its Hello */
	unsigned		 features;	/* from its Hello (mesh_features.h) */
	int			 hello_seen;	/* features hold: a Hello came */
	int			 wanted;	/* a ring neighbour under max_links */
	uint64_t		 unwanted_mono_ms; /* up but not wanted, since */
	long			 max_links;	/* its Hello's: -1 none, 0 not said */
	uint64_t		 up_mono_ms;	/* when the active link came up */
	uint64_t		 link_gen;	/* l->up_gen when it came up */
	int64_t			 left_signal_ms;	/* signal clock at its Leave */
	uint64_t		 refused_mono_ms;	/* last stream refused; 0 none */
	int			 ever_up;	/* a link to it came up once */
	char			 last_error[512];
};

struct links {
	struct event_base	*base;
	struct transport	*transport;
	struct rng		*rng;
	char			*self_id;
	uint64_t		 incarnation;
	json_t			*addresses;
	json_t			*labels;
	long			 ping_ms;
	long			 dead_ms;
	long			 max_links;
	long			 silence_ms;
	long			 hello_ms;
	struct trust		*trust;
	struct origin_keys	*keys;		/* ours in our Hello; may be NULL */
	uint8_t			*freeze;	/* packed Hello.freeze, or NULL */
	size_t			 freeze_len;
	struct hmap		*peers;		/* id → struct peer */
	LIST_HEAD(, lstream)	 streams;
	struct wall_timer	*tick;
	uint64_t		 tick_mono_ms;	/* the last tick */
	uint64_t		 awake_mono_ms;	/* the end of our last stall */
	uint64_t		 stalls;	/* ticks LINKS_STALL_MS late */
	uint64_t		 ping_seq;
	struct links_hooks	 hooks;
	int			 closing;	/* leaving: no more dials */
	uint64_t		 up_gen;	/* changes whenever a link goes up or down */
	struct hmap		*forgotten;	/* id → struct tombstone */
	int64_t			 signal_offset_ms; /* the signal's clock minus ours */
};

/* A forgotten peer.  First the time, as forget_tombstone_put reads it. */
struct tombstone {
	uint64_t	 at;		/* our wall ms of the forget */
	int64_t		 signal_ms;	/* the signal's clock then, estimated */
};

/* links.c */
void links_peer_free(struct peer *);
/* Moves p's link to state s: logs it, keeps its member state and the dead
 * clock in step, and tells the changed hook when p went up or down. */
void links_set_state(struct peer *, enum link_state s);
/*
 * links_dial.c.  Marks which peers we link to (p->wanted), all of them
 * without --max-links, and arms a new neighbour's dial at once.  Dials p
 * when it is wanted, down, not left and not being dialed already, and we
 * are not leaving; nothing when it has no address with a port.  Dials p
 * again after its backoff, which this doubles.  Whether p picks
 * neighbours by the spread ring (ring.h), as far as we know before its
 * Hello.
 */
void links_choose_neighbours(struct links *);
void links_dial(struct peer *);
void links_dial_later(struct peer *);
int links_spreads(const struct peer *);
/* links_forget.c: drops id's tombstone; NULL: all of them. */
void links_unforget(struct links *, const char *id);
/* links_forget.c: removes p (its streams lose their peer first) and frees
 * it. */
void links_peer_remove(struct links *, struct peer *);
/* links_forget.c: the signal's clock now, estimated, plus the error the
 * estimate may have: an entry the signal dates after it is news. */
int64_t links_signal_now(const struct links *);
/* links_forget.c: whether a signal's entry is the registration of a life
 * of p that has since left (p is MEMBER_LEFT). */
int links_left_stale(const struct peer *, const json_t *entry);
/* links_forget.c: removes the peers we only ever refused, dead_ms after
 * the last refusal. */
void links_expire_refused(struct links *);

#endif
