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
/* Opens the family name (type "counter" or "gauge"); name and help are
 * borrowed until the next prom_family. */
void prom_family(struct prom *, const char *name, const char *type,
    const char *help);
/* One sample of the open family: name{labels} v; labels is the text
 * between the braces (`dir="in"`), NULL for none. */
void prom_sample(struct prom *, const char *labels, int64_t v);
/* The same with a fractional value, three decimals. */
void prom_sample_fixed3(struct prom *, const char *labels, double v);
/* A family of one unlabelled sample. */
void prom_metric(struct prom *, const char *name, const char *type,
    const char *help, int64_t v);

/* Answers req 200 with body as Prometheus text (body stays the caller's). */
void prom_reply(struct evhttp_request *req, struct evbuffer *body);

#endif
