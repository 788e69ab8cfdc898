/*
 * The artifact commands (see cli_artifact.h).
 */
#include "cli_artifact.h"

#include <errno.h>
#include <event2/http.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "text.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"
#define PIECE		(1u << 20)	/* the node's body limit */
#define PUT_TIMEOUT_S	60
#define RESUMES_MAX	16

static const struct option add_options[] = {
	{ "name", required_argument, NULL, CLI_O_NAME },
	{ NULL, 0, NULL, 0 },
};

/* The SHA-256 of f as an artifact id, and its size.  0, or -1 (printed). */
static int
hash_file(FILE *f, const char *file, char id[TEXT_ARTIFACT_LEN + 1],
    uint64_t *size)
{
	mbedtls_sha256_context c;
	unsigned char buf[65536], h[32];
	size_t n;

	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts_ret(&c, 0);
	*size = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		mbedtls_sha256_update_ret(&c, buf, n);
		*size += n;
	}
	mbedtls_sha256_finish_ret(&c, h);
	mbedtls_sha256_free(&c);
	if (ferror(f)) {
		fprintf(stderr, "agentflow: %s: %s\n", file, strerror(errno));
		return -1;
	}
	memcpy(id, TEXT_ARTIFACT_PREFIX, 7);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(id + 7 + 2 * i, 3, "%02x", h[i]);
	return 0;
}

/* name as a query value: bytes outside [A-Za-z0-9._-] as %XX. */
static void
query_escape(const char *name, char *out, size_t len)
{
	size_t o = 0;

	for (; *name != '\0' && o + 4 < len; name++) {
		unsigned char c = (unsigned char)*name;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
	}
	out[o] = '\0';
}

/* Uploads f (size bytes, id) from offset 0, resuming where the node says;
 * the last answer in *r.  0, or -1 (printed). */
static int
upload(const struct cli_args *a, FILE *f, const char *id, const char *name,
    uint64_t size, struct cli_reply *r)
{
	static unsigned char piece[PIECE];
	char path[1200], qname[800];
	uint64_t off = 0;
	int resumes = 0;
	size_t n;

	query_escape(name, qname, sizeof(qname));
	for (;;) {
		if (fseeko(f, (off_t)off, SEEK_SET) != 0) {
			fprintf(stderr, "agentflow: %s\n", strerror(errno));
			return -1;
		}
		n = size - off < PIECE ? (size_t)(size - off) : PIECE;
		if (fread(piece, 1, n, f) != n) {
			fprintf(stderr, "agentflow: the file changed while it "
			    "was sent\n");
			return -1;
		}
		snprintf(path, sizeof(path), "/api/artifacts/%s?name=%s&size=%"
		    PRIu64 "&offset=%" PRIu64, id, qname, size, off);
		json_decref(r->body);
		if (cli_api_send(&a->o, EVHTTP_REQ_PUT, path,
		    "application/octet-stream", piece, n, PUT_TIMEOUT_S,
		    r) == 0) {
			if (r->status == 201 || json_object_get(r->body,
			    "nodes") != NULL)
				return 0;
			off += n;
			continue;
		}
		/* The node holds another part: go on from where it is. */
		if (r->status == 409 && json_is_integer(json_object_get(r->body,
		    "offset")) && ++resumes <= RESUMES_MAX) {
			off = (uint64_t)json_integer_value(json_object_get(
			    r->body, "offset"));
			continue;
		}
		fprintf(stderr, "agentflow: %s\n", r->error);
		return -1;
	}
}

