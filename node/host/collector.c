/*
 * The host collector: what the node reports about its machine in every
 * NodeStatus (collector.h).
 *
 * Invariants kept here:
 *  - The parsers read only text[0..len) through a bounded cursor; no
 *    parser relies on a NUL terminator, and numbers are scanned by hand
 *    (strtoull/strtod would run past len).  A number that overflows 64
 *    bits makes the input invalid rather than wrapping.
 *  - Every double the collector writes is finite and >= 0: load averages
 *    are parsed with a bounded number of digits, rates are only computed
 *    from a counter that moved forward over a positive interval, and
 *    cpu_percent is clamped to [0, 100].
 *  - The previous CPU and network counters are replaced at every sample
 *    that read them, so a counter reset (reboot, interface removed) costs
 *    one interval of rate 0, never a negative or absurd rate.
 *  - A source that fails is logged when it starts failing and when it
 *    recovers, not at every sample: the collector runs every second.
 */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

/* /proc/stat on a large host carries a long "intr" line; the cpu lines we
 * need come first, so a file cut at this size still parses. */
#define READ_MAX	(4u * 1024 * 1024)
#define READ_FIRST	(16u * 1024)

/* More integer digits than this in a load average is garbage; the bound
 * keeps the value finite whatever the input. */
#define DECIMAL_MAX_INT_DIGITS	15
#define DECIMAL_MAX_FRAC_DIGITS	9

/* ---- bounded scanning ---------------------------------------------- */

struct cursor {
	const char *p;
	const char *end;
};

