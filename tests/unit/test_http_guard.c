/* Unit tests of common/http_guard.c: a real evhttp server on 127.0.0.1 and
 * plain sockets as clients, in one process and one event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_guard.h"

struct fixture {
	struct event_base	*base;
	struct evhttp		*http;
	struct http_guard	*guard;
	int			 port;
};

static void
gen_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *f = arg;
	struct evbuffer *b = evbuffer_new();

	http_guard_request(f->guard, req);
	evbuffer_add_printf(b, "ok");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
run_ms(struct fixture *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

static int
setup(void **state)
{
	static struct fixture f;
	struct http_guard_config gc = { 300, 2, "test" };
	struct evhttp_bound_socket *b;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	f.http = evhttp_new(f.base);
	f.guard = http_guard_new(f.base, f.http, &gc, NULL, NULL);
	evhttp_set_gencb(f.http, gen_cb, &f);
	b = evhttp_bind_socket_with_handle(f.http, "127.0.0.1", 0);
	assert_non_null(b);
	getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&sin, &sl);
	f.port = ntohs(sin.sin_port);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	evhttp_free(f->http);
	http_guard_free(f->guard);
	event_base_free(f->base);
	return 0;
}

static int
client(struct fixture *f, const char *send_first)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_port = htons((uint16_t)f->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (send_first != NULL)
		assert_true(write(s, send_first, strlen(send_first)) > 0);
	return s;
}

/* 1 when the server closed s (EOF or reset), 0 while it is open. */
static int
closed(int s)
{
	char buf[256];
	ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void
test_cap_then_deadline(void **state)
{
	struct fixture *f = *state;
	int a = client(f, "GET / HTTP/1.1\r\n");
	int b = client(f, "GET / HTTP/1.1\r\n");
	int c;

	run_ms(f, 50);
	c = client(f, "GET / HTTP/1.1\r\n");
	run_ms(f, 100);
	/* the third from the same address is closed, the first two are not */
	assert_true(closed(c));
	assert_false(closed(a));
	assert_false(closed(b));
	assert_int_equal(http_guard_refused(f->guard), 1);
	/* they never finish their headers: cut at the deadline */
	run_ms(f, 1500);
	assert_true(closed(a));
	assert_true(closed(b));
	assert_int_equal(http_guard_cut(f->guard), 2);
	close(a);
	close(b);
	close(c);
	/* gone, so this address is served again */
	run_ms(f, 50);
	a = client(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	run_ms(f, 100);
	{
		char buf[256];
		ssize_t n = recv(a, buf, sizeof(buf) - 1, MSG_DONTWAIT);

		assert_true(n > 12);
		assert_memory_equal(buf, "HTTP/1.1 200", 12);
	}
	close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cap_then_deadline, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
