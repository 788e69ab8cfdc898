/*
 * Unit tests of common/config_file.c: the pure parser (syntax, limits,
 * errors with file and line), loading into an opts table (typed
 * validation, all-or-nothing, string ownership) and the precedence
 * flag > environment > file > default.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_file.h"

/* ---- the pure parser ---- */

struct pairs {
	char		 kv[16][2][128];
	unsigned	 line[16];
	size_t		 n;
};

static int
collect_cb(void *arg, unsigned line, const char *key, const char *value,
    char *err, size_t errlen)
{
	struct pairs *p = arg;

	(void)err;
	(void)errlen;
	assert_true(p->n < 16);
	snprintf(p->kv[p->n][0], 128, "%s", key);
	snprintf(p->kv[p->n][1], 128, "%s", value);
	p->line[p->n] = line;
	p->n++;
	return 0;
}

static int
parse_str(const char *text, struct pairs *p, unsigned *line, char *err)
{
	memset(p, 0, sizeof(*p));
	return config_file_parse("t.conf", text, strlen(text), collect_cb, p,
	    line, err, 512);
}

static void
test_parse_syntax(void **state)
{
	struct pairs p;
	char err[512];
	unsigned line;
	const char *text =
	    "# a comment\n"
	    "\n"
	    "   \t\n"
	    "max-links = 3\n"
	    "  name=plain value  \n"			/* blanks trimmed */
	    "quoted = \"a \\\"b\\\" \\\\ # not a comment\"  # comment\n"
	    "url = http://x/#frag # trailing comment\n"	/* '#' after non-blank */
	    "empty =\n"
	    "emptyq = \"\"\r\n"				/* CRLF */
	    "hash = # all comment\n"
	    "\t# indented comment\n"
	    "last = no-newline";

	(void)state;
	assert_int_equal(parse_str(text, &p, &line, err), 0);
	assert_int_equal(p.n, 8);
	assert_string_equal(p.kv[0][0], "max-links");
	assert_string_equal(p.kv[0][1], "3");
	assert_int_equal(p.line[0], 4);
	assert_string_equal(p.kv[1][0], "name");
	assert_string_equal(p.kv[1][1], "plain value");
	assert_string_equal(p.kv[2][1], "a \"b\" \\ # not a comment");
	assert_string_equal(p.kv[3][1], "http://x/#frag");
	assert_string_equal(p.kv[4][0], "empty");
	assert_string_equal(p.kv[4][1], "");
	assert_string_equal(p.kv[5][0], "emptyq");
	assert_string_equal(p.kv[5][1], "");
	assert_string_equal(p.kv[6][0], "hash");
	assert_string_equal(p.kv[6][1], "");
	assert_string_equal(p.kv[7][0], "last");
	assert_string_equal(p.kv[7][1], "no-newline");
	assert_int_equal(p.line[7], 12);

	/* Empty input and comments only are fine. */
	assert_int_equal(parse_str("", &p, &line, err), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(parse_str("#x\n\n", &p, &line, err), 0);
	assert_int_equal(p.n, 0);
}

static void
expect_error(const char *text, unsigned want_line, const char *want)
{
	struct pairs p;
	char err[512];
	unsigned line = 99;
	char prefix[32];

	assert_int_equal(parse_str(text, &p, &line, err), -1);
	assert_int_equal(line, want_line);
	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", want_line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, prefix,
		    want);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	expect_error("a = 1\nno equals here\n", 2, "missing '=' after key \"no\"");
	expect_error("justakey\n", 1, "missing '=' after key \"justakey\"");
	expect_error("= 3\n", 1, "expected a key");
	expect_error("k = \"open\n", 1, "k: unterminated quote");
	expect_error("k = \"ends in backslash\\\n", 1, "unterminated quote");
	expect_error("k = \"bad \\n escape\"\n", 1, "unknown escape \\n");
	expect_error("k = \"v\" extra\n", 1, "after the closing quote");
	expect_error("\n# c\nbad key = 1\n", 3, "missing '=' after key \"bad\"");
	expect_error("k = 1\n\"q\" = 2\n", 2, "expected a key");
}

