/*
 * Unit tests of node/work/service_health.c on a real event loop: an evhttp
 * server, listening and silent sockets the test owns on 127.0.0.1
 * ephemeral ports, and real processes (/bin/true, /bin/false, sleep).
 * Each test records the verdicts changed() hands out and what the server
 * saw, the two things a user of the check would observe.  Intervals are
 * short; every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "loop_until.h"
#include "open_fds.h"
#include "service_health.h"
#include "service_spec.h"
#include "tmpdir.h"

#define WAIT_MS		5000	/* for what takes well under a second */
#define RECS_MAX	16

struct rec {
	int		 healthy;
	char		 why[512];
	unsigned	 requests;	/* the server's count at the verdict */
	uint64_t	 probes;	/* the check's */
	uint64_t	 at_ms;		/* monotonic */
};

struct ctx {
	struct event_base	*base;
	struct service_health	*h;
	char			 dir[64];

	/* The evhttp server. */
	struct evhttp		*http;
	uint16_t		 http_port;
	int			 status;	/* what it answers */
	unsigned		 requests;
	uint64_t		 first_ms;	/* monotonic, of its first */

	/* The silent server: accepts, reads, never answers. */
	int			 silent_fd;
	uint16_t		 silent_port;
	struct event		*silent_ev;
	int			 conn_fd;
	struct event		*conn_ev;
	unsigned		 accepted;
	int			 conn_eof;	/* the check closed it */

	struct rec		 recs[RECS_MAX];
	size_t			 nrecs;
	/* What changed() does after recording, if anything. */
	void			(*on_change)(struct ctx *, const struct rec *);
	size_t			 fds;		/* open before the test */
};

/* ---- servers ------------------------------------------------------- */

static void
http_cb(struct evhttp_request *req, void *arg)
{
	struct ctx *c = arg;

	if (c->requests++ == 0)
		c->first_ms = clock_mono_ms();
	evhttp_send_reply(req, c->status, "Test", NULL);
}

static uint16_t
fd_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static void
http_server(struct ctx *c)
{
	struct evhttp_bound_socket *bs;

	c->http = evhttp_new(c->base);
	assert_non_null(c->http);
	bs = evhttp_bind_socket_with_handle(c->http, "127.0.0.1", 0);
	assert_non_null(bs);
	c->http_port = fd_port(evhttp_bound_socket_get_fd(bs));
	c->status = 200;
	evhttp_set_gencb(c->http, http_cb, c);
}

/* A socket listening on 127.0.0.1, port in *port. */
static int
listener(uint16_t *port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 64), 0);
	*port = fd_port(fd);
	return fd;
}

/* A port nothing listens on: bound, never listened on, closed. */
static uint16_t
closed_port(void)
{
	struct sockaddr_in sin;
	uint16_t port;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	port = fd_port(fd);
	close(fd);
	return port;
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctx *c = arg;
	char buf[4096];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof buf);
	if (n > 0 || (n == -1 && errno == EAGAIN))
		return;
	c->conn_eof = 1;
	event_free(c->conn_ev);
	c->conn_ev = NULL;
	close(c->conn_fd);
	c->conn_fd = -1;
}

static void
silent_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctx *c = arg;
	int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)what;
	if (s == -1)
		return;
	c->accepted++;
	if (c->conn_fd != -1) {	/* one watched at a time is enough */
		close(s);
		return;
	}
	c->conn_fd = s;
	c->conn_ev = event_new(c->base, s, EV_READ | EV_PERSIST, conn_cb, c);
	event_add(c->conn_ev, NULL);
}

static void
silent_server(struct ctx *c)
{
	c->silent_fd = listener(&c->silent_port);
	c->silent_ev = event_new(c->base, c->silent_fd, EV_READ | EV_PERSIST,
	    silent_cb, c);
	event_add(c->silent_ev, NULL);
}

/* ---- the check ----------------------------------------------------- */

