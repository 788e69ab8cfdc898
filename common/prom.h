/*
 * Prometheus text exposition (format 0.0.4) for the signal's and the
 * node's /metrics: one writer, so both speak the same dialect.  A family
 * is "# HELP" and "# TYPE" lines followed by its samples; the samples
 * written after prom_family belong to it.
 */
#ifndef AGENTFLOW_PROM_H
#define AGENTFLOW_PROM_H

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdint.h>

/* A writer into out (borrowed).  Embedded; nothing to clear. */
struct prom {
	struct evbuffer	*out;
	const char	*family;	/* the samples' name; borrowed */
};

void prom_init(struct prom *, struct evbuffer *out);
/* Opens the family name (type "counter", "gauge" or "histogram"); name
 * and help are borrowed until the next prom_family. */
void prom_family(struct prom *, const char *name, const char *type,
    const char *help);
/* One sample of the open family: name{labels} v; labels is the text
 * between the braces (`dir="in"`), NULL for none. */
void prom_sample(struct prom *, const char *labels, int64_t v);
/* The same with a fractional value, three decimals. */
void prom_sample_fixed3(struct prom *, const char *labels, double v);
/* The same with any double, in the shortest form that reads back
 * exactly enough for a scrape (%.9g). */
void prom_sample_double(struct prom *, const char *labels, double v);
/* A family of one unlabelled sample. */
void prom_metric(struct prom *, const char *name, const char *type,
    const char *help, int64_t v);

/* agentflow_build_info{version="…"} 1: which build answers. */
void prom_build_info(struct prom *, const char *version);

/*
 * A histogram of fixed buckets, embedded in the subsystem that observes
 * (no globals): le are the buckets' upper bounds, ascending, at most
 * PROM_HIST_MAX, borrowed for the histogram's life (a static table).  The
 * "+Inf" bucket is the count.  prom_hist_observe costs a short scan;
 * rendering makes the counts cumulative as the format wants.
 */
#define PROM_HIST_MAX	16

struct prom_hist {
	const double	*le;
	size_t		 n;
	uint64_t	 in[PROM_HIST_MAX];	/* observations in bucket i alone */
	uint64_t	 count;
	double		 sum;
};

/* Buckets for seconds from a millisecond to a minute (latencies, delays). */
extern const double prom_hist_seconds[];
extern const size_t prom_hist_seconds_n;

void prom_hist_init(struct prom_hist *, const double *le, size_t n);
void prom_hist_observe(struct prom_hist *, double v);
/* The family name (type histogram): name_bucket{le=…} for each bound and
 * "+Inf", name_sum, name_count.  h NULL: an empty histogram of the
 * seconds buckets (a subsystem not running), so the family is always
 * there for dashboards. */
void prom_histogram(struct prom *, const char *name, const char *help,
    const struct prom_hist *h);

/* Answers req 200 with body as Prometheus text (body stays the caller's). */
void prom_reply(struct evhttp_request *req, struct evbuffer *body);

#endif
