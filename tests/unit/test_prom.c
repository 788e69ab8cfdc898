/* Unit tests of common/prom.c: the Prometheus text both daemons serve. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "prom.h"

/* out's text, NUL-terminated (caller frees). */
static char *
text_of(struct evbuffer *out)
{
	size_t n = evbuffer_get_length(out);
	char *s = malloc(n + 1);

	assert_non_null(s);
	evbuffer_remove(out, s, n);
	s[n] = '\0';
	return s;
}

static void
test_families(void **state)
{
	struct evbuffer *out = evbuffer_new();
	struct prom p;
	char *s;

	(void)state;
	prom_init(&p, out);
	prom_metric(&p, "x_total", "counter", "Things.", 7);
	prom_family(&p, "y_bytes", "gauge", "Bytes by way.");
	prom_sample(&p, "dir=\"in\"", 0);
	prom_sample(&p, "dir=\"out\"", INT64_MAX);
	prom_family(&p, "up_seconds", "gauge", "Seconds.");
	prom_sample_fixed3(&p, NULL, 1.5);
	prom_sample_fixed3(&p, "k=\"v\"", 0.0004);
	s = text_of(out);
	assert_string_equal(s,
	    "# HELP x_total Things.\n# TYPE x_total counter\nx_total 7\n"
	    "# HELP y_bytes Bytes by way.\n# TYPE y_bytes gauge\n"
	    "y_bytes{dir=\"in\"} 0\ny_bytes{dir=\"out\"} 9223372036854775807\n"
	    "# HELP up_seconds Seconds.\n# TYPE up_seconds gauge\n"
	    "up_seconds 1.500\nup_seconds{k=\"v\"} 0.000\n");
	free(s);
	evbuffer_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
