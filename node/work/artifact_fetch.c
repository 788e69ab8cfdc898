/*
 * Artifacts moved over links (artifacts.h): serving what we hold to a
 * peer that asks, and fetching what we need from a peer that holds it.
 *
 * A fetch asks its holder for WINDOW bytes at a time, at most WINDOWS
 * windows ahead of what arrived, so one fetch has at most 2 MiB on the
 * holder's link.  The holder queues the chunks as bulk, behind every
 * live frame, and answers "busy" instead when its link to us already has
 * BUSY_BYTES queued: events keep flowing while an artifact moves, and
 * the transfer goes at what the link leaves.  Chunks arrive in order on
 * the one stream; one that is not at the part file's end (left over from
 * an earlier ask) is dropped.
 *
 *   fetch        event                               next
 *   -----------  ----------------------------------  ------------------
 *   choosing     a holder with an up link that       asking it
 *                speaks "artifacts" and has not
 *                failed this fetch
 *   choosing     none                                choosing, 1 s later
 *   asking       a chunk at the end                  asking (more asked)
 *   asking       "busy"                              asking, soon
 *   asking       "not held", an error, its link      choosing (it is
 *                down, no byte for SILENCE_MS         "bad" for BAD_MS)
 *   asking       the last byte, hash matches         done: held, told
 *   asking       the last byte, hash does not        choosing (part file
 *                match                               removed; it is bad)
 */
#include "artifacts_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "frame_codec.h"
#include "links.h"
#include "log.h"
#include "node.h"
#include "services.h"
#include "sync_artifacts.h"
#include "xalloc.h"

#define FETCHES_MAX	8
#define WINDOW		(1u << 20)	/* bytes per ask */
#define WINDOWS		2		/* asks ahead of what arrived */
#define CHUNK		FRAME_CODEC_MAX_CHUNK
#define BUSY_BYTES	(2u << 20)	/* queued to a peer: no more bulk */
#define SILENCE_MS	10000		/* asked, and nothing came */
#define BAD_MS		30000		/* a holder that failed, left alone */
#define BUSY_MS		100		/* "busy": ask again after */

typedef Agentflow__Mesh__V1__ArtifactChunk ArtifactChunk;
typedef Agentflow__Mesh__V1__ArtifactRequest ArtifactRequest;

/* ---- serving ---------------------------------------------------------------- */

/* Sends one chunk to peer: data as bulk, an error as a live frame. */
static int
send_chunk(struct artifacts *a, const char *peer, const ArtifactChunk *c)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	struct frame_codec_error fe;
	uint8_t *buf;
	size_t len;
	int rc;

	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK;
	f.artifact_chunk = (ArtifactChunk *)c;
	if (c->error != NULL && c->error[0] != '\0')
		return links_send_frame(a->n->links, peer, &f);
	if (frame_codec_encode(&f, &buf, &len, &fe) != FRAME_CODEC_OK)
		return -1;
	rc = links_send_bulk(a->n->links, peer, buf, len);
	free(buf);
	return rc;
}

static void
refuse(struct artifacts *a, const char *peer, const ArtifactRequest *r,
    uint64_t size, const char *why)
{
	ArtifactChunk c = AGENTFLOW__MESH__V1__ARTIFACT_CHUNK__INIT;

	c.artifact = r->artifact;
	c.offset = 0;
	c.size = size;
	c.error = (char *)why;
	(void)send_chunk(a, peer, &c);
}

