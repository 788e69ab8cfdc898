/*
 * The process_* families every Prometheus client library exports
 * (resident and virtual memory, CPU seconds, start time, open and maximum
 * file descriptors), read from /proc/self, for the node's and the
 * signal's /metrics alike.  The parsing of /proc/self/stat is a pure
 * function so a test can feed it text.
 */
#ifndef AGENTFLOW_PROM_PROCESS_H
#define AGENTFLOW_PROM_PROCESS_H

#include <stdint.h>

struct prom;

struct prom_process {
	double		cpu_seconds;		/* user + system */
	double		start_time_seconds;	/* since the Unix epoch */
	uint64_t	resident_bytes;
	uint64_t	virtual_bytes;
	uint64_t	open_fds;
	uint64_t	max_fds;		/* the soft RLIMIT_NOFILE */
};

/*
 * Fills the CPU, start time and memory of out from the text of a
 * /proc/PID/stat (stat, NUL-terminated; the command name may hold spaces
 * and parentheses), with the clock ticks per second, the page size and
 * the boot time (seconds since the epoch, /proc/stat's btime).  0, or -1
 * when the text is not a stat line.
 */
int prom_process_parse_stat(const char *stat, long ticks, long page,
    double boot_time, struct prom_process *out);
/* All of out for this process: 0, or -1 when /proc cannot be read. */
int prom_process_read(struct prom_process *out);
/* The process_* families of this process; none when /proc cannot be read
 * (a missing family, not a wrong zero). */
void prom_process_render(struct prom *);

#endif
