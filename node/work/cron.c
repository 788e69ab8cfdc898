/*
 * Cron expressions and their next fire times (cron.h).
 *
 * A parsed expression is five bit sets (minute, hour, day of month,
 * month, day of week) or an @every period.  The next fire time walks
 * local calendar days from the start instant's day, and within a
 * matching day the matching (hour, minute) pairs in order; each local
 * time is turned into an instant by asking the zone for it both as
 * summer and as winter time and keeping the earliest answer that reads
 * back as the same local time.  None: the time does not exist that day
 * (skipped).  Two: it happens twice; the first is its only fire, so a
 * start instant between the two does not fire it again.
 *
 * The zone rules are the C library's (the TZ variable and tzset): the
 * node's one loop thread is the only caller, and TZ is put back after
 * every use, so nothing else sees it change.
 */
#include "cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "opts.h"
#include "xalloc.h"

#define CRON_LAST_MS	253402300799000LL	/* 9999-12-31T23:59:59Z */
#define DAYS_MAX	(8 * 366 + 2)	/* a 29 February needs up to 8 years */
#define MINUTE_MS	60000LL

enum { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, NFIELDS };

static const struct field {
	const char	*name;
	int		 lo, hi;
	const char *const *names;	/* names[i] is lo + i, NULL-ended;
					 * NULL: none */
} fields[NFIELDS] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, (const char *const[]){ "jan", "feb", "mar", "apr",
	    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL } },
	/* 7 is Sunday too (folded to 0 once parsed). */
	{ "day of week", 0, 7, (const char *const[]){ "sun", "mon", "tue",
	    "wed", "thu", "fri", "sat", NULL } },
};

static const struct macro {
	const char	*name;
	const char	*expr;
} macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

struct cron {
	uint64_t	 bits[NFIELDS];
	int		 dom_star, dow_star;	/* the field began with '*' */
	int64_t		 every_ms;		/* @every; 0: five fields */
	char		 tz[CRON_TZ_MAX];	/* "": UTC */
};

/* --- parsing ----------------------------------------------------------------- */

/* A number or (for fields with names) a name at *p; -1 when neither. */
static int
value(const struct field *f, const char **p)
{
	const char *s = *p;
	long v;
	char *end;

	if (isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		if (end - s > 4)
			return -1;
		*p = end;
		return (int)v;
	}
	if (f->names == NULL)
		return -1;
	for (int i = 0; i <= f->hi - f->lo && f->names[i] != NULL; i++)
		if (strncasecmp(s, f->names[i], 3) == 0 &&
		    !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			return f->lo + i;
		}
	return -1;
}

/* One comma-separated item of field f: "*", "N", "N-M", each "/S"-able. */
static int
item(const struct field *f, const char *s, size_t len, uint64_t *bits,
    char *err, size_t errlen)
{
	char buf[64];
	const char *p = buf;
	int lo, hi, step = 1;

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "%s: empty or overlong list item", f->name);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (*p == '*') {
		lo = f->lo;
		hi = f->hi;
		p++;
	} else {
		if ((lo = value(f, &p)) < 0)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if ((hi = value(f, &p)) < 0)
				goto bad;
		} else if (*p == '/')
			hi = f->hi;	/* "N/S": from N to the end */
	}
	if (*p == '/') {
		char *end;
		long st;

		p++;
		st = strtol(p, &end, 10);
		if (!isdigit((unsigned char)*p) || *end != '\0' || st < 1 ||
		    st > f->hi) {
			snprintf(err, errlen, "%s: step in \"%s\" is not 1-%d",
			    f->name, buf, f->hi);
			return -1;
		}
		step = (int)st;
		p = end;
	}
	if (*p != '\0')
		goto bad;
	if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi) {
		snprintf(err, errlen, "%s: \"%s\" is outside %d-%d", f->name, buf,
		    f->lo, f->hi);
		return -1;
	}
	if (lo > hi) {
		snprintf(err, errlen, "%s: range \"%s\" runs backwards", f->name,
		    buf);
		return -1;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
bad:
	snprintf(err, errlen, "%s: \"%s\" is not *, N, N-M or one of those "
	    "with /STEP%s", f->name, buf, f->names != NULL ? " (names allowed)" :
	    "");
	return -1;
}