static void
changed_cb(int healthy, const char *why, void *arg)
{
	struct ctx *c = arg;
	struct service_health_counters k;
	struct rec *r;

	assert_true(c->nrecs < RECS_MAX);
	r = &c->recs[c->nrecs++];
	r->healthy = healthy;
	snprintf(r->why, sizeof r->why, "%s", why);
	r->requests = c->requests;
	service_health_counters(c->h, &k);
	r->probes = k.probes;
	r->at_ms = clock_mono_ms();
	if (c->on_change != NULL)
		c->on_change(c, r);
}

static struct service_check
check_of(enum service_check_type type, uint16_t port)
{
	struct service_check k;

	memset(&k, 0, sizeof k);
	snprintf(k.name, sizeof k.name, "test");
	k.type = type;
	k.port = port;
	k.path = (char *)"/health";
	k.status_min = 200;
	k.status_max = 399;
	k.interval_ms = 50;
	k.timeout_ms = 1000;
	k.failures = 1;
	k.successes = 1;
	k.grace_ms = 0;
	return k;
}

/* c->h made of k and started. */
static void
go(struct ctx *c, const struct service_check *k)
{
	c->h = service_health_new(c->base, k, changed_cb, c);
	assert_non_null(c->h);
	service_health_start(c->h);
}

/* The i-th verdict was healthy (1 or 0), why saying so. */
static void
assert_rec(struct ctx *c, size_t i, int healthy, const char *why)
{
	assert_true(i < c->nrecs);
	assert_int_equal(c->recs[i].healthy, healthy);
	assert_string_equal(c->recs[i].why, why);
}

static size_t recs_want;

static int
recs_there(void *arg)
{
	struct ctx *c = arg;

	return c->nrecs >= recs_want;
}

/* Runs the loop until n verdicts have come; fails after WAIT_MS. */
static void
wait_recs(struct ctx *c, size_t n)
{
	recs_want = n;
	loop_until(c->base, recs_there, c, WAIT_MS);
	assert_int_equal(c->nrecs, n);
}

static int
accepted_one(void *arg)
{
	struct ctx *c = arg;

	return c->accepted > 0;
}

static int
twenty_requests(void *arg)
{
	struct ctx *c = arg;

	return c->requests >= 20;
}

/* Runs the loop for ms whatever happens. */
static int
never(void *arg)
{
	(void)arg;
	return 0;
}

static void
run_for(struct ctx *c, uint64_t ms)
{
	loop_until(c->base, never, NULL, ms);
}

/* The check's JSON, the field k of it (borrowed from *o, the caller's). */
static json_t *
jfield(struct ctx *c, json_t **o, const char *k)
{
	json_t *v;

	json_decref(*o);
	*o = service_health_json(c->h);
	assert_non_null(*o);
	v = json_object_get(*o, k);
	assert_non_null(v);
	return v;
}

static const char *
last_output(struct ctx *c, json_t **o)
{
	json_t *last = jfield(c, o, "last");

	assert_true(json_is_object(last));
	return json_string_value(json_object_get(last, "output"));
}

/*
 * A shell check: runs pre, writes the pid pidvar names ("$$" itself, "$!"
 * what it put in the background) to c->dir/pid, then runs post.
 */
static char **
sh_argv(struct ctx *c, const char *pre, const char *pidvar, const char *post)
{
	static char script[512];
	static char *argv[4];

	snprintf(script, sizeof script, "%s echo %s > %s/pid.tmp && "
	    "mv %s/pid.tmp %s/pid && %s", pre, pidvar, c->dir, c->dir, c->dir,
	    post);
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = script;
	argv[3] = NULL;
	return argv;
}

static int
pid_file_there(void *arg)
{
	struct ctx *c = arg;
	char path[128];

	snprintf(path, sizeof path, "%s/pid", c->dir);
	return access(path, F_OK) == 0;
}

