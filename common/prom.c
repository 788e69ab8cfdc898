/* Prometheus text exposition (see prom.h). */
#include "prom.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#include "http_json.h"

void
prom_init(struct prom *p, struct evbuffer *out)
{
	p->out = out;
	p->family = NULL;
}

void
prom_family(struct prom *p, const char *name, const char *type,
    const char *help)
{
	p->family = name;
	evbuffer_add_printf(p->out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* One sample line of the open family, its value already text. */
static void
sample(struct prom *p, const char *labels, const char *value)
{
	if (labels != NULL)
		evbuffer_add_printf(p->out, "%s{%s} %s\n", p->family, labels,
		    value);
	else
		evbuffer_add_printf(p->out, "%s %s\n", p->family, value);
}

void
prom_sample(struct prom *p, const char *labels, int64_t v)
{
	char value[32];

	snprintf(value, sizeof(value), "%" PRId64, v);
	sample(p, labels, value);
}

void
prom_sample_fixed3(struct prom *p, const char *labels, double v)
{
	char value[64];

	snprintf(value, sizeof(value), "%.3f", v);
	sample(p, labels, value);
}

void
prom_sample_double(struct prom *p, const char *labels, double v)
{
	char value[64];

	snprintf(value, sizeof(value), "%.9g", v);
	sample(p, labels, value);
}

void
prom_metric(struct prom *p, const char *name, const char *type,
    const char *help, int64_t v)
{
	prom_family(p, name, type, help);
	prom_sample(p, NULL, v);
}

void
prom_build_info(struct prom *p, const char *version)
{
	char label[96];

	/* Versions are [0-9A-Za-z.+~-] (CMake's PROJECT_VERSION): nothing a
	 * label value must escape. */
	snprintf(label, sizeof(label), "version=\"%s\"", version);
	prom_family(p, "agentflow_build_info", "gauge",
	    "Always 1; the version of the build that answers.");
	prom_sample(p, label, 1);
}

const double prom_hist_seconds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
const size_t prom_hist_seconds_n =
    sizeof(prom_hist_seconds) / sizeof(prom_hist_seconds[0]);

void
prom_hist_init(struct prom_hist *h, const double *le, size_t n)
{
	CHECK(n <= PROM_HIST_MAX);
	for (size_t i = 1; i < n; i++)
		CHECK(le[i - 1] < le[i]);
	memset(h, 0, sizeof(*h));
	h->le = le;
	h->n = n;
}

void
prom_hist_observe(struct prom_hist *h, double v)
{
	size_t i;

	for (i = 0; i < h->n && v > h->le[i]; i++)
		;
	if (i < h->n)
		h->in[i]++;
	h->count++;
	h->sum += v;
}

void
prom_histogram(struct prom *p, const char *name, const char *help,
    const struct prom_hist *h)
{
	struct prom_hist empty;
	uint64_t cum = 0;

	if (h == NULL) {
		prom_hist_init(&empty, prom_hist_seconds, prom_hist_seconds_n);
		h = &empty;
	}
	evbuffer_add_printf(p->out, "# HELP %s %s\n# TYPE %s histogram\n", name,
	    help, name);
	for (size_t i = 0; i < h->n; i++) {
		cum += h->in[i];
		evbuffer_add_printf(p->out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n",
		    name, h->le[i], cum);
	}
	evbuffer_add_printf(p->out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	    "%s_sum %.9g\n%s_count %" PRIu64 "\n", name, h->count, name, h->sum,
	    name, h->count);
	p->family = NULL;
}

void
prom_reply(struct evhttp_request *req, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	http_reply(req, 200, body);
}
