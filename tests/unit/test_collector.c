/*
 * Unit tests of node/host/collector.c: the /proc parsers on real-looking,
 * truncated and garbage input (each fed from an exactly-sized heap copy so
 * that ASan catches any read past len), the collector over a fake proc
 * directory with injected timestamps, and one real sample of this host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"

/* Formats copied from this machine's /proc (Linux 6.x). */
static const char stat_sample[] =
    "cpu  132927 0 76680 426909 883 0 2800 0 0 0\n"
    "cpu0 59268 0 37860 221339 257 0 1387 0 0 0\n"
    "cpu1 73658 0 38819 205569 625 0 1413 0 0 0\n"
    "intr 6774679 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "ctxt 23057509\n"
    "btime 1795392857\n"
    "processes 52320\n"
    "procs_running 2\n"
    "procs_blocked 0\n"
    "softirq 4079983 0 207551 4 2398660 119313 0 3 370198 624716 359538\n";

static const char meminfo_sample[] =
    "MemTotal:       24683620 kB\n"
    "MemFree:        24283144 kB\n"
    "MemAvailable:   24332260 kB\n"
    "Buffers:            1828 kB\n"
    "Cached:           197612 kB\n"
    "SwapCached:            0 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

static const char loadavg_sample[] = "0.34 0.79 0.91 1/80 19825\n";

static const char uptime_sample[] = "3213.87 4269.09\n";

