/*
 * The node's own metric history in two rings (see history.h).
 *
 * Invariants: each ring holds count points from head on, in strictly
 * increasing t_ms; a minute point's t_ms is a multiple of
 * HISTORY_MINUTE_MS; the minute in progress (cur_n > 0) is later than the
 * minute ring's last point.  CHECK()ed where they are relied on.
 */
#include "history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "xalloc.h"

struct ring {
	struct history_point	*p;
	size_t			 cap, head, count;
};

struct history {
	struct ring		 samples, minutes;
	int64_t			 last_t_ms;	/* of the last sample added */
	/* The minutes hold what the samples do not: restored from the
	 * store, or samples the full ring dropped. */
	int			 older;
	/* The minute in progress: sums, maxima and count since cur_t_ms. */
	int64_t			 cur_t_ms;
	uint32_t		 cur_n;
	double			 cur_sum[HISTORY_NSERIES];
	double			 cur_max[HISTORY_NSERIES];
};

static const char *const series_names[HISTORY_NSERIES] = {
	"cpu_percent", "mem_used_percent", "disk_used_percent", "load1",
	"net_rx_bytes_per_s", "net_tx_bytes_per_s",
};

const char *
history_series_name(enum history_series i)
{
	CHECK(i < HISTORY_NSERIES);
	return series_names[i];
}

static void
ring_init(struct ring *r, size_t cap)
{
	r->p = xcalloc(cap, sizeof(*r->p));
	r->cap = cap;
	r->head = r->count = 0;
}

static const struct history_point *
ring_at(const struct ring *r, size_t i)
{
	return &r->p[(r->head + i) % r->cap];
}

static const struct history_point *
ring_last(const struct ring *r)
{
	return r->count > 0 ? ring_at(r, r->count - 1) : NULL;
}

/* Appends p, dropping the oldest point when full. */
static void
ring_push(struct ring *r, const struct history_point *p)
{
	CHECK(r->count == 0 || ring_last(r)->t_ms < p->t_ms);
	if (r->count == r->cap) {
		r->head = (r->head + 1) % r->cap;
		r->count--;
	}
	r->p[(r->head + r->count++) % r->cap] = *p;
}

static void
ring_pop(struct ring *r)
{
	CHECK(r->count > 0);
	r->count--;
}

struct history *
history_new(void)
{
	struct history *h = xcalloc(1, sizeof(*h));

	ring_init(&h->samples, HISTORY_SAMPLES_N);
	ring_init(&h->minutes, HISTORY_MINUTES_N);
	return h;
}

void
history_free(struct history *h)
{
	if (h == NULL)
		return;
	free(h->samples.p);
	free(h->minutes.p);
	free(h);
}

static double
clean(double v)
{
	/* a float holds it (a collector's glitch would be inf and drop the
	 * value from every answer and stored row) */
	return isfinite(v) && v > 0 ? (v < 3.0e38 ? v : 3.0e38) : 0;
}

static void
current_point(const struct history *h, struct history_point *out)
{
	memset(out, 0, sizeof(*out));
	out->t_ms = h->cur_t_ms;
	out->n = h->cur_n;
	for (int i = 0; i < HISTORY_NSERIES; i++) {
		out->mean[i] = (float)(h->cur_sum[i] / h->cur_n);
		out->max[i] = (float)h->cur_max[i];
	}
}

/* Starts minute m, resuming it if it is the restored ring's last point
 * (a minute stored in progress at the last shutdown). */
static void
open_minute(struct history *h, int64_t m)
{
	const struct history_point *last = ring_last(&h->minutes);

	h->cur_t_ms = m;
	h->cur_n = 0;
	memset(h->cur_sum, 0, sizeof(h->cur_sum));
	memset(h->cur_max, 0, sizeof(h->cur_max));
	if (last == NULL || last->t_ms != m)
		return;
	h->cur_n = last->n;
	for (int i = 0; i < HISTORY_NSERIES; i++) {
		h->cur_sum[i] = (double)last->mean[i] * last->n;
		h->cur_max[i] = last->max[i];
	}
	ring_pop(&h->minutes);
}

/*
 * The wall clock went back to t_ms (an NTP step, a Pi without a clock, a
 * VM snapshot, or a start before what the last run stored): what is
 * dated at or after it is dropped, so that both rings stay in time order
 * and history goes on from now.  The minute in progress goes too.
 */
