/*
 * E-mail notifications (notify_mail.h): an email channel's fields, its
 * message, and the sending.
 *
 * libcurl speaks SMTP (EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA
 * with its dot-stuffing) on one worker thread, one mail at a time, with
 * curl_easy_perform.  Not curl's multi-socket API on the loop: libcurl
 * 7.88 (Debian 12) waits *blocking* inside curl_multi_socket_action and
 * curl_multi_remove_handle for the reply to the end of DATA (smtp_done)
 * and to QUIT (smtp_disconnect), up to the server's response timeout,
 * so a slow or silent mail server would stall the whole node (seen here:
 * a cancel of a send to a server that never greets held the loop until
 * SIGKILL).  The worker is workq's (one thread, owning nothing of the
 * node's; the outcome comes back on the loop), its queue bounded as
 * notify.c's notices are.  A cancel (notify.c dropping a notice, or the
 * node stopping) marks the send, shuts its sockets down (curl opens and
 * closes them through our callbacks, under the lock, so the numbers are
 * never stale) and the progress callback ends the transfer; the stop
 * joins the worker, which is then back within about a second.  done runs
 * from an event, never inside notify_mail_send, so a caller may start
 * one anywhere.
 *
 * TLS: smtps:// is TLS from the first byte; smtp:// with starttls
 * "required" (the default) upgrades or fails, "optional" upgrades when
 * the server offers it, "off" never does.  A password goes only where it
 * cannot be sent in the clear by a server that hides STARTTLS: smtps://,
 * "required", or "off" said on purpose.
 */
#include "notify_mail.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <mbedtls/base64.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "json_check.h"
#include "log.h"
#include "notify_curl.h"
#include "text.h"
#include "workq.h"
#include "xalloc.h"

#define ADDR_MAX	254
#define SECRET_MAX	256
#define PREFIX_MAX	64
#define PATH_MAX_LEN	1024
#define FIELD_MAX	900	/* a body line stays under SMTP's 998 */
#define CONNECT_S	10L
#define TRANSFER_S	30L
#define QUEUE_MAX	256	/* notify.c's bound on waiting notices */
#define SOCKETS_MAX	4	/* happy eyeballs: two at a time */

/* libcurl, once a channel's URL is checked (notify_curl.h). */
static const struct notify_curl *C;

enum starttls { TLS_REQUIRED, TLS_OPTIONAL, TLS_OFF, TLS_IMPLICIT };

struct notify_mail {
	char		*url;
	enum starttls	 tls;
	char		*ca;		/* NULL: the system's */
	char		*from;
	char		*to[NOTIFY_MAIL_TO_MAX];
	size_t		 nto;
	char		*username;	/* NULL: no AUTH */
	char		*password;
	char		*prefix;
};

/* A send waits in the workq, runs on the worker (busy), then its done
 * runs on the loop.  A cancel (notify.c dropping a notice, or the stop)
 * takes a waiting one out of the queue at once (workq_withdraw), or
 * marks it: one the worker has just taken is skipped, the busy one has
 * its sockets shut down and its progress callback ends it, and done()
 * frees it without telling anyone.  lock guards cancelled, stopping, busy and the busy
 * send's sockets; the worker reads the message and channel without it
 * (the loop leaves them alone; the channel outlives the mailer). */
struct notify_mail_send {
	struct notify_mailer	*mr;
	const struct notify_mail *m;
	char			*msg;
	size_t			 len, off;
	bool			 cancelled;
	CURLcode		 rc;		/* the worker's outcome */
	long			 code;		/* the server's last reply */
	notify_mail_done_fn	*done;
	void			*arg;
};

struct notify_mailer {
	struct workq		*wq;		/* one worker */
	pthread_mutex_t		 lock;
	bool			 stopping;
	struct notify_mail_send	*busy;
	curl_socket_t		 fds[SOCKETS_MAX];	/* busy's */
	size_t			 nfds;
};

static const char *const fields[] = { "url", "starttls", "ca", "from", "to",
    "username", "password", "password_file", "password_env",
    "subject_prefix" };

bool
notify_mail_field(const char *key)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(key, fields[i]) == 0)
			return true;
	return false;
}

/* --- the fields ------------------------------------------------------------ */

/* The string c[key], text of 1-max bytes (0-max with empty_ok); NULL
 * and 0 when absent, -1 with err when wrong. */