/* text may be NULL when len is 0 (NULL + 0 is undefined in C). */
static struct cursor
cursor_of(const char *text, size_t len)
{
	struct cursor cur = { text, text != NULL ? text + len : text };

	return cur;
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static void
skip_blanks(struct cursor *cur)
{
	while (cur->p < cur->end && is_blank(*cur->p))
		cur->p++;
}

static bool
at_eol(const struct cursor *cur)
{
	return cur->p == cur->end || *cur->p == '\n';
}

/* A token ends at a blank, a newline or the end of the input. */
static bool
at_boundary(const struct cursor *cur)
{
	return at_eol(cur) || is_blank(*cur->p);
}

/* Moves past the next newline, or to the end. */
static void
next_line(struct cursor *cur)
{
	const char *nl = memchr(cur->p, '\n', (size_t)(cur->end - cur->p));

	cur->p = nl != NULL ? nl + 1 : cur->end;
}

static bool
starts_with(const struct cursor *cur, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(cur->end - cur->p) >= n && memcmp(cur->p, word, n) == 0;
}

/* Digits only, no blanks skipped and no boundary checked. */
static int
scan_digits(struct cursor *cur, uint64_t *out)
{
	uint64_t v = 0;

	if (cur->p == cur->end || !is_digit(*cur->p))
		return -1;
	while (cur->p < cur->end && is_digit(*cur->p)) {
		unsigned d = (unsigned)(*cur->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		cur->p++;
	}
	*out = v;
	return 0;
}

/* Skips blanks, then one unsigned decimal token. */
static int
scan_u64(struct cursor *cur, uint64_t *out)
{
	skip_blanks(cur);
	if (scan_digits(cur, out) == -1 || !at_boundary(cur))
		return -1;
	return 0;
}

/*
 * Skips blanks, then one token "digits[.digits]" as a finite double.  The
 * fraction is gathered as an integer and divided once, so that "0.75" is
 * exactly 0.75 rather than the sum of rounded tenths and hundredths.
 */
static int
scan_decimal(struct cursor *cur, double *out)
{
	uint64_t ip = 0, frac = 0, scale = 1;
	int n = 0;

	skip_blanks(cur);
	if (cur->p == cur->end || !is_digit(*cur->p))
		return -1;
	while (cur->p < cur->end && is_digit(*cur->p)) {
		if (++n > DECIMAL_MAX_INT_DIGITS)
			return -1;
		ip = ip * 10 + (uint64_t)(*cur->p - '0');
		cur->p++;
	}
	if (cur->p < cur->end && *cur->p == '.') {
		cur->p++;
		for (n = 0; cur->p < cur->end && is_digit(*cur->p); n++) {
			/* Digits past the ninth cannot matter here. */
			if (n < DECIMAL_MAX_FRAC_DIGITS) {
				frac = frac * 10 + (uint64_t)(*cur->p - '0');
				scale *= 10;
			}
			cur->p++;
		}
	}
	if (!at_boundary(cur))
		return -1;
	*out = (double)ip + (double)frac / (double)scale;
	return 0;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* ---- parsers ------------------------------------------------------- */

/*
 * The aggregate line is "cpu  user nice system idle iowait irq softirq
 * steal guest guest_nice".  guest and guest_nice are already counted in
 * user and nice, so they are left out.  Kernels before 2.6 stop after idle:
 * four fields are required, missing later ones count as 0.
 */
enum { STAT_USER, STAT_NICE, STAT_SYSTEM, STAT_IDLE, STAT_IOWAIT, STAT_IRQ,
       STAT_SOFTIRQ, STAT_STEAL, STAT_FIELDS };
#define STAT_MIN_FIELDS	4

static int
parse_cpu_fields(struct cursor *cur, struct collector_cpu *out)
{
	uint64_t f[STAT_FIELDS] = { 0 };
	int n;

	for (n = 0; n < STAT_FIELDS; n++) {
		skip_blanks(cur);
		if (at_eol(cur))
			break;
		if (scan_u64(cur, &f[n]) == -1)
			return -1;
	}
	if (n < STAT_MIN_FIELDS)
		return -1;
	out->busy = add_sat(add_sat(add_sat(f[STAT_USER], f[STAT_NICE]),
	    add_sat(f[STAT_SYSTEM], f[STAT_IRQ])),
	    add_sat(f[STAT_SOFTIRQ], f[STAT_STEAL]));
	out->total = add_sat(out->busy, add_sat(f[STAT_IDLE], f[STAT_IOWAIT]));
	return 0;
}

int
collector_parse_stat(const char *text, size_t len, struct collector_cpu *out)
{
	struct cursor cur = cursor_of(text, len);
	bool have_aggregate = false;

	out->busy = out->total = 0;
	out->ncpu = 0;
	while (cur.p < cur.end) {
		if (starts_with(&cur, "cpu")) {
			cur.p += 3;
			if (!have_aggregate && cur.p < cur.end && is_blank(*cur.p)) {
				if (parse_cpu_fields(&cur, out) == -1)
					return -1;
				have_aggregate = true;
			} else if (cur.p < cur.end && is_digit(*cur.p) &&
			    out->ncpu < UINT32_MAX) {
				out->ncpu++;
			}
		}
		next_line(&cur);
	}
	return have_aggregate ? 0 : -1;
}

enum { MEM_TOTAL, MEM_AVAILABLE, MEM_FREE, MEM_BUFFERS, MEM_CACHED, MEM_KEYS };

static const char *const meminfo_keys[MEM_KEYS] = {
	[MEM_TOTAL] = "MemTotal:",
	[MEM_AVAILABLE] = "MemAvailable:",
	[MEM_FREE] = "MemFree:",
	[MEM_BUFFERS] = "Buffers:",
	[MEM_CACHED] = "Cached:",
};

/* "Key:   value kB"; values without a unit are bytes. */
static int
parse_meminfo_value(struct cursor *cur, uint64_t *out)
{
	uint64_t v;

	if (scan_u64(cur, &v) == -1)
		return -1;
	skip_blanks(cur);
	if (starts_with(cur, "kB")) {
		cur->p += 2;
		if (!at_boundary(cur) || v > UINT64_MAX / 1024)
			return -1;
		v *= 1024;
	}
	*out = v;
	return 0;
}

int
collector_parse_meminfo(const char *text, size_t len, struct collector_mem *out)
{
	struct cursor cur = cursor_of(text, len);
	uint64_t val[MEM_KEYS] = { 0 };
	bool seen[MEM_KEYS] = { false };

	while (cur.p < cur.end) {
		for (int k = 0; k < MEM_KEYS; k++) {
			if (seen[k] || !starts_with(&cur, meminfo_keys[k]))
				continue;
			cur.p += strlen(meminfo_keys[k]);
			if (parse_meminfo_value(&cur, &val[k]) == -1)
				return -1;
			seen[k] = true;
			break;
		}
		next_line(&cur);
	}
	if (!seen[MEM_TOTAL])
		return -1;
	out->total_bytes = val[MEM_TOTAL];
	if (seen[MEM_AVAILABLE])
		out->available_bytes = val[MEM_AVAILABLE];
	else if (seen[MEM_FREE])
		out->available_bytes = add_sat(val[MEM_FREE],
		    add_sat(val[MEM_BUFFERS], val[MEM_CACHED]));
	else
		return -1;
	return 0;
}

int
collector_parse_loadavg(const char *text, size_t len, struct collector_load *out)
{
	struct cursor cur = cursor_of(text, len);

	if (scan_decimal(&cur, &out->load1) == -1 ||
	    scan_decimal(&cur, &out->load5) == -1 ||
	    scan_decimal(&cur, &out->load15) == -1)
		return -1;
	return 0;
}

/*
 * "  eth0: rx_bytes rx_packets errs drop fifo frame compressed multicast
 * tx_bytes ...".  The two header lines have no colon.  Interface names
 * cannot contain a colon, so the first one ends the name; with wide
 * counters old kernels print no blank after it.
 */
#define NET_RX_BYTES	0
#define NET_TX_BYTES	8

static int
parse_net_line(struct cursor *cur, const char *colon, bool *is_lo,
    struct collector_net *out)
{
	const char *name;
	uint64_t f[NET_TX_BYTES + 1];

	skip_blanks(cur);
	name = cur->p;
	*is_lo = colon - name == 2 && memcmp(name, "lo", 2) == 0;
	cur->p = colon + 1;
	for (int i = 0; i <= NET_TX_BYTES; i++) {
		if (scan_u64(cur, &f[i]) == -1)
			return -1;
	}
	out->rx_bytes = f[NET_RX_BYTES];
	out->tx_bytes = f[NET_TX_BYTES];
	return 0;
}

int
collector_parse_net_dev(const char *text, size_t len, struct collector_net *out)
{
	struct cursor cur = cursor_of(text, len);
	int interfaces = 0;

	out->rx_bytes = out->tx_bytes = 0;
	while (cur.p < cur.end) {
		const char *eol = memchr(cur.p, '\n', (size_t)(cur.end - cur.p));
		const char *line_end = eol != NULL ? eol : cur.end;
		const char *colon = memchr(cur.p, ':', (size_t)(line_end - cur.p));
		struct cursor line = { cur.p, line_end };
		struct collector_net one;
		bool is_lo;

		if (colon != NULL && parse_net_line(&line, colon, &is_lo, &one) == 0) {
			interfaces++;
			if (!is_lo) {
				out->rx_bytes = add_sat(out->rx_bytes, one.rx_bytes);
				out->tx_bytes = add_sat(out->tx_bytes, one.tx_bytes);
			}
		}
		cur.p = eol != NULL ? eol + 1 : cur.end;
	}
	return interfaces > 0 ? 0 : -1;
}

int
collector_parse_uptime(const char *text, size_t len, uint64_t *uptime_s)
{
	struct cursor cur = cursor_of(text, len);
	uint64_t v;

	skip_blanks(&cur);
	if (scan_digits(&cur, &v) == -1)
		return -1;
	if (cur.p < cur.end && *cur.p == '.') {
		cur.p++;
		while (cur.p < cur.end && is_digit(*cur.p))
			cur.p++;
	}
	if (!at_boundary(&cur))
		return -1;
	*uptime_s = v;
	return 0;
}

/* ---- the collector ------------------------------------------------- */

struct collector {
	char *proc_root;
	char *disk_path;
	char *buf;			/* read buffer, reused across samples */
	size_t cap;
	bool have_cpu;			/* prev_cpu holds the previous sample */
	struct collector_cpu prev_cpu;
	bool have_net;			/* prev_net, prev_net_ms likewise */
	struct collector_net prev_net;
	uint64_t prev_net_ms;
	bool failing[8];		/* per source, indexed like sources[] */
};

typedef int (*apply_fn)(struct collector *, const char *, size_t, uint64_t,
    Agentflow__Mesh__V1__NodeStatus *);

static double
clamp_percent(double v)
{
	if (!(v >= 0))			/* also catches NaN */
		return 0;
	return v > 100 ? 100 : v;
}

/* Bytes per second from prev to cur over dt_ms; 0 if either went back. */
static double
rate_per_s(uint64_t prev, uint64_t cur, uint64_t dt_ms)
{
	if (dt_ms == 0 || cur < prev)
		return 0;
	return (double)(cur - prev) * 1000.0 / (double)dt_ms;
}

static int
apply_stat(struct collector *c, const char *text, size_t len, uint64_t now_ms,
    Agentflow__Mesh__V1__NodeStatus *st)
{
	struct collector_cpu cpu;
	double pct = 0;

	(void)now_ms;
	if (collector_parse_stat(text, len, &cpu) == -1)
		return -1;
	/* A total that did not advance, or a busy count that went back,
	 * means the counters were reset: no meaningful share this time. */
	if (c->have_cpu && cpu.total > c->prev_cpu.total &&
	    cpu.busy >= c->prev_cpu.busy)
		pct = 100.0 * (double)(cpu.busy - c->prev_cpu.busy) /
		    (double)(cpu.total - c->prev_cpu.total);
	st->cpu_percent = clamp_percent(pct);
	if (cpu.ncpu > 0) {
		st->cpu_count = cpu.ncpu;
	} else {
		/* A stat without per-CPU lines (some containers). */
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		st->cpu_count = n > 0 && n <= (long)UINT32_MAX ? (uint32_t)n : 0;
	}
	c->prev_cpu = cpu;
	c->have_cpu = true;
	return 0;
}

static int
apply_meminfo(struct collector *c, const char *text, size_t len,
    uint64_t now_ms, Agentflow__Mesh__V1__NodeStatus *st)
{
	struct collector_mem mem;

	(void)c;
	(void)now_ms;
	if (collector_parse_meminfo(text, len, &mem) == -1)
		return -1;
	st->mem_total_bytes = mem.total_bytes;
	st->mem_used_bytes = mem.total_bytes > mem.available_bytes ?
	    mem.total_bytes - mem.available_bytes : 0;
	return 0;
}

static int
apply_loadavg(struct collector *c, const char *text, size_t len,
    uint64_t now_ms, Agentflow__Mesh__V1__NodeStatus *st)
{
	struct collector_load load;

	(void)c;
	(void)now_ms;
	if (collector_parse_loadavg(text, len, &load) == -1)
		return -1;
	st->load1 = load.load1;
	st->load5 = load.load5;
	st->load15 = load.load15;
	return 0;
}

static int
apply_net_dev(struct collector *c, const char *text, size_t len,
    uint64_t now_ms, Agentflow__Mesh__V1__NodeStatus *st)
{
	struct collector_net net;
	uint64_t dt_ms;

	if (collector_parse_net_dev(text, len, &net) == -1)
		return -1;
	st->net_rx_bytes = net.rx_bytes;
	st->net_tx_bytes = net.tx_bytes;
	st->net_rx_bytes_per_s = 0;
	st->net_tx_bytes_per_s = 0;
	if (c->have_net) {
		dt_ms = now_ms > c->prev_net_ms ? now_ms - c->prev_net_ms : 0;
		st->net_rx_bytes_per_s = rate_per_s(c->prev_net.rx_bytes,
		    net.rx_bytes, dt_ms);
		st->net_tx_bytes_per_s = rate_per_s(c->prev_net.tx_bytes,
		    net.tx_bytes, dt_ms);
	}
	c->prev_net = net;
	c->prev_net_ms = now_ms;
	c->have_net = true;
	return 0;
}

static int
apply_uptime(struct collector *c, const char *text, size_t len,
    uint64_t now_ms, Agentflow__Mesh__V1__NodeStatus *st)
{
	uint64_t up;

	(void)c;
	(void)now_ms;
	if (collector_parse_uptime(text, len, &up) == -1)
		return -1;
	st->uptime_s = up;
	return 0;
}

/* The /proc sources, each read and applied on its own so that one failing
 * does not hide the others. */
static const struct {
	const char *file;		/* under proc_root */
	apply_fn apply;
} sources[] = {
	{ "stat", apply_stat },
	{ "meminfo", apply_meminfo },
	{ "loadavg", apply_loadavg },
	{ "net/dev", apply_net_dev },
	{ "uptime", apply_uptime },
};
#define NSOURCES	(sizeof(sources) / sizeof(sources[0]))
/* failing[NSOURCES] is the disk (statvfs), which has no file. */
#define DISK_SOURCE	NSOURCES

_Static_assert(NSOURCES + 1 <= sizeof(((struct collector *)0)->failing),
    "collector.failing too small for the sources");

static void
source_failed(struct collector *c, size_t i, const char *name,
    const char *path, const char *why)
{
	if (c->failing[i])
		return;
	c->failing[i] = true;
	log_event(LOG_WARN, "host statistics source unreadable",
	    "{s:s, s:s, s:s}", "source", name, "path", path, "error", why);
}

static void
source_ok(struct collector *c, size_t i, const char *name)
{
	if (!c->failing[i])
		return;
	c->failing[i] = false;
	log_event(LOG_INFO, "host statistics source readable again",
	    "{s:s}", "source", name);
}

/* Reads path whole (up to READ_MAX) into c->buf. */
static int
read_whole(struct collector *c, const char *path, size_t *lenp)
{
	size_t len = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (len == c->cap) {
			if (c->cap >= READ_MAX)
				break;
			c->cap = c->cap == 0 ? READ_FIRST : c->cap * 2;
			c->buf = xrealloc(c->buf, c->cap);
		}
		n = read(fd, c->buf + len, c->cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*lenp = len;
	return 0;
}

static int
sample_disk(struct collector *c, Agentflow__Mesh__V1__NodeStatus *st)
{
	struct statvfs vfs;
	uint64_t frsize, blocks, bfree;

	if (statvfs(c->disk_path, &vfs) == -1) {
		source_failed(c, DISK_SOURCE, "disk", c->disk_path,
		    strerror(errno));
		return -1;
	}
	frsize = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;
	blocks = vfs.f_blocks;
	bfree = vfs.f_bfree;
	/* Used as df(1) counts it: blocks not free, reserved ones included. */
	st->disk_total_bytes = mul_sat(blocks, frsize);
	st->disk_used_bytes = blocks > bfree ? mul_sat(blocks - bfree, frsize) : 0;
	source_ok(c, DISK_SOURCE, "disk");
	return 0;
}

struct collector *
collector_new(const char *proc_root, const char *disk_path)
{
	struct collector *c = xcalloc(1, sizeof(*c));

	c->proc_root = xstrdup(proc_root);
	c->disk_path = xstrdup(disk_path);
	return c;
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	free(c->proc_root);
	free(c->disk_path);
	free(c->buf);
	free(c);
}

int
collector_sample_at(struct collector *c, uint64_t now_ms,
    Agentflow__Mesh__V1__NodeStatus *st)
{
	char path[PATH_MAX];
	size_t len;
	int rc = 0;

	for (size_t i = 0; i < NSOURCES; i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", c->proc_root,
		    sources[i].file);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			source_failed(c, i, sources[i].file, c->proc_root,
			    "path too long");
			rc = -1;
		} else if (read_whole(c, path, &len) == -1) {
			source_failed(c, i, sources[i].file, path,
			    strerror(errno));
			rc = -1;
		} else if (sources[i].apply(c, c->buf, len, now_ms, st) == -1) {
			source_failed(c, i, sources[i].file, path,
			    "unrecognized format");
			rc = -1;
		} else {
			source_ok(c, i, sources[i].file);
		}
	}
	if (sample_disk(c, st) == -1)
		rc = -1;
	return rc;
}

int
collector_sample(struct collector *c, Agentflow__Mesh__V1__NodeStatus *st)
{
	return collector_sample_at(c, clock_mono_ms(), st);
}
