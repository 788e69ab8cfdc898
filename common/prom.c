/* Prometheus text exposition (see prom.h). */
#include "prom.h"

#include <inttypes.h>

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

void
prom_sample(struct prom *p, const char *labels, int64_t v)
{
	if (labels != NULL)
		evbuffer_add_printf(p->out, "%s{%s} %" PRId64 "\n", p->family,
		    labels, v);
	else
		evbuffer_add_printf(p->out, "%s %" PRId64 "\n", p->family, v);
}

void
prom_sample_fixed3(struct prom *p, const char *labels, double v)
{
	if (labels != NULL)
		evbuffer_add_printf(p->out, "%s{%s} %.3f\n", p->family, labels, v);
	else
		evbuffer_add_printf(p->out, "%s %.3f\n", p->family, v);
}

void
prom_metric(struct prom *p, const char *name, const char *type,
    const char *help, int64_t v)
{
	prom_family(p, name, type, help);
	prom_sample(p, NULL, v);
}

void
prom_reply(struct evhttp_request *req, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	http_reply(req, 200, body);
}