void
art_serve(struct artifacts *a, const char *peer, const ArtifactRequest *r)
{
	ArtifactChunk c = AGENTFLOW__MESH__V1__ARTIFACT_CHUNK__INIT;
	const json_t *h = art_held(a, r->artifact);
	unsigned char *buf;
	char path[PATH_MAX];
	uint64_t size, off, end;
	ssize_t got;
	int fd;

	if (h == NULL || a->n->links == NULL) {
		refuse(a, peer, r, 0, "not held");
		return;
	}
	size = (uint64_t)json_integer_value(json_object_get(h, "size"));
	if (r->offset >= size) {
		refuse(a, peer, r, size, "bad range");
		return;
	}
	if (links_queued(a->n->links, peer) > BUSY_BYTES) {
		refuse(a, peer, r, size, "busy");
		return;
	}
	art_path(a, r->artifact, "", path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		refuse(a, peer, r, size, "cannot read it here");
		return;
	}
	buf = xmalloc(CHUNK);
	end = r->offset + r->length < size ? r->offset + r->length : size;
	for (off = r->offset; off < end; off += (uint64_t)got) {
		size_t want = end - off < CHUNK ? (size_t)(end - off) : CHUNK;

		if ((got = pread(fd, buf, want, (off_t)off)) <= 0) {
			log_event(LOG_WARN, "artifact not served", "{s:s, s:s, "
			    "s:s}", "artifact", r->artifact, "peer", peer, "why",
			    got == 0 ? "shorter than its size" :
			    strerror(errno));
			refuse(a, peer, r, size, "cannot read it here");
			break;
		}
		c.artifact = r->artifact;
		c.offset = off;
		c.size = size;
		c.data.data = buf;
		c.data.len = (size_t)got;
		if (send_chunk(a, peer, &c) != 0)
			break;
		a->served_bytes += (uint64_t)got;
	}
	free(buf);
	close(fd);
}

/* ---- fetching --------------------------------------------------------------- */

struct fetch *
art_fetch_find(const struct artifacts *a, const char *id)
{
	struct fetch *f;

	TAILQ_FOREACH(f, &a->fetches, entry)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

void
art_fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	art_part_close(&f->part);
	json_decref(f->bad);
	free(f);
}

static void
kick(struct artifacts *a, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(a->kick, &tv);
}

struct fetch *
art_fetch_get(struct artifacts *a, const char *id)
{
	struct fetch *f = art_fetch_find(a, id);
	size_t n = 0;

	if (f != NULL)
		return f;
	TAILQ_FOREACH(f, &a->fetches, entry)
		n++;
	if (n >= FETCHES_MAX)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->part.fd = -1;
	f->bad = json_object();
	f->started_ms = clock_wall_ms();
	TAILQ_INSERT_TAIL(&a->fetches, f, entry);
	kick(a, 0);
	return f;
}

void
art_fetch_why(const struct fetch *f, char *why, size_t len)
{
	if (f->from[0] != '\0' && f->part.size > 0)
		snprintf(why, len, "fetching artifact %s from %s: %" PRIu64
		    "%% of %" PRIu64 " bytes", f->id, f->from,
		    f->part.have * 10 / f->part.size * 10, f->part.size);
	else if (f->error[0] != '\0')
		snprintf(why, len, "fetching artifact %s: %s", f->id, f->error);
	else
		snprintf(why, len, "fetching artifact %s", f->id);
}

/* The holder left: what is asked of it is asked again of another. */
static void
leave_holder(struct fetch *f, int bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
leave_holder(struct fetch *f, int bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->error, sizeof(f->error), fmt, ap);
	va_end(ap);
	if (bad && f->from[0] != '\0')
		json_object_set_new(f->bad, f->from,
		    json_integer((json_int_t)clock_mono_ms()));
	log_event(LOG_WARN, "artifact fetch", "{s:s, s:s, s:s}", "artifact",
	    f->id, "from", f->from, "why", f->error);
	f->from[0] = '\0';
	f->asked = f->part.have;
}

/* A holder to choose: the first in id order (every fetcher alike, so one
 * with the file in its cache serves them). */
struct choice {
	struct artifacts	*a;
	const struct fetch	*f;
	char			 best[64];
	uint64_t		 size;
	char			 name[256];
	char			 seen[200];	/* holders, for people */
};

