/*
 * A job's run (tasks.h): what the task is told of its job and what it
 * leaves behind.  Each job run gets a private directory under the run
 * directory, named by its task id (ids are path-safe: [A-Za-z0-9._-],
 * never "." or ".."), holding the payload file it reads and the result
 * file it may write.  The result is read once, when the run has ended
 * for good, bounded to TASKS_RESULT_MAX bytes and checked to be JSON
 * before anyone sees it; then the directory goes.
 *
 * Only the loop thread calls these, and never between fork and exec:
 * the child gets ready-made strings (tasks_job_env).
 */
#include "tasks_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mesh_names.h"
#include "xalloc.h"

#define PAYLOAD_FILE	"payload.json"
#define RESULT_FILE	"result.json"

static const char *const env_names[TASKS_JOB_ENV_N] = {
	"AGENTFLOW_JOB_ID", "AGENTFLOW_JOB_EPOCH", "AGENTFLOW_JOB_ATTEMPT",
	"AGENTFLOW_TASK_ATTEMPT", "AGENTFLOW_PAYLOAD_FILE",
	"AGENTFLOW_RESULT_FILE",
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		log_warn("cannot remove %s", path);
	return 0;
}

/* path and everything under it, symlinks not followed. */
static void
rm_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		log_warn("cannot remove %s", path);
}

/* a, sep, b in a new string. */
static char *
cat3(const char *a, char sep, const char *b)
{
	size_t len = strlen(a) + strlen(b) + 2;
	char *p = xmalloc(len);

	snprintf(p, len, "%s%c%s", a, sep, b);
	return p;
}

#define join(dir, name)		cat3(dir, '/', name)
#define env_kv(name, value)	cat3(name, '=', value)

int
tasks_job_init(struct tasks *t, const char *run_dir, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	char *p;
	int n = 0;

	if (run_dir == NULL)
		return 0;
	if (mkdir(run_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make the run directory %s: %s",
		    run_dir, strerror(errno));
		return -1;
	}
	if ((d = opendir(run_dir)) == NULL) {
		snprintf(err, errlen, "cannot open the run directory %s: %s",
		    run_dir, strerror(errno));
		return -1;
	}
	/* One process per data directory: whatever is here is a previous
	 * life's, whose runs are over. */
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = join(run_dir, de->d_name);
		rm_tree(p);
		free(p);
		n++;
	}
	closedir(d);
	if (n > 0)
		log_event(LOG_INFO, "removed run directories of a previous life",
		    "{s:s, s:i}", "dir", run_dir, "count", n);
	t->run_dir = xstrdup(run_dir);
	return 0;
}

int
tasks_job_check(const struct tasks *t, const struct tasks_job *job, char *msg,
    size_t msglen)
{
	json_error_t jerr;
	json_t *j;

	if (t->run_dir == NULL) {
		snprintf(msg, msglen, "this node runs no jobs (no run directory)");
		return MESH_COMMAND_STATUS(INVALID);
	}
	if (job->job_id == NULL ||
	    !node_id_valid(job->job_id, strlen(job->job_id))) {
		snprintf(msg, msglen, "job id is not an id");
		return MESH_COMMAND_STATUS(INVALID);
	}
	if (job->epoch == 0 || job->attempt == 0) {
		snprintf(msg, msglen, "job epoch and attempt start at 1");
		return MESH_COMMAND_STATUS(INVALID);
	}
	if (job->payload == NULL)
		return MESH_COMMAND_STATUS(OK);
	if (job->payload_len > TASKS_PAYLOAD_MAX) {
		snprintf(msg, msglen, "payload over %d bytes", TASKS_PAYLOAD_MAX);
		return MESH_COMMAND_STATUS(INVALID);
	}
	j = json_loadb(job->payload, job->payload_len, JSON_DECODE_ANY, &jerr);
	if (j == NULL) {
		snprintf(msg, msglen, "payload is not JSON");
		return MESH_COMMAND_STATUS(INVALID);
	}
	json_decref(j);
	return MESH_COMMAND_STATUS(OK);
}

void
tasks_job_attach(struct run *r, const struct tasks_job *job)
{
	r->job_id = xstrdup(job->job_id);
	r->job_epoch = job->epoch;
	r->job_attempt = job->attempt;
	if (job->payload != NULL) {
		r->payload = xstrndup(job->payload, job->payload_len);
		r->payload_len = job->payload_len;
	}
}

/* The whole of buf into a new 0600 file at path, replacing what was there. */
static int
write_file(const char *path, const char *buf, size_t len)
{
	ssize_t n;
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -1;
	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			(void)close(fd);
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return close(fd);
}