static int
str(const json_t *c, const char *key, size_t max, bool empty_ok,
    const char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(c, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	*out = json_string_value(v);
	if (!json_check_text(v, empty_ok ? 0 : 1, max, true)) {
		snprintf(err, errlen, "%s: %zu-%zu bytes of text", key,
		    empty_ok ? (size_t)0 : (size_t)1, max);
		return -1;
	}
	return 0;
}

/* An address as SMTP's MAIL FROM and RCPT TO take it bare: local@domain,
 * no display name, no quoting, ASCII. */
static bool
addr_valid(const char *s)
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);

	if (len < 3 || len > ADDR_MAX || at == NULL || at == s ||
	    strchr(at + 1, '@') != NULL || at[1] == '\0')
		return false;
	for (const char *p = s; p < at; p++)
		if (*p <= ' ' || *p > '~' || strchr("<>()[],;:\\\"", *p) != NULL)
			return false;
	return strspn(at + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-") == strlen(at + 1) && at[1] != '.' && at[1] != '-';
}

/* smtp://HOST[:PORT][/EHLO-NAME] or smtps://…, by curl's own parser;
 * no user:password@, query or fragment.  Sets m->tls to TLS_IMPLICIT for
 * smtps. */
static int
url_check(struct notify_mail *m, const char *url, char *err, size_t errlen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *path = NULL, *part = NULL;
	int rc = -1;

	if ((C = notify_curl(err, errlen)) == NULL)
		return -1;
	u = C->url();

	if (u == NULL || strchr(url, '@') != NULL ||
	    C->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    C->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    C->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0')
		goto out;
	if (strcmp(scheme, "smtps") == 0)
		m->tls = TLS_IMPLICIT;
	else if (strcmp(scheme, "smtp") != 0)
		goto out;
	if (C->url_get(u, CURLUPART_QUERY, &part, 0) != CURLUE_NO_QUERY ||
	    C->url_get(u, CURLUPART_FRAGMENT, &part, 0) !=
	    CURLUE_NO_FRAGMENT)
		goto out;
	if (C->url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strspn(path + (path[0] == '/'), "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(path) -
	    (path[0] == '/'))
		goto out;
	rc = 0;
out:
	if (rc != 0)	/* the URL is not repeated: it may hold a password */
		snprintf(err, errlen, "url: smtp://HOST[:PORT] or smtps://HOST"
		    "[:PORT] (no user:password@: use username and password)");
	C->free(part);
	C->free(path);
	C->free(host);
	C->free(scheme);
	C->url_cleanup(u);
	return rc;
}

/* The password from its field, its file (the first line) or its
 * environment variable: exactly one with a username, none without. */
static int
password_load(struct notify_mail *m, const json_t *c, char *err,
    size_t errlen)
{
	const char *pw, *file, *env;
	char buf[SECRET_MAX + 2];
	size_t n;
	FILE *f;

	if (str(c, "password", SECRET_MAX, false, &pw, err, errlen) != 0 ||
	    str(c, "password_file", PATH_MAX_LEN, false, &file, err,
	    errlen) != 0 || str(c, "password_env", 128, false, &env, err,
	    errlen) != 0)
		return -1;
	if ((pw != NULL) + (file != NULL) + (env != NULL) > 1 ||
	    ((pw != NULL) + (file != NULL) + (env != NULL) == 0) !=
	    (m->username == NULL)) {
		snprintf(err, errlen, "password: with a username, exactly one of "
		    "password, password_file and password_env; none without");
		return -1;
	}
	if (env != NULL) {
		if (strspn(env, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_") != strlen(env) || (pw = getenv(env)) == NULL ||
		    pw[0] == '\0') {
			snprintf(err, errlen, "password_env: %s is not set in the "
			    "node's environment", text_name_valid(env,
			    strlen(env)) ? env : "the variable");
			return -1;
		}
	}
	if (file != NULL) {
		if ((f = fopen(file, "r")) == NULL) {
			snprintf(err, errlen, "password_file: cannot read %s",
			    file);
			return -1;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		pw = buf;
	}
	if (pw != NULL && (pw[0] == '\0' || strlen(pw) > SECRET_MAX ||
	    !text_utf8_valid(pw, strlen(pw), true))) {
		snprintf(err, errlen, "%s: a password of 1-%d bytes of text",
		    file != NULL ? "password_file" : env != NULL ? "password_env" :
		    "password", SECRET_MAX);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	if (pw != NULL)
		m->password = xstrdup(pw);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

struct notify_mail *
notify_mail_parse(const json_t *c, char *err, size_t errlen)
{
	static const char *const modes[] = { "required", "optional", "off" };
	struct notify_mail *m = xcalloc(1, sizeof(*m));
	const json_t *to = json_object_get(c, "to"), *v;
	const char *s, *tls;
	size_t i;

	if (str(c, "url", PATH_MAX_LEN, false, &s, err, errlen) != 0)
		goto fail;
	if (s == NULL) {
		snprintf(err, errlen, "url: required, smtp://HOST[:PORT] or "
		    "smtps://HOST[:PORT]");
		goto fail;
	}
	if (url_check(m, s, err, errlen) != 0)
		goto fail;
	m->url = xstrdup(s);
	if (str(c, "starttls", 16, false, &tls, err, errlen) != 0)
		goto fail;
	if (tls != NULL && m->tls == TLS_IMPLICIT) {
		snprintf(err, errlen, "starttls: smtp://'s; smtps:// is TLS "
		    "from the start");
		goto fail;
	}
	if (tls != NULL) {
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]) &&
		    strcmp(tls, modes[i]) != 0; i++)
			;
		if (i == sizeof(modes) / sizeof(modes[0])) {
			snprintf(err, errlen, "starttls: \"required\", "
			    "\"optional\" or \"off\"");
			goto fail;
		}
		m->tls = (enum starttls)i;
	}
	if (str(c, "ca", PATH_MAX_LEN, false, &s, err, errlen) != 0)
		goto fail;
	if (s != NULL && access(s, R_OK) != 0) {
		snprintf(err, errlen, "ca: cannot read %s", s);
		goto fail;
	}
	m->ca = s != NULL ? xstrdup(s) : NULL;
	if (str(c, "from", ADDR_MAX, false, &s, err, errlen) != 0)
		goto fail;
	if (s == NULL || !addr_valid(s)) {
		snprintf(err, errlen, "from: required, an address "
		    "(name@example.net)");
		goto fail;
	}
	m->from = xstrdup(s);
	if (!json_is_array(to) || json_array_size(to) == 0 ||
	    json_array_size(to) > NOTIFY_MAIL_TO_MAX) {
		snprintf(err, errlen, "to: required, 1-%d addresses",
		    NOTIFY_MAIL_TO_MAX);
		goto fail;
	}
	json_array_foreach(to, i, v) {
		if ((s = json_string_value(v)) == NULL || !addr_valid(s)) {
			snprintf(err, errlen, "to[%zu]: an address "
			    "(name@example.net)", i);
			goto fail;
		}
		m->to[m->nto++] = xstrdup(s);
	}
	if (str(c, "username", SECRET_MAX, false, &s, err, errlen) != 0)
		goto fail;
	m->username = s != NULL ? xstrdup(s) : NULL;
	if (password_load(m, c, err, errlen) != 0)
		goto fail;
	if (m->password != NULL && m->tls == TLS_OPTIONAL) {
		snprintf(err, errlen, "starttls: \"optional\" would let a "
		    "server that hides STARTTLS read the password: \"required\","
		    " smtps://, or \"off\" to send it in the clear on purpose");
		goto fail;
	}
	if (str(c, "subject_prefix", PREFIX_MAX, true, &s, err, errlen) != 0)
		goto fail;
	m->prefix = xstrdup(s != NULL ? s : "[AgentFlow]");
	return m;
fail:
	notify_mail_free(m);
	return NULL;
}

void
notify_mail_free(struct notify_mail *m)
{
	if (m == NULL)
		return;
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	free(m->username);
	free(m->url);
	free(m->ca);
	free(m->from);
	for (size_t i = 0; i < m->nto; i++)
		free(m->to[i]);
	free(m->prefix);
	free(m);
}

bool
notify_mail_auth(const struct notify_mail *m)
{
	return m->username != NULL;
}

/* --- the message ----------------------------------------------------------- */

/* s with control characters as spaces, cut to max bytes on a character's
 * boundary: one header or body line whatever an alert holds. */
static char *
line_of(const char *s, size_t max)
{
	size_t len = strlen(s);
	char *out;

	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	out = xstrndup(s, len);
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return out;
}

/* "Subject: s" folded, as RFC 2047 encoded words (UTF-8, base64) when s
 * is not plain ASCII; each word holds whole characters. */
static void
add_subject(struct evbuffer *b, const char *s)
{
	unsigned char enc[80];
	size_t len = strlen(s), off = 0, n, olen;
	bool ascii = true;

	for (size_t i = 0; i < len; i++)
		ascii &= (unsigned char)s[i] < 0x80;
	if (ascii) {
		evbuffer_add_printf(b, "Subject: %s\r\n", s);
		return;
	}
	evbuffer_add_printf(b, "Subject:");
	while (off < len) {
		n = len - off < 45 ? len - off : 45;
		while (off + n < len && ((unsigned char)s[off + n] & 0xc0) ==
		    0x80)
			n--;
		if (mbedtls_base64_encode(enc, sizeof(enc), &olen,
		    (const unsigned char *)s + off, n) != 0)
			break;
		evbuffer_add_printf(b, " =?UTF-8?B?%.*s?=\r\n", (int)olen, enc);
		off += n;
	}
}

static void
add_field(struct evbuffer *b, const char *label, const char *value)
{
	char *v;

	if (value == NULL || value[0] == '\0')
		return;
	v = line_of(value, FIELD_MAX);
	evbuffer_add_printf(b, "%-10s %s\r\n", label, v);
	free(v);
}

static void
add_time(struct evbuffer *b, const char *label, json_int_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char when[40];

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	add_field(b, label, when);
}

char *
notify_mail_compose(const struct notify_mail *m, const char *node,
    const char *channel, const char *title, const json_t *a, int64_t now_ms,
    uint32_t nonce, size_t *len)
{
	struct evbuffer *b = evbuffer_new();
	time_t now = (time_t)(now_ms / 1000);
	char date[64], num[32], *subject, *out;
	struct tm tm;
	size_t i;

#define A(k)	json_string_value(json_object_get(a, k))
	/* RFC 5322's date, in English whatever the locale */
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

	gmtime_r(&now, &tm);
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	evbuffer_add_printf(b, "Date: %s\r\n", date);
	evbuffer_add_printf(b, "Message-ID: <agentflow.%lld.%08x@%s>\r\n",
	    (long long)now_ms, nonce, node);
	evbuffer_add_printf(b, "From: %s\r\nTo: ", m->from);
	for (i = 0; i < m->nto; i++)
		evbuffer_add_printf(b, "%s%s", i > 0 ? ",\r\n " : "", m->to[i]);
	subject = xmalloc(strlen(m->prefix) + strlen(title) + 2);
	sprintf(subject, "%s%s%s", m->prefix, m->prefix[0] != '\0' ? " " : "",
	    title);
	out = line_of(subject, FIELD_MAX);
	free(subject);
	evbuffer_add_printf(b, "\r\n");
	add_subject(b, out);
	free(out);
	evbuffer_add_printf(b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-AgentFlow-Node: %s\r\n\r\n", node);
	out = line_of(title, FIELD_MAX);
	evbuffer_add_printf(b, "%s\r\n\r\n", out);
	free(out);
	add_field(b, "Alert:", A("rule"));
	add_field(b, "Node:", node);
	add_field(b, "State:", A("state"));
	add_field(b, "Severity:", A("severity"));
	add_field(b, "Subject:", A("subject"));
	add_field(b, "Message:", A("message"));
	snprintf(num, sizeof(num), "%g", json_real_value(json_object_get(a,
	    "value")));
	add_field(b, "Value:", num);
	snprintf(num, sizeof(num), "%g", json_real_value(json_object_get(a,
	    "threshold")));
	add_field(b, "Threshold:", num);
	add_time(b, "Fired:", json_integer_value(json_object_get(a,
	    "fired_ms")));
	add_time(b, "Resolved:", json_integer_value(json_object_get(a,
	    "resolved_ms")));
	add_field(b, "Alert id:", A("alert_id"));
#undef A
	evbuffer_add_printf(b, "\r\n-- \r\nagentflow-node %s on %s, channel "
	    "%s of --notify\r\n", AGENTFLOW_VERSION, node, channel);
	*len = evbuffer_get_length(b);
	out = xmalloc(*len + 1);
	evbuffer_remove(b, out, *len);
	out[*len] = '\0';
	evbuffer_free(b);
	return out;
}

/* --- the worker ------------------------------------------------------------ */

/* curl's CURLOPT_OPENSOCKETFUNCTION: the socket, noted as the busy
 * send's so that a cancel can shut it down. */
static curl_socket_t
open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct notify_mailer *mr = arg;
	curl_socket_t fd;

	(void)purpose;
	pthread_mutex_lock(&mr->lock);
	fd = mr->nfds < SOCKETS_MAX ? socket(a->family, a->socktype |
	    SOCK_CLOEXEC, a->protocol) : CURL_SOCKET_BAD;
	if (fd != CURL_SOCKET_BAD)
		mr->fds[mr->nfds++] = fd;
	pthread_mutex_unlock(&mr->lock);
	return fd;
}

/* curl's CURLOPT_CLOSESOCKETFUNCTION: closed under the lock, so a
 * cancel never shuts down a number the kernel gave to another file. */
static int
close_cb(void *arg, curl_socket_t fd)
{
	struct notify_mailer *mr = arg;

	pthread_mutex_lock(&mr->lock);
	for (size_t i = 0; i < mr->nfds; i++)
		if (mr->fds[i] == fd) {
			mr->fds[i] = mr->fds[--mr->nfds];
			break;
		}
	close(fd);
	pthread_mutex_unlock(&mr->lock);
	return 0;
}

/* curl's CURLOPT_XFERINFOFUNCTION, also called about each second while
 * curl waits for a reply: non-zero ends a cancelled send. */
static int
progress_cb(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	struct notify_mail_send *s = arg;
	int stop;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	pthread_mutex_lock(&s->mr->lock);
	stop = s->cancelled || s->mr->stopping;
	pthread_mutex_unlock(&s->mr->lock);
	return stop;
}

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct notify_mail_send *s = arg;
	size_t take = s->len - s->off;

	if (take > size * n)
		take = size * n;
	memcpy(buf, s->msg + s->off, take);
	s->off += take;
	return take;
}

/* One send, on the worker: curl_easy_perform with its own connection,
 * closed (QUIT) before it returns. */
static void
perform(struct notify_mailer *mr, struct notify_mail_send *s)
{
	static const long use_ssl[] = { CURLUSESSL_ALL, CURLUSESSL_TRY,
	    CURLUSESSL_NONE, CURLUSESSL_NONE };
	const struct notify_mail *m = s->m;
	char addr[ADDR_MAX + 3];
	struct curl_slist *rcpt = NULL, *l;
	CURLcode rc = CURLE_OK;
	CURL *easy;

	s->rc = CURLE_OUT_OF_MEMORY;
	if ((easy = C->easy_init()) == NULL)
		return;
	for (size_t i = 0; i < m->nto; i++) {
		snprintf(addr, sizeof(addr), "<%s>", m->to[i]);
		if ((l = C->slist_append(rcpt, addr)) == NULL)
			goto out;
		rcpt = l;
	}
	snprintf(addr, sizeof(addr), "<%s>", m->from);
#define SET(opt, v)	if (rc == CURLE_OK) rc = C->easy_setopt(easy, opt, v)
	SET(CURLOPT_URL, m->url);
	if (rc == CURLE_OK)
		rc = notify_curl_protocols(C, easy, "smtp,smtps",
		    CURLPROTO_SMTP | CURLPROTO_SMTPS);
	SET(CURLOPT_MAIL_FROM, addr);
	SET(CURLOPT_MAIL_RCPT, rcpt);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, read_cb);
	SET(CURLOPT_READDATA, s);
	SET(CURLOPT_USE_SSL, use_ssl[m->tls]);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, CONNECT_S);
	SET(CURLOPT_TIMEOUT, TRANSFER_S);
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, TRANSFER_S);
	SET(CURLOPT_OPENSOCKETFUNCTION, open_cb);
	SET(CURLOPT_OPENSOCKETDATA, mr);
	SET(CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	SET(CURLOPT_CLOSESOCKETDATA, mr);
	SET(CURLOPT_XFERINFOFUNCTION, progress_cb);
	SET(CURLOPT_XFERINFODATA, s);
	SET(CURLOPT_NOPROGRESS, 0L);
	if (m->ca != NULL)
		SET(CURLOPT_CAINFO, m->ca);
	if (m->username != NULL) {
		SET(CURLOPT_USERNAME, m->username);
		SET(CURLOPT_PASSWORD, m->password);
	}
#undef SET
	if (rc == CURLE_OK)
		rc = C->easy_perform(easy);
	s->rc = rc;
	s->code = 0;
	C->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &s->code);
