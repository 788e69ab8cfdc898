/*
 * agentflow-healthcheck: the images' HEALTHCHECK, and a liveness probe for a
 * host install.  GETs /healthz of a daemon on this machine and exits 0 on
 * "200", 1 otherwise (with the reason on stderr), within 5 seconds; USAGE
 * below says how it finds the daemon, and is all of --help and of the
 * manual page (--help-man), so the two cannot differ.
 *
 * A wildcard host (0.0.0.0, [::]) is asked on loopback.  HTTPS is not
 * verified: this is a liveness probe of our own process over loopback, and
 * it sends nothing secret.  It needs only mbedTLS, which both daemons link
 * already, so the signal image carries no curl.  Built and installed by
 * deploy/CMakeLists.txt (package agentflow-node) with the project's
 * warnings; the images take it from that build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "man.h"

#define TIMEOUT_S	5

static const char USAGE[] =
    "usage: agentflow-healthcheck node|signal|URL\n"
    "Asks a daemon's /healthz: exit 0 when it answers 200, 1 otherwise "
    "(the reason on stderr), within 5 seconds.  Which daemon:\n"
    "  node     http://$AGENTFLOW_API/healthz (default 127.0.0.1:8080)\n"
    "  signal   $AGENTFLOW_LISTEN/healthz (default 127.0.0.1:7000), https:// "
    "when $AGENTFLOW_TLS_CERT is set\n"
    "  URL      http://HOST:PORT/PATH or https://HOST:PORT/PATH\n"
    "A wildcard host (0.0.0.0, [::]) is asked on loopback; HTTPS is not "
    "verified.  Exit 2: a usage error.\n";

/* The manual page: USAGE's first line the synopsis, the rest the text. */
static void
print_man(void)
{
	const char *synopsis = USAGE + strlen("usage: ");
	size_t synlen = strcspn(synopsis, "\n");
	const char *desc = synopsis + synlen + 1;

	man_head(stdout, "agentflow-healthcheck", desc);
	printf(".SH SYNOPSIS\n");
	man_text(stdout, synopsis, synlen);
	printf("\n.SH DESCRIPTION\n.nf\n");
	man_puts(stdout, desc);
	printf(".fi\n.SH SEE ALSO\n.BR agentflow\\-node (1),\n"
	    ".BR agentflow\\-signal (1)\n");
}

static int
fail(const char *url, const char *what)
{
	fprintf(stderr, "agentflow-healthcheck: %s: %s\n", url, what);
	return 1;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port; wildcards become loopback. */
static int
split(const char *hp, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	size_t n;

	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		n = (size_t)(end - hp - 1);
		colon = end + 1;
		hp++;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL)
			return -1;
		n = (size_t)(colon - hp);
	}
	if (n == 0 || n >= hostlen || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, hp, n);
	host[n] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, hostlen, "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, hostlen, "::1");
	return 0;
}

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : def;
}

int
main(int argc, char **argv)
{
	char url[600], host[256], port[16], req[512], resp[64];
	const char *hp, *path, *tls_cert;
	int tls, n, got = 0, rc = 1;
	mbedtls_net_context fd;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;

	if (argc != 2) {
		fputs(USAGE, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--help-man") == 0) {
		print_man();
		return 0;
	}
	if (strcmp(argv[1], "node") == 0) {
		snprintf(url, sizeof(url), "http://%s/healthz",
		    env_or("AGENTFLOW_API", "127.0.0.1:8080"));
	} else if (strcmp(argv[1], "signal") == 0) {
		tls_cert = getenv("AGENTFLOW_TLS_CERT");
		snprintf(url, sizeof(url), "%s://%s/healthz",
		    tls_cert != NULL && tls_cert[0] != '\0' ? "https" : "http",
		    env_or("AGENTFLOW_LISTEN", "127.0.0.1:7000"));
	} else
		snprintf(url, sizeof(url), "%s", argv[1]);

	if (strncmp(url, "http://", 7) == 0)
		tls = 0, hp = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		tls = 1, hp = url + 8;
	else
		return fail(url, "not an http:// or https:// URL");
	{
		char hostport[300];
		const char *slash = strchr(hp, '/');
		size_t len = slash != NULL ? (size_t)(slash - hp) : strlen(hp);

		path = slash != NULL ? slash : "/";
		if (len >= sizeof(hostport))
			return fail(url, "host too long");
		memcpy(hostport, hp, len);
		hostport[len] = '\0';
		if (split(hostport, host, sizeof(host), port, sizeof(port)) != 0)
			return fail(url, "not HOST:PORT");
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: agentflow-healthcheck\r\n\r\n", path, host);

	alarm(TIMEOUT_S);	/* the default action ends us: unhealthy */
	mbedtls_net_init(&fd);
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_net_connect(&fd, host, port, MBEDTLS_NET_PROTO_TCP) != 0) {
		fail(url, "cannot connect");
		goto out;
	}
	if (tls) {
		if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
		    NULL, 0) != 0 ||
		    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
		    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
			fail(url, "cannot set up TLS");
			goto out;
		}
		mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
		mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
		if (mbedtls_ssl_setup(&ssl, &conf) != 0) {
			fail(url, "cannot set up TLS");
			goto out;
		}
		mbedtls_ssl_set_bio(&ssl, &fd, mbedtls_net_send,
		    mbedtls_net_recv, NULL);
		while ((n = mbedtls_ssl_handshake(&ssl)) != 0) {
			if (n != MBEDTLS_ERR_SSL_WANT_READ &&
			    n != MBEDTLS_ERR_SSL_WANT_WRITE) {
				fail(url, "TLS handshake failed");
				goto out;
			}
		}
		n = mbedtls_ssl_write(&ssl, (const unsigned char *)req,
		    strlen(req));
	} else
		n = mbedtls_net_send(&fd, (const unsigned char *)req,
		    strlen(req));
	if (n != (int)strlen(req)) {
		fail(url, "cannot send the request");
		goto out;
	}
	/* "HTTP/1.x 200" is all we need. */
	while (got < (int)sizeof(resp) - 1) {
		n = tls ? mbedtls_ssl_read(&ssl, (unsigned char *)resp + got,
		    sizeof(resp) - 1 - (size_t)got) :
		    mbedtls_net_recv(&fd, (unsigned char *)resp + got,
		    sizeof(resp) - 1 - (size_t)got);
		if (n <= 0)
			break;
		got += n;
	}
	resp[got] = '\0';
	if (got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0 &&
	    strncmp(resp + 8, " 200", 4) == 0)
		rc = 0;
	else {
		char *eol = strpbrk(resp, "\r\n");

		if (eol != NULL)
			*eol = '\0';
		fprintf(stderr, "agentflow-healthcheck: %s: answered \"%s\"\n",
		    url, got > 0 ? resp : "nothing");
	}
out:
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	mbedtls_net_free(&fd);
	return rc;
}