static const char net_dev_sample[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
    "    lo: 72637044201 3111544    0    0    0     0          0         0 72637044201 3111544    0    0    0     0       0          0\n"
    "  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"
    "  eth0: 25082393     986    0    0    0     0          0         0    64100     865    0    0    0     0       0          0\n"
    "  eth1:     1000      10    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n";

/* An exactly-sized copy without a terminator: reading past len is an ASan
 * error.  Empty input is passed as a NULL pointer. */
static char *
exact(const char *s, size_t len)
{
	char *p;

	if (len == 0)
		return NULL;
	p = malloc(len);
	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static int
stat_n(const char *s, size_t len, struct collector_cpu *out)
{
	char *p = exact(s, len);
	int rc = collector_parse_stat(p, len, out);

	free(p);
	return rc;
}

static int
meminfo_n(const char *s, size_t len, struct collector_mem *out)
{
	char *p = exact(s, len);
	int rc = collector_parse_meminfo(p, len, out);

	free(p);
	return rc;
}

static int
loadavg_n(const char *s, size_t len, struct collector_load *out)
{
	char *p = exact(s, len);
	int rc = collector_parse_loadavg(p, len, out);

	free(p);
	return rc;
}

static int
net_dev_n(const char *s, size_t len, struct collector_net *out)
{
	char *p = exact(s, len);
	int rc = collector_parse_net_dev(p, len, out);

	free(p);
	return rc;
}

static int
uptime_n(const char *s, size_t len, uint64_t *out)
{
	char *p = exact(s, len);
	int rc = collector_parse_uptime(p, len, out);

	free(p);
	return rc;
}

#define STAT(s, o)	stat_n((s), strlen(s), (o))
#define MEMINFO(s, o)	meminfo_n((s), strlen(s), (o))
#define LOADAVG(s, o)	loadavg_n((s), strlen(s), (o))
#define NET_DEV(s, o)	net_dev_n((s), strlen(s), (o))
#define UPTIME(s, o)	uptime_n((s), strlen(s), (o))

/* ---- parsers ------------------------------------------------------- */

static void
test_parse_stat(void **state)
{
	struct collector_cpu cpu;

	(void)state;
	assert_int_equal(STAT(stat_sample, &cpu), 0);
	/* busy: user+nice+system+irq+softirq+steal; total adds idle+iowait. */
	assert_int_equal(cpu.busy, 132927 + 0 + 76680 + 0 + 2800 + 0);
	assert_int_equal(cpu.total, cpu.busy + 426909 + 883);
	assert_int_equal(cpu.ncpu, 2);

	/* Kernels before 2.6 stop after idle. */
	assert_int_equal(STAT("cpu 10 20 30 40\ncpu0 10 20 30 40\n", &cpu), 0);
	assert_int_equal(cpu.busy, 60);
	assert_int_equal(cpu.total, 100);
	assert_int_equal(cpu.ncpu, 1);

	/* No terminating newline is fine. */
	assert_int_equal(STAT("cpu 1 2 3 4 5 6 7 8 9 10", &cpu), 0);
	assert_int_equal(cpu.busy, 1 + 2 + 3 + 6 + 7 + 8);
	assert_int_equal(cpu.total, 36);
	assert_int_equal(cpu.ncpu, 0);

	/* Saturating, not wrapping. */
	assert_int_equal(STAT("cpu 18446744073709551615 1 0 0\n", &cpu), 0);
	assert_true(cpu.busy == UINT64_MAX && cpu.total == UINT64_MAX);
}

static void
test_parse_stat_bad(void **state)
{
	struct collector_cpu cpu;

	(void)state;
	assert_int_equal(stat_n(NULL, 0, &cpu), -1);
	assert_int_equal(STAT("", &cpu), -1);
	assert_int_equal(STAT("\n\n\n", &cpu), -1);
	assert_int_equal(STAT("cpu", &cpu), -1);
	assert_int_equal(STAT("cpu ", &cpu), -1);
	assert_int_equal(STAT("cpu  1 2 3\n", &cpu), -1);
	assert_int_equal(STAT("cpu  1 2 3 x\n", &cpu), -1);
	assert_int_equal(STAT("cpu  1 2 3 4x\n", &cpu), -1);
	assert_int_equal(STAT("cpu  -1 2 3 4\n", &cpu), -1);
	assert_int_equal(STAT("cpu 18446744073709551616 0 0 0\n", &cpu), -1);
	assert_int_equal(STAT("cpu 99999999999999999999999999 0 0 0\n", &cpu), -1);
	/* Per-CPU lines alone do not make the aggregate. */
	assert_int_equal(STAT("cpu0 1 2 3 4\ncpu1 1 2 3 4\n", &cpu), -1);
	assert_int_equal(STAT("intr 1 2 3\nctxt 5\n", &cpu), -1);
	assert_int_equal(STAT("\x01\xff garbage \0 cpu", &cpu), -1);
}

static void
test_parse_meminfo(void **state)
{
	struct collector_mem mem;

	(void)state;
	assert_int_equal(MEMINFO(meminfo_sample, &mem), 0);
	assert_true(mem.total_bytes == 24683620ull * 1024);
	assert_true(mem.available_bytes == 24332260ull * 1024);

	/* Without MemAvailable (before 3.14): free + buffers + cached. */
	assert_int_equal(MEMINFO("MemTotal: 1000 kB\nMemFree: 100 kB\n"
	    "Buffers: 20 kB\nCached: 3 kB\nSwapCached: 999 kB\n", &mem), 0);
	assert_true(mem.total_bytes == 1000 * 1024);
	assert_true(mem.available_bytes == 123 * 1024);

	/* Order does not matter; no unit means bytes. */
	assert_int_equal(MEMINFO("MemAvailable: 7\nMemTotal: 9", &mem), 0);
	assert_true(mem.total_bytes == 9 && mem.available_bytes == 7);
}

static void
test_parse_meminfo_bad(void **state)
{
	struct collector_mem mem;

	(void)state;
	assert_int_equal(meminfo_n(NULL, 0, &mem), -1);
	assert_int_equal(MEMINFO("", &mem), -1);
	assert_int_equal(MEMINFO("MemFree: 1 kB\nMemAvailable: 1 kB\n", &mem), -1);
	assert_int_equal(MEMINFO("MemTotal: 100 kB\n", &mem), -1);
	assert_int_equal(MEMINFO("MemTotal:\nMemAvailable: 1 kB\n", &mem), -1);
	assert_int_equal(MEMINFO("MemTotal: abc kB\nMemAvailable: 1\n", &mem), -1);
	assert_int_equal(MEMINFO("MemTotal: 12kB\nMemAvailable: 1\n", &mem), -1);
	/* kB of a value past UINT64_MAX / 1024 would wrap. */
	assert_int_equal(MEMINFO("MemTotal: 18014398509481984 kB\n"
	    "MemAvailable: 1 kB\n", &mem), -1);
	assert_int_equal(MEMINFO("MemTotal: 99999999999999999999999 kB\n"
	    "MemAvailable: 1 kB\n", &mem), -1);
	assert_int_equal(MEMINFO("MemTotal 100 kB\nMemAvailable 1 kB\n", &mem), -1);
}

static void
test_parse_loadavg(void **state)
{
	struct collector_load load;

	(void)state;
	assert_int_equal(LOADAVG(loadavg_sample, &load), 0);
	assert_true(fabs(load.load1 - 0.34) < 1e-9);
	assert_true(fabs(load.load5 - 0.79) < 1e-9);
	assert_true(fabs(load.load15 - 0.91) < 1e-9);

	assert_int_equal(LOADAVG("12 3.5 100.25", &load), 0);
	assert_true(load.load1 == 12 && load.load5 == 3.5 && load.load15 == 100.25);

	/* Fraction digits past the ninth are ignored, not an overflow. */
	assert_int_equal(LOADAVG("1.00000000000000000000000000000000000001 2. 3",
	    &load), 0);
	assert_true(fabs(load.load1 - 1) < 1e-9 && load.load5 == 2 &&
	    load.load15 == 3);
}

static void
test_parse_loadavg_bad(void **state)
{
	struct collector_load load;

	(void)state;
	assert_int_equal(loadavg_n(NULL, 0, &load), -1);
	assert_int_equal(LOADAVG("", &load), -1);
	assert_int_equal(LOADAVG("0.34 0.79", &load), -1);
	assert_int_equal(LOADAVG("0.34 0.79\n0.91", &load), -1);
	assert_int_equal(LOADAVG("0.34 -0.79 0.91", &load), -1);
	assert_int_equal(LOADAVG("0.34 nan 0.91", &load), -1);
	assert_int_equal(LOADAVG("inf inf inf", &load), -1);
	assert_int_equal(LOADAVG("1e3 1 1", &load), -1);
	assert_int_equal(LOADAVG(".5 1 1", &load), -1);
	assert_int_equal(LOADAVG("0.34,0.79,0.91", &load), -1);
	assert_int_equal(LOADAVG("9999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    " 1 1", &load), -1);
}

static void
test_parse_net_dev(void **state)
{
	struct collector_net net;

	(void)state;
	assert_int_equal(NET_DEV(net_dev_sample, &net), 0);
	/* lo excluded; eth0 + ifb0 + eth1. */
	assert_true(net.rx_bytes == 25082393 + 1000);
	assert_true(net.tx_bytes == 64100 + 500);

	/* Only loopback: a valid file with nothing to count. */
	assert_int_equal(NET_DEV("    lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n",
	    &net), 0);
	assert_true(net.rx_bytes == 0 && net.tx_bytes == 0);

	/* Old kernels print no blank after the colon when counters are wide;
	 * "lo0" and "lox" are not loopback. */
	assert_int_equal(NET_DEV("eth0:123456789 1 0 0 0 0 0 0 42 1 0 0 0 0 0 0\n"
	    "lo0: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n"
	    "lox: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0", &net), 0);
	assert_true(net.rx_bytes == 123456791 && net.tx_bytes == 44);

	/* A malformed line is skipped; the others still count. */
	assert_int_equal(NET_DEV("eth0: 1 2 3\n"
	    "eth1: 10 0 0 0 0 0 0 0 20 0 0 0 0 0 0 0\n"
	    "eth2: 10 0 0 0 0 0 0 0 99999999999999999999999 0\n"
	    "eth3: 10 0 0 0 0 0 0 0 x 0\n", &net), 0);
	assert_true(net.rx_bytes == 10 && net.tx_bytes == 20);

	/* Sums saturate. */
	assert_int_equal(NET_DEV("a: 18446744073709551615 0 0 0 0 0 0 0 1\n"
	    "b: 1 0 0 0 0 0 0 0 1\n", &net), 0);
	assert_true(net.rx_bytes == UINT64_MAX && net.tx_bytes == 2);
}

static void
test_parse_net_dev_bad(void **state)
{
	struct collector_net net;
	/* The two header lines alone: no interface. */
	size_t header = (size_t)(strchr(strchr(net_dev_sample, '\n') + 1, '\n') -
	    net_dev_sample) + 1;

	(void)state;
	assert_int_equal(net_dev_n(NULL, 0, &net), -1);
	assert_int_equal(NET_DEV("", &net), -1);
	assert_int_equal(net_dev_n(net_dev_sample, header, &net), -1);
	assert_int_equal(NET_DEV(":::::\n::\n", &net), -1);
	assert_int_equal(NET_DEV("eth0: 1 2 3 4 5 6 7 8", &net), -1);
	assert_int_equal(NET_DEV("garbage\x01\xfe\n\n", &net), -1);
}

static void
test_parse_uptime(void **state)
{
	uint64_t up = 0;

	(void)state;
	assert_int_equal(UPTIME(uptime_sample, &up), 0);
	assert_true(up == 3213);
	assert_int_equal(UPTIME("42", &up), 0);
	assert_true(up == 42);
	assert_int_equal(UPTIME("18446744073709551615.99 0\n", &up), 0);
	assert_true(up == UINT64_MAX);

	assert_int_equal(uptime_n(NULL, 0, &up), -1);
	assert_int_equal(UPTIME("", &up), -1);
	assert_int_equal(UPTIME("\n", &up), -1);
	assert_int_equal(UPTIME("abc 1.0", &up), -1);
	assert_int_equal(UPTIME("12x.5 1", &up), -1);
	assert_int_equal(UPTIME("12.5x 1", &up), -1);
	assert_int_equal(UPTIME("-1.0 1", &up), -1);
	assert_int_equal(UPTIME("18446744073709551616.0 1", &up), -1);
}

/* Every prefix of every sample (a file cut anywhere) parses or fails
 * cleanly, and whatever parses is sane. */
static void
test_parsers_on_every_truncation(void **state)
{
	struct collector_cpu cpu;
	struct collector_mem mem;
	struct collector_load load;
	struct collector_net net;
	uint64_t up;

	(void)state;
	for (size_t n = 0; n <= strlen(stat_sample); n++) {
		if (stat_n(stat_sample, n, &cpu) == 0)
			assert_true(cpu.busy <= cpu.total);
	}
	for (size_t n = 0; n <= strlen(meminfo_sample); n++)
		(void)meminfo_n(meminfo_sample, n, &mem);
	for (size_t n = 0; n <= strlen(loadavg_sample); n++) {
		if (loadavg_n(loadavg_sample, n, &load) == 0)
			assert_true(isfinite(load.load15) && load.load15 >= 0);
	}
	for (size_t n = 0; n <= strlen(net_dev_sample); n++) {
		if (net_dev_n(net_dev_sample, n, &net) == 0)
			assert_true(net.rx_bytes <= 25082393 + 1000);
	}
	for (size_t n = 0; n <= strlen(uptime_sample); n++)
		(void)uptime_n(uptime_sample, n, &up);
	/* The full samples are checked above; a cut inside the cpu line's
	 * first four fields must fail. */
	assert_int_equal(stat_n(stat_sample, 12, &cpu), -1);
}

/* Random bytes drawn from the characters the formats use, at every
 * length: a poor man's fuzzer that runs in every build. */
static void
test_parsers_on_random_input(void **state)
{
	static const char alphabet[] = "0123456789 .:\n\tcpulokBMemTotaAvi-x\xff";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char text[256];
	struct collector_cpu cpu;
	struct collector_mem mem;
	struct collector_load load;
	struct collector_net net;
	uint64_t up;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)round % sizeof(text);

		for (size_t i = 0; i < len; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			text[i] = alphabet[seed % (sizeof(alphabet) - 1)];
		}
		if (stat_n(text, len, &cpu) == 0)
			assert_true(cpu.busy <= cpu.total);
		if (meminfo_n(text, len, &mem) == 0)
			assert_true(mem.total_bytes <= UINT64_MAX);
		if (loadavg_n(text, len, &load) == 0)
			assert_true(isfinite(load.load1) && load.load1 >= 0 &&
			    isfinite(load.load5) && load.load5 >= 0 &&
			    isfinite(load.load15) && load.load15 >= 0);
		(void)net_dev_n(text, len, &net);
		(void)uptime_n(text, len, &up);
	}
}

/* ---- the collector over a fake proc directory ---------------------- */

struct fake {
	char root[PATH_MAX];
	char data[PATH_MAX + 32];
};

static void
fake_write(const struct fake *f, const char *name, const char *text)
{
	char path[PATH_MAX + 32];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
fake_unlink(const struct fake *f, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", f->root, name);
	(void)unlink(path);
}

static void
fake_net_dev(const struct fake *f, unsigned long long rx, unsigned long long tx)
{
	char text[512];

	snprintf(text, sizeof(text),
	    "Inter-|   Receive |  Transmit\n"
	    " face |bytes    packets errs drop fifo frame compressed multicast|bytes\n"
	    "    lo: 999999 1 0 0 0 0 0 0 999999 1 0 0 0 0 0 0\n"
	    "  eth0: %llu 1 0 0 0 0 0 0 %llu 1 0 0 0 0 0 0\n", rx, tx);
	fake_write(f, "net/dev", text);
}

static int
fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX + 32];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "%s/test_collector.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->root));
	snprintf(path, sizeof(path), "%s/net", f->root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(f->data, sizeof(f->data), "%s/data", f->root);
	assert_int_equal(mkdir(f->data, 0700), 0);

	fake_write(f, "stat", "cpu  100 0 100 800 0 0 0 0 0 0\n"
	    "cpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\n"
	    "cpu2 0 0 0 0 0 0 0 0 0 0\nintr 1\n");
	fake_write(f, "meminfo", "MemTotal: 1000 kB\nMemFree: 10 kB\n"
	    "MemAvailable: 250 kB\n");
	fake_write(f, "loadavg", "1.50 0.75 0.25 2/100 1234\n");
	fake_write(f, "uptime", "12345.67 20000.00\n");
	fake_net_dev(f, 1000000, 5000);
	*state = f;
	return 0;
}

static int
fake_teardown(void **state)
{
	struct fake *f = *state;
	char path[PATH_MAX + 32];
	static const char *const files[] = { "stat", "meminfo", "loadavg",
	    "uptime", "net/dev" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fake_unlink(f, files[i]);
	snprintf(path, sizeof(path), "%s/net", f->root);
	(void)rmdir(path);
	(void)rmdir(f->data);
	(void)rmdir(f->root);
	free(f);
	return 0;
}

static void
assert_sane(const Agentflow__Mesh__V1__NodeStatus *st)
{
	const double d[] = { st->cpu_percent, st->load1, st->load5, st->load15,
	    st->net_rx_bytes_per_s, st->net_tx_bytes_per_s };

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		assert_true(isfinite(d[i]) && d[i] >= 0);
	assert_true(st->cpu_percent <= 100);
	assert_true(st->mem_used_bytes <= st->mem_total_bytes);
	assert_true(st->disk_used_bytes <= st->disk_total_bytes);
}

static void
test_fake_two_samples(void **state)
{
	struct fake *f = *state;
	struct collector *c = collector_new(f->root, f->data);
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	/* Fields the collector must not touch. */
	st.process_uptime_s = 77;
	st.frozen = 1;
	st.signal_reachable = 1;

	assert_int_equal(collector_sample_at(c, 10000, &st), 0);
	assert_sane(&st);
	assert_true(st.cpu_percent == 0);		/* first sample */
	assert_int_equal(st.cpu_count, 3);
	assert_true(st.mem_total_bytes == 1000 * 1024);
	assert_true(st.mem_used_bytes == 750 * 1024);
	assert_true(st.load1 == 1.5 && st.load5 == 0.75 && st.load15 == 0.25);
	assert_true(st.net_rx_bytes == 1000000 && st.net_tx_bytes == 5000);
	assert_true(st.net_rx_bytes_per_s == 0 && st.net_tx_bytes_per_s == 0);
	assert_true(st.uptime_s == 12345);
	assert_true(st.disk_total_bytes > 0);

	/* 2 s later: 300 more busy jiffies of 400, 4 MB in, 1 kB out. */
	fake_write(f, "stat", "cpu  250 50 200 900 0 0 0 0 0 0\n"
	    "cpu0 1 1 1 1\ncpu1 1 1 1 1\n");
	fake_net_dev(f, 5000000, 6000);
	assert_int_equal(collector_sample_at(c, 12000, &st), 0);
	assert_sane(&st);
	assert_true(fabs(st.cpu_percent - 75.0) < 1e-9);
	assert_int_equal(st.cpu_count, 2);
	assert_true(st.net_rx_bytes == 5000000 && st.net_tx_bytes == 6000);
	assert_true(fabs(st.net_rx_bytes_per_s - 2000000.0) < 1e-6);
	assert_true(fabs(st.net_tx_bytes_per_s - 500.0) < 1e-6);

	/* Nothing moved in 500 ms: 0 % and 0 B/s. */
	assert_int_equal(collector_sample_at(c, 12500, &st), 0);
	assert_true(st.cpu_percent == 0);
	assert_true(st.net_rx_bytes_per_s == 0 && st.net_tx_bytes_per_s == 0);

	/* Untouched fields kept. */
	assert_true(st.process_uptime_s == 77 && st.frozen && st.signal_reachable);
	assert_true(st.n_links == 0 && st.links == NULL);
	assert_true(st.n_members == 0 && st.members == NULL);
	collector_free(c);
}

static void
test_fake_counters_going_back(void **state)
{
	struct fake *f = *state;
	struct collector *c = collector_new(f->root, f->data);
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	assert_int_equal(collector_sample_at(c, 1000, &st), 0);

	/* Reboot / interface reset: every counter smaller. */
	fake_write(f, "stat", "cpu  1 0 1 8 0 0 0 0 0 0\n");
	fake_net_dev(f, 10, 10);
	assert_int_equal(collector_sample_at(c, 2000, &st), 0);
	assert_sane(&st);
	assert_true(st.cpu_percent == 0);
	assert_true(st.net_rx_bytes_per_s == 0 && st.net_tx_bytes_per_s == 0);
	assert_true(st.net_rx_bytes == 10);

	/* Counting resumes from the new base. */
	fake_write(f, "stat", "cpu  11 0 1 18 0 0 0 0 0 0\n");
	fake_net_dev(f, 110, 10);
	assert_int_equal(collector_sample_at(c, 3000, &st), 0);
	assert_true(fabs(st.cpu_percent - 50.0) < 1e-9);
	assert_true(fabs(st.net_rx_bytes_per_s - 100.0) < 1e-9);

	/* Time standing still or going back: rate 0, never a division by 0. */
	fake_net_dev(f, 1110, 10);
	assert_int_equal(collector_sample_at(c, 3000, &st), 0);
	assert_true(st.net_rx_bytes_per_s == 0);
	fake_net_dev(f, 2110, 10);
	assert_int_equal(collector_sample_at(c, 1, &st), 0);
	assert_true(st.net_rx_bytes_per_s == 0);
	assert_sane(&st);

	/* Busy jiffies beyond the total delta (garbage) clamp to 100. */
	fake_write(f, "stat", "cpu  1000 0 0 0 0 0 0 0 0 0\n");
	assert_int_equal(collector_sample_at(c, 4000, &st), 0);
	assert_true(st.cpu_percent == 100);
	collector_free(c);
}

/* Runs fn with stderr redirected to a temp file; returns how many lines
 * it wrote that contain needle. */
static int
count_stderr_lines(void (*fn)(void *), void *arg, const char *needle)
{
	char path[] = "/tmp/test_collector_log.XXXXXX";
	char line[4096];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), n = 0;
	FILE *fp;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	fp = fdopen(fd, "r");
	assert_non_null(fp);
	rewind(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, needle) != NULL)
			n++;
	}
	fclose(fp);
	unlink(path);
	return n;
}