out:
	C->easy_cleanup(easy);
	C->slist_free_all(rcpt);
}

/* Shuts down the busy send's sockets: curl's waits end at once.  Under
 * the lock. */
static void
unblock(struct notify_mailer *mr)
{
	for (size_t i = 0; i < mr->nfds; i++)
		shutdown(mr->fds[i], SHUT_RDWR);
}

/* workq's work, on the worker. */
static void
send_work(void *ctx, void *job)
{
	struct notify_mail_send *s = job;
	struct notify_mailer *mr = s->mr;
	bool skip;

	(void)ctx;
	pthread_mutex_lock(&mr->lock);
	skip = s->cancelled || mr->stopping;
	mr->busy = skip ? NULL : s;
	pthread_mutex_unlock(&mr->lock);
	s->rc = CURLE_ABORTED_BY_CALLBACK;
	if (!skip)
		perform(mr, s);
	pthread_mutex_lock(&mr->lock);
	mr->busy = NULL;
	pthread_mutex_unlock(&mr->lock);
}

/* workq's done, on the loop (stopped: the mailer is being freed): the
 * send's done told unless cancelled, then freed.  curl's fixed text and
 * the reply code make why: neither can hold the password (curl's error
 * buffer and the server's words are not used). */
static void
send_done(void *job, int stopped)
{
	struct notify_mail_send *s = job;
	char why[160];
	bool cancelled;

	pthread_mutex_lock(&s->mr->lock);
	cancelled = s->cancelled || stopped;
	pthread_mutex_unlock(&s->mr->lock);
	if (s->rc == CURLE_OK)
		why[0] = '\0';
	else if (s->code >= 400)
		snprintf(why, sizeof(why), "SMTP %ld: %s", s->code,
		    C->easy_strerror(s->rc));
	else
		snprintf(why, sizeof(why), "%s", C->easy_strerror(s->rc));
	if (!cancelled)
		s->done(s->arg, s->rc == CURLE_OK, why);
	free(s->msg);
	free(s);
}

