/*
 * The audit log (see audit.h).  A record is sealed into the chain, written
 * to the file and then indexed, so the file never lacks what the index
 * shows; a record the file did not take is not indexed either.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_chain.h"
#include "clock.h"
#include "log.h"
#include "mesh_names.h"
#include "store.h"
#include "store_work.h"
#include "xalloc.h"

struct audit {
	int		 fd;
	char		*self_id;
	char		*path;
	struct store	*store;
	char		 head[AUDIT_CHAIN_HEX];	/* hash of the last record */
	uint64_t	 max_bytes;	/* rotate past this; 0: never */
	unsigned	 keep;		/* rotated files kept */
};

/* Where the oldest file kept starts (store meta): the hash of the last
 * record of the files rotated away, or the genesis. */
#define ANCHOR_META	"audit_anchor"

/* The name of rotated file k (1: the newest), or of the live file (0). */
static void
file_name(const struct audit *a, unsigned k, char *out, size_t len)
{
	if (k == 0)
		snprintf(out, len, "%s", a->path);
	else
		snprintf(out, len, "%s.%u", a->path, k);
}

static void
anchor(struct audit *a, char out[AUDIT_CHAIN_HEX])
{
	if (store_meta_get(a->store, ANCHOR_META, out, AUDIT_CHAIN_HEX) != 1 ||
	    strlen(out) != AUDIT_CHAIN_HEX - 1)
		snprintf(out, AUDIT_CHAIN_HEX, "%s", AUDIT_CHAIN_GENESIS);
}

static int
take_hash(void *arg, const char *text)
{
	json_t *rec = json_loads(text, 0, NULL);
	const char *h = json_string_value(json_object_get(rec, "hash"));

	if (h != NULL && strlen(h) == AUDIT_CHAIN_HEX - 1)
		snprintf(arg, AUDIT_CHAIN_HEX, "%s", h);
	json_decref(rec);
	return 1;
}

/* The hash of the last record indexed here: 1, or 0 when none is. */
static int
index_head(struct audit *a, char head[AUDIT_CHAIN_HEX])
{
	struct store_audit_query q = { 0 };

	q.node = a->self_id;
	q.limit = 1;
	head[0] = '\0';
	if (store_audit_query(a->store, &q, take_hash, head) < 0)
		log_event(LOG_ERROR, "cannot read the audit index", "{s:s}",
		    "error", store_error(a->store));
	return head[0] != '\0';
}

/* Whether the newest rotated file ends with the record hashed hash. */
static int
rotated_ends_at(struct audit *a, const char *hash)
{
	char name[4096], prev[AUDIT_CHAIN_HEX], last[AUDIT_CHAIN_HEX], why[256];
	int fd, rc;

	file_name(a, 1, name, sizeof(name));
	if ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	rc = audit_chain_last(fd, prev, last, why, sizeof(why));
	close(fd);
	return rc == 1 && strcmp(last, hash) == 0;
}

/*
 * Where the chain goes on (see audit.h): a->head, and in damage what is
 * wrong, or "" when the file and the index agree.
 */
static void
find_head(struct audit *a, char *damage, size_t len)
{
	char fprev[AUDIT_CHAIN_HEX], fhash[AUDIT_CHAIN_HEX], ihash[AUDIT_CHAIN_HEX];
	char why[256];
	int have_index = index_head(a, ihash);
	int rc = audit_chain_last(a->fd, fprev, fhash, why, sizeof(why));

	damage[0] = '\0';
	snprintf(a->head, sizeof(a->head), "%s", have_index ? ihash :
	    AUDIT_CHAIN_GENESIS);
	if (rc == 1) {
		/* The file may be one record ahead: a stop between the write
		 * and the index. */
		if (!have_index || strcmp(fhash, ihash) == 0 ||
		    strcmp(fprev, ihash) == 0)
			snprintf(a->head, sizeof(a->head), "%s", fhash);
		else
			snprintf(damage, len, "its last record is not the last "
			    "one indexed (records removed from its end?)");
	} else if (rc == 0) {
		/* Just rotated: the chain goes on from the newest rotated
		 * file's last record. */
		if (have_index && !rotated_ends_at(a, ihash))
			snprintf(damage, len, "it is empty or missing while the "
			    "index holds records");
	} else {
		snprintf(damage, len, "%s", why);
		/* The next record starts on a line of its own. */
		if (strstr(why, "incomplete") != NULL &&
		    write(a->fd, "\n", 1) != 1)
			log_event(LOG_ERROR, "cannot append to the audit log",
			    "{s:s}", "error", strerror(errno));
	}
}

