/*
 * agentflow-bench-floor: what this machine gives a fan-out of events to N
 * processes with nothing of ours in the way, as a reference for run.py.
 *
 * One sender process writes each event (its sequence number and the time it
 * left) to N-1 receiver processes over N-1 loopback TCP connections, one
 * after another, as node-1 does over its links.  Each receiver blocks in
 * read(), stamps the arrival with the same monotonic clock, then burns
 * --work-us of its own CPU time, standing for what a real node does with a
 * delivery (TLS, HTTP/2, the thread hand-off, decoding, SQLite).  Sweeping
 * --work-us shows how the time until EVERY node has an event grows with the
 * CPU each delivery costs when N processes share this machine's cores: the
 * budget per delivery that a p99 goal leaves.
 *
 * No TLS, no gRPC, no SQLite: the floor, not a model of the node.  Every
 * process is a child of this one and is reaped before the next row; nothing
 * binds anything but 127.0.0.1.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 64
#define MAX_EVENTS 100000
#define MAX_WORKS 16
#define MSG_SIZE 128 /* about the size of a user event Frame on the wire */
#define ROW_TIMEOUT_S 120

struct msg {
	uint32_t seq;
	uint32_t pad;
	int64_t sent_ns;
	char body[MSG_SIZE - 16];
};

struct config {
	int nodes;
	int events;
	double interval_ms;
	int works[MAX_WORKS];
	int nworks;
};

static int64_t
now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spend `us` microseconds of this thread's CPU time, however long the
 * scheduler makes that take on the wall clock. */
static void
burn(int us)
{
	int64_t until = now_ns(CLOCK_THREAD_CPUTIME_ID) + (int64_t)us * 1000;
	volatile uint64_t x = 0;

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < until)
		for (int i = 0; i < 200; i++)
			x += (uint64_t)i;
}

/* read(2) or write(2) all of len bytes; -1 on an error or end of file. */
static int
io_full(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#define read_full(fd, buf, len)		io_full(fd, buf, len, 0)
#define write_full(fd, buf, len)	io_full(fd, (void *)(buf), len, 1)

/* A receiver: listen, tell the parent the port, take one connection, stamp
 * every event, write the arrival times (ns, monotonic) to `out` and exit. */
static void
receiver(const struct config *cfg, int work_us, int out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int64_t *arrived = calloc((size_t)cfg->events, sizeof(*arrived));
	int ls = socket(AF_INET, SOCK_STREAM, 0), cs;
	uint16_t port;
	struct msg m;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (arrived == NULL || ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&sa, &salen) < 0)
		_exit(2);
	port = ntohs(sa.sin_port);
	if (write_full(out, &port, sizeof(port)) < 0 || (cs = accept(ls, NULL, NULL)) < 0)
		_exit(2);
	close(ls);
	for (int got = 0; got < cfg->events; got++) {
		if (read_full(cs, &m, sizeof(m)) < 0 || m.seq >= (uint32_t)cfg->events)
			_exit(3);
		arrived[m.seq] = now_ns(CLOCK_MONOTONIC);
		burn(work_us);
	}
	if (write_full(out, arrived, (size_t)cfg->events * sizeof(*arrived)) < 0)
		_exit(4);
	_exit(0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank, as run.py computes it. */
static double
percentile(const double *sorted, int n, double p)
{
	int k = (int)(p / 100.0 * n + 0.999999) - 1;

	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return sorted[k];
}

static int64_t
children_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* One row: N-1 receivers that each burn `work_us` per delivery. */
static int
run_row(const struct config *cfg, int work_us)
{
	int nrecv = cfg->nodes - 1, fds[MAX_NODES], pipes[MAX_NODES];
	pid_t pids[MAX_NODES];
	int64_t *sent = calloc((size_t)cfg->events, sizeof(*sent));
	int64_t *arrived = calloc((size_t)cfg->events, sizeof(*arrived));
	double *every = calloc((size_t)cfg->events, sizeof(*every));
	double *one = calloc((size_t)cfg->events * (size_t)nrecv, sizeof(*one));
	int64_t cpu0 = children_cpu_us(), t0, elapsed = 1;
	int rc = 0, started = 0;
	struct msg m;

	if (sent == NULL || arrived == NULL || every == NULL || one == NULL) {
		fprintf(stderr, "bench-floor: out of memory\n");
		exit(1);
	}
	for (; started < nrecv; started++) {
		int p[2];
		uint16_t port;
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int one_flag = 1;

		if (pipe(p) < 0 || (pids[started] = fork()) < 0) {
			perror("bench-floor: pipe/fork");
			rc = 1;
			break;
		}
		if (pids[started] == 0) {
			close(p[0]);
			for (int i = 0; i < started; i++) {
				close(fds[i]);
				close(pipes[i]);
			}
			receiver(cfg, work_us, p[1]);
		}
		close(p[1]);
		pipes[started] = p[0];
		fds[started] = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (read_full(p[0], &port, sizeof(port)) < 0 || fds[started] < 0) {
			fprintf(stderr, "bench-floor: receiver %d did not start\n", started);
			rc = 1;
			started++;
			break;
		}
		sa.sin_port = htons(port);
		setsockopt(fds[started], IPPROTO_TCP, TCP_NODELAY, &one_flag, sizeof(one_flag));
		if (connect(fds[started], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("bench-floor: connect");
			rc = 1;
			started++;
			break;
		}
	}
	if (rc == 0) {
		struct timespec ts;
		usleep(200000); /* let the receivers settle in read() */
		t0 = now_ns(CLOCK_MONOTONIC);
		memset(&m, 'e', sizeof(m));
		for (int i = 0; i < cfg->events && rc == 0; i++) {
			int64_t at = t0 + (int64_t)(i * cfg->interval_ms * 1e6);
			ts.tv_sec = at / 1000000000;
			ts.tv_nsec = at % 1000000000;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
			m.seq = (uint32_t)i;
			m.sent_ns = sent[i] = now_ns(CLOCK_MONOTONIC);
			for (int r = 0; r < nrecv; r++)
				if (write_full(fds[r], &m, sizeof(m)) < 0) {
					fprintf(stderr, "bench-floor: receiver %d hung up\n", r);
					rc = 1;
					break;
				}
		}
		elapsed = now_ns(CLOCK_MONOTONIC) - t0;
		for (int r = 0; r < nrecv && rc == 0; r++) {
			struct pollfd pfd = { .fd = pipes[r], .events = POLLIN };
			if (poll(&pfd, 1, ROW_TIMEOUT_S * 1000) != 1 ||
			    read_full(pipes[r], arrived, (size_t)cfg->events * sizeof(*arrived)) < 0) {
				fprintf(stderr, "bench-floor: no result from receiver %d\n", r);
				rc = 1;
				break;
			}
			for (int i = 0; i < cfg->events; i++) {
				double d = (double)(arrived[i] - sent[i]) / 1e6;
				one[(size_t)r * (size_t)cfg->events + (size_t)i] = d;
				if (r == 0 || d > every[i])
					every[i] = d;
			}
		}
	}
	for (int r = 0; r < started; r++) {
		int status;
		close(fds[r]);
		close(pipes[r]);
		if (rc != 0)
			kill(pids[r], SIGKILL);
		waitpid(pids[r], &status, 0);
		if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "bench-floor: receiver %d failed (status %d)\n", r, status);
			rc = 1;
		}
	}
	if (rc == 0) {
		size_t ndel = (size_t)cfg->events * (size_t)nrecv;
		double cpu = (double)(children_cpu_us() - cpu0) / ((double)elapsed / 1e3) * 100.0;
		qsort(every, (size_t)cfg->events, sizeof(*every), cmp_double);
		qsort(one, ndel, sizeof(*one), cmp_double);
		printf("%9d  %8.2f %8.2f %8.2f   %8.2f    %6.0f %%\n", work_us,
		    percentile(every, cfg->events, 50), percentile(every, cfg->events, 99),
		    every[cfg->events - 1], percentile(one, (int)ndel, 99), cpu);
		fflush(stdout);
	}
	free(sent);
	free(arrived);
	free(every);
	free(one);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: agentflow-bench-floor [--nodes N] [--events E] [--interval-ms I] [--work-us LIST]\n"
	    "  --nodes N        processes, the sender included (default 20, at most %d)\n"
	    "  --events E       events fired (default 200)\n"
	    "  --interval-ms I  one event every I ms (default 5)\n"
	    "  --work-us LIST   comma-separated CPU microseconds each receiver spends per\n"
	    "                   delivery, one row each (default 0,25,50,100,200,300)\n",
	    MAX_NODES);
}

