/* Unit tests of common/prom.c and common/prom_process.c: the Prometheus
 * text both daemons serve, its histograms, and the /proc/self reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "prom.h"
#include "prom_process.h"

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
	prom_sample(&p, "direction=\"in\"", 0);
	prom_sample(&p, "direction=\"out\"", INT64_MAX);
	prom_family(&p, "up_seconds", "gauge", "Seconds.");
	prom_sample_fixed3(&p, NULL, 1.5);
	prom_sample_fixed3(&p, "k=\"v\"", 0.0004);
	s = text_of(out);
	assert_string_equal(s,
	    "# HELP x_total Things.\n# TYPE x_total counter\nx_total 7\n"
	    "# HELP y_bytes Bytes by way.\n# TYPE y_bytes gauge\n"
	    "y_bytes{direction=\"in\"} 0\ny_bytes{direction=\"out\"} 9223372036854775807\n"
	    "# HELP up_seconds Seconds.\n# TYPE up_seconds gauge\n"
	    "up_seconds 1.500\nup_seconds{k=\"v\"} 0.000\n");
	free(s);
	evbuffer_free(out);
}

static void
test_histogram(void **state)
{
	static const double le[] = { 0.1, 1, 2.5 };
	struct evbuffer *out = evbuffer_new();
	struct prom_hist h;
	struct prom p;
	char *s;

	(void)state;
	prom_hist_init(&h, le, 3);
	prom_hist_observe(&h, 0.05);
	prom_hist_observe(&h, 0.1);	/* on a bound: in that bucket (le) */
	prom_hist_observe(&h, 2);
	prom_hist_observe(&h, 100);	/* past the last: +Inf only */
	prom_init(&p, out);
	prom_histogram(&p, "d_seconds", "Delays.", &h);
	prom_metric(&p, "after", "gauge", "Next family.", 1);
	s = text_of(out);
	assert_string_equal(s,
	    "# HELP d_seconds Delays.\n# TYPE d_seconds histogram\n"
	    "d_seconds_bucket{le=\"0.1\"} 2\n"
	    "d_seconds_bucket{le=\"1\"} 2\n"
	    "d_seconds_bucket{le=\"2.5\"} 3\n"
	    "d_seconds_bucket{le=\"+Inf\"} 4\n"
	    "d_seconds_sum 102.15\nd_seconds_count 4\n"
	    "# HELP after Next family.\n# TYPE after gauge\nafter 1\n");
	free(s);
	evbuffer_free(out);
}

/* NULL: the family is still there, every bucket 0. */
static void
test_histogram_empty(void **state)
{
	struct evbuffer *out = evbuffer_new();
	struct prom p;
	char *s;

	(void)state;
	prom_init(&p, out);
	prom_histogram(&p, "e_seconds", "None yet.", NULL);
	s = text_of(out);
	assert_non_null(strstr(s, "# TYPE e_seconds histogram\n"
	    "e_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(s, "e_seconds_bucket{le=\"60\"} 0\n"
	    "e_seconds_bucket{le=\"+Inf\"} 0\ne_seconds_sum 0\n"
	    "e_seconds_count 0\n"));
	free(s);
	evbuffer_free(out);
}

static void
test_build_info(void **state)
{
	struct evbuffer *out = evbuffer_new();
	struct prom p;
	char *s;

	(void)state;
	prom_init(&p, out);
	prom_build_info(&p, "1.2.3");
	s = text_of(out);
	assert_non_null(strstr(s, "# TYPE agentflow_build_info gauge\n"
	    "agentflow_build_info{version=\"1.2.3\"} 1\n"));
	free(s);
	evbuffer_free(out);
}

/* A stat line whose command name holds ") (" and spaces. */
static void
test_parse_stat(void **state)
{
	static const char stat[] = "4242 (a) (b c) S 1 4242 4242 0 -1 "
	    "4194560 1000 0 0 0 250 50 0 0 20 0 3 0 12345 104857600 2560 "
	    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
	struct prom_process pp = { 0 };

	(void)state;
	assert_int_equal(prom_process_parse_stat(stat, 100, 4096, 1700000000.0,
	    &pp), 0);
	assert_true(pp.cpu_seconds > 2.999 && pp.cpu_seconds < 3.001);
	assert_true(pp.start_time_seconds > 1700000123.449 &&
	    pp.start_time_seconds < 1700000123.451);
	assert_int_equal(pp.virtual_bytes, 104857600);
	assert_int_equal(pp.resident_bytes, 2560 * 4096);
	assert_int_equal(prom_process_parse_stat("no parenthesis", 100, 4096,
	    0, &pp), -1);
	assert_int_equal(prom_process_parse_stat("1 (x) S 1 2", 100, 4096, 0,
	    &pp), -1);
}

/* This process, read from /proc/self: sane, not exact. */
static void
test_read_self(void **state)
{
	struct prom_process pp;
	struct evbuffer *out;
	struct prom p;
	char *s;
	int fd;

	(void)state;
	assert_int_equal(prom_process_read(&pp), 0);
	assert_true(pp.resident_bytes > 0);
	assert_true(pp.virtual_bytes >= pp.resident_bytes);
	assert_true(pp.open_fds >= 3);	/* stdin, stdout, stderr */
	assert_true(pp.max_fds >= pp.open_fds);
	assert_true(pp.cpu_seconds >= 0);
	assert_true(pp.start_time_seconds <= (double)time(NULL) + 1);
	assert_true(pp.start_time_seconds > (double)time(NULL) - 3600);
	/* one more descriptor open is one more counted */
	fd = dup(0);
	assert_true(fd >= 0);
	{
		struct prom_process more;

		assert_int_equal(prom_process_read(&more), 0);
		assert_int_equal(more.open_fds, pp.open_fds + 1);
	}
	close(fd);
	out = evbuffer_new();
	prom_init(&p, out);
	prom_process_render(&p);
	s = text_of(out);
	for (const char *const *f = (const char *const[]){
	    "process_cpu_seconds_total ", "process_start_time_seconds ",
	    "process_resident_memory_bytes ", "process_virtual_memory_bytes ",
	    "process_open_fds ", "process_max_fds ", NULL }; *f != NULL; f++)
		assert_non_null(strstr(s, *f));
	free(s);
	evbuffer_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_histogram_empty),
		cmocka_unit_test(test_build_info),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
