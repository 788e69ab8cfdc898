/*
 * JSON-lines logger.  Lines are built completely in memory and written with
 * one fputs so that concurrent writers (gRPC's threads log through us too)
 * never interleave within a line.
 *
 * Rate limit: a message repeated from one call site (the same msg or
 * format string, compared by address) is printed at most LOG_BURST times
 * in a LOG_WINDOW_MS window; the rest are counted and summarised once the
 * window is over, as one line "N more like this in the last 10 s" naming
 * the message ("like"), printed by the next line logged anywhere.  One
 * missing sequence number followed by one line per event wrote 8 MiB in
 * 2.3 s, and a flood of refused requests one line each.  fatal and fatalx
 * are never held back.
 *
 * Under systemd, when stderr is the journal's stream (JOURNAL_STREAM names
 * its device and inode, as sd-daemon(3) says to check), every line starts
 * with its syslog priority, "<4>" for a warning: journald files it at that
 * level and strips the prefix, so `journalctl -p warning` finds warnings.
 * Anywhere else (a terminal, a file, a pipe that merely inherited the
 * variable) lines stay plain JSON.
 */
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "text.h"

static char log_component[32] = "agentflow";
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };
/* The syslog priority of each level (LOG_DEBUG 7 … LOG_ERR 3), as the
 * "<N>" prefix journald reads. */
static const char *const level_prefix[] = { "<7>", "<6>", "<4>", "<3>" };
static int log_journal;	/* stderr is the journal's stream: prefix lines */

#define LOG_BURST	20
#define LOG_WINDOW_MS	10000
#define LOG_SITES	256	/* direct-mapped by the site's address */

/* One call site's window; site NULL: free. */
/* A message is known by its text (a hash of it), not its address: a
 * message may be a buffer that is freed and reused (gRPC's). */
struct log_site {
	uint64_t	 hash;		/* 0: free */
	char		 like[96];	/* its text */
	enum log_level	 level;
	uint64_t	 start_ms;
	unsigned	 printed, held;
};

static struct log_site log_sites[LOG_SITES];

/* FNV-1a of a message's first 256 bytes; never 0 (0 marks a free slot). */
static uint64_t
text_hash(const char *s)
{
	uint64_t h = text_fnv1a(s, strnlen(s, 256), TEXT_FNV1A_BASIS);

	return h != 0 ? h : 1;
}
static uint64_t log_next_sweep_ms;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void emit(enum log_level, const char *, json_t *);

