/*
 * When a schedule fires: a cron expression in a time zone, parsed once
 * and asked for the next fire time after an instant.  Pure functions: no
 * node, no clock; the unit tests drive them directly.
 *
 *   "M H DOM MON DOW"   five fields: minute 0-59, hour 0-23, day of month
 *                       1-31, month 1-12 or jan-dec, day of week 0-7 or
 *                       sun-sat (0 and 7 are Sunday); each a list of
 *                       "*", "N", "N-M", with an optional "/STEP".  When
 *                       both DOM and DOW are restricted (neither starts
 *                       with "*"), a day matches either (Vixie cron).
 *   "@hourly" "@daily" "@midnight" "@weekly" "@monthly" "@yearly"
 *   "@annually"         the usual five-field equivalents
 *   "@every DURATION"   "@every 30s", "@every 5m": at every multiple of
 *                       the duration since the epoch (UTC), so every node
 *                       computes the same times; at least 1s.
 *
 * Times are local to the zone: "UTC" or an IANA name ("Europe/Berlin",
 * read from the system's zoneinfo).  Across a DST change a local time
 * that does not exist is skipped and one that happens twice fires once,
 * at its first occurrence.
 */
#ifndef AGENTFLOW_CRON_H
#define AGENTFLOW_CRON_H

#include <stddef.h>
#include <stdint.h>

#define CRON_EXPR_MAX	256	/* bytes of an expression */
#define CRON_TZ_MAX	64	/* bytes of a zone name */

struct cron;

/*
 * Parses expr in zone tz (NULL or "": UTC).  Returns a new cron (free
 * with cron_free), or NULL with err naming the bad field ("minute: 61 is
 * outside 0-59", "tz: no zone named ...").
 */
struct cron *cron_parse(const char *expr, const char *tz, char *err,
    size_t errlen);
/* NULL: no-op. */
void cron_free(struct cron *);

/*
 * The first fire time strictly after after_ms (unix ms; fire times are
 * whole minutes, or multiples of an @every duration), or -1 when there is
 * none within the next eight years (e.g. "0 0 30 2 *").
 */
int64_t cron_next(const struct cron *, int64_t after_ms);

/* Whether tz names a zone cron_parse takes. */
int cron_tz_valid(const char *tz);

#endif
