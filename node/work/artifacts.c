/*
 * Artifacts held here (artifacts.h): the files, uploads through the API,
 * and the unpacking for services.  artifact_fetch.c moves them over links.
 *
 * On disk, in DATA_DIR/artifacts: <hex> the artifact, whole and checked;
 * <hex>.json its name, size and when it came; <hex>.part one growing;
 * unpacked/<hex> its unpacked tree (unpacked/<hex>.tmp while it is made).
 * A held artifact's file is never written again: it is renamed into
 * place only once its bytes hash to its name.
 */
#include "artifacts_priv.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact_unpack.h"
#include "clock.h"
#include "file.h"
#include "http_json.h"
#include "log.h"
#include "node.h"
#include "services.h"
#include "sync_artifacts.h"
#include "wall_timer.h"
#include "workq.h"
#include "xalloc.h"

#define UPLOADS_MAX		4	/* under way at once */
#define UPLOAD_IDLE_MS		60000	/* then its file is closed (kept) */
#define UNPACK_ENTRIES_MAX	100000
#define UNPACK_RATIO		8	/* unpacked bytes per artifact byte */

/* ---- paths and part files ----------------------------------------------- */

void
art_path(const struct artifacts *a, const char *id, const char *suffix,
    char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s", a->dir, ART_HEX(id), suffix);
}

static void
unpacked_path(const struct artifacts *a, const char *id, const char *suffix,
    char *out, size_t len)
{
	snprintf(out, len, "%s/unpacked/%s%s", a->dir, ART_HEX(id), suffix);
}

/* Feeds the sha with the first have bytes of fd. */
static int
rehash(struct part *p, char *err, size_t errlen)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	ssize_t r;

	while (off < p->have) {
		r = pread(p->fd, buf, sizeof(buf), (off_t)off);
		if (r <= 0) {
			snprintf(err, errlen, "reading the part file: %s",
			    r == 0 ? "short" : strerror(errno));
			return -1;
		}
		if ((uint64_t)r > p->have - off)
			r = (ssize_t)(p->have - off);
		mbedtls_sha256_update_ret(&p->sha, buf, (size_t)r);
		off += (uint64_t)r;
	}
	return 0;
}

int
art_part_open(struct artifacts *a, const char *id, uint64_t size,
    const char *name, struct part *p, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	art_path(a, id, ".part", path, sizeof(path));
	if ((p->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1 || fstat(p->fd, &st) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		if (p->fd != -1)
			close(p->fd);
		p->fd = -1;
		return -1;
	}
	p->size = size;
	p->have = (uint64_t)st.st_size;
	snprintf(p->name, sizeof(p->name), "%s", name);
	mbedtls_sha256_init(&p->sha);
	mbedtls_sha256_starts_ret(&p->sha, 0);
	/* One of another size, or longer than this one: start again. */
	if (p->have > size && ftruncate(p->fd, 0) == 0)
		p->have = 0;
	if (rehash(p, err, errlen) != 0) {
		art_part_close(p);
		return -1;
	}
	return 0;
}

int
art_part_write(struct part *p, const void *data, size_t len, char *err,
    size_t errlen)
{
	const unsigned char *d = data;
	size_t done = 0;
	ssize_t w;

	while (done < len) {
		w = pwrite(p->fd, d + done, len - done, (off_t)(p->have + done));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "writing the part file: %s",
			    strerror(errno));
			/* What was written of it is not ours: cut it off. */
			if (ftruncate(p->fd, (off_t)p->have) != 0)
				p->have = 0;
			return -1;
		}
		done += (size_t)w;
	}
	mbedtls_sha256_update_ret(&p->sha, d, len);
	p->have += len;
	return 0;
}

void
art_part_close(struct part *p)
{
	if (p->fd != -1) {
		close(p->fd);
		mbedtls_sha256_free(&p->sha);
	}
	p->fd = -1;
}