struct audit *
audit_open(const char *dir, const char *self_id, struct store *store,
    char *err, size_t errlen)
{
	struct audit *a;
	char path[4096], damage[300], actor[128];

	snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_FILE);
	a = xcalloc(1, sizeof(*a));
	/* Read as well: the start reads the last record back. */
	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (a->fd == -1) {
		snprintf(err, errlen, "%s: cannot open the audit log: %s", path,
		    strerror(errno));
		free(a);
		return NULL;
	}
	a->self_id = xstrdup(self_id);
	a->path = xstrdup(path);
	a->store = store;
	a->keep = 1;
	find_head(a, damage, sizeof(damage));
	if (damage[0] != '\0') {
		log_event(LOG_ERROR, "the audit log is damaged; its chain goes on "
		    "from the last indexed record", "{s:s, s:s}", "file", path,
		    "why", damage);
		snprintf(actor, sizeof(actor), "node:%s", self_id);
		audit_record(a, "audit.damaged", actor, "damaged", json_pack(
		    "{s:s, s:s}", "why", damage, "prev", a->head));
	}
	return a;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a->self_id);
	free(a->path);
	free(a);
}

void
audit_set_rotation(struct audit *a, uint64_t max_bytes, unsigned keep)
{
	a->max_bytes = max_bytes;
	a->keep = keep > 0 ? keep : 1;
}

/*
 * Moves the live file to .1 (and .k to .k+1; the one past keep goes) and
 * opens a new live file.  The oldest file kept then starts after the
 * records that went, so that point is stored (ANCHOR_META) before they
 * go, and their index rows with it.  On failure the live file grows on.
 */
static void
rotate(struct audit *a)
{
	char from[4096], to[4096], start[AUDIT_CHAIN_HEX], why[256];
	int fd;

	file_name(a, a->keep, from, sizeof(from));
	if (access(from, F_OK) == 0) {
		file_name(a, a->keep - 1, to, sizeof(to));
		if (audit_chain_first_prev(to, start, why, sizeof(why)) != 1 ||
		    store_meta_set(a->store, ANCHOR_META, start) != 0) {
			log_event(LOG_ERROR, "audit log not rotated: cannot keep "
			    "where the files kept start", "{s:s}", "file", to);
			return;
		}
		if (store_audit_forget_through(a->store, a->self_id, start) != 0)
			log_event(LOG_WARN, "rotated audit records stay indexed",
			    "{s:s}", "error", store_error(a->store));
		if (unlink(from) != 0)
			log_event(LOG_WARN, "cannot remove a rotated audit file",
			    "{s:s, s:s}", "file", from, "error", strerror(errno));
	}
	for (unsigned k = a->keep; k > 0; k--) {
		file_name(a, k - 1, from, sizeof(from));
		file_name(a, k, to, sizeof(to));
		if (rename(from, to) != 0 && errno != ENOENT) {
			log_event(LOG_ERROR, "audit log not rotated", "{s:s, s:s}",
			    "file", from, "error", strerror(errno));
			return;
		}
	}
	fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		/* Records go on into the file now named .1. */
		log_event(LOG_ERROR, "cannot open a new audit log after rotating",
		    "{s:s, s:s}", "file", a->path, "error", strerror(errno));
		return;
	}
	close(a->fd);
	a->fd = fd;
	log_event(LOG_INFO, "audit log rotated", "{s:s, s:i}", "file", a->path,
	    "kept", (int)a->keep);
}

void
audit_record(struct audit *a, const char *action, const char *actor,
    const char *result, json_t *details)
{
	uint64_t now = clock_wall_ms();
	char hash[AUDIT_CHAIN_HEX];
	struct stat st;
	json_t *rec;
	char *line;
	size_t len;

	rec = json_pack("{s:I, s:s, s:s, s:s, s:s}", "time_ms", (json_int_t)now,
	    "node", a->self_id, "action", action, "actor", actor ? actor : "",
	    "result", result ? result : "");
	if (rec == NULL) {
		json_decref(details);
		return;
	}
	if (details != NULL)
		json_object_set_new(rec, "details", details);
	if ((line = audit_chain_seal(rec, a->head, hash)) == NULL)
		goto out;
	len = strlen(line);
	if (a->max_bytes != 0 && fstat(a->fd, &st) == 0 && st.st_size > 0 &&
	    (uint64_t)st.st_size + len + 1 > a->max_bytes)
		rotate(a);
	line[len] = '\n';	/* json_dumps' NUL becomes the newline */
	/* One write(2) per record: O_APPEND keeps records whole. */
	if (write(a->fd, line, len + 1) != (ssize_t)(len + 1)) {
		log_event(LOG_ERROR, "cannot append to the audit log", "{s:s}",
		    "error", strerror(errno));
		free(line);
		goto out;
	}
	memcpy(a->head, hash, sizeof(a->head));
	line[len] = '\0';
	if (store_audit_append(a->store, (int64_t)now, a->self_id, action, line,
	    NULL) != 0)
		log_event(LOG_ERROR, "cannot index an audit record", "{s:s}",
		    "error", store_error(a->store));
	free(line);
out:
	json_decref(rec);
}