static pid_t
read_pid(struct ctx *c)
{
	char path[128];
	long pid = 0;
	FILE *f;

	assert_int_equal(loop_until(c->base, pid_file_there, c, WAIT_MS), 1);
	snprintf(path, sizeof path, "%s/pid", c->dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_true(pid > 1);
	return (pid_t)pid;
}

/* kill(pid, 0) succeeds on a zombie: ESRCH means it was reaped. */
static pid_t gone_pid;

static int
pid_gone(void *arg)
{
	(void)arg;
	return kill(gone_pid, 0) == -1 && errno == ESRCH;
}

static void
assert_reaped(struct ctx *c, pid_t pid)
{
	gone_pid = pid;
	assert_int_equal(loop_until(c->base, pid_gone, NULL, WAIT_MS), 1);
}

/* Gone, or dead and left to a pid 1 that may never reap (a container's). */
static int
pid_dead(void *arg)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	(void)arg;
	if (pid_gone(NULL))
		return 1;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)gone_pid);
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* ---- fixture ------------------------------------------------------- */

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);

	if (c == NULL)
		return -1;
	c->fds = open_fds();
	c->base = event_base_new();
	c->silent_fd = c->conn_fd = -1;
	if (c->base == NULL || tmpdir_make(c->dir, sizeof c->dir,
	    "test_service_health") == -1)
		return -1;
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	size_t n, fds;

	service_health_free(c->h);
	if (c->http != NULL)
		evhttp_free(c->http);
	if (c->conn_ev != NULL)
		event_free(c->conn_ev);
	if (c->conn_fd != -1)
		close(c->conn_fd);
	if (c->silent_ev != NULL)
		event_free(c->silent_ev);
	if (c->silent_fd != -1)
		close(c->silent_fd);
	event_base_free(c->base);
	tmpdir_remove(c->dir);
	n = open_fds();
	if (n != c->fds)
		fprintf(stderr, "%zu descriptors open, %zu before\n", n, c->fds);
	fds = c->fds;
	free(c);
	return n == fds ? 0 : -1;
}

/* ---- http ---------------------------------------------------------- */

/* 200 until healthy, then 503 until unhealthy, then 200 for good. */
static void
flip(struct ctx *c, const struct rec *r)
{
	if (c->nrecs <= 2)
		c->status = r->healthy ? 503 : 200;
}

static void
test_http_flips(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL, *hist;
	size_t i, n503 = 0;

	http_server(c);
	k = check_of(SERVICE_CHECK_HTTP, c->http_port);
	k.failures = 3;
	k.successes = 2;
	c->on_change = flip;
	go(c, &k);
	wait_recs(c, 3);

	/* The first verdict after exactly `successes` probes, each change
	 * after exactly `failures` or `successes` more. */
	assert_rec(c, 0, 1, "HTTP 200, 2 successes in a row");
	assert_int_equal(c->recs[0].requests, 2);
	assert_rec(c, 1, 0, "HTTP 503, 3 failures in a row");
	assert_int_equal(c->recs[1].requests, 5);
	assert_int_equal(c->recs[2].healthy, 1);
	assert_int_equal(c->recs[2].requests, 7);
	assert_int_equal(c->recs[2].probes, 7);

	/* Healthy and staying so: probes go on, no new verdict. */
	run_for(c, 300);
	assert_true(c->requests >= 9);
	assert_int_equal(c->nrecs, 3);
	assert_string_equal(json_string_value(jfield(c, &o, "status")),
	    "healthy");
	assert_string_equal(json_string_value(jfield(c, &o, "type")), "http");
	assert_true(json_is_true(jfield(c, &o, "running")));
	assert_int_equal(json_integer_value(jfield(c, &o, "failures")), 3);
	assert_true(json_integer_value(jfield(c, &o, "consecutive_successes")) >=
	    4);
	assert_int_equal(json_integer_value(jfield(c, &o,
	    "consecutive_failures")), 0);
	assert_string_equal(last_output(c, &o), "HTTP 200");
	hist = jfield(c, &o, "history");
	for (i = 0; i < json_array_size(hist); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(hist,
		    i), "output")), "HTTP 503") == 0)
			n503++;
	assert_int_equal(n503, 3);
	json_decref(o);
}