static int
field_parse(struct cron *c, int i, const char *s, char *err, size_t errlen)
{
	const char *comma;

	c->bits[i] = 0;
	for (;;) {
		comma = strchr(s, ',');
		if (item(&fields[i], s, comma != NULL ? (size_t)(comma - s) :
		    strlen(s), &c->bits[i], err, errlen) != 0)
			return -1;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	return 0;
}

static int
every_parse(struct cron *c, const char *arg, char *err, size_t errlen)
{
	long s;

	while (*arg == ' ' || *arg == '\t')
		arg++;
	if (opts_duration_parse(arg, &s) != 0 || s < 1 ||
	    s > 366L * 24 * 3600) {
		snprintf(err, errlen, "cron: \"@every %.32s\": a duration from "
		    "1s to 366d, as \"30s\", \"5m\" or \"2h\"", arg);
		return -1;
	}
	c->every_ms = (int64_t)s * 1000;
	return 0;
}

static int
fields_parse(struct cron *c, const char *expr, char *err, size_t errlen)
{
	char buf[CRON_EXPR_MAX], *tok[NFIELDS + 1], *save = NULL, *t;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", expr);
	for (t = strtok_r(buf, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save))
		if (n++ < NFIELDS)
			tok[n - 1] = t;
	if (n != NFIELDS) {
		snprintf(err, errlen, "cron: %d field%s, 5 wanted (minute hour "
		    "day-of-month month day-of-week) or a macro (@daily, "
		    "@every 5m, ...)", n, n == 1 ? "" : "s");
		return -1;
	}
	for (int i = 0; i < NFIELDS; i++)
		if (field_parse(c, i, tok[i], err, errlen) != 0)
			return -1;
	if (c->bits[F_DOW] & (1ULL << 7))
		c->bits[F_DOW] = (c->bits[F_DOW] | 1ULL) & ~(1ULL << 7);
	c->dom_star = tok[F_DOM][0] == '*';
	c->dow_star = tok[F_DOW][0] == '*';
	return 0;
}

int
cron_tz_valid(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct stat sb;
	size_t len;

	if (tz == NULL || tz[0] == '\0' || strcmp(tz, "UTC") == 0)
		return 1;
	len = strlen(tz);
	if (len >= CRON_TZ_MAX || tz[0] == '/' || strstr(tz, "..") != NULL)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)tz[i]) && strchr("/_+-", tz[i]) ==
		    NULL)
			return 0;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && dir[0] != '\0' ?
	    dir : "/usr/share/zoneinfo", tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

struct cron *
cron_parse(const char *expr, const char *tz, char *err, size_t errlen)
{
	struct cron *c = xcalloc(1, sizeof(*c));
	int rc;

	if (expr == NULL || expr[0] == '\0' || strlen(expr) >= CRON_EXPR_MAX) {
		snprintf(err, errlen, "cron: 1-%d bytes wanted", CRON_EXPR_MAX - 1);
		goto fail;
	}
	if (!cron_tz_valid(tz)) {
		snprintf(err, errlen, "tz: no zone named \"%.64s\" (UTC or an "
		    "IANA name such as Europe/Berlin)", tz);
		goto fail;
	}
	if (tz != NULL && strcmp(tz, "UTC") != 0)
		snprintf(c->tz, sizeof(c->tz), "%s", tz);
	if (strncmp(expr, "@every", 6) == 0 && (expr[6] == ' ' ||
	    expr[6] == '\t'))
		rc = every_parse(c, expr + 7, err, errlen);
	else if (expr[0] == '@') {
		rc = -1;
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strcmp(expr, macros[i].name) == 0)
				rc = fields_parse(c, macros[i].expr, err, errlen);
		if (rc != 0 && err[0] == '\0')
			snprintf(err, errlen, "cron: unknown macro \"%.32s\" "
			    "(@hourly, @daily, @weekly, @monthly, @yearly, "
			    "@every DURATION)", expr);
	} else
		rc = fields_parse(c, expr, err, errlen);
	if (rc == 0)
		return c;
fail:
	free(c);
	return NULL;
}

void
cron_free(struct cron *c)
{
	free(c);
}

/* --- next fire time ---------------------------------------------------------- */

/* The zone in force while a computation runs; put back by zone_leave. */
struct zone {
	char	 saved[CRON_TZ_MAX + 2];
	int	 had, local;
};