json_t *
audit_sha256_json(const void *data, size_t len)
{
	char hex[AUDIT_CHAIN_HEX];

	audit_chain_sha256_hex(data, len, hex);
	return json_string(hex);
}

json_t *
audit_command_details(const Agentflow__Mesh__V1__Command *cmd)
{
	json_t *d, *args = NULL;

	if (cmd->args_json.len > 0)
		args = json_loadb((const char *)cmd->args_json.data,
		    cmd->args_json.len, JSON_REJECT_DUPLICATES, NULL);
	/* A job grant's claims and issuer signature make its token's text
	 * without the key (job_grant.h): not for readers. */
	json_object_del(args, "grant");
	d = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:o}", "command_id",
	    cmd->id, "type", mesh_names_command_type(cmd->type), "origin",
	    cmd->origin, "destination", cmd->destination != NULL &&
	    cmd->destination[0] != '\0' ? cmd->destination : NULL,
	    "principal", cmd->principal ? cmd->principal : "",
	    "args", args != NULL ? args : json_object(),
	    "args_sha256", audit_sha256_json(cmd->args_json.data,
	    cmd->args_json.len));
	return d;
}

/* --- reading it back -------------------------------------------------------- */

struct rows {
	json_t	*list;
	size_t	*len;		/* each record's stored length */
	size_t	 n, cap;
};

static int
add_row(void *arg, const char *text)
{
	struct rows *r = arg;
	json_t *v = json_loads(text, 0, NULL);

	if (v == NULL)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->len = xrealloc(r->len, r->cap * sizeof(*r->len));
	}
	r->len[r->n++] = strlen(text);
	json_array_append_new(r->list, v);
	return 0;
}

/* The answer's size in bytes as it will be encoded. */
static size_t
encoded_size(const json_t *v)
{
	return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

json_t *
audit_query_json(struct audit *a, const struct audit_query *q, char *err,
    size_t errlen)
{
	struct store_audit_query sq = { 0 };
	struct rows r = { json_array(), NULL, 0, 0 };
	json_t *out;
	size_t fit, used = 64 + strlen(a->self_id);
	int truncated = 0;

	sq.node = a->self_id;
	sq.action = q->action;
	sq.actor = q->actor;
	sq.since_ms = q->since_ms;
	sq.limit = q->limit;
	if (store_audit_query(a->store, &sq, add_row, &r) < 0) {
		snprintf(err, errlen, "cannot read the audit log: %s",
		    store_error(a->store));
		json_decref(r.list);
		free(r.len);
		return NULL;
	}
	/* The newest records that fit, by their stored sizes first. */
	fit = r.n;
	if (q->max_bytes != 0)
		for (fit = 0; fit < r.n && used + r.len[r.n - 1 - fit] + 1 <=
		    q->max_bytes; fit++)
			used += r.len[r.n - 1 - fit] + 1;
	truncated = fit < r.n;
	for (size_t cut = r.n - fit; cut > 0; cut--)
		json_array_remove(r.list, 0);
	free(r.len);
	out = json_pack("{s:s, s:o, s:b}", "node", a->self_id, "records", r.list,
	    "truncated", truncated);
	/* Stored text and its encoding here may differ a little. */
	while (q->max_bytes != 0 && encoded_size(out) > q->max_bytes &&
	    json_array_size(json_object_get(out, "records")) > 0) {
		json_array_remove(json_object_get(out, "records"), 0);
		json_object_set_new(out, "truncated", json_true());
	}
	return out;
}

json_t *
audit_verify_json(struct audit *a)
{
	struct audit_chain_report r;
	char ihash[AUDIT_CHAIN_HEX], start[AUDIT_CHAIN_HEX], name[4096];
	uint64_t before = 0;
	int rc = 0;

	/* The rotated files oldest first, then the live one, each going on
	 * from where the one before it ended. */
	anchor(a, start);
	for (unsigned k = a->keep; ; k--) {
		file_name(a, k, name, sizeof(name));
		if (k == 0 || access(name, F_OK) == 0) {
			rc = audit_chain_verify_file_from(name, start, &r);
			r.records += before;
			if (rc != 0 || r.bad_line != 0)
				return audit_chain_report_json(name, &r, rc);
			before = r.records;
			snprintf(start, sizeof(start), "%s", r.head);
		}
		if (k == 0)
			break;
	}
	if (index_head(a, ihash) && strcmp(ihash, r.head) != 0 &&
	    strcmp(ihash, r.head_prev) != 0) {
		r.bad_line = r.records + 1;
		snprintf(r.why, sizeof(r.why), "missing: the file ends before the "
		    "last record indexed (records removed from its end)");
	}
	return audit_chain_report_json(a->path, &r, rc);
}
