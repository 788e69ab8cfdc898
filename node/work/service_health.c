/*
 * Health checks of services (see service_health.h).
 *
 * A check runs one probe at a time, a small state machine on the loop
 * thread:
 *
 *   probe   event                              function       next
 *   ------  ---------------------------------  -------------  ------
 *   IDLE    tick (grace, then every interval)  tick_cb        FLYING
 *   FLYING  status line, connect, exit, error  probe_finish   DONE
 *   FLYING  timeout_ms passed                  deadline_cb    DONE
 *   DONE    the next turn of the loop          done_cb        IDLE
 *   any     stop, start, free                  probe_abandon  IDLE
 *
 * A result is recorded, and changed() called, only from done_cb.  The
 * libevent objects a probe used (an evhttp connection, a bufferevent) are
 * freed there, outside their own callbacks (STYLE.md: never free an
 * object inside its own callback chain), and since nothing of the probe
 * is left when changed() runs, changed() may stop, restart or free the
 * check.
 *
 * A command's process can outlive its probe: killed at its timeout or on
 * stop, it is not gone until it is reaped.  h->pid stays set until the
 * poll timer reaps it (by pid; never waitpid(-1), other modules have
 * children of their own), and no probe starts while it is set, so a
 * check never has two processes.
 */
#include "service_health.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/util.h>

#include "check.h"
#include "clock.h"
#include "log.h"
#include "service_spec.h"
#include "text.h"
#include "xalloc.h"

#define POLL_FIRST_MS		1	/* waitpid polls back off from here */
#define POLL_MAX_MS		20
#define HTTP_HEADERS_MAX	16384
#define HTTP_BODY_MAX		65536

extern char **environ;

enum probe {
	PROBE_IDLE,
	PROBE_FLYING,
	PROBE_DONE
};

struct result {
	int		 ok;
	uint64_t	 us;		/* latency */
	uint64_t	 at_ms;		/* wall time it was known */
	char		 output[SERVICE_HEALTH_OUTPUT_MAX + 1];
};

struct service_health {
	struct event_base	*base;
	service_health_cb	*changed;
	void			*arg;

	/* The check, copied. */
	char			 name[SERVICE_NAME_MAX + 1];
	enum service_check_type	 type;
	uint16_t		 port;
	char			*path;
	int			 status_min;
	int			 status_max;
	char			**argv;
	uint64_t		 interval_ms;
	uint64_t		 timeout_ms;
	uint64_t		 grace_ms;
	unsigned		 failures;
	unsigned		 successes;

	/* The probe. */
	int			 running;	/* between start and stop */
	enum probe		 probe;
	uint64_t		 started_us;	/* monotonic */
	struct result		 cur;		/* set when DONE */
	struct event		*tick;
	struct event		*deadline;
	struct event		*poll;
	struct event		*done;
	struct evhttp_connection *evcon;
	int			 http_error;	/* enum evhttp_request_error; -1 */
	struct bufferevent	*bev;
	pid_t			 pid;		/* running or killed, unreaped */
	int			 killed;
	uint64_t		 poll_ms;

	/* The verdict. */
	int			 verdict;	/* -1 unknown, 0, 1 */
	unsigned		 ok_run;
	unsigned		 fail_run;
	uint64_t		 probes;
	uint64_t		 nfailures;
	struct result		 hist[SERVICE_HEALTH_HISTORY];	/* a ring */
	size_t			 hnext;
	size_t			 nhist;

	int			 in_changed;
	int			 free_asked;
};

static const char *const type_names[] = {
	[SERVICE_CHECK_HTTP] = "http",
	[SERVICE_CHECK_TCP] = "tcp",
	[SERVICE_CHECK_EXEC] = "exec"
};

