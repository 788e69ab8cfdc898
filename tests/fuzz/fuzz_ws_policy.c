/*
 * fuzz_ws_policy: the head of a /ws upgrade request as a browser or an
 * attacker may send it, through the pure policy (node/api/ws_policy.h).
 *
 * The input is "METHOD TARGET" on its first line and "Name: value" on
 * the next ones (\n or \r\n); the query is what follows '?' in TARGET.
 * The allow list is the one the system test configures.  The whole input
 * also goes through ws_policy_check_origins as an --allow-origins value.
 *
 * Invariants: the verdict is one the policy may give (never the hub's
 * token or busy); only a GET with Sec-WebSocket-Version 13 is accepted,
 * with a 28-character Sec-WebSocket-Accept; a refused verdict holds no
 * token; a token is always NUL-terminated within its buffer; an Origin
 * accepted is absent, listed, or http(s)://.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "fuzz_util.h"
#include "ws_policy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALLOWED	"http://dash.example, https://NAS.example:8443"

static void
broken(const char *what)
{
	fprintf(stderr, "fuzz_ws_policy: %s\n", what);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	return 0;
}

/* The next line of *p (its \r\n or \n cut), NULL at the end. */
static char *
next_line(char **p)
{
	char *s = *p, *nl;

	if (s == NULL)
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else
		*p = NULL;
	if (nl != NULL && nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char		*name;
		enum evhttp_cmd_type	 method;
	} methods[] = {
		{ "GET", EVHTTP_REQ_GET }, { "POST", EVHTTP_REQ_POST },
		{ "HEAD", EVHTTP_REQ_HEAD }, { "OPTIONS", EVHTTP_REQ_OPTIONS },
	};
	enum evhttp_cmd_type method = EVHTTP_REQ_PUT;
	struct evkeyvalq h;
	struct ws_verdict v;
	char *text, *p, *line, *colon, *query = NULL, err[256];
	const char *version, *origin;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ws_policy_check_origins(text, err, sizeof(err)) != 0 &&
	    strncmp(err, "--allow-origins: ", 17) != 0)
		broken("an origin list's error does not name the option");

	TAILQ_INIT(&h);
	p = text;
	if ((line = next_line(&p)) != NULL) {
		char *sp = strchr(line, ' ');

		if (sp != NULL) {
			*sp = '\0';
			if ((query = strchr(sp + 1, '?')) != NULL)
				query++;
		}
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strcmp(line, methods[i].name) == 0)
				method = methods[i].method;
	}
	while ((line = next_line(&p)) != NULL) {
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		(void)evhttp_add_header(&h, line, colon);	/* refuses CR, LF */
	}

	ws_policy_check(method, &h, query, ALLOWED, &v);
	if (v.refusal >= WS_REFUSE_TOKEN)
		broken("the policy gave a verdict that is the hub's");
	if (memchr(v.token, '\0', sizeof(v.token)) == NULL)
		broken("token not terminated");
	if (v.refusal != WS_ACCEPT) {
		if (v.token[0] != '\0')
			broken("a refused verdict keeps a token");
		if (ws_policy_answer(v.refusal) == NULL)
			broken("a refusal without an answer");
	} else {
		version = evhttp_find_header(&h, "Sec-WebSocket-Version");
		origin = evhttp_find_header(&h, "Origin");
		if (method != EVHTTP_REQ_GET || version == NULL ||
		    strcmp(version, "13") != 0)
			broken("accepted what is not a version 13 GET");
		if (strlen(v.accept) != 28)
			broken("Sec-WebSocket-Accept is not 28 characters");
		if (origin != NULL && strncasecmp(origin, "http://", 7) != 0 &&
		    strncasecmp(origin, "https://", 8) != 0)
			broken("accepted an Origin that is not http(s)://");
	}
	evhttp_clear_headers(&h);
	free(text);
	return 0;
}
