/*
 * The node's own metric history (issue 20 item 4): what the collector
 * measured here, kept by the node itself, since statuses rarely go out at
 * rest and nobody else sees every sample.
 *
 * Two rings of struct history_point, both fixed arrays allocated once:
 *
 *   samples   one point per sample (--status-ms, 1 s by default), the
 *             last HISTORY_SAMPLES_N: an hour at 1 s;
 *   minutes   one point per wall-clock minute, mean and max of the
 *             samples in it, the last HISTORY_MINUTES_N: 7 days.
 *
 * Bounded in bytes: HISTORY_MAX_BYTES for both rings and the minute in
 * progress, whatever the sampling rate or the uptime.  A ring full drops
 * its oldest point.  Times are wall-clock milliseconds; a sample not
 * after the last one (a clock stepped back) is refused, so each ring stays
 * in time order, which the queries rely on.
 *
 * The minute ring is what the node persists (store_history.h): a minute
 * closes when the first sample of the next one arrives, at most once a
 * minute; history_restore() puts the stored minutes back at start.  A
 * minute stored in progress (at shutdown) and restored is resumed by the
 * next sample that falls in it.
 */
#ifndef AGENTFLOW_HISTORY_H
#define AGENTFLOW_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The series, in the order of the values arrays below. */
enum history_series {
	HISTORY_CPU,		/* cpu_percent, 0-100 */
	HISTORY_MEM,		/* mem_used_percent, 0-100 */
	HISTORY_DISK,		/* disk_used_percent, 0-100 */
	HISTORY_LOAD1,		/* load1 */
	HISTORY_NET_RX,		/* net_rx_bytes_per_s */
	HISTORY_NET_TX,		/* net_tx_bytes_per_s */
	HISTORY_NSERIES
};

#define HISTORY_SAMPLES_N	3600
#define HISTORY_MINUTE_MS	60000
/* A clock back by this much or more starts history over from it. */
#define HISTORY_REWIND_MS	(5 * HISTORY_MINUTE_MS)
#define HISTORY_MINUTES_N	(7 * 24 * 60)
/* What history_query answers at most per series, and by default. */
#define HISTORY_POINTS_MAX	1000
#define HISTORY_POINTS_DEFAULT	300
/* A history_query command's answer, in a result of at most 64 KiB. */
#define HISTORY_QUERY_MAX_BYTES	60000

/*
 * One point: a sample (n = 1, mean = max = the value) or a minute (t_ms
 * its start, n the samples in it).  Values are floats: a chart needs no
 * more, and the rings stay small.
 */
struct history_point {
	int64_t		 t_ms;
	uint32_t	 n;
	float		 mean[HISTORY_NSERIES];
	float		 max[HISTORY_NSERIES];
};

/* Both rings, the minute in progress and the header: under 1 MB. */
#define HISTORY_MAX_BYTES	((HISTORY_SAMPLES_N + HISTORY_MINUTES_N + 2) * \
	sizeof(struct history_point) + 256)

struct history;

/* Empty rings.  Never fails (allocation aborts). */
struct history *history_new(void);
/* Frees h; history_free(NULL) is a no-op. */
void history_free(struct history *h);

/*
 * A sample taken at wall time t_ms (> 0), values[HISTORY_NSERIES]
 * (non-finite or negative values count as 0).  Returns 1 when it closed
 * a minute (then history_last_minute() gives it, to persist), 0 when not,
 * -1 when t_ms is not after the last sample's by less than
 * HISTORY_REWIND_MS (refused, nothing changes).  A clock gone back
 * further, or below the last restored minute, drops what is dated after
 * t_ms and goes on from it.
 */
int history_add(struct history *h, int64_t t_ms, const double *values);

/* The last closed minute, or NULL; valid until the next call on h. */
const struct history_point *history_last_minute(const struct history *h);
/* The minute in progress into *out: 1, or 0 when there is none. */
int history_current(const struct history *h, struct history_point *out);

/*
 * Puts a stored minute back in the minute ring.  Minutes must come in
 * time order, before any history_add(); one not after the last restored,
 * or not on a minute boundary, or with n = 0, is refused (-1).
 */
int history_restore(struct history *h, const struct history_point *p);

/*
 * A point as the store keeps it, {"t_ms", "n", "mean": [..], "max": [..]}
 * (new reference), and back: history_point_from_json fills *out and
 * returns 0, or -1 when anything is missing, of the wrong type or count,
 * or out of range.
 */
json_t *history_point_json(const struct history_point *p);
int history_point_from_json(const json_t *j, struct history_point *out);

/*
 * The series between from_ms and to_ms (inclusive), at most points
 * (1-HISTORY_POINTS_MAX) per series: the sample ring, unless the range
 * starts before its oldest point and the minutes hold older ones
 * (restored, or samples the full ring dropped) or there are no samples:
 * then the minute ring, with the minute in progress last.  Consecutive points are merged
 * (mean of the means weighted by n, max of the maxima) to fit.  Returns a
 * new object:
 *
 *   {"resolution": "sample"|"minute", "from_ms", "to_ms", "t_ms": [..],
 *    "series": {"cpu_percent": [..], ...}, "max": {"cpu_percent": [..], ...},
 *    "truncated": false}
 *
 * where every array has one entry per point, in time order.  max_bytes
 * (0: none) bounds the answer's compact JSON text: the points are merged
 * into fewer until it fits, and "truncated" is true when they were.  A
 * max_bytes of a few hundred bytes fits a single point.
 */
json_t *history_query(const struct history *h, int64_t from_ms,
    int64_t to_ms, size_t points, size_t max_bytes);

/* The name of series i in history_query's answer. */
const char *history_series_name(enum history_series i);

#endif
