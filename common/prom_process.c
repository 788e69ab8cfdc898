/* process_* metrics from /proc/self (see prom_process.h). */
#include "prom_process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "prom.h"

int
prom_process_parse_stat(const char *stat, long ticks, long page,
    double boot_time, struct prom_process *out)
{
	unsigned long long utime, stime, start, vsize;
	long long rss;
	const char *p;

	/* The command name is between the first "(" and the last ")": it
	 * may hold anything, the fields after it are plain numbers. */
	if (ticks <= 0 || page <= 0 || (p = strrchr(stat, ')')) == NULL)
		return -1;
	/* After ")": state (field 3) … utime 14, stime 15 … starttime 22,
	 * vsize 23, rss 24 (pages). */
	if (sscanf(p + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%llu %llu %*s %*s %*s %*s %*s %*s %llu %llu %lld", &utime, &stime,
	    &start, &vsize, &rss) != 5)
		return -1;
	out->cpu_seconds = (double)(utime + stime) / (double)ticks;
	out->start_time_seconds = boot_time + (double)start / (double)ticks;
	out->virtual_bytes = vsize;
	out->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	return 0;
}

/* /proc/stat's btime: 0, or -1. */
static int
boot_time(double *out)
{
	char line[256];
	long long bt;
	FILE *f = fopen("/proc/stat", "re");
	int rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &bt) == 1) {
			*out = (double)bt;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* Entries of /proc/self/fd but the one the listing itself holds open. */
static int
open_fds(uint64_t *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	*out = n > 0 ? n - 1 : 0;
	return 0;
}

int
prom_process_read(struct prom_process *out)
{
	char buf[1024];
	struct rlimit rl;
	double bt;
	size_t len;
	FILE *f;

	memset(out, 0, sizeof(*out));
	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	if (boot_time(&bt) != 0 || prom_process_parse_stat(buf,
	    sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), bt, out) != 0 ||
	    open_fds(&out->open_fds) != 0)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : rl.rlim_cur;
	return 0;
}

void
prom_process_render(struct prom *p)
{
	struct prom_process pp;

	if (prom_process_read(&pp) != 0)
		return;
	prom_family(p, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	prom_sample_double(p, NULL, pp.cpu_seconds);
	prom_family(p, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	prom_sample_fixed3(p, NULL, pp.start_time_seconds);
	prom_metric(p, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.", (int64_t)pp.resident_bytes);
	prom_metric(p, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.", (int64_t)pp.virtual_bytes);
	prom_metric(p, "process_open_fds", "gauge",
	    "Number of open file descriptors.", (int64_t)pp.open_fds);
	prom_metric(p, "process_max_fds", "gauge",
	    "Maximum number of open file descriptors.", (int64_t)pp.max_fds);
}