static int
parse_works(struct config *cfg, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	cfg->nworks = 0;
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(t, &end, 10);
		if (*end != '\0' || v < 0 || v > 100000 || cfg->nworks == MAX_WORKS) {
			free(copy);
			return -1;
		}
		cfg->works[cfg->nworks++] = (int)v;
	}
	free(copy);
	return cfg->nworks > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "events", required_argument, NULL, 'e' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "work-us", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg = { .nodes = 20, .events = 200, .interval_ms = 5.0 };
	int c, rc = 0;

	parse_works(&cfg, "0,25,50,100,200,300");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			cfg.nodes = atoi(optarg);
			break;
		case 'e':
			cfg.events = atoi(optarg);
			break;
		case 'i':
			cfg.interval_ms = atof(optarg);
			break;
		case 'w':
			if (parse_works(&cfg, optarg) < 0) {
				fprintf(stderr, "bench-floor: --work-us wants up to %d numbers 0..100000\n",
				    MAX_WORKS);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cfg.nodes < 2 || cfg.nodes > MAX_NODES || cfg.events < 1 || cfg.events > MAX_EVENTS ||
	    !(cfg.interval_ms >= 0 && cfg.interval_ms <= 10000)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	printf("bench-floor: %d processes (1 sender, %d receivers) over loopback TCP, %d events of "
	       "%d B, one every %.1f ms; %ld CPUs\n",
	    cfg.nodes, cfg.nodes - 1, cfg.events, MSG_SIZE, cfg.interval_ms, sysconf(_SC_NPROCESSORS_ONLN));
	printf("time until EVERY receiver had an event (ms), and each single delivery's p99:\n");
	printf("  work us   p50 ms   p99 ms   max ms   one p99 ms   receivers' CPU (of one core)\n");
	for (int i = 0; i < cfg.nworks && rc == 0; i++)
		rc = run_row(&cfg, cfg.works[i]);
	return rc;
}