static void
rewind_to(struct history *h, int64_t t_ms)
{
	int64_t m = t_ms - t_ms % HISTORY_MINUTE_MS;
	const struct history_point *last;

	while ((last = ring_last(&h->samples)) != NULL && last->t_ms >= t_ms)
		ring_pop(&h->samples);
	while ((last = ring_last(&h->minutes)) != NULL && last->t_ms > m)
		ring_pop(&h->minutes);
	if (h->cur_n > 0 && h->cur_t_ms >= m)
		h->cur_n = 0;
	h->last_t_ms = 0;
}

int
history_add(struct history *h, int64_t t_ms, const double *values)
{
	struct history_point p = { 0 };
	const struct history_point *last;
	int64_t m;
	int closed = 0;

	if (t_ms <= 0)
		return -1;
	/* A step back of a few seconds waits for the clock; a longer one
	 * (or one below what was restored) starts over from now. */
	if (t_ms <= h->last_t_ms && h->last_t_ms - t_ms < HISTORY_REWIND_MS)
		return -1;
	m = t_ms - t_ms % HISTORY_MINUTE_MS;
	if (t_ms <= h->last_t_ms || ((last = ring_last(&h->minutes)) != NULL &&
	    last->t_ms > m))
		rewind_to(h, t_ms);
	if (h->cur_n > 0 && m != h->cur_t_ms) {
		/* a step back of less than HISTORY_REWIND_MS past a minute's
		 * start was refused above: m is after cur_t_ms here */
		current_point(h, &p);
		ring_push(&h->minutes, &p);
		h->cur_n = 0;
		closed = 1;
	}
	if (h->cur_n == 0)
		open_minute(h, m);
	p.t_ms = t_ms;
	p.n = 1;
	for (int i = 0; i < HISTORY_NSERIES; i++) {
		double v = clean(values[i]);

		p.mean[i] = p.max[i] = (float)v;
		h->cur_sum[i] += v;
		if (v > h->cur_max[i])
			h->cur_max[i] = v;
	}
	h->cur_n++;
	if (h->samples.count == h->samples.cap)
		h->older = 1;
	ring_push(&h->samples, &p);
	h->last_t_ms = t_ms;
	return closed;
}

const struct history_point *
history_last_minute(const struct history *h)
{
	return ring_last(&h->minutes);
}

int
history_current(const struct history *h, struct history_point *out)
{
	if (h->cur_n == 0)
		return 0;
	current_point(h, out);
	return 1;
}

int
history_restore(struct history *h, const struct history_point *p)
{
	const struct history_point *last = ring_last(&h->minutes);

	if (h->last_t_ms != 0 || p->n == 0 || p->t_ms <= 0 ||
	    p->t_ms % HISTORY_MINUTE_MS != 0 ||
	    (last != NULL && p->t_ms <= last->t_ms))
		return -1;
	ring_push(&h->minutes, p);
	h->older = 1;
	return 0;
}

json_t *
history_point_json(const struct history_point *p)
{
	json_t *mean = json_array(), *max = json_array();

	for (int i = 0; i < HISTORY_NSERIES; i++) {
		json_array_append_new(mean, json_real(p->mean[i]));
		json_array_append_new(max, json_real(p->max[i]));
	}
	return json_pack("{s:I, s:I, s:o, s:o}", "t_ms", (json_int_t)p->t_ms,
	    "n", (json_int_t)p->n, "mean", mean, "max", max);
}

/* arr: an array of HISTORY_NSERIES finite numbers >= 0 into out. */
static int
values_from_json(const json_t *arr, float *out)
{
	if (json_array_size(arr) != HISTORY_NSERIES)
		return -1;
	for (size_t i = 0; i < HISTORY_NSERIES; i++) {
		const json_t *v = json_array_get(arr, i);
		double d = json_number_value(v);

		if (!json_is_number(v) || !isfinite(d) || d < 0 || d > 3.0e38)
			return -1;
		out[i] = (float)d;
	}
	return 0;
}

int
history_point_from_json(const json_t *j, struct history_point *out)
{
	const json_t *t = json_object_get(j, "t_ms"), *n = json_object_get(j, "n");

	memset(out, 0, sizeof(*out));
	if (!json_is_integer(t) || !json_is_integer(n) ||
	    json_integer_value(n) < 1 || json_integer_value(n) > HISTORY_MINUTE_MS ||
	    json_integer_value(t) < 0)
		return -1;
	out->t_ms = json_integer_value(t);
	out->n = (uint32_t)json_integer_value(n);
	if (values_from_json(json_object_get(j, "mean"), out->mean) != 0 ||
	    values_from_json(json_object_get(j, "max"), out->max) != 0)
		return -1;
	return 0;
}