/* Whether stderr is the stream $JOURNAL_STREAM ("DEVICE:INODE") names. */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *component, enum log_level level)
{
	snprintf(log_component, sizeof(log_component), "%s", component);
	log_min = level;
	log_journal = stderr_is_journal();
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_level(enum log_level level)
{
	log_min = level;
}

int
log_enabled(enum log_level level)
{
	return level >= log_min;
}

/* The summary of a window that held lines back; it is then free. */
static json_t *
site_close(struct log_site *ls)
{
	json_t *j = NULL;

	if (ls->held > 0)
		j = json_pack("{s:s, s:I, s:s}", "like", ls->like, "suppressed",
		    (json_int_t)ls->held, "level", level_names[ls->level]);
	memset(ls, 0, sizeof(*ls));
	return j;
}

/* Prints summary j (borrowed). */
static void
emit_summary(json_t *j)
{
	char msg[96];
	json_int_t n = json_integer_value(json_object_get(j, "suppressed"));
	enum log_level level = LOG_INFO;

	(void)log_level_parse(json_string_value(json_object_get(j, "level")),
	    &level);
	json_object_del(j, "level");
	snprintf(msg, sizeof(msg), "%lld more like this in the last %d s",
	    (long long)n, LOG_WINDOW_MS / 1000);
	/* emit takes a reference; j stays the caller's array's. */
	emit(level, msg, json_incref(j));
}

/* Closes the windows that are over; their summaries into *out.  Locked. */
static void
sweep(uint64_t now, json_t **out)
{
	struct log_site *ls;
	json_t *j;

	log_next_sweep_ms = now + 1000;
	for (size_t i = 0; i < LOG_SITES; i++) {
		ls = &log_sites[i];
		if (ls->hash == 0 || now - ls->start_ms < LOG_WINDOW_MS ||
		    (j = site_close(ls)) == NULL)
			continue;
		if (*out == NULL)
			*out = json_array();
		json_array_append_new(*out, j);
	}
}

/*
 * 1 when the line from site (NULL: none, just the sweep) may be printed; 0 when it is counted in its
 * window instead.  Summaries of windows that ended go out first (*out, an
 * array, the caller prints them).
 */
static int
site_allows(const char *site, enum log_level level, json_t **out)
{
	struct log_site *ls;
	uint64_t now = clock_mono_ms(), h;
	json_t *j;
	int ok = 1;

	*out = NULL;
	pthread_mutex_lock(&log_lock);
	if (now >= log_next_sweep_ms)
		sweep(now, out);
	if (site == NULL)
		goto out;
	h = text_hash(site);
	ls = &log_sites[h % LOG_SITES];
	if (ls->hash != 0 && ls->hash != h &&
	    now - ls->start_ms < LOG_WINDOW_MS)
		goto out;	/* another message's window: not limited */
	if (ls->hash != h || now - ls->start_ms >= LOG_WINDOW_MS) {
		if ((j = site_close(ls)) != NULL) {
			if (*out == NULL)
				*out = json_array();
			json_array_append_new(*out, j);
		}
		ls->hash = h;
		(void)text_copy(ls->like, sizeof(ls->like), site, false);
		ls->start_ms = now;
	}
	ls->level = level;
	if (ls->printed < LOG_BURST)
		ls->printed++;
	else {
		ls->held++;
		ok = 0;
	}
out:
	pthread_mutex_unlock(&log_lock);
	return ok;
}

/* Prints the summaries due and says whether site's line (NULL: none)
 * may go. */
static int
rate_ok(const char *site, enum log_level level)
{
	json_t *due;
	size_t i;
	int ok = site_allows(site, level, &due);

	for (i = 0; i < json_array_size(due); i++)
		emit_summary(json_array_get(due, i));
	json_decref(due);
	return ok;
}

static void
emit(enum log_level level, const char *msg, json_t *fields)
{
	struct timeval tv;
	struct tm tm;
	char ts[64];
	json_t *line;
	char *text;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));

	line = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts,
	    "level", level_names[level], "component", log_component,
	    "msg", msg);
	if (line == NULL) {
		fprintf(stderr, "%s%s %s %s\n", log_journal ?
		    level_prefix[level] : "", ts, level_names[level], msg);
		json_decref(fields);
		return;
	}
	if (fields != NULL && json_is_object(fields))
		json_object_update_missing(line, fields);
	json_decref(fields);
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (text == NULL)
		return;
	fprintf(stderr, "%s%s\n", log_journal ? level_prefix[level] : "", text);
	free(text);
}

void
log_event(enum log_level level, const char *msg, const char *fmt, ...)
{
	va_list ap;
	json_t *fields = NULL;
	json_error_t err;

	if (!log_enabled(level) || !rate_ok(msg, level))
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		fields = json_vpack_ex(&err, 0, fmt, ap);
		va_end(ap);
	}
	emit(level, msg, fields);
}

void
log_flush(void)
{
	(void)rate_ok(NULL, LOG_INFO);
}

static void vlog(enum log_level, const char *, int, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static void
vlog(enum log_level level, const char *suffix, int limited, const char *fmt,
    va_list ap)
{
	char buf[2048];
	int n;

	if (!log_enabled(level) || (limited && !rate_ok(fmt, level)))
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= 0 && suffix != NULL && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", suffix);
	emit(level, buf, NULL);
}

#define LOG_FN(name, level, with_errno)                                  \
	void name(const char *fmt, ...)                                  \
	{                                                                \
		va_list ap;                                              \
		const char *suffix = (with_errno) ? strerror(errno) : NULL; \
		va_start(ap, fmt);                                       \
		vlog(level, suffix, 1, fmt, ap);                         \
		va_end(ap);                                              \
	}

LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *suffix = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_ERROR, suffix, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
