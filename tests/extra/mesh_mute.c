/*
 * agentflow-mesh-mute (tests/node.cmake): a mesh member with a valid
 * certificate that opens a Link stream and never sends a frame, not even
 * Hello, for tests/system/test_budgets.py.
 *
 *   agentflow-mesh-mute CA CERT KEY HOST:PORT PEER_ID SECONDS
 *
 * Prints one line per event, "opened MS" and "closed MS REASON" (MS since
 * the dial), or "timeout" after SECONDS with the stream still open, and
 * exits 0; 2 on bad arguments or files.
 */
#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "clock.h"
#include "file.h"
#include "transport.h"

struct mute {
	struct event_base	*base;
	uint64_t		 start_ms;
	int			 closed;
};

static void
opened(struct transport_stream *ts, void *arg)
{
	struct mute *m = arg;

	(void)ts;
	printf("opened %llu\n", (unsigned long long)(clock_mono_ms() - m->start_ms));
	fflush(stdout);
}

static void
message(struct transport_stream *ts, const uint8_t *buf, size_t len, void *arg)
{
	(void)ts;
	(void)buf;
	(void)len;
	(void)arg;
}

static void
closed(struct transport_stream *ts, const char *reason, void *arg)
{
	struct mute *m = arg;

	(void)ts;
	printf("closed %llu %s\n", (unsigned long long)(clock_mono_ms() -
	    m->start_ms), reason != NULL ? reason : "");
	fflush(stdout);
	m->closed = 1;
	event_base_loopexit(m->base, NULL);
}

static char *
pem(const char *path)
{
	char err[256];
	char *s = file_read(path, 1 << 20, NULL, NULL, err, sizeof(err));

	if (s == NULL) {
		fprintf(stderr, "agentflow-mesh-mute: %s: %s\n", path, err);
		exit(2);
	}
	return s;
}

int
main(int argc, char **argv)
{
	struct transport_config tc = { 0 };
	struct transport_callbacks cb = { opened, message, closed, NULL };
	struct transport *t;
	struct mute m;
	struct timeval tv = { 0, 0 };
	char err[512];
	char *ca, *cert, *key;

	if (argc != 7) {
		fprintf(stderr, "usage: agentflow-mesh-mute CA CERT KEY HOST:PORT "
		    "PEER_ID SECONDS\n");
		return 2;
	}
	evthread_use_pthreads();
	ca = pem(argv[1]);
	cert = pem(argv[2]);
	key = pem(argv[3]);
	tc.ca_pem = ca;
	tc.cert_pem = cert;
	tc.key_pem = key;
	m.base = event_base_new();
	m.closed = 0;
	if ((t = transport_new(m.base, &tc, &cb, &m, err, sizeof(err))) == NULL) {
		fprintf(stderr, "agentflow-mesh-mute: %s\n", err);
		return 2;
	}
	m.start_ms = clock_mono_ms();
	if (transport_dial(t, argv[4], argv[5]) == NULL) {
		fprintf(stderr, "agentflow-mesh-mute: cannot dial %s\n", argv[4]);
		return 2;
	}
	tv.tv_sec = atoi(argv[6]);
	event_base_loopexit(m.base, &tv);
	event_base_dispatch(m.base);
	if (!m.closed) {
		printf("timeout\n");
		fflush(stdout);
	}
	transport_free(t);
	event_base_free(m.base);
	free(ca);
	free(cert);
	free(key);
	return 0;
}