void
art_part_drop(struct artifacts *a, const char *id, struct part *p)
{
	char path[PATH_MAX];

	art_part_close(p);
	art_path(a, id, ".part", path, sizeof(path));
	(void)unlink(path);
}

/* Writes id's .json and keeps it as held; tells the mesh. */
static void
hold(struct artifacts *a, const char *id, const char *name, uint64_t size,
    uint64_t added_ms, int tell)
{
	Agentflow__Mesh__V1__ArtifactUpdate u =
	    AGENTFLOW__MESH__V1__ARTIFACT_UPDATE__INIT;

	json_object_set_new(a->held, id, json_pack("{s:s, s:I, s:I}", "name",
	    name, "size", (json_int_t)size, "added_ms", (json_int_t)added_ms));
	u.artifact = (char *)id;
	u.name = (char *)name;
	u.size = size;
	u.updated_ms = added_ms;
	if (a->n->sync == NULL)
		return;
	if (tell)
		(void)sync_emit_artifact(a->n->sync, &u);
	else
		sync_artifacts_seed(a->n->sync, &u);
}

/* Writes an artifact's .json: {name, size, added_ms}, replaced whole. */
static int
write_meta(const char *path, const char *name, uint64_t size,
    uint64_t added_ms, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	json_t *m = json_pack("{s:s, s:I, s:I}", "name", name, "size",
	    (json_int_t)size, "added_ms", (json_int_t)added_ms);
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc = json_dump_file(m, tmp, JSON_COMPACT);
	json_decref(m);
	if (rc != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
art_part_finish(struct artifacts *a, const char *id, struct part *p,
    char *err, size_t errlen)
{
	unsigned char h[32];
	char hex[65], path[PATH_MAX], dst[PATH_MAX];
	uint64_t now = clock_wall_ms();

	mbedtls_sha256_finish_ret(&p->sha, h);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	if (strcmp(hex, ART_HEX(id)) != 0) {
		snprintf(err, errlen, "its bytes hash to sha256:%.12s…, not %s",
		    hex, id);
		art_part_drop(a, id, p);
		return -1;
	}
	if (fsync(p->fd) != 0)
		log_event(LOG_WARN, "artifact not synced", "{s:s, s:s}",
		    "artifact", id, "why", strerror(errno));
	art_part_close(p);
	art_path(a, id, ".part", path, sizeof(path));
	art_path(a, id, "", dst, sizeof(dst));
	art_path(a, id, ".json", path, sizeof(path));
	if (write_meta(path, p->name, p->size, now, err, errlen) != 0) {
		art_path(a, id, ".part", path, sizeof(path));
		(void)unlink(path);
		return -1;
	}
	art_path(a, id, ".part", path, sizeof(path));
	if (rename(path, dst) != 0) {
		snprintf(err, errlen, "cannot rename %s: %s", path,
		    strerror(errno));
		return -1;
	}
	hold(a, id, p->name, p->size, now, 1);
	log_event(LOG_INFO, "artifact held", "{s:s, s:s, s:I}", "artifact", id,
	    "name", p->name, "size", (json_int_t)p->size);
	return 0;
}

const json_t *
art_held(const struct artifacts *a, const char *id)
{
	return json_object_get(a->held, id);
}

void
art_changed(struct artifacts *a, const char *id)
{
	if (a->n->services != NULL)
		services_artifact(a->n->services, id);
}

/* ---- start: what the directory holds ------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes path and all under it (links not followed). */
static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A held artifact found at start: its .json read, kept (not told: our
 * snapshots carry it). */
static void
load_one(struct artifacts *a, const char *hex)
{
	char id[ART_ID_SIZE], path[PATH_MAX], err[256], *text;
	json_t *m;
	struct stat st;
	size_t len;

	snprintf(id, sizeof(id), TEXT_ARTIFACT_PREFIX "%.64s", hex);
	art_path(a, id, ".json", path, sizeof(path));
	text = file_read(path, 4096, &len, NULL, err, sizeof(err));
	m = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	art_path(a, id, "", path, sizeof(path));
	if (m == NULL || !json_is_string(json_object_get(m, "name")) ||
	    stat(path, &st) != 0 || (uint64_t)st.st_size !=
	    (uint64_t)json_integer_value(json_object_get(m, "size"))) {
		log_event(LOG_WARN, "artifact skipped", "{s:s, s:s}",
		    "artifact", id, "why", "its .json is missing or does not "
		    "match the file");
		json_decref(m);
		return;
	}
	hold(a, id, json_string_value(json_object_get(m, "name")),
	    (uint64_t)st.st_size,
	    (uint64_t)json_integer_value(json_object_get(m, "added_ms")), 0);
	json_decref(m);
}

static int
is_hex64(const char *s)
{
	char id[ART_ID_SIZE];

	snprintf(id, sizeof(id), TEXT_ARTIFACT_PREFIX "%.64s", s);
	return strlen(s) == 64 && text_artifact_valid(id);
}

static void
load(struct artifacts *a)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	if ((d = opendir(a->dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (is_hex64(e->d_name))
				load_one(a, e->d_name);
		closedir(d);
	}
	/* Unpacking cut short by a stop: made again when needed. */
	snprintf(path, sizeof(path), "%s/unpacked", a->dir);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strlen(e->d_name) == 64 + 4 &&
			    strcmp(e->d_name + 64, ".tmp") == 0) {
				char tmp[PATH_MAX + 80];

				snprintf(tmp, sizeof(tmp), "%s/%.68s", path,
				    e->d_name);
				rm_tree(tmp);
			}
		}
		closedir(d);
	}
}