/* The points of one ring (and the minute in progress) to walk. */
struct view {
	const struct ring		*r;
	const struct history_point	*extra;	/* after the ring, or NULL */
	size_t				 count;
};

static const struct history_point *
view_at(const struct view *v, size_t i)
{
	return i < v->r->count ? ring_at(v->r, i) : v->extra;
}

/* The first index in v with t_ms >= t (binary search: time order). */
static size_t
view_lower(const struct view *v, int64_t t)
{
	size_t lo = 0, hi = v->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (view_at(v, mid)->t_ms < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Points [a, b) of v merged into one onto the answer's arrays. */
static void
append_merged(const struct view *v, size_t a, size_t b, json_t *ts,
    json_t **mean, json_t **max)
{
	double sum[HISTORY_NSERIES] = { 0 }, mx[HISTORY_NSERIES] = { 0 };
	double n = 0;

	for (size_t i = a; i < b; i++) {
		const struct history_point *p = view_at(v, i);

		n += p->n;
		for (int s = 0; s < HISTORY_NSERIES; s++) {
			sum[s] += (double)p->mean[s] * p->n;
			if (p->max[s] > mx[s])
				mx[s] = p->max[s];
		}
	}
	json_array_append_new(ts, json_integer(view_at(v, a)->t_ms));
	for (int s = 0; s < HISTORY_NSERIES; s++) {
		/* Three decimals: a chart needs no more, and the answer
		 * stays small (it may cross the mesh). */
		json_array_append_new(mean[s], json_real(
		    round(sum[s] / n * 1000) / 1000));
		json_array_append_new(max[s], json_real(round(mx[s] * 1000) / 1000));
	}
}

static json_t *
query(const struct history *h, int64_t from_ms, int64_t to_ms, size_t points)
{
	struct history_point cur;
	struct view v = { &h->samples, NULL, h->samples.count };
	const struct history_point *oldest = ring_at(&h->samples, 0);
	json_t *ts = json_array(), *series = json_object(), *maxes = json_object();
	json_t *mean[HISTORY_NSERIES], *max[HISTORY_NSERIES];
	const char *res = "sample";
	size_t a, b, c, n;

	CHECK(points >= 1 && points <= HISTORY_POINTS_MAX);
	/* The minutes when the range starts before the samples and they
	 * hold something older, or when there are no samples yet. */
	if ((h->samples.count > 0 && oldest->t_ms > from_ms && h->older) ||
	    h->samples.count == 0) {
		v.r = &h->minutes;
		v.count = h->minutes.count;
		if (history_current(h, &cur)) {
			v.extra = &cur;
			v.count++;
		}
		res = "minute";
	}
	for (int s = 0; s < HISTORY_NSERIES; s++) {
		mean[s] = json_array();
		max[s] = json_array();
		json_object_set_new(series, series_names[s], mean[s]);
		json_object_set_new(maxes, series_names[s], max[s]);
	}
	a = view_lower(&v, from_ms);
	b = to_ms == INT64_MAX ? v.count : view_lower(&v, to_ms + 1);
	/* Group g of n is [a + g * c / n, a + (g + 1) * c / n): sizes differ
	 * by one at most, and all of the points budget is used. */
	c = b > a ? b - a : 0;
	n = c < points ? c : points;
	for (size_t g = 0; g < n; g++)
		append_merged(&v, a + g * c / n, a + (g + 1) * c / n, ts, mean,
		    max);
	return json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}", "resolution", res,
	    "from_ms", (json_int_t)from_ms, "to_ms", (json_int_t)to_ms,
	    "t_ms", ts, "series", series, "max", maxes);
}

json_t *
history_query(const struct history *h, int64_t from_ms, int64_t to_ms,
    size_t points, size_t max_bytes)
{
	json_t *q = query(h, from_ms, to_ms, points);
	size_t got = json_array_size(json_object_get(q, "t_ms"));
	int cut = 0;

	/* Fewer points until it fits: each try halves the points, from as
	 * many as the answer has. */
	while (max_bytes > 0 && got > 1 &&
	    json_dumpb(q, NULL, 0, JSON_COMPACT) > max_bytes) {
		json_decref(q);
		q = query(h, from_ms, to_ms, got / 2);
		got = json_array_size(json_object_get(q, "t_ms"));
		cut = 1;
	}
	json_object_set_new(q, "truncated", json_boolean(cut));
	return q;
}
