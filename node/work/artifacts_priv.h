/*
 * What artifacts.c (the files, uploads, unpacking) and artifact_fetch.c
 * (moving them over links) share; nothing else includes it.
 */
#ifndef AGENTFLOW_ARTIFACTS_PRIV_H
#define AGENTFLOW_ARTIFACTS_PRIV_H

#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>
#include <limits.h>
#include <mbedtls/sha256.h>
#include <stdint.h>

#include "artifacts.h"
#include "text.h"

#define ART_ID_SIZE	(TEXT_ARTIFACT_LEN + 1)
#define ART_HEX(id)	((id) + sizeof(TEXT_ARTIFACT_PREFIX) - 1)

/* A part file growing (artifacts.h), hashed as it grows. */
struct part {
	int			 fd;		/* -1: closed */
	mbedtls_sha256_context	 sha;		/* of bytes [0, have) */
	uint64_t		 have;
	uint64_t		 size;
	char			 name[256];
};

/* An upload under way through the API. */
struct upload {
	TAILQ_ENTRY(upload)	 entry;
	char			 id[ART_ID_SIZE];
	struct part		 part;
	uint64_t		 touched_ms;	/* monotonic: idle ones close */
};

/* A fetch from a peer (artifact_fetch.c). */
struct fetch {
	TAILQ_ENTRY(fetch)	 entry;
	char			 id[ART_ID_SIZE];
	struct part		 part;
	char			 from[64];	/* "": choosing a holder */
	uint64_t		 asked;		/* bytes asked for, >= part.have */
	uint64_t		 started_ms;	/* wall */
	uint64_t		 progress_ms;	/* monotonic: last byte or ask */
	uint64_t		 retry_ms;	/* monotonic: no new holder before */
	char			 error[256];	/* the last failure; "" none */
	json_t			*bad;		/* holders that failed it: id -> ms */
	uint64_t		 told;		/* hash of the why services were told */
};

struct artifacts {
	struct node		*n;
	char			 dir[PATH_MAX - 160];	/* DATA_DIR/artifacts */
	uint64_t		 max_bytes;
	json_t			*held;		/* id -> {name, size, added_ms} */
	json_t			*ready;		/* id -> unpacked directory */
	json_t			*unpacking;	/* id -> true */
	json_t			*refused;	/* id -> why it cannot unpack */
	TAILQ_HEAD(, upload)	 uploads;
	TAILQ_HEAD(, fetch)	 fetches;
	struct wall_timer	*tick;		/* each second: idle uploads, fetches */
	struct event		*kick;		/* fetches stepped soon */
	struct workq		*wq;		/* the unpacking */
	uint64_t		 fetched_bytes, served_bytes;
	uint64_t		 fetches_ok, fetches_refused, fetches_failed;
};

/* artifacts.c */
/* path of id's file with suffix ("", ".part", ".json") in out. */
void art_path(const struct artifacts *, const char *id, const char *suffix,
    char *out, size_t len);
/* Opens id's part file for an artifact of size bytes, keeping (and
 * hashing) what it holds when that is no more than size.  0, or -1 with
 * why in err. */
int art_part_open(struct artifacts *, const char *id, uint64_t size,
    const char *name, struct part *, char *err, size_t errlen);
/* Appends len bytes at its end.  0, or -1 with why. */
int art_part_write(struct part *, const void *data, size_t len, char *err,
    size_t errlen);
/* Closes it, keeping the file (to resume). */
void art_part_close(struct part *);
/* Closes it and removes the file. */
void art_part_drop(struct artifacts *, const char *id, struct part *);
/* The part is whole: when its hash is id, it becomes the held artifact
 * (told to the mesh) and 0 is returned; else the file is removed and -1
 * returned with why. */
int art_part_finish(struct artifacts *, const char *id, struct part *,
    char *err, size_t errlen);
/* id is held here: its {name, size, added_ms}, or NULL. */
const json_t *art_held(const struct artifacts *, const char *id);
/* Tells the services waiting for id that it changed. */
void art_changed(struct artifacts *, const char *id);

/* artifact_fetch.c */
/* The fetch of id under way, or NULL. */
struct fetch *art_fetch_find(const struct artifacts *, const char *id);
/* The fetch of id (started when none is under way), or NULL when too
 * many are. */
struct fetch *art_fetch_get(struct artifacts *, const char *id);
/* What the fetch waits for, for people. */
void art_fetch_why(const struct fetch *, char *why, size_t len);
/* Moves every fetch on (a holder chosen, more asked, a silent one left). */
void art_fetch_step_all(struct artifacts *);
void art_fetch_free(struct fetch *);
/* Our answer to a peer's ArtifactRequest. */
void art_serve(struct artifacts *, const char *peer,
    const Agentflow__Mesh__V1__ArtifactRequest *);
/* A peer's ArtifactChunk. */
void art_fetch_chunk(struct artifacts *, const char *peer,
    const Agentflow__Mesh__V1__ArtifactChunk *);
/* fetches as JSON rows (artifacts_list_json's "fetches"). */
json_t *art_fetch_rows(const struct artifacts *);

#endif