/* ---- uploads ------------------------------------------------------------- */

/* A held artifact's row as the list shows it, from our own word. */
static json_t *
row_here(const struct artifacts *a, const char *id)
{
	const json_t *h = art_held(a, id);

	return json_pack("{s:s, s:O, s:O, s:[{s:s, s:O}]}", "artifact", id,
	    "name", json_object_get(h, "name"), "size", json_object_get(h,
	    "size"), "nodes", "node", a->n->id, "added_ms",
	    json_object_get(h, "added_ms"));
}

/* A file name: 1-255 bytes of text, no '/', not "." or "..". */
static int
name_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 255 && text_utf8_valid(s, n, true) &&
	    strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

static struct upload *
upload_find(struct artifacts *a, const char *id)
{
	struct upload *u;

	TAILQ_FOREACH(u, &a->uploads, entry)
		if (strcmp(u->id, id) == 0)
			return u;
	return NULL;
}

static void
upload_free(struct artifacts *a, struct upload *u)
{
	TAILQ_REMOVE(&a->uploads, u, entry);
	art_part_close(&u->part);
	free(u);
}

/* The upload of id, opened for size bytes; NULL with *status and *out. */
static struct upload *
upload_get(struct artifacts *a, const char *id, const char *name,
    uint64_t size, int *status, json_t **out)
{
	struct upload *u = upload_find(a, id);
	char err[256];
	size_t n = 0;

	if (u != NULL) {
		if (u->part.size == size)
			return u;
		if (u->part.have > 0) {
			*status = 400;
			*out = http_error_text("size %" PRIu64 " is not the %" PRIu64
			    " of the upload under way", size, u->part.size);
			return NULL;
		}
		upload_free(a, u);
	}
	TAILQ_FOREACH(u, &a->uploads, entry)
		n++;
	if (n >= UPLOADS_MAX) {
		*status = 503;
		*out = http_error_text("%d uploads are under way: try again later",
		    UPLOADS_MAX);
		return NULL;
	}
	u = xcalloc(1, sizeof(*u));
	snprintf(u->id, sizeof(u->id), "%s", id);
	if (art_part_open(a, id, size, name, &u->part, err, sizeof(err)) != 0) {
		free(u);
		*status = 500;
		*out = http_error_text("%s", err);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&a->uploads, u, entry);
	return u;
}