struct missing_run {
	struct fake *f;
	struct collector *c;
	Agentflow__Mesh__V1__NodeStatus *st;
	int rcs[5];
};

static void
sample_five_times(void *arg)
{
	struct missing_run *r = arg;

	for (int i = 0; i < 5; i++)
		r->rcs[i] = collector_sample_at(r->c, 1000 * (uint64_t)(i + 1), r->st);
}

static void
test_fake_missing_source(void **state)
{
	struct fake *f = *state;
	struct collector *c = collector_new(f->root, f->data);
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	struct missing_run run = { f, c, &st, { 0 } };

	fake_unlink(f, "loadavg");
	fake_write(f, "uptime", "not a number\n");
	st.load1 = 9;
	st.uptime_s = 9;
	/* One warning per failing source, not one per sample. */
	assert_int_equal(count_stderr_lines(sample_five_times, &run,
	    "host statistics source unreadable"), 2);
	for (int i = 0; i < 5; i++)
		assert_int_equal(run.rcs[i], -1);
	/* The readable sources were still filled; the others left alone. */
	assert_true(st.mem_total_bytes == 1000 * 1024);
	assert_int_equal(st.cpu_count, 3);
	assert_true(st.net_rx_bytes == 1000000);
	assert_true(st.disk_total_bytes > 0);
	assert_true(st.load1 == 9 && st.uptime_s == 9);

	/* Recovered: 0 again, and failing again warns again. */
	fake_write(f, "loadavg", "0.5 0.5 0.5 1/1 1\n");
	fake_write(f, "uptime", "5.0 1.0\n");
	assert_int_equal(collector_sample_at(c, 9000, &st), 0);
	assert_true(st.load1 == 0.5 && st.uptime_s == 5);
	fake_unlink(f, "loadavg");
	assert_int_equal(count_stderr_lines(sample_five_times, &run,
	    "\"source\":\"loadavg\""), 1);
	collector_free(c);

	/* A data directory that is gone: the disk source fails alone. */
	c = collector_new(f->root, "/nonexistent/agentflow/data");
	fake_write(f, "loadavg", "0.5 0.5 0.5 1/1 1\n");
	st.disk_total_bytes = 3;
	assert_int_equal(collector_sample_at(c, 1, &st), -1);
	assert_true(st.disk_total_bytes == 3);
	assert_true(st.uptime_s == 5);
	collector_free(c);

	/* No proc at all. */
	c = collector_new("/nonexistent/proc", f->data);
	assert_int_equal(collector_sample(c, &st), -1);
	collector_free(c);
}

