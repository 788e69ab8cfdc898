/*
 * Structured logging: one JSON object per line on stderr.
 *
 * Every line carries "ts" (UTC, RFC 3339 with milliseconds), "level",
 * "component" and "msg".  log_event() adds fields built with jansson's
 * json_pack() format, so callers attach data without string formatting:
 *
 *   log_event(LOG_INFO, "node registered", "{s:s, s:s}", "node", id, "ip", ip);
 *
 * The printf-style helpers follow OpenBSD's log.c shape: log_warn appends
 * strerror(errno), log_warnx does not; fatal/fatalx log and exit(1) and are
 * for use from main() paths only.
 */
#ifndef AGENTFLOW_LOG_H
#define AGENTFLOW_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* component is copied; level is the lowest level printed.  Also looks
 * whether stderr is the journal's stream ($JOURNAL_STREAM): then every line
 * starts with its syslog priority, "<3>" error … "<7>" debug. */
void log_init(const char *component, enum log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/*
 * A message (by its text) repeated is printed at most 20 times in 10 s;
 * the rest are counted and summarised in one line, "N more like this in the
 * last 10 s", with "like" (the message) and "suppressed" (N), once the
 * window is over: by the next line logged, or by log_flush, which a
 * program calls every second or so.  Thread-safe.
 */
void log_flush(void);

void log_event(enum log_level level, const char *msg, const char *fmt, ...);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