static void
test_http_status_range(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL;

	http_server(c);
	c->status = 302;
	k = check_of(SERVICE_CHECK_HTTP, c->http_port);
	go(c, &k);
	wait_recs(c, 1);
	assert_rec(c, 0, 1, "HTTP 302, 1 success in a row");

	/* 400 is past status_max. */
	c->status = 400;
	wait_recs(c, 2);
	assert_int_equal(c->recs[1].healthy, 0);
	assert_string_equal(last_output(c, &o), "HTTP 400");
	json_decref(o);
}

static void
test_http_refused(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	char want[64];
	uint16_t port = closed_port();

	k = check_of(SERVICE_CHECK_HTTP, port);
	go(c, &k);
	wait_recs(c, 1);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%u, 1 failure "
	    "in a row", (unsigned)port);
	assert_rec(c, 0, 0, want);
}

/* A server that accepts and never answers: a timeout, connection closed. */
static void
test_http_silent_times_out(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL, *last;
	double ms;

	silent_server(c);
	k = check_of(SERVICE_CHECK_HTTP, c->silent_port);
	k.timeout_ms = 200;
	k.interval_ms = 1000;
	go(c, &k);
	wait_recs(c, 1);
	assert_rec(c, 0, 0, "timed out after 200 ms, 1 failure in a row");
	last = jfield(c, &o, "last");
	ms = json_real_value(json_object_get(last, "ms"));
	assert_true(ms >= 200.0 && ms < 1000.0);
	/* The probe abandoned its connection. */
	run_for(c, 100);
	assert_int_equal(c->accepted, 1);
	assert_int_equal(c->conn_eof, 1);
	json_decref(o);
}

/* ---- grace and restarts -------------------------------------------- */

static void
test_grace(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL;
	uint64_t t0;

	http_server(c);
	k = check_of(SERVICE_CHECK_HTTP, c->http_port);
	k.grace_ms = 300;
	t0 = clock_mono_ms();
	go(c, &k);
	run_for(c, 200);
	assert_int_equal(c->requests, 0);
	assert_string_equal(json_string_value(jfield(c, &o, "status")),
	    "unknown");
	assert_true(json_is_null(jfield(c, &o, "last")));
	wait_recs(c, 1);
	assert_int_equal(c->recs[0].healthy, 1);
	assert_true(c->first_ms - t0 >= 295);

	/* A restart: unknown again, and grace again before a probe. */
	c->requests = 0;
	t0 = clock_mono_ms();
	service_health_start(c->h);
	assert_string_equal(json_string_value(jfield(c, &o, "status")),
	    "unknown");
	wait_recs(c, 2);
	assert_int_equal(c->recs[1].healthy, 1);
	assert_int_equal(c->recs[1].requests, 1);
	assert_true(c->recs[1].at_ms - t0 >= 295);
	json_decref(o);
}

/* ---- tcp ----------------------------------------------------------- */

static void
close_listener(struct ctx *c, const struct rec *r)
{
	if (r->healthy) {
		close(c->silent_fd);
		c->silent_fd = -1;
	}
}

static void
test_tcp(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL;

	/* Listening, never accepting: the kernel completes the connect. */
	c->silent_fd = listener(&c->silent_port);
	k = check_of(SERVICE_CHECK_TCP, c->silent_port);
	k.failures = 2;
	c->on_change = close_listener;
	go(c, &k);
	wait_recs(c, 2);
	assert_rec(c, 0, 1, "connected, 1 success in a row");
	assert_int_equal(c->recs[0].probes, 1);
	assert_rec(c, 1, 0, "connection refused, 2 failures in a row");
	assert_int_equal(c->recs[1].probes, 3);
	assert_string_equal(json_string_value(jfield(c, &o, "type")), "tcp");
	json_decref(o);
}

/* ---- exec ---------------------------------------------------------- */