/* ---- this host ----------------------------------------------------- */

static void
test_real_proc(void **state)
{
	struct fake *f = *state;
	struct collector *c = collector_new("/proc", f->data);
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	assert_int_equal(collector_sample(c, &st), 0);
	assert_sane(&st);
	assert_true(st.cpu_percent == 0);
	assert_int_equal(st.cpu_count, sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(st.mem_total_bytes > 0);
	assert_true(st.mem_used_bytes > 0);
	assert_true(st.disk_total_bytes > 0);
	assert_true(st.disk_used_bytes > 0);
	assert_true(st.uptime_s > 0);

	usleep(50 * 1000);
	assert_int_equal(collector_sample(c, &st), 0);
	assert_sane(&st);
	collector_free(c);

	collector_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_stat_bad),
		cmocka_unit_test(test_parse_meminfo),
		cmocka_unit_test(test_parse_meminfo_bad),
		cmocka_unit_test(test_parse_loadavg),
		cmocka_unit_test(test_parse_loadavg_bad),
		cmocka_unit_test(test_parse_net_dev),
		cmocka_unit_test(test_parse_net_dev_bad),
		cmocka_unit_test(test_parse_uptime),
		cmocka_unit_test(test_parsers_on_every_truncation),
		cmocka_unit_test(test_parsers_on_random_input),
		cmocka_unit_test_setup_teardown(test_fake_two_samples,
		    fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_counters_going_back,
		    fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_missing_source,
		    fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_real_proc,
		    fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