static int
add(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r = { 0 };
	char id[TEXT_ARTIFACT_LEN + 1], *copy, hb[32];
	const char *name;
	uint64_t size;
	FILE *f;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if ((f = fopen(a.argv[0], "rb")) == NULL) {
		fprintf(stderr, "agentflow: %s: %s\n", a.argv[0],
		    strerror(errno));
		return 1;
	}
	copy = strdup(a.argv[0]);
	name = a.name != NULL ? a.name : basename(copy);
	rc = 1;
	if (hash_file(f, a.argv[0], id, &size) == 0 &&
	    upload(&a, f, id, name, size, &r) == 0) {
		rc = 0;
		if (a.o.json)
			cli_api_print_json(r.body);
		else
			printf("%s %s (%s) %s\n", id, name, cli_fmt_bytes(size, hb,
			    sizeof(hb)), r.status == 201 ? "added" :
			    "already held");
	}
	json_decref(r.body);
	free(copy);
	fclose(f);
	return rc;
}

static void
print_list(json_t *body)
{
	json_t *row, *nd;
	char nodes[512], hb[32], clean[300];
	size_t i, j, o;

	printf("%-19s %-32s %-10s %s\n", "ARTIFACT", "NAME", "SIZE", "NODES");
	json_array_foreach(json_object_get(body, "artifacts"), i, row) {
		nodes[0] = '\0';
		o = 0;
		json_array_foreach(json_object_get(row, "nodes"), j, nd)
			if (o + 70 < sizeof(nodes))
				o += (size_t)snprintf(nodes + o, sizeof(nodes) - o,
				    "%s%s", j > 0 ? "," : "", cli_fmt_str(nd,
				    "node", "?"));
		printf("%-19.19s %-32s %-10s %s\n", cli_fmt_str(row, "artifact",
		    "?"), cli_fmt_clean(cli_fmt_str(row, "name", "?"), clean,
		    sizeof(clean)), cli_fmt_bytes((uint64_t)json_integer_value(
		    json_object_get(row, "size")), hb, sizeof(hb)), nodes);
	}
	json_array_foreach(json_object_get(body, "fetches"), i, row) {
		uint64_t have = (uint64_t)json_integer_value(json_object_get(row,
		    "bytes")), size = (uint64_t)json_integer_value(
		    json_object_get(row, "size"));

		printf("%sfetching %.19s from %s: %" PRIu64 "%%%s%s\n", i == 0 ?
		    "\n" : "", cli_fmt_str(row, "artifact", "?"),
		    cli_fmt_str(row, "from", "(no holder yet)"), size > 0 ?
		    have * 100 / size : 0, json_is_string(json_object_get(row,
		    "error")) ? " — " : "", cli_fmt_clean(cli_fmt_str(row,
		    "error", ""), clean, sizeof(clean)));
	}
}

static int
ls(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	return cli_api_show(&a.o, EVHTTP_REQ_GET, "/api/artifacts", NULL,
	    print_list);
}

static void
print_deleted(json_t *b)
{
	printf("%s deleted here\n", cli_fmt_str(b, "artifact", "?"));
}

static int
rm(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!text_artifact_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "\"%s\" is not an artifact id "
		    "(\"sha256:\" and 64 lowercase hex digits)", a.argv[0]);
	snprintf(path, sizeof(path), "/api/artifacts/%s", a.argv[0]);
	return cli_api_show(&a.o, EVHTTP_REQ_DELETE, path, NULL, print_deleted);
}

static const struct cmd_entry commands[] = {
	{ "add", "FILE [--name NAME] " API_OPTS "\n\n"
	  "  FILE: a .tar.gz or .zip; it is stored by its SHA-256, which a\n"
	  "  service names as \"artifact\": \"sha256:...\".  Sent in pieces;\n"
	  "  run it again to resume a cut upload.  --name: the name shown\n"
	  "  (default: FILE's base name)",
	  1, 1, add_options, add, "upload an artifact to this node", NULL },
	{ "ls", API_OPTS, 0, 0, NULL, ls,
	  "which node holds which artifact; this node's fetches", NULL },
	{ "rm", "ID " API_OPTS, 1, 1, NULL, rm,
	  "remove an artifact from this node (refused while a service here "
	  "names it)", NULL },
};

static const struct cmd_table table = {
	"agentflow artifact",
	"usage: agentflow artifact <command> [arguments]\n\ncommands:\n",
	"\n`agentflow artifact <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_artifact_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