static void
test_exec_true_false(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	char *t[] = { (char *)"/bin/true", NULL };
	char *f[] = { (char *)"/bin/false", NULL };
	json_t *o = NULL;

	k = check_of(SERVICE_CHECK_EXEC, 0);
	k.argv = t;
	k.argc = 1;
	go(c, &k);
	wait_recs(c, 1);
	assert_rec(c, 0, 1, "exit 0, 1 success in a row");
	assert_string_equal(json_string_value(jfield(c, &o, "type")), "exec");
	service_health_free(c->h);

	k.argv = f;
	go(c, &k);
	wait_recs(c, 2);
	assert_rec(c, 1, 0, "exit 1, 1 failure in a row");
	json_decref(o);
}

static void
test_exec_missing(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	char *argv[] = { (char *)"/nonexistent/check", NULL };

	k = check_of(SERVICE_CHECK_EXEC, 0);
	k.argv = argv;
	k.argc = 1;
	go(c, &k);
	wait_recs(c, 1);
	assert_rec(c, 0, 0, "cannot run /nonexistent/check: "
	    "no such file or directory, 1 failure in a row");
}

static void
test_exec_timeout_kills(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL;
	uint64_t t0 = clock_mono_ms();
	pid_t pid;

	k = check_of(SERVICE_CHECK_EXEC, 0);
	k.argv = sh_argv(c, "", "$$", "exec sleep 5");
	k.argc = 3;
	k.timeout_ms = 200;
	k.interval_ms = 1000;
	go(c, &k);
	pid = read_pid(c);
	wait_recs(c, 1);
	assert_rec(c, 0, 0, "timed out after 200 ms, 1 failure in a row");
	assert_true(c->recs[0].at_ms - t0 < 2000);
	/* Killed and reaped: not even a zombie is left. */
	assert_reaped(c, pid);
	assert_true(clock_mono_ms() - t0 < 3000);
	assert_string_equal(json_string_value(jfield(c, &o, "status")),
	    "unhealthy");
	json_decref(o);
}

/* What a check leaves running in its group is killed when it exits. */
static void
test_exec_leftovers_killed(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	uint64_t t0 = clock_mono_ms();

	k = check_of(SERVICE_CHECK_EXEC, 0);
	k.argv = sh_argv(c, "sleep 5 &", "$!", "exit 0");
	k.argc = 3;
	k.interval_ms = 1000;
	go(c, &k);
	gone_pid = read_pid(c);
	wait_recs(c, 1);
	assert_rec(c, 0, 1, "exit 0, 1 success in a row");
	assert_int_equal(loop_until(c->base, pid_dead, NULL, WAIT_MS), 1);
	assert_true(clock_mono_ms() - t0 < 3000);
}

/* ---- stop and free ------------------------------------------------- */

static void
test_stop_in_flight_http(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	json_t *o = NULL;

	silent_server(c);
	k = check_of(SERVICE_CHECK_HTTP, c->silent_port);
	k.timeout_ms = 2000;
	k.interval_ms = 2000;
	go(c, &k);
	assert_int_equal(loop_until(c->base, accepted_one, c, WAIT_MS), 1);
	service_health_stop(c->h);
	run_for(c, 300);
	assert_int_equal(c->nrecs, 0);
	assert_int_equal(c->accepted, 1);
	assert_int_equal(c->conn_eof, 1);
	assert_true(json_is_false(jfield(c, &o, "running")));
	assert_string_equal(json_string_value(jfield(c, &o, "status")),
	    "unknown");
	assert_int_equal(json_integer_value(jfield(c, &o, "probes")), 0);

	/* And it starts again. */
	service_health_start(c->h);
	run_for(c, 200);
	assert_int_equal(c->accepted, 2);
	json_decref(o);
}

static void
test_stop_in_flight_exec(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	char path[128];
	pid_t pid;

	k = check_of(SERVICE_CHECK_EXEC, 0);
	k.argv = sh_argv(c, "", "$$", "exec sleep 5");
	k.argc = 3;
	k.timeout_ms = 3000;
	k.interval_ms = 3000;
	go(c, &k);
	pid = read_pid(c);
	service_health_stop(c->h);
	assert_reaped(c, pid);
	assert_int_equal(c->nrecs, 0);

	/* Freed while a probe runs: reaped by the time free returns. */
	snprintf(path, sizeof path, "%s/pid", c->dir);
	assert_int_equal(unlink(path), 0);
	service_health_start(c->h);
	pid = read_pid(c);
	service_health_free(c->h);
	c->h = NULL;
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(c->nrecs, 0);
}