int
artifacts_upload(struct artifacts *a, const char *id, const char *name,
    uint64_t size, uint64_t offset, const void *data, size_t len,
    json_t **out)
{
	struct upload *u;
	char err[256];
	int status;

	if (!text_artifact_valid(id)) {
		*out = http_error_text("artifact: not \"sha256:\" and 64 lowercase "
		    "hex digits");
		return 400;
	}
	if (art_held(a, id) != NULL) {
		*out = row_here(a, id);
		return 200;
	}
	if (!name_valid(name)) {
		*out = http_error_text("name: 1-255 bytes of text without '/' "
		    "(the file's name)");
		return 400;
	}
	if (size > a->max_bytes) {
		*out = http_error_text("%" PRIu64 " bytes: more than --artifact-max-"
		    "mib allows (%" PRIu64 ")", size, a->max_bytes);
		return 413;
	}
	/* One writer per part file: a fetch of it goes first. */
	if (art_fetch_find(a, id) != NULL) {
		*out = http_error_text("being fetched from a peer: it is held here "
		    "when that ends");
		return 409;
	}
	if ((u = upload_get(a, id, name, size, &status, out)) == NULL)
		return status;
	u->touched_ms = clock_mono_ms();
	if (offset != u->part.have) {
		*out = json_pack("{s:s, s:I}", "error", "offset is not where the "
		    "upload is: send from \"offset\"", "offset",
		    (json_int_t)u->part.have);
		return 409;
	}
	if (len > size - u->part.have) {
		*out = http_error_text("%zu bytes at %" PRIu64 " pass the size %"
		    PRIu64, len, offset, size);
		return 400;
	}
	if (art_part_write(&u->part, data, len, err, sizeof(err)) != 0) {
		*out = http_error_text("%s", err);
		return 500;
	}
	if (u->part.have < size) {
		*out = json_pack("{s:s, s:I}", "artifact", id, "received",
		    (json_int_t)u->part.have);
		return 200;
	}
	snprintf(u->part.name, sizeof(u->part.name), "%s", name);
	status = art_part_finish(a, id, &u->part, err, sizeof(err));
	upload_free(a, u);
	if (status != 0) {
		*out = http_error_text("refused: %s", err);
		return 400;
	}
	art_changed(a, id);
	*out = row_here(a, id);
	return 201;
}

int
artifacts_delete(struct artifacts *a, const char *id, json_t **out)
{
	Agentflow__Mesh__V1__ArtifactUpdate u =
	    AGENTFLOW__MESH__V1__ARTIFACT_UPDATE__INIT;
	const char *user;
	char path[PATH_MAX];

	if (!text_artifact_valid(id) || art_held(a, id) == NULL) {
		*out = http_error_text("no artifact %s here", id);
		return 404;
	}
	if (a->n->services != NULL &&
	    (user = services_artifact_user(a->n->services, id)) != NULL) {
		*out = http_error_text("in use by service %s", user);
		return 409;
	}
	if (json_object_get(a->unpacking, id) != NULL) {
		*out = http_error_text("being unpacked: try again in a moment");
		return 409;
	}
	art_path(a, id, "", path, sizeof(path));
	(void)unlink(path);
	art_path(a, id, ".json", path, sizeof(path));
	(void)unlink(path);
	unpacked_path(a, id, "", path, sizeof(path));
	rm_tree(path);
	json_object_del(a->held, id);
	json_object_del(a->ready, id);
	json_object_del(a->refused, id);
	u.artifact = (char *)id;
	u.name = (char *)"";
	u.removed = 1;
	u.updated_ms = clock_wall_ms();
	if (a->n->sync != NULL)
		(void)sync_emit_artifact(a->n->sync, &u);
	log_event(LOG_INFO, "artifact deleted", "{s:s}", "artifact", id);
	*out = json_pack("{s:s, s:b}", "artifact", id, "deleted", 1);
	return 200;
}

json_t *
artifacts_list_json(const struct artifacts *a)
{
	return json_pack("{s:o, s:o}", "artifacts", a->n->sync != NULL ?
	    sync_artifacts_list(a->n->sync) : json_array(), "fetches",
	    art_fetch_rows(a));
}

