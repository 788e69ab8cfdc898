/*
 * Unit tests of node/work/notify_mail.c's pure parts: an email channel's
 * fields (each refusal names its field and never repeats the password)
 * and the message it sends (headers, a subject in RFC 2047 words when it
 * is not ASCII, no header a hostile alert could add, no password); and
 * the queue of sends: one cancelled before the worker reached it leaves
 * at once, its slot free for the next; and a libcurl older than 7.85
 * (no CURLOPT_PROTOCOLS_STR) still lets a mail go nowhere but to SMTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "notify_curl.h"
#include "notify_mail.h"

#define PASSWORD	"Sekrit-pw-0042"

static struct notify_mail *
parse(const char *text, char *err, size_t errlen)
{
	json_t *c = json_loads(text, 0, NULL);
	struct notify_mail *m;

	assert_non_null(c);
	m = notify_mail_parse(c, err, errlen);
	json_decref(c);
	return m;
}

static void
refused(const char *text, const char *field)
{
	char err[512];

	assert_null(parse(text, err, sizeof(err)));
	if (strncmp(err, field, strlen(field)) != 0)
		fail_msg("%s: %s, not %s", text, err, field);
	assert_null(strstr(err, PASSWORD));
}

static void
test_refusals_name_the_field(void **state)
{
	(void)state;
	refused("{\"from\": \"a@b.c\", \"to\": [\"o@b.c\"]}", "url: required");
	refused("{\"url\": \"imap://h\", \"from\": \"a@b.c\", \"to\": [\"o@b.c\"]}",
	    "url:");
	refused("{\"url\": \"smtp://u:" PASSWORD "@h\", \"from\": \"a@b.c\", "
	    "\"to\": [\"o@b.c\"]}", "url:");
	refused("{\"url\": \"smtp://h\", \"to\": [\"o@b.c\"]}", "from:");
	refused("{\"url\": \"smtp://h\", \"from\": \"a@b.c\"}", "to:");
	refused("{\"url\": \"smtp://h\", \"from\": \"a@b.c\", \"to\": "
	    "[\"o@b.c\", \"o@b c\"]}", "to[1]:");
	refused("{\"url\": \"smtp://h\", \"from\": \"a@b.c\", \"to\": "
	    "[\"o@b.c\\r\\nBcc: x@y.z\"]}", "to[0]:");
	refused("{\"url\": \"smtp://h\", \"from\": \"a@b.c\", \"to\": [\"o@b.c\"],"
	    " \"username\": \"u\", \"password\": \"" PASSWORD "\", \"starttls\": "
	    "\"optional\"}", "starttls:");
	refused("{\"url\": \"smtp://h\", \"from\": \"a@b.c\", \"to\": [\"o@b.c\"],"
	    " \"password\": \"" PASSWORD "\"}", "password:");
	refused("{\"url\": \"smtp://h\", \"from\": \"a@b.c\", \"to\": [\"o@b.c\"],"
	    " \"username\": \"u\", \"password\": \"bad\\u0001" PASSWORD "\"}",
	    "password:");
}

static void
test_the_message(void **state)
{
	char err[512];
	struct notify_mail *m = parse("{\"url\": \"smtps://mail.example.net\", "
	    "\"from\": \"af@example.net\", \"to\": [\"a@example.net\", "
	    "\"b@example.org\"], \"username\": \"af\", \"password\": \""
	    PASSWORD "\"}", err, sizeof(err));
	json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:I, "
	    "s:I}", "alert_id", "a1-7", "rule", "disk_full", "severity",
	    "critical", "state", "firing", "subject", "/srv",
	    "message", "full\r\nBcc: evil@example.com", "value", 97.5,
	    "threshold", 90.0, "fired_ms", (json_int_t)1800000000000,
	    "resolved_ms", (json_int_t)0);
	size_t len;
	char *msg;

	(void)state;
	assert_non_null(m);
	assert_true(notify_mail_auth(m));
	msg = notify_mail_compose(m, "home-1", "mail",
	    "[firing] disk_full on home-1: /srv", a, 1800000000000, 0xabcdef01,
	    &len);
	assert_int_equal(strlen(msg), len);
	assert_non_null(strstr(msg, "Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"));
	assert_non_null(strstr(msg, "Message-ID: <agentflow.1800000000000."
	    "abcdef01@home-1>\r\n"));
	assert_non_null(strstr(msg, "From: af@example.net\r\n"));
	assert_non_null(strstr(msg, "To: a@example.net,\r\n b@example.org\r\n"));
	assert_non_null(strstr(msg, "Subject: [AgentFlow] [firing] disk_full on "
	    "home-1: /srv\r\n"));
	assert_non_null(strstr(msg, "Message:   full  Bcc: evil@example.com\r\n"));
	assert_non_null(strstr(msg, "Value:     97.5\r\n"));
	assert_non_null(strstr(msg, "Fired:     2027-01-15 08:00:00 UTC\r\n"));
	assert_null(strstr(msg, "Resolved:"));
	assert_null(strstr(msg, "\r\nBcc:"));
	assert_null(strstr(msg, PASSWORD));
	free(msg);
	/* not ASCII: encoded words, each of whole characters */
	msg = notify_mail_compose(m, "home-1", "mail",
	    "[firing] disk_full on home-1: /srv/données-été-ÄÖÜ-ñandú", a,
	    1800000000000, 1, &len);
	assert_non_null(strstr(msg, "Subject: =?UTF-8?B?"));
	*strstr(msg, "\r\n\r\n") = '\0';	/* the headers: ASCII */
	for (const char *p = msg; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	free(msg);
	json_decref(a);
	notify_mail_free(m);
}