static void
test_parse_limits(void **state)
{
	struct pairs p;
	char err[512], *big;
	unsigned line;
	const char nul[] = "a = 1\nk = x\0y\n";
	size_t n;

	(void)state;
	/* The NUL case, with the real length. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(config_file_parse("t.conf", nul, sizeof(nul) - 1,
	    collect_cb, &p, &line, err, sizeof(err)), -1);
	assert_int_equal(line, 2);
	assert_non_null(strstr(err, "NUL byte"));

	/* A line of exactly CONFIG_FILE_LINE_MAX bytes is fine, one more is not. */
	big = malloc(CONFIG_FILE_MAX + 2);
	assert_non_null(big);
	n = (size_t)snprintf(big, 16, "k = ");
	memset(big + n, 'v', CONFIG_FILE_LINE_MAX - n);
	big[CONFIG_FILE_LINE_MAX] = '\0';
	assert_int_equal(parse_str(big, &p, &line, err), 0);
	assert_int_equal(strlen(p.kv[0][1]), 127);	/* collect_cb truncates */
	big[CONFIG_FILE_LINE_MAX] = 'v';
	big[CONFIG_FILE_LINE_MAX + 1] = '\0';
	expect_error(big, 1, "line longer than 4096 bytes");
	/* CRLF does not count against the limit. */
	memcpy(big + CONFIG_FILE_LINE_MAX, "\r\n", 3);
	assert_int_equal(parse_str(big, &p, &line, err), 0);

	/* A file over CONFIG_FILE_MAX is refused whatever it holds. */
	memset(big, '\n', CONFIG_FILE_MAX + 1);
	assert_int_equal(config_file_parse("t.conf", big, CONFIG_FILE_MAX,
	    collect_cb, &p, &line, err, sizeof(err)), 0);
	assert_int_equal(config_file_parse("t.conf", big, CONFIG_FILE_MAX + 1,
	    collect_cb, &p, &line, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf: larger than 1048576 bytes"));
	free(big);
}

static int
count_cb(void *arg, unsigned line, const char *key, const char *value,
    char *err, size_t errlen)
{
	(void)line;
	(void)err;
	(void)errlen;
	assert_true(strlen(key) > 0);
	assert_true(strlen(value) <= CONFIG_FILE_LINE_MAX);
	(*(int *)arg)++;
	return 0;
}

/* A smoke fuzz: random bytes drawn from the syntax's alphabet never crash. */
static void
test_parse_random(void **state)
{
	static const char alphabet[] = "ab-=\" \\#\t\r\n\0x1";
	char buf[256], err[128];
	unsigned seed = 12345, line;
	int calls;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (seed = seed * 1103515245u + 12345u) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		calls = 0;
		int r = config_file_parse(NULL, buf, len, count_cb, &calls,
		    &line, err, sizeof(err));
		assert_true(r == 0 || (r == -1 && line >= 1 &&
		    strncmp(err, "config:", 7) == 0));
	}
}

static int
refuse_cb(void *arg, unsigned line, const char *key, const char *value,
    char *err, size_t errlen)
{
	(void)arg;
	(void)line;
	(void)value;
	if (strcmp(key, "bad") == 0) {
		snprintf(err, errlen, "no thanks");
		return -1;
	}
	return 0;
}

static void
test_parse_callback_stops(void **state)
{
	char err[128];
	unsigned line;
	const char *t = "ok = 1\n# c\nbad = 2\nnever = 3\n";

	(void)state;
	assert_int_equal(config_file_parse("f", t, strlen(t), refuse_cb, NULL,
	    &line, err, sizeof(err)), -1);
	assert_int_equal(line, 3);
	assert_string_equal(err, "f:3: no thanks");
}

/* ---- loading into an opts table ---- */

struct cfg {
	const char	*config;
	const char	*name;
	long		 count;
	int		 flag;
};

static const struct opt table[] = {
	{ "config", OPT_STRING, offsetof(struct cfg, config), NULL, 0, 0, "file" },
	{ "name", OPT_STRING, offsetof(struct cfg, name), "dflt", 0, 0, "a name" },
	{ "count", OPT_INT, offsetof(struct cfg, count), "3", 1, 10, "a count" },
	{ "flag", OPT_BOOL, offsetof(struct cfg, flag), "0", 0, 1, "a flag" },
};
#define NOPTS (sizeof(table) / sizeof(table[0]))

static char tmpdir[] = "/tmp/test_config_file.XXXXXX";

static const char *
write_conf(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
clear_env(void)
{
	unsetenv("AGENTFLOW_CONFIG");
	unsetenv("AGENTFLOW_NAME");
	unsetenv("AGENTFLOW_COUNT");
	unsetenv("AGENTFLOW_FLAG");
}

static void
test_load_applies_typed_values(void **state)
{
	struct cfg c = { .name = "before", .count = 1 };
	struct config_file *cf;
	char err[512];
	char *path;

	(void)state;
	path = strdup(write_conf("ok.conf",
	    "# settings\nname = \"x y\"\ncount = 7\nflag = true\n"));
	assert_int_equal(config_file_load(table, NOPTS, &c, path, &cf, err,
	    sizeof(err)), 0);
	assert_non_null(cf);
	/* The string is owned by cf, not by the (gone) file buffer. */
	unlink(path);
	assert_string_equal(c.name, "x y");
	assert_int_equal(c.count, 7);
	assert_int_equal(c.flag, 1);
	config_file_free(cf);
	config_file_free(NULL);

	write_conf("ok.conf", "flag = 0\n");
	assert_int_equal(config_file_load(table, NOPTS, &c, path, &cf, err,
	    sizeof(err)), 0);
	assert_int_equal(c.flag, 0);
	assert_int_equal(c.count, 7);	/* keys absent from the file untouched */
	config_file_free(cf);
	unlink(path);
	free(path);
}

static void
expect_load_error(const char *text, const char *want)
{
	struct cfg c = { .name = "keep", .count = 2, .flag = 1 };
	struct config_file *cf = (struct config_file *)&c;
	char err[512], path[256];

	snprintf(path, sizeof(path), "%s", write_conf("bad.conf", text));
	assert_int_equal(config_file_load(table, NOPTS, &c, path, &cf, err,
	    sizeof(err)), -1);
	assert_null(cf);
	if (strstr(err, path) == NULL || strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, path, want);
	/* All or nothing: the earlier good lines were not applied. */
	assert_string_equal(c.name, "keep");
	assert_int_equal(c.count, 2);
	assert_int_equal(c.flag, 1);
}

static void
test_load_errors(void **state)
{
	struct cfg c;
	struct config_file *cf;
	char err[512];

	(void)state;
	expect_load_error("name = n\ncount = 4\nbogus = 1\n",
	    "bad.conf:3: unknown key \"bogus\"");
	expect_load_error("name = n\ncount = 11\n",
	    "bad.conf:2: count: 11 is outside [1, 10]");
	expect_load_error("name = n\ncount = four\n",
	    "bad.conf:2: count: \"four\" is not an integer");
	expect_load_error("flag = maybe\n",
	    "bad.conf:1: flag: \"maybe\" is not a boolean");
	expect_load_error("name = a\n\nname = b\n",
	    "bad.conf:3: name: given twice (first on line 1)");
	expect_load_error("name = \"a\n", "bad.conf:1: name: unterminated quote");
	expect_load_error("count 3\n", "bad.conf:1: missing '=' after key \"count\"");

	assert_int_equal(config_file_load(table, NOPTS, &c, "/nonexistent/x.conf",
	    &cf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/x.conf: No such file"));
	assert_int_equal(config_file_load(table, NOPTS, &c, tmpdir, &cf, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(write_conf("bad.conf", ""));
}

static void
test_load_too_big(void **state)
{
	struct cfg c;
	struct config_file *cf;
	char err[512], path[256];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i <= CONFIG_FILE_MAX / 8; i++)
		fputs("# 4567\n\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_file_load(table, NOPTS, &c, path, &cf, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 1048576 bytes"));
	unlink(path);
}

/* ---- precedence through config_file_opts_parse ---- */

static enum opts_result
layered(struct cfg *c, int argc, char **argv, struct config_file **cf,
    char *err)
{
	memset(c, 0, sizeof(*c));
	return config_file_opts_parse(table, NOPTS, c, argc, argv, "usage",
	    NULL, "config", cf, err, 512);
}

static void
test_precedence(void **state)
{
	struct cfg c;
	struct config_file *cf;
	char err[512], path[256];
	char *argv0[] = { "prog", NULL };

	(void)state;
	clear_env();
	snprintf(path, sizeof(path), "%s",
	    write_conf("p.conf", "name = fromfile\ncount = 5\nflag = yes\n"));

	/* No file: defaults, and no config_file object. */
	assert_int_equal(layered(&c, 1, argv0, &cf, err), OPTS_OK);
	assert_null(cf);
	assert_string_equal(c.name, "dflt");
	assert_int_equal(c.count, 3);

	/* file > default */
	char *argv1[] = { "prog", "--config", path, NULL };
	assert_int_equal(layered(&c, 3, argv1, &cf, err), OPTS_OK);
	assert_non_null(cf);
	assert_string_equal(c.config, path);
	assert_string_equal(c.name, "fromfile");
	assert_int_equal(c.count, 5);
	assert_int_equal(c.flag, 1);
	config_file_free(cf);

	/* env > file, and the path itself may come from the environment. */
	setenv("AGENTFLOW_CONFIG", path, 1);
	setenv("AGENTFLOW_COUNT", "6", 1);
	assert_int_equal(layered(&c, 1, argv0, &cf, err), OPTS_OK);
	assert_non_null(cf);
	assert_string_equal(c.name, "fromfile");
	assert_int_equal(c.count, 6);
	config_file_free(cf);

	/* flag > env > file */
	char *argv2[] = { "prog", "--count=8", "--flag=false", "--name", "cli",
	    NULL };
	assert_int_equal(layered(&c, 5, argv2, &cf, err), OPTS_OK);
	assert_string_equal(c.name, "cli");
	assert_int_equal(c.count, 8);
	assert_int_equal(c.flag, 0);
	config_file_free(cf);

	/* An empty path means no file. */
	setenv("AGENTFLOW_CONFIG", "", 1);
	assert_int_equal(layered(&c, 1, argv0, &cf, err), OPTS_OK);
	assert_null(cf);
	assert_int_equal(c.count, 6);
	clear_env();
	unlink(path);
}

static void
test_layered_errors(void **state)
{
	struct cfg c;
	struct config_file *cf = (struct config_file *)&c;
	char err[512], path[256];

	(void)state;
	clear_env();
	/* A bad file is an error naming it even if a flag overrides the key. */
	snprintf(path, sizeof(path), "%s", write_conf("e.conf", "count = 0\n"));
	char *argv1[] = { "prog", "--config", path, "--count", "4", NULL };
	assert_int_equal(layered(&c, 5, argv1, &cf, err), OPTS_ERROR);
	assert_null(cf);
	assert_non_null(strstr(err, "e.conf:1: count: 0 is outside"));

	/* The file cannot point at another file. */
	write_conf("e.conf", "config = /etc/other.conf\n");
	cf = (struct config_file *)&c;
	assert_int_equal(layered(&c, 3, argv1, &cf, err), OPTS_ERROR);
	assert_null(cf);
	assert_non_null(strstr(err, "\"config\" cannot be set in a config file"));

	/* A missing file named by flag is an error. */
	char *argv2[] = { "prog", "--config=/nonexistent.conf", NULL };
	assert_int_equal(layered(&c, 2, argv2, &cf, err), OPTS_ERROR);
	assert_non_null(strstr(err, "/nonexistent.conf"));

	/* Flag errors still come from opts.c; the table must name config. */
	char *argv3[] = { "prog", "--count", "x", NULL };
	assert_int_equal(layered(&c, 3, argv3, &cf, err), OPTS_ERROR);
	assert_non_null(strstr(err, "--count"));
	assert_int_equal(config_file_opts_parse(table, NOPTS, &c, 1, argv3,
	    "usage", NULL, "nope", &cf, err, sizeof(err)), OPTS_ERROR);
	assert_non_null(strstr(err, "nope"));
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_syntax),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_random),
		cmocka_unit_test(test_parse_callback_stops),
		cmocka_unit_test(test_load_applies_typed_values),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_too_big),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_layered_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