static void
free_on_change(struct ctx *c, const struct rec *r)
{
	(void)r;
	service_health_free(c->h);
	c->h = NULL;
}

static void
restart_on_change(struct ctx *c, const struct rec *r)
{
	(void)r;
	service_health_start(c->h);
}

/* changed() may free or restart the check it is told about. */
static void
test_changed_frees_restarts(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	char *f[] = { (char *)"/bin/false", NULL };

	k = check_of(SERVICE_CHECK_EXEC, 0);
	k.argv = f;
	k.argc = 1;
	c->on_change = free_on_change;
	go(c, &k);
	wait_recs(c, 1);
	run_for(c, 200);
	assert_int_equal(c->nrecs, 1);

	/* Restarted from changed(): the verdict is unknown again, so the
	 * next failure is a first verdict again. */
	c->on_change = restart_on_change;
	go(c, &k);
	wait_recs(c, 3);
	assert_int_equal(c->recs[1].probes, 1);
	assert_int_equal(c->recs[2].healthy, 0);
	assert_int_equal(c->recs[2].probes, 2);
}

static void
test_history_bounded(void **state)
{
	struct ctx *c = *state;
	struct service_check k;
	struct service_health_counters n;
	json_t *o = NULL, *hist;
	uint64_t prev = 0;
	size_t i;

	http_server(c);
	k = check_of(SERVICE_CHECK_HTTP, c->http_port);
	k.interval_ms = 5;
	go(c, &k);
	assert_int_equal(loop_until(c->base, twenty_requests, c, WAIT_MS), 1);
	run_for(c, 20);
	hist = jfield(c, &o, "history");
	assert_int_equal(json_array_size(hist), SERVICE_HEALTH_HISTORY);
	for (i = 0; i < json_array_size(hist); i++) {
		json_t *r = json_array_get(hist, i);
		uint64_t at = (uint64_t)json_integer_value(json_object_get(r,
		    "at_ms"));

		assert_true(json_is_true(json_object_get(r, "ok")));
		assert_true(at >= prev);
		prev = at;
	}
	service_health_counters(c->h, &n);
	assert_true(n.probes >= 20);
	assert_int_equal(n.failures, 0);
	assert_true(n.last_ms > 0.0 && n.last_ms < 1000.0);
	assert_int_equal(json_integer_value(jfield(c, &o, "probes")),
	    (json_int_t)n.probes);
	assert_int_equal(c->nrecs, 1);
	json_decref(o);
}

static void
test_new_refuses(void **state)
{
	struct ctx *c = *state;
	struct service_check k = check_of(SERVICE_CHECK_HTTP, 80);

	k.path = (char *)"/a b";
	assert_null(service_health_new(c->base, &k, changed_cb, c));
	k.path = (char *)"health";
	assert_null(service_health_new(c->base, &k, changed_cb, c));
	k = check_of(SERVICE_CHECK_HTTP, 80);
	k.interval_ms = 0;
	assert_null(service_health_new(c->base, &k, changed_cb, c));
	k = check_of(SERVICE_CHECK_EXEC, 0);
	assert_null(service_health_new(c->base, &k, changed_cb, c));
	service_health_free(NULL);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_http_flips),
		T(test_http_status_range),
		T(test_http_refused),
		T(test_http_silent_times_out),
		T(test_grace),
		T(test_tcp),
		T(test_exec_true_false),
		T(test_exec_missing),
		T(test_exec_timeout_kills),
		T(test_exec_leftovers_killed),
		T(test_stop_in_flight_http),
		T(test_stop_in_flight_exec),
		T(test_changed_frees_restarts),
		T(test_history_bounded),
		T(test_new_refuses),
	};
#undef T

	/* A server's write to a closed connection must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	log_init("test_service_health", LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