static void
zone_enter(const struct cron *c, struct zone *z)
{
	const char *old = getenv("TZ");
	char want[CRON_TZ_MAX + 2];

	z->local = c->tz[0] != '\0';
	if (!z->local)
		return;
	z->had = old != NULL;
	snprintf(z->saved, sizeof(z->saved), "%s", old != NULL ? old : "");
	snprintf(want, sizeof(want), ":%s", c->tz);
	setenv("TZ", want, 1);
	tzset();
}

static void
zone_leave(struct zone *z)
{
	if (!z->local)
		return;
	if (z->had)
		setenv("TZ", z->saved, 1);
	else
		unsetenv("TZ");
	tzset();
}

static void
to_local(const struct zone *z, time_t t, struct tm *tm)
{
	if (z->local)
		localtime_r(&t, tm);
	else
		gmtime_r(&t, tm);
}

/* The first instant (s) local time y-mo-d h:mi happens, or -1: never. */
static int64_t
first_instant(const struct zone *z, int y, int mo, int d, int h, int mi)
{
	int64_t best = -1;
	struct tm tm, back;
	time_t t;

	for (int dst = 1; dst >= 0; dst--) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y;
		tm.tm_mon = mo;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_isdst = dst;
		if (!z->local) {
			tm.tm_isdst = 0;
			return (int64_t)timegm(&tm);
		}
		if ((t = mktime(&tm)) == (time_t)-1)
			continue;
		to_local(z, t, &back);
		if (back.tm_year == y && back.tm_mon == mo && back.tm_mday == d &&
		    back.tm_hour == h && back.tm_min == mi &&
		    (best < 0 || (int64_t)t < best))
			best = (int64_t)t;
	}
	return best;
}

static int
day_matches(const struct cron *c, const struct tm *day)
{
	int dom = (c->bits[F_DOM] >> day->tm_mday) & 1;
	int dow = (c->bits[F_DOW] >> day->tm_wday) & 1;

	if (!((c->bits[F_MON] >> (day->tm_mon + 1)) & 1))
		return 0;
	if (!c->dom_star && !c->dow_star)
		return dom || dow;
	return dom && dow;
}

int64_t
cron_next(const struct cron *c, int64_t after_ms)
{
	struct zone z;
	struct tm start, day;
	int64_t after_s, found = -1;
	time_t t0;

	/* No fire time past year 9999 (nor arithmetic that could overflow). */
	if (after_ms > CRON_LAST_MS || after_ms < -CRON_LAST_MS)
		return -1;
	if (c->every_ms > 0) {
		int64_t q = after_ms / c->every_ms;

		if (after_ms < 0 && after_ms % c->every_ms != 0)
			q--;
		return (q + 1) * c->every_ms;
	}
	/* Fire times are whole minutes: the first candidate is the minute
	 * after the one after_ms falls in. */
	after_s = (after_ms >= 0 ? after_ms : after_ms - MINUTE_MS + 1) /
	    MINUTE_MS * 60;
	t0 = (time_t)(after_s + 60);
	zone_enter(c, &z);
	to_local(&z, t0, &start);
	for (int i = 0; i < DAYS_MAX && found < 0; i++) {
		/* The calendar day i days after start's, at noon UTC (only
		 * its date and weekday are read). */
		memset(&day, 0, sizeof(day));
		day.tm_year = start.tm_year;
		day.tm_mon = start.tm_mon;
		day.tm_mday = start.tm_mday + i;
		day.tm_hour = 12;
		time_t noon = timegm(&day);
		gmtime_r(&noon, &day);
		if (!day_matches(c, &day))
			continue;
		for (int h = 0; h < 24 && found < 0; h++) {
			if (!((c->bits[F_HOUR] >> h) & 1) ||
			    (i == 0 && h < start.tm_hour - 3))
				continue;
			for (int m = 0; m < 60; m++) {
				int64_t s;

				if (!((c->bits[F_MIN] >> m) & 1))
					continue;
				s = first_instant(&z, day.tm_year, day.tm_mon,
				    day.tm_mday, h, m);
				if (s >= 0 && s * 1000 > after_ms) {
					found = s * 1000;
					break;
				}
			}
		}
	}
	zone_leave(&z);
	return found;
}