json_t *
artifacts_counters(const struct artifacts *a)
{
	const char *id;
	json_t *h;
	json_int_t bytes = 0;

	json_object_foreach(a->held, id, h)
		bytes += json_integer_value(json_object_get(h, "size"));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "held",
	    (json_int_t)json_object_size(a->held), "held_bytes", bytes,
	    "fetched_bytes", (json_int_t)a->fetched_bytes, "served_bytes",
	    (json_int_t)a->served_bytes, "fetches_ok",
	    (json_int_t)a->fetches_ok, "fetches_refused",
	    (json_int_t)a->fetches_refused, "fetches_failed",
	    (json_int_t)a->fetches_failed);
}

/* ---- unpacking ------------------------------------------------------------- */

struct unpack_job {
	struct artifacts	*a;
	char			 id[ART_ID_SIZE];
	char			 src[PATH_MAX];
	char			 tmp[PATH_MAX];
	char			 dst[PATH_MAX];
	struct artifact_unpack_limits lim;
	int			 rc;
	char			 err[512];
};

static void
unpack_work(void *ctx, void *arg)
{
	struct unpack_job *j = arg;

	(void)ctx;
	rm_tree(j->tmp);
	j->rc = artifact_unpack(j->src, j->tmp, &j->lim, j->err,
	    sizeof(j->err));
	if (j->rc == 0 && rename(j->tmp, j->dst) != 0) {
		snprintf(j->err, sizeof(j->err), "cannot rename the unpacked "
		    "tree: %s", strerror(errno));
		rm_tree(j->tmp);
		j->rc = -1;
	}
}

static void
unpack_done(void *arg, int cancelled)
{
	struct unpack_job *j = arg;
	struct artifacts *a = j->a;

	if (cancelled) {
		free(j);
		return;
	}
	json_object_del(a->unpacking, j->id);
	if (j->rc == 0) {
		json_object_set_new(a->ready, j->id, json_string(j->dst));
		log_event(LOG_INFO, "artifact unpacked", "{s:s, s:s}",
		    "artifact", j->id, "dir", j->dst);
	} else {
		json_object_set_new(a->refused, j->id, json_string(j->err));
		log_event(LOG_WARN, "artifact refused", "{s:s, s:s}",
		    "artifact", j->id, "why", j->err);
	}
	art_changed(a, j->id);
	free(j);
}

static void
unpack_start(struct artifacts *a, const char *id)
{
	struct unpack_job *j = xcalloc(1, sizeof(*j));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(
	    art_held(a, id), "size"));

	j->a = a;
	snprintf(j->id, sizeof(j->id), "%s", id);
	art_path(a, id, "", j->src, sizeof(j->src));
	unpacked_path(a, id, ".tmp", j->tmp, sizeof(j->tmp));
	unpacked_path(a, id, "", j->dst, sizeof(j->dst));
	j->lim.max_bytes = size > a->max_bytes / UNPACK_RATIO ?
	    a->max_bytes : size * UNPACK_RATIO + (1u << 20);
	j->lim.max_entries = UNPACK_ENTRIES_MAX;
	json_object_set_new(a->unpacking, id, json_true());
	workq_submit(a->wq, j, unpack_work, unpack_done);
}

