/*
 * The host collector: samples CPU, memory, load, disk, network and uptime
 * from /proc and statvfs(3) and fills the resource fields of a NodeStatus.
 *
 * The collector keeps the previous CPU and network counters so that it can
 * report CPU busy % and network rates over the interval between two
 * samples.  The parsers below are pure (text, len -> values): they never
 * read past len, need no NUL terminator, and accept any bytes, so a fuzzer
 * can drive them directly.
 */
#ifndef AGENTFLOW_COLLECTOR_H
#define AGENTFLOW_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct collector;

/*
 * proc_root is "/proc" normally (tests pass a directory of fake files);
 * disk_path is the data directory, whose filesystem's usage is reported.
 * Both strings are copied.  Never fails (allocation aborts).
 */
struct collector *collector_new(const char *proc_root, const char *disk_path);
/* Frees c and all it owns; collector_free(NULL) is a no-op. */
void collector_free(struct collector *c);

/*
 * Samples now and fills the resource fields of *st: cpu_percent (busy share
 * of the jiffies elapsed since the previous sample; 0 on the first),
 * cpu_count, mem_used/total_bytes, load1/5/15, disk_used/total_bytes,
 * net_rx/tx_bytes with their per-second rates since the previous sample,
 * and uptime_s.  Never touches links, members, frozen, signal_reachable or
 * process_uptime_s.  Every double written is finite and >= 0, cpu_percent
 * is within [0, 100], and a counter that went backwards (reboot, interface
 * reset) gives a rate of 0.
 *
 * Returns 0, or -1 if some source could not be read or parsed: the fields
 * of the sources that could be read are still filled, those of the others
 * are left as they were.  A failing source is logged (LOG_WARN) once when
 * it starts failing, not at every sample.
 */
int collector_sample(struct collector *c, Agentflow__Mesh__V1__NodeStatus *st);

/*
 * collector_sample() with the time given: now_ms is a monotonic clock in
 * milliseconds (collector_sample passes clock_mono_ms()).  Rates are
 * computed over the now_ms difference between two samples; a now_ms that
 * does not move forward gives rates of 0.  Exposed so that tests control
 * the interval; the daemon calls collector_sample().
 */
int collector_sample_at(struct collector *c, uint64_t now_ms,
    Agentflow__Mesh__V1__NodeStatus *st);

/*
 * The parsers.  Each reads text[0..len), which need not be NUL-terminated,
 * and returns 0 with *out filled, or -1 (out then unspecified) when the
 * input lacks what it needs: missing fields, garbage, numbers that overflow
 * 64 bits.  Sums saturate rather than wrap.
 */

/* /proc/stat: the aggregate "cpu" line and the number of "cpuN" lines. */
struct collector_cpu {
	uint64_t busy;		/* user+nice+system+irq+softirq+steal */
	uint64_t total;		/* busy + idle + iowait */
	uint32_t ncpu;		/* "cpuN" lines (online CPUs); 0 if none */
};
int collector_parse_stat(const char *text, size_t len,
    struct collector_cpu *out);

/*
 * /proc/meminfo: MemTotal is required; "available" is MemAvailable, or
 * MemFree + Buffers + Cached on kernels without it.  In bytes.
 */
struct collector_mem {
	uint64_t total_bytes;
	uint64_t available_bytes;
};
int collector_parse_meminfo(const char *text, size_t len,
    struct collector_mem *out);

/* /proc/loadavg: the three load averages, each finite and >= 0. */
struct collector_load {
	double load1, load5, load15;
};
int collector_parse_loadavg(const char *text, size_t len,
    struct collector_load *out);

/*
 * /proc/net/dev: received and transmitted bytes summed over every
 * interface but "lo".  Malformed interface lines are skipped; fails when
 * no interface line (lo included) could be read.
 */
struct collector_net {
	uint64_t rx_bytes;
	uint64_t tx_bytes;
};
int collector_parse_net_dev(const char *text, size_t len,
    struct collector_net *out);

/* /proc/uptime: whole seconds since boot (the first field, truncated). */
int collector_parse_uptime(const char *text, size_t len, uint64_t *uptime_s);

#endif