static void
consider(const char *origin, const Agentflow__Mesh__V1__ArtifactUpdate *u,
    void *arg)
{
	struct choice *c = arg;
	struct links *l = c->a->n->links;
	const json_t *bad = json_object_get(c->f->bad, origin);
	size_t n = strlen(c->seen);

	if (n + strlen(origin) + 3 < sizeof(c->seen))
		snprintf(c->seen + n, sizeof(c->seen) - n, "%s%s",
		    n > 0 ? ", " : "", origin);
	if (l == NULL || !links_is_up(l, origin) ||
	    !links_peer_speaks(l, origin, "artifacts"))
		return;
	if (bad != NULL && clock_mono_ms() - (uint64_t)json_integer_value(bad) <
	    BAD_MS)
		return;
	if (c->best[0] == '\0' || strcmp(origin, c->best) < 0) {
		snprintf(c->best, sizeof(c->best), "%s", origin);
		c->size = u->size;
		snprintf(c->name, sizeof(c->name), "%s", u->name);
	}
}

/* Picks a holder and opens the part file for it; 0, or -1 (f->error). */
static int
choose(struct artifacts *a, struct fetch *f)
{
	struct choice c = { .a = a, .f = f };
	char err[256];

	if (a->n->sync != NULL)
		sync_artifacts_holders(a->n->sync, f->id, a->n->id, consider,
		    &c);
	if (c.best[0] == '\0') {
		if (c.seen[0] == '\0')
			snprintf(f->error, sizeof(f->error), "no node holds it");
		else if (f->error[0] == '\0' || strncmp(f->error, "no ", 3) == 0)
			snprintf(f->error, sizeof(f->error), "no node linked "
			    "to this one holds it (held by %s)", c.seen);
		f->retry_ms = clock_mono_ms() + 1000;
		return -1;
	}
	if (c.size > a->max_bytes) {
		snprintf(f->error, sizeof(f->error), "%" PRIu64 " bytes: more "
		    "than --artifact-max-mib allows", c.size);
		f->retry_ms = clock_mono_ms() + BAD_MS;
		return -1;
	}
	if (f->part.fd == -1 || f->part.size != c.size) {
		art_part_close(&f->part);
		if (art_part_open(a, f->id, c.size, c.name, &f->part, err,
		    sizeof(err)) != 0) {
			snprintf(f->error, sizeof(f->error), "%s", err);
			f->retry_ms = clock_mono_ms() + BAD_MS;
			return -1;
		}
	}
	snprintf(f->from, sizeof(f->from), "%s", c.best);
	f->asked = f->part.have;
	f->progress_ms = clock_mono_ms();
	return 0;
}

/* Asks the holder for what is missing, up to WINDOWS windows ahead. */
static void
ask(struct artifacts *a, struct fetch *f)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	ArtifactRequest r = AGENTFLOW__MESH__V1__ARTIFACT_REQUEST__INIT;

	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST;
	fr.artifact_request = &r;
	r.artifact = f->id;
	while (f->from[0] != '\0' && f->asked < f->part.size &&
	    f->asked - f->part.have < (uint64_t)WINDOWS * WINDOW) {
		r.offset = f->asked;
		r.length = f->part.size - f->asked < WINDOW ?
		    (uint32_t)(f->part.size - f->asked) : WINDOW;
		if (links_send_frame(a->n->links, f->from, &fr) != 0) {
			leave_holder(f, 0, "cannot ask %s: its link is down",
			    f->from);
			return;
		}
		f->asked += r.length;
	}
}

/* The part file is whole: held, or refused. */
static void
finish(struct artifacts *a, struct fetch *f)
{
	char err[256], id[ART_ID_SIZE];

	if (art_part_finish(a, f->id, &f->part, err, sizeof(err)) != 0) {
		a->fetches_refused++;
		leave_holder(f, 1, "the bytes from %s were not the artifact "
		    "(%s): refused", f->from, err);
		return;
	}
	a->fetches_ok++;
	snprintf(id, sizeof(id), "%s", f->id);
	log_event(LOG_INFO, "artifact fetched", "{s:s, s:s, s:I}", "artifact",
	    id, "from", f->from, "bytes", (json_int_t)f->part.size);
	TAILQ_REMOVE(&a->fetches, f, entry);
	art_fetch_free(f);
	art_changed(a, id);
}