enum artifacts_ready
artifacts_ready(struct artifacts *a, const char *id, const char **dir,
    char *why, size_t whylen)
{
	char path[PATH_MAX], tmp[8];
	struct stat st;
	struct fetch *f;
	const json_t *r;

	if (why == NULL) {
		why = tmp;
		whylen = sizeof(tmp);
	}
	why[0] = '\0';
	if ((r = json_object_get(a->refused, id)) != NULL) {
		snprintf(why, whylen, "artifact %s refused: %s", id,
		    json_string_value(r));
		return ARTIFACTS_REFUSED;
	}
	if ((r = json_object_get(a->ready, id)) != NULL) {
		*dir = json_string_value(r);
		return ARTIFACTS_READY;
	}
	if (art_held(a, id) != NULL) {
		if (json_object_get(a->unpacking, id) != NULL) {
			snprintf(why, whylen, "unpacking artifact %s", id);
			return ARTIFACTS_WAIT;
		}
		/* Unpacked before this start. */
		unpacked_path(a, id, "", path, sizeof(path));
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			json_object_set_new(a->ready, id, json_string(path));
			*dir = json_string_value(json_object_get(a->ready, id));
			return ARTIFACTS_READY;
		}
		unpack_start(a, id);
		snprintf(why, whylen, "unpacking artifact %s", id);
		return ARTIFACTS_WAIT;
	}
	if (upload_find(a, id) != NULL) {
		snprintf(why, whylen, "waiting for artifact %s: an upload of it "
		    "is under way here", id);
		return ARTIFACTS_WAIT;
	}
	if ((f = art_fetch_get(a, id)) == NULL) {
		snprintf(why, whylen, "waiting for artifact %s: other fetches "
		    "first", id);
		return ARTIFACTS_WAIT;
	}
	art_fetch_why(f, why, whylen);
	return ARTIFACTS_WAIT;
}

void
artifacts_frame(struct artifacts *a, const char *peer,
    const Agentflow__Mesh__V1__Frame *f)
{
	if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST)
		art_serve(a, peer, f->artifact_request);
	else if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK)
		art_fetch_chunk(a, peer, f->artifact_chunk);
}

/* ---- life ------------------------------------------------------------------ */

static void
tick_cb(void *arg)
{
	struct artifacts *a = arg;
	struct upload *u, *next;
	uint64_t now = clock_mono_ms();

	for (u = TAILQ_FIRST(&a->uploads); u != NULL; u = next) {
		next = TAILQ_NEXT(u, entry);
		if (now - u->touched_ms > UPLOAD_IDLE_MS)
			upload_free(a, u);
	}
	art_fetch_step_all(a);
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	art_fetch_step_all(arg);
}

struct artifacts *
artifacts_new(struct node *n, char *err, size_t errlen)
{
	struct artifacts *a = xcalloc(1, sizeof(*a));
	char path[PATH_MAX];

	a->n = n;
	a->max_bytes = (uint64_t)n->cfg->artifact_max_mib << 20;
	snprintf(a->dir, sizeof(a->dir), "%s/artifacts", n->cfg->data_dir);
	snprintf(path, sizeof(path), "%s/unpacked", a->dir);
	if ((mkdir(a->dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(path, 0755) != 0 && errno != EEXIST)) {
		snprintf(err, errlen, "cannot make %s: %s", path,
		    strerror(errno));
		free(a);
		return NULL;
	}
	a->held = json_object();
	a->ready = json_object();
	a->unpacking = json_object();
	a->refused = json_object();
	TAILQ_INIT(&a->uploads);
	TAILQ_INIT(&a->fetches);
	if ((a->wq = workq_new(n->base, 1, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "cannot start the unpacking thread");
		artifacts_free(a);
		return NULL;
	}
	a->tick = wall_timer_new(n->base, 1000, 0, tick_cb, a);
	a->kick = evtimer_new(n->base, kick_cb, a);
	load(a);
	return a;
}

void
artifacts_free(struct artifacts *a)
{
	struct upload *u;
	struct fetch *f;

	if (a == NULL)
		return;
	workq_free(a->wq);
	while ((u = TAILQ_FIRST(&a->uploads)) != NULL)
		upload_free(a, u);
	while ((f = TAILQ_FIRST(&a->fetches)) != NULL) {
		TAILQ_REMOVE(&a->fetches, f, entry);
		art_fetch_free(f);
	}
	wall_timer_free(a->tick);
	if (a->kick != NULL)
		event_free(a->kick);
	json_decref(a->held);
	json_decref(a->ready);
	json_decref(a->unpacking);
	json_decref(a->refused);
	free(a);
}
