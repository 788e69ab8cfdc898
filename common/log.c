/*
 * JSON-lines logger.  Lines are built completely in memory and written with
 * one fputs so that concurrent writers (gRPC's threads log through us too)
 * never interleave within a line.
 */
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char log_component[32] = "agentflow";
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_init(const char *component, enum log_level level)
{
	snprintf(log_component, sizeof(log_component), "%s", component);
	log_min = level;
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
		fprintf(stderr, "%s %s %s\n", ts, level_names[level], msg);
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
	fprintf(stderr, "%s\n", text);
	free(text);
}

void
log_event(enum log_level level, const char *msg, const char *fmt, ...)
{
	va_list ap;
	json_t *fields = NULL;
	json_error_t err;

	if (!log_enabled(level))
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		fields = json_vpack_ex(&err, 0, fmt, ap);
		va_end(ap);
	}
	emit(level, msg, fields);
}

static void vlog(enum log_level, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vlog(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char buf[2048];
	int n;

	if (!log_enabled(level))
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
		vlog(level, suffix, fmt, ap);                            \
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
	vlog(LOG_ERROR, suffix, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