int
tasks_job_prepare(struct run *r)
{
	char *p;
	int rc;

	if (r->job_id == NULL)
		return 0;
	if (r->job_dir == NULL)
		r->job_dir = join(r->t->run_dir, r->id);
	if (mkdir(r->job_dir, 0700) == -1 && errno != EEXIST) {
		tasks_set_reason(r, "cannot make the job's run directory: %s",
		    strerror(errno));
		return -1;
	}
	p = join(r->job_dir, PAYLOAD_FILE);
	/* "null" for no payload: the file always parses as JSON. */
	rc = r->payload != NULL ? write_file(p, r->payload, r->payload_len) :
	    write_file(p, "null", 4);
	free(p);
	if (rc == -1) {
		tasks_set_reason(r, "cannot write the job's payload file: %s",
		    strerror(errno));
		return -1;
	}
	p = join(r->job_dir, RESULT_FILE);
	rc = unlink(p) == -1 && errno != ENOENT ? -1 : 0;
	free(p);
	if (rc == -1) {
		tasks_set_reason(r, "cannot remove an earlier result file: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

size_t
tasks_job_env(const struct run *r, char **out)
{
	char num[32], *p;

	if (r->job_id == NULL || r->job_dir == NULL)
		return 0;
	out[0] = env_kv(env_names[0], r->job_id);
	snprintf(num, sizeof num, "%" PRIu64, r->job_epoch);
	out[1] = env_kv(env_names[1], num);
	snprintf(num, sizeof num, "%" PRIu32, r->job_attempt);
	out[2] = env_kv(env_names[2], num);
	snprintf(num, sizeof num, "%u", r->attempt);
	out[3] = env_kv(env_names[3], num);
	p = join(r->job_dir, PAYLOAD_FILE);
	out[4] = env_kv(env_names[4], p);
	free(p);
	p = join(r->job_dir, RESULT_FILE);
	out[5] = env_kv(env_names[5], p);
	free(p);
	return TASKS_JOB_ENV_N;
}

int
tasks_job_env_name(const char *kv)
{
	size_t i, len;

	for (i = 0; i < TASKS_JOB_ENV_N; i++) {
		len = strlen(env_names[i]);
		if (strncmp(kv, env_names[i], len) == 0 &&
		    (kv[len] == '=' || kv[len] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * The result file, at most TASKS_RESULT_MAX bytes, NUL-terminated; NULL
 * when there is none (*why NULL) or it is refused (*why says why).  Not
 * file_read: something the task left running may swap in a FIFO (the
 * open would block the loop) or a symlink, so the open itself refuses
 * both.
 */
static char *
read_result(const char *path, size_t *len, char *why, size_t whylen,
    const char **whyp)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;
	int fd;

	*whyp = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return NULL;
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "result is %s", fd == -1 && errno != ELOOP ?
		    "unreadable" : "not a regular file");
		*whyp = why;
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	buf = xmalloc(TASKS_RESULT_MAX + 2);
	/* One byte past the bound tells a file that is too large. */
	while (got <= TASKS_RESULT_MAX) {
		n = read(fd, buf + got, TASKS_RESULT_MAX + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd);
	if (got > TASKS_RESULT_MAX) {
		snprintf(why, whylen, "result over %d bytes", TASKS_RESULT_MAX);
		*whyp = why;
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

void
tasks_job_finish(struct run *r)
{
	struct tasks *t = r->t;
	char why[128], *p, *text = NULL;
	const char *refused = NULL;
	json_error_t jerr;
	size_t len = 0;
	json_t *j;

	if (r->job_id == NULL)
		return;
	if (r->job_dir != NULL) {
		p = join(r->job_dir, RESULT_FILE);
		text = read_result(p, &len, why, sizeof why, &refused);
		free(p);
	}
	if (text != NULL) {
		j = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
		if (j == NULL) {
			refused = "result is not JSON";
			free(text);
			text = NULL;
		}
		json_decref(j);
	}
	if (refused != NULL)
		log_event(LOG_WARN, "job result refused", "{s:s, s:s, s:s}",
		    "task", r->id, "job", r->job_id, "why", refused);
	if (t->hooks.job_result != NULL)
		t->hooks.job_result(r->id, text, text != NULL ? len : 0, refused,
		    t->hooks.arg);
	free(text);
	if (r->job_dir != NULL) {
		rm_tree(r->job_dir);
		free(r->job_dir);
		r->job_dir = NULL;
	}
}

void
tasks_job_clear(struct run *r)
{
	free(r->job_id);
	free(r->payload);
	free(r->job_dir);
	r->job_id = r->payload = r->job_dir = NULL;
}