#define QUEUE	256	/* notify_mail.c's QUEUE_MAX */

static void
never_done(void *arg, bool ok, const char *why)
{
	(void)ok;
	(void)why;
	fail_msg("done ran for a cancelled send %p", arg);
}

/* A server that takes connections (the kernel's backlog) and never
 * greets: the worker's first send waits there, the others queue. */
static int
silent_server(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
test_a_cancelled_send_frees_its_slot(void **state)
{
	struct notify_mail_send *s[QUEUE + 1];
	struct notify_mailer *mr;
	struct notify_mail *m;
	struct event_base *base;
	char err[512], doc[256];
	int port, fd;

	(void)state;
	evthread_use_pthreads();
	assert_non_null(base = event_base_new());
	fd = silent_server(&port);
	snprintf(doc, sizeof(doc), "{\"url\": \"smtp://127.0.0.1:%d\", "
	    "\"starttls\": \"off\", \"from\": \"a@b.c\", \"to\": "
	    "[\"o@b.c\"]}", port);
	/* parse() loaded libcurl already (the build requires it, and
	 * scripts/install-deps.sh installs it): no skip */
	assert_non_null(m = parse(doc, err, sizeof(err)));
	assert_non_null(mr = notify_mailer_new(base));
	for (int i = 0; i < QUEUE; i++)
		assert_non_null(s[i] = notify_mail_send(mr, m, "x", 1,
		    never_done, NULL));
	assert_null(notify_mail_send(mr, m, "x", 1, never_done, NULL));
	/* The worker is on s[0] (or about to be); s[100] waits: cancelled,
	 * its slot is free now, not once the worker gets to it. */
	notify_mail_cancel(s[100]);
	assert_non_null(s[QUEUE] = notify_mail_send(mr, m, "x", 1, never_done,
	    NULL));
	assert_null(notify_mail_send(mr, m, "x", 1, never_done, NULL));
	for (int i = 0; i <= QUEUE; i++)
		if (i != 100)
			notify_mail_cancel(s[i]);
	/* Every waiting one left: those still queued at once, any the worker
	 * took before its cancel (it moves on as soon as s[0]'s socket is
	 * shut) once the loop runs their done.  So the queue takes QUEUE - 1
	 * again within a few turns (the worker may still hold one). */
	for (int i = 0, tries = 0; i < QUEUE - 1; i++) {
		while ((s[i] = notify_mail_send(mr, m, "x", 1, never_done,
		    NULL)) == NULL && tries++ < 500) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			usleep(10 * 1000);
		}
		assert_non_null(s[i]);
	}
	for (int i = 0; i < QUEUE - 1; i++)
		notify_mail_cancel(s[i]);
	notify_mailer_free(mr);
	notify_mail_free(m);
	close(fd);
	event_base_free(base);
}

/* libcurl's curl_easy_setopt as one older than 7.85 answers: it knows no
 * CURLOPT_PROTOCOLS_STR.  Every other option goes to the real one, its
 * argument read by the option's type as curl itself reads it. */
static CURLcode (*real_setopt)(CURL *, CURLoption, ...);
static int str_asked;

static CURLcode
old_setopt(CURL *easy, CURLoption opt, ...)
{
	CURLcode rc;
	va_list ap;

	if (opt == CURLOPT_PROTOCOLS_STR) {
		str_asked++;
		return CURLE_UNKNOWN_OPTION;
	}
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = real_setopt(easy, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = real_setopt(easy, opt, va_arg(ap, void *));
	else
		rc = real_setopt(easy, opt, va_arg(ap, curl_off_t));
	va_end(ap);
	return rc;
}

/* An http:// URL, after notify_curl_protocols(c, "smtp,smtps"): curl
 * refuses it before it connects (the server would never answer). */
static void
only_smtp(const struct notify_curl *c, int port)
{
	char url[64];
	CURL *easy;

	assert_non_null(easy = c->easy_init());
	assert_int_equal(notify_curl_protocols(c, easy, "smtp,smtps",
	    CURLPROTO_SMTP | CURLPROTO_SMTPS), CURLE_OK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	assert_int_equal(c->easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
	assert_int_equal(c->easy_setopt(easy, CURLOPT_TIMEOUT, 3L), CURLE_OK);
	assert_int_equal(c->easy_perform(easy), CURLE_UNSUPPORTED_PROTOCOL);
	c->easy_cleanup(easy);
}

static void
test_an_older_libcurl_still_speaks_only_smtp(void **state)
{
	struct notify_curl old;
	const struct notify_curl *c;
	char err[256];
	int port, fd;

	(void)state;
	assert_non_null(c = notify_curl(err, sizeof(err)));
	fd = silent_server(&port);
	only_smtp(c, port);		/* this machine's libcurl */
	old = *c;
	real_setopt = c->easy_setopt;
	old.easy_setopt = old_setopt;
	only_smtp(&old, port);
	assert_int_equal(str_asked, 1);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals_name_the_field),
		cmocka_unit_test(test_the_message),
		cmocka_unit_test(test_a_cancelled_send_frees_its_slot),
		cmocka_unit_test(test_an_older_libcurl_still_speaks_only_smtp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