static void
step(struct artifacts *a, struct fetch *f)
{
	uint64_t now = clock_mono_ms();

	if (f->from[0] != '\0') {
		if (!links_is_up(a->n->links, f->from))
			leave_holder(f, 0, "the link to %s went down", f->from);
		else if (f->part.have < f->part.size &&
		    now - f->progress_ms > SILENCE_MS)
			leave_holder(f, 1, "nothing from %s for %d s", f->from,
			    SILENCE_MS / 1000);
	}
	if (f->from[0] == '\0' && (now < f->retry_ms || choose(a, f) != 0))
		return;
	if (f->part.have == f->part.size) {	/* an empty one, or held */
		finish(a, f);
		return;
	}
	ask(a, f);
}

void
art_fetch_step_all(struct artifacts *a)
{
	struct fetch *f, *next;
	char why[512];

	if (a->n->links == NULL)
		return;
	for (f = TAILQ_FIRST(&a->fetches); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		/* No service here names it any more: its slot goes to
		 * others, and its part file with it. */
		if (a->n->services != NULL &&
		    services_artifact_user(a->n->services, f->id) == NULL) {
			char part[PATH_MAX];

			log_event(LOG_INFO, "artifact fetch dropped", "{s:s, s:s}",
			    "artifact", f->id, "why", "no service names it");
			TAILQ_REMOVE(&a->fetches, f, entry);
			art_path(a, f->id, ".part", part, sizeof(part));
			art_fetch_free(f);
			unlink(part);
			continue;
		}
		step(a, f);
	}
	/* The services waiting say what they wait for, once it changed
	 * (progress in steps of 10 %: at most 11 ServiceUpdates a fetch). */
	TAILQ_FOREACH(f, &a->fetches, entry) {
		art_fetch_why(f, why, sizeof(why));
		if (f->told != text_fnv1a(why, strlen(why), TEXT_FNV1A_BASIS)) {
			f->told = text_fnv1a(why, strlen(why), TEXT_FNV1A_BASIS);
			art_changed(a, f->id);
		}
	}
}

void
art_fetch_chunk(struct artifacts *a, const char *peer, const ArtifactChunk *c)
{
	struct fetch *f = art_fetch_find(a, c->artifact);
	char err[256];

	if (f == NULL || strcmp(f->from, peer) != 0)
		return;		/* not asked, or of an earlier holder */
	if (c->error != NULL && c->error[0] != '\0') {
		if (strcmp(c->error, "busy") == 0) {
			/* Not progress: a holder busy for SILENCE_MS is left. */
			f->asked = f->part.have;
			kick(a, BUSY_MS);
		} else {
			a->fetches_failed++;
			leave_holder(f, 1, "%s answered: %s", peer, c->error);
			kick(a, 0);
		}
		return;
	}
	if (c->size != f->part.size) {
		a->fetches_failed++;
		leave_holder(f, 1, "%s sends %" PRIu64 " bytes, it told the "
		    "mesh %" PRIu64, peer, c->size, f->part.size);
		kick(a, 0);
		return;
	}
	if (c->offset != f->part.have)
		return;		/* the rest of an earlier ask */
	if (art_part_write(&f->part, c->data.data, c->data.len, err,
	    sizeof(err)) != 0) {
		a->fetches_failed++;
		leave_holder(f, 0, "%s", err);
		f->retry_ms = clock_mono_ms() + BAD_MS;
		return;
	}
	a->fetched_bytes += c->data.len;
	if (c->data.len > 0)
		f->progress_ms = clock_mono_ms();
	if (f->part.have == f->part.size)
		finish(a, f);
	else if (f->asked - f->part.have <= (uint64_t)(WINDOWS - 1) * WINDOW)
		ask(a, f);
}

json_t *
art_fetch_rows(const struct artifacts *a)
{
	json_t *rows = json_array();
	const struct fetch *f;

	TAILQ_FOREACH(f, &a->fetches, entry)
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s?, s:I, "
		    "s:I, s:I, s:s?}", "artifact", f->id, "node", a->n->id,
		    "from", f->from[0] != '\0' ? f->from : NULL, "bytes",
		    (json_int_t)f->part.have, "size", (json_int_t)f->part.size,
		    "started_ms", (json_int_t)f->started_ms, "error",
		    f->error[0] != '\0' ? f->error : NULL));
	return rows;
}