static void	probe_finish(struct service_health *, int ok, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
check_health(const struct service_health *h)
{
	/* Only a running check probes; only a probe holds connections; a
	 * killed process is one not yet reaped. */
	CHECK(h->running || h->probe == PROBE_IDLE);
	CHECK(h->probe != PROBE_IDLE || (h->evcon == NULL && h->bev == NULL));
	CHECK(!h->killed || h->pid != 0);
	CHECK(h->verdict >= -1 && h->verdict <= 1);
}

static void
arm(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	CHECK(event_add(ev, &tv) == 0);
}

/* strerror(e), starting in lower case as the rest of our outputs do. */
static const char *
errtext(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* ---- processes ----------------------------------------------------- */

/* The process runs in its own group (pgid = pid): kill all of it. */
static void
kill_group(struct service_health *h)
{
	if (h->pid == 0 || h->killed)
		return;
	if (kill(-h->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("health check %s: killing process group %ld", h->name,
		    (long)h->pid);
	h->killed = 1;
}

static void
exec_start(struct service_health *h)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid;
	int fd, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	for (fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null",
		    fd == 0 ? O_RDONLY : O_WRONLY, 0);
	/* Nothing of the node's (sockets, the database) for the check. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigfillset(&dfl);
	sigdelset(&dfl, SIGKILL);
	sigdelset(&dfl, SIGSTOP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, h->argv[0], &fa, &at, h->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		char e[128];

		/* glibc has reaped a child whose exec failed. */
		probe_finish(h, 0, "cannot run %s: %s", h->argv[0],
		    errtext(rc, e, sizeof e));
		return;
	}
	h->pid = pid;
	h->killed = 0;
	h->poll_ms = POLL_FIRST_MS;
	arm(h->poll, h->poll_ms);
}

/*
 * Polls the process (or a killed one) without reaping it until it has
 * ended, so that its pid still names its group while what it left behind
 * there is killed; then reaps it.
 */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service_health *h = arg;
	siginfo_t si;
	pid_t pid = h->pid;

	(void)fd;
	(void)what;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
		if (errno == EINTR) {
			arm(h->poll, h->poll_ms);
			return;
		}
		/* Reaped by someone else (SIGCHLD ignored?): nothing to
		 * wait for, and no status to judge by. */
		log_warn("health check %s: waiting for pid %ld", h->name,
		    (long)pid);
		h->pid = 0;
		h->killed = 0;
		probe_finish(h, 0, "the check's process was lost");
		return;
	}
	if (si.si_pid == 0) {
		if (h->poll_ms < POLL_MAX_MS)
			h->poll_ms *= 2;
		arm(h->poll, h->poll_ms > POLL_MAX_MS ? POLL_MAX_MS : h->poll_ms);
		return;
	}
	if (kill(-pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("health check %s: killing process group %ld", h->name,
		    (long)pid);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	h->pid = 0;
	if (h->killed) {
		h->killed = 0;
		return;		/* its probe has ended already */
	}
	if (si.si_code == CLD_EXITED)
		probe_finish(h, si.si_status == 0, "exit %d", si.si_status);
	else
		probe_finish(h, 0, "killed by signal %d", si.si_status);
}

/* ---- connections --------------------------------------------------- */

static int
http_header_cb(struct evhttp_request *req, void *arg)
{
	struct service_health *h = arg;
	int code = evhttp_request_get_response_code(req);

	/* The status line is the verdict: the body is not waited for. */
	probe_finish(h, code >= h->status_min && code <= h->status_max,
	    "HTTP %d", code);
	return 0;
}

static void
http_error_cb(enum evhttp_request_error e, void *arg)
{
	struct service_health *h = arg;

	h->http_error = (int)e;
}

static const char *
http_error_text(int e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed before a response";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid HTTP response";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "HTTP response too large";
	default:
		return "connection error";
	}
}

static void
http_done_cb(struct evhttp_request *req, void *arg)
{
	struct service_health *h = arg;
	int code;

	/* A failure after the connect comes with no request, its kind told
	 * to http_error_cb just before. */
	if (req == NULL) {
		probe_finish(h, 0, "%s", http_error_text(h->http_error));
		return;
	}
	/* evhttp keeps the connect's errno to itself. */
	code = evhttp_request_get_response_code(req);
	if (code == 0) {
		probe_finish(h, 0, "cannot connect to 127.0.0.1:%u",
		    (unsigned)h->port);
		return;
	}
	probe_finish(h, code >= h->status_min && code <= h->status_max,
	    "HTTP %d", code);
}

static void
http_start(struct service_health *h)
{
	struct evhttp_request *req;
	struct evkeyvalq *hdr;
	struct timeval tv;
	char host[32];
	/* evhttp's own timeout only as a backstop to ours. */
	uint64_t ms = h->timeout_ms + 1000;

	h->http_error = -1;
	h->evcon = evhttp_connection_base_new(h->base, NULL, "127.0.0.1",
	    h->port);
	req = h->evcon != NULL ? evhttp_request_new(http_done_cb, h) : NULL;
	if (req == NULL) {
		probe_finish(h, 0, "cannot make an HTTP request");
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(h->evcon, &tv);
	evhttp_connection_set_retries(h->evcon, 0);
	evhttp_connection_set_max_headers_size(h->evcon, HTTP_HEADERS_MAX);
	evhttp_connection_set_max_body_size(h->evcon, HTTP_BODY_MAX);
	evhttp_request_set_header_cb(req, http_header_cb);
	evhttp_request_set_error_cb(req, http_error_cb);
	hdr = evhttp_request_get_output_headers(req);
	snprintf(host, sizeof host, "127.0.0.1:%u", (unsigned)h->port);
	evhttp_add_header(hdr, "Host", host);
	evhttp_add_header(hdr, "User-Agent", "agentflow-health");
	evhttp_add_header(hdr, "Connection", "close");
	/* A refused connect may answer from inside this call. */
	if (evhttp_make_request(h->evcon, req, EVHTTP_REQ_GET, h->path) == -1)
		probe_finish(h, 0, "cannot send the HTTP request");
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct service_health *h = arg;
	char e[128];
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		probe_finish(h, 1, "connected");
	else
		probe_finish(h, 0, "%s", err != 0 ? errtext(err, e, sizeof e) :
		    "cannot connect");
}

static void
tcp_start(struct service_health *h)
{
	struct sockaddr_in sin;
	char e[128];

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(h->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->bev = bufferevent_socket_new(h->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (h->bev == NULL) {
		probe_finish(h, 0, "cannot make a socket");
		return;
	}
	bufferevent_setcb(h->bev, NULL, NULL, tcp_event_cb, h);
	/* On failure the event callback may have finished the probe. */
	if (bufferevent_socket_connect(h->bev, (struct sockaddr *)&sin,
	    sizeof sin) == -1)
		probe_finish(h, 0, "cannot connect: %s",
		    errtext(EVUTIL_SOCKET_ERROR(), e, sizeof e));
}

/* ---- the probe ----------------------------------------------------- */

/* Records the probe's result for done_cb; later calls change nothing. */
static void
probe_finish(struct service_health *h, int ok, const char *fmt, ...)
{
	char buf[SERVICE_HEALTH_OUTPUT_MAX * 2];
	va_list ap;

	if (h->probe != PROBE_FLYING)
		return;
	h->probe = PROBE_DONE;
	h->cur.ok = ok != 0;
	h->cur.us = clock_mono_us() - h->started_us;
	h->cur.at_ms = clock_wall_ms();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	text_copy(h->cur.output, sizeof h->cur.output, buf, true);
	event_del(h->deadline);
	event_active(h->done, EV_TIMEOUT, 1);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service_health *h = arg;

	uint64_t us = clock_mono_us() - h->started_us;

	(void)fd;
	(void)what;
	/* libevent may time with a coarse clock, a few ms early by ours:
	 * the probe gets all of its time. */
	if (us < h->timeout_ms * 1000) {
		arm(h->deadline, (h->timeout_ms * 1000 - us + 999) / 1000);
		return;
	}
	kill_group(h);
	probe_finish(h, 0, "timed out after %" PRIu64 " ms", h->timeout_ms);
}

/* Frees what the probe holds; a killed process is left to poll_cb. */
static void
probe_abandon(struct service_health *h)
{
	kill_group(h);
	if (h->evcon != NULL) {
		evhttp_connection_free(h->evcon);
		h->evcon = NULL;
	}
	if (h->bev != NULL) {
		bufferevent_free(h->bev);
		h->bev = NULL;
	}
	event_del(h->deadline);
	event_del(h->done);
	h->probe = PROBE_IDLE;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service_health *h = arg;

	(void)fd;
	(void)what;
	check_health(h);
	CHECK(h->running && h->probe == PROBE_IDLE);
	if (h->pid != 0) {
		/* The last probe's process, killed, is not reaped yet. */
		arm(h->tick, POLL_MAX_MS);
		return;
	}
	h->probe = PROBE_FLYING;
	h->started_us = clock_mono_us();
	arm(h->deadline, h->timeout_ms);
	switch (h->type) {
	case SERVICE_CHECK_HTTP:
		http_start(h);
		break;
	case SERVICE_CHECK_TCP:
		tcp_start(h);
		break;
	case SERVICE_CHECK_EXEC:
		exec_start(h);
		break;
	}
}

/*
 * Adds r to the history and counts; returns the new verdict when it
 * changed (why saying so), else -1.
 */
static int
record(struct service_health *h, const struct result *r, char *why,
    size_t whylen)
{
	unsigned n, *run;

	h->hist[h->hnext] = *r;
	h->hnext = (h->hnext + 1) % SERVICE_HEALTH_HISTORY;
	if (h->nhist < SERVICE_HEALTH_HISTORY)
		h->nhist++;
	h->probes++;
	if (!r->ok)
		h->nfailures++;
	*(r->ok ? &h->fail_run : &h->ok_run) = 0;
	run = r->ok ? &h->ok_run : &h->fail_run;
	if (*run < UINT_MAX)
		(*run)++;
	if (h->verdict == r->ok || *run < (r->ok ? h->successes : h->failures))
		return -1;
	h->verdict = r->ok;
	n = *run;
	snprintf(why, whylen, "%s, %u %s in a row", r->output, n,
	    r->ok ? (n == 1 ? "success" : "successes") :
	    (n == 1 ? "failure" : "failures"));
	return h->verdict;
}

static void	destroy(struct service_health *);

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service_health *h = arg;
	char why[SERVICE_HEALTH_OUTPUT_MAX + 64];
	uint64_t elapsed;
	int verdict;

	(void)fd;
	(void)what;
	check_health(h);
	CHECK(h->running && h->probe == PROBE_DONE);
	probe_abandon(h);
	verdict = record(h, &h->cur, why, sizeof why);
	/* Start to start; a probe that took its whole interval is followed
	 * at once. */
	elapsed = (clock_mono_us() - h->started_us) / 1000;
	arm(h->tick, elapsed >= h->interval_ms ? 0 : h->interval_ms - elapsed);
	if (verdict == -1 || h->changed == NULL)
		return;
	h->in_changed = 1;
	h->changed(verdict, why, h->arg);
	h->in_changed = 0;
	if (h->free_asked)
		destroy(h);
}

/* ---- the interface ------------------------------------------------- */

static int
path_plain(const char *p)
{
	if (p == NULL || p[0] != '/')
		return 0;
	/* A space or a control character would break the request line. */
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
			return 0;
	return 1;
}

struct service_health *
service_health_new(struct event_base *base, const struct service_check *c,
    service_health_cb *changed, void *arg)
{
	struct service_health *h;
	size_t i;

	if (c->interval_ms == 0 || c->timeout_ms == 0 || c->failures == 0 ||
	    c->successes == 0)
		return NULL;
	if (c->type == SERVICE_CHECK_HTTP && !path_plain(c->path))
		return NULL;
	if (c->type == SERVICE_CHECK_EXEC && (c->argc == 0 ||
	    c->argv == NULL || c->argv[0] == NULL))
		return NULL;
	if (c->type != SERVICE_CHECK_HTTP && c->type != SERVICE_CHECK_TCP &&
	    c->type != SERVICE_CHECK_EXEC)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->base = base;
	h->changed = changed;
	h->arg = arg;
	snprintf(h->name, sizeof h->name, "%s", c->name);
	h->type = c->type;
	h->port = c->port;
	h->status_min = c->status_min;
	h->status_max = c->status_max;
	if (c->type == SERVICE_CHECK_HTTP)
		h->path = xstrdup(c->path);
	if (c->type == SERVICE_CHECK_EXEC) {
		h->argv = xcalloc(c->argc + 1, sizeof *h->argv);
		for (i = 0; i < c->argc && c->argv[i] != NULL; i++)
			h->argv[i] = xstrdup(c->argv[i]);
	}
	h->interval_ms = c->interval_ms;
	h->timeout_ms = c->timeout_ms;
	h->grace_ms = c->grace_ms;
	h->failures = c->failures;
	h->successes = c->successes;
	h->verdict = -1;
	h->tick = evtimer_new(base, tick_cb, h);
	h->deadline = evtimer_new(base, deadline_cb, h);
	h->poll = evtimer_new(base, poll_cb, h);
	h->done = evtimer_new(base, done_cb, h);
	if (h->tick == NULL || h->deadline == NULL || h->poll == NULL ||
	    h->done == NULL)
		fatalx("health check %s: cannot make its events", h->name);
	return h;
}

void
service_health_start(struct service_health *h)
{
	service_health_stop(h);
	h->running = 1;
	arm(h->tick, h->grace_ms);
}

void
service_health_stop(struct service_health *h)
{
	h->running = 0;
	event_del(h->tick);
	probe_abandon(h);
	h->verdict = -1;
	h->ok_run = h->fail_run = 0;
	check_health(h);
}

static void
destroy(struct service_health *h)
{
	size_t i;

	/* Killed by the stop before: waits only for the kernel. */
	while (h->pid != 0 && waitpid(h->pid, NULL, 0) == -1 && errno == EINTR)
		;
	event_free(h->tick);
	event_free(h->deadline);
	event_free(h->poll);
	event_free(h->done);
	free(h->path);
	for (i = 0; h->argv != NULL && h->argv[i] != NULL; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h);
}

void
service_health_free(struct service_health *h)
{
	if (h == NULL)
		return;
	service_health_stop(h);
	if (h->in_changed)
		h->free_asked = 1;	/* done_cb frees it on return */
	else
		destroy(h);
}

static json_t *
result_json(const struct result *r)
{
	return json_pack("{s:b, s:f, s:I, s:s}", "ok", r->ok,
	    "ms", (double)r->us / 1000.0, "at_ms", (json_int_t)r->at_ms,
	    "output", r->output);
}

json_t *
service_health_json(const struct service_health *h)
{
	static const char *const status[] = { "unknown", "unhealthy",
	    "healthy" };
	json_t *o, *hist;
	size_t i, first;

	hist = json_array();
	first = (h->hnext + SERVICE_HEALTH_HISTORY - h->nhist) %
	    SERVICE_HEALTH_HISTORY;
	for (i = 0; i < h->nhist; i++)
		json_array_append_new(hist, result_json(&h->hist[(first + i) %
		    SERVICE_HEALTH_HISTORY]));
	o = json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:o}",
	    "name", h->name, "type", type_names[h->type],
	    "running", h->running, "status", status[h->verdict + 1],
	    "consecutive_successes", (json_int_t)h->ok_run,
	    "consecutive_failures", (json_int_t)h->fail_run,
	    "probes", (json_int_t)h->probes,
	    "failures", (json_int_t)h->nfailures, "history", hist);
	CHECK(o != NULL);
	json_object_set_new(o, "last", h->nhist == 0 ? json_null() :
	    result_json(&h->hist[(h->hnext + SERVICE_HEALTH_HISTORY - 1) %
	    SERVICE_HEALTH_HISTORY]));
	return o;
}

void
service_health_counters(const struct service_health *h,
    struct service_health_counters *c)
{
	c->probes = h->probes;
	c->failures = h->nfailures;
	c->last_ms = h->nhist == 0 ? 0 : (double)h->hist[(h->hnext +
	    SERVICE_HEALTH_HISTORY - 1) % SERVICE_HEALTH_HISTORY].us / 1000.0;
}