struct notify_mailer *
notify_mailer_new(struct event_base *base)
{
	struct notify_mailer *mr;

	char why[256];

	if ((C = notify_curl(why, sizeof(why))) == NULL) {
		log_event(LOG_ERROR, "e-mail notifications cannot start", "{s:s}",
		    "error", why);
		return NULL;
	}
	if (C->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	mr = xcalloc(1, sizeof(*mr));
	pthread_mutex_init(&mr->lock, NULL);
	if ((mr->wq = workq_new(base, 1, NULL, NULL, NULL)) == NULL) {
		notify_mailer_free(mr);
		return NULL;
	}
	return mr;
}

void
notify_mailer_free(struct notify_mailer *mr)
{
	if (mr == NULL)
		return;
	pthread_mutex_lock(&mr->lock);
	mr->stopping = true;
	unblock(mr);
	pthread_mutex_unlock(&mr->lock);
	workq_free(mr->wq);	/* joins the worker; the rest: done(job, 1) */
	pthread_mutex_destroy(&mr->lock);
	free(mr);
	C->global_cleanup();
}

struct notify_mail_send *
notify_mail_send(struct notify_mailer *mr, const struct notify_mail *m,
    const char *msg, size_t len, notify_mail_done_fn *done, void *arg)
{
	struct notify_mail_send *s;

	if (workq_pending(mr->wq) >= QUEUE_MAX)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->mr = mr;
	s->m = m;
	s->done = done;
	s->arg = arg;
	s->msg = xmalloc(len);
	memcpy(s->msg, msg, len);
	s->len = len;
	workq_submit(mr->wq, s, send_work, send_done);
	return s;
}

void
notify_mail_cancel(struct notify_mail_send *s)
{
	struct notify_mailer *mr;

	if (s == NULL)
		return;
	mr = s->mr;
	/* Not started: out of the queue now, its slot free for the next. */
	if (workq_withdraw(mr->wq, s)) {
		free(s->msg);
		free(s);
		return;
	}
	pthread_mutex_lock(&mr->lock);
	s->cancelled = true;
	if (mr->busy == s)
		unblock(mr);
	pthread_mutex_unlock(&mr->lock);
}
