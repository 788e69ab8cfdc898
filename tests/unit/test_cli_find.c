/*
 * Unit tests of cli/cli_find.c: the user's cli.conf (api, token,
 * token-file; $XDG_CONFIG_HOME before ~/.config), a token in a file
 * others may read refused as ssh refuses such a key, the precedence of
 * flags and variables over a data directory over the user's file, a
 * named data directory that keeps the user's file out, and the message
 * for nothing found naming each place in order with what to do.  Each
 * test runs in a private directory (the current one and $HOME), with
 * the AGENTFLOW_* variables unset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_find.h"

struct env {
	char	dir[64];
	char	old_cwd[4096];
};

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	static struct env e;

	snprintf(e.dir, sizeof(e.dir), "/tmp/af-cli-find-XXXXXX");
	if (mkdtemp(e.dir) == NULL || getcwd(e.old_cwd,
	    sizeof(e.old_cwd)) == NULL || chdir(e.dir) != 0)
		return -1;
	if (mkdir(".config", 0700) != 0 || mkdir(".config/agentflow",
	    0700) != 0)
		return -1;
	setenv("HOME", e.dir, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("AGENTFLOW_API");
	unsetenv("AGENTFLOW_TOKEN");
	unsetenv("AGENTFLOW_DATA_DIR");
	*state = &e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	if (chdir(e->old_cwd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* /var/lib/agentflow is a step of the order: tests of the steps after
 * it mean nothing on a machine that has one. */
static void
skip_on_a_host_install(void)
{
	if (access("/var/lib/agentflow", F_OK) == 0)
		skip();
}

static int
find(const struct cli_opts *o, struct cli_found *f, char *err, size_t len)
{
	static const struct cli_opts none;

	err[0] = '\0';
	return cli_find(o != NULL ? o : &none, f, err, len);
}

static void
test_the_users_file_with_a_token_file(void **state)
{
	struct cli_found f;
	char err[1536], xdg[128];

	skip_on_a_host_install();
	put(".config/agentflow/cli.conf", "# my node\napi = 127.0.0.1:7001\n"
	    "token-file = token\n", 0644);
	put(".config/agentflow/token", "tok-from-file  \nignored\n", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.host, "127.0.0.1");
	assert_int_equal(f.port, 7001);
	assert_true(f.has_token);
	assert_string_equal(f.token, "tok-from-file");
	/* $XDG_CONFIG_HOME comes first */
	assert_int_equal(mkdir("xdg", 0700), 0);
	assert_int_equal(mkdir("xdg/agentflow", 0700), 0);
	put("xdg/agentflow/cli.conf", "api = [::1]:7002\ntoken = tok-xdg\n", 0600);
	snprintf(xdg, sizeof(xdg), "%s/xdg", ((struct env *)*state)->dir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.host, "::1");
	assert_int_equal(f.port, 7002);
	assert_string_equal(f.token, "tok-xdg");
}

static void
test_a_token_others_may_read_is_refused(void **state)
{
	struct cli_found f;
	char err[1536];

	(void)state;
	skip_on_a_host_install();
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\ntoken = t\n",
	    0644);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cli.conf holds a token and others may "
	    "read it (mode 0644): refused"));
	assert_non_null(strstr(err, "chmod 600 "));
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\n"
	    "token-file = /nonexistent/x\n", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "token-file /nonexistent/x: No such file"));
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\n"
	    "token-file = token\n", 0600);
	put(".config/agentflow/token", "t\n", 0640);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/token holds a token and others may "
	    "read it (mode 0640)"));
}

static void
test_a_bad_users_file_is_said(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "api = 127.0.0.1:7001\nurl = x\n", ":2: unknown key \"url\"" },
		{ "api = a:1\napi = b:2\n", "api: given twice (first on line 1)" },
		{ "api = nowhere\n", "bad API address \"nowhere\"" },
		{ "api = h:1\ntoken = a\ntoken-file = b\n", "token (line 2) and "
		  "token-file (line 3): give one of them" },
		{ "api = h:1\ntoken = \"a b\"\n", "the token holds a blank" },
	};
	struct cli_found f;
	char err[1536];

	(void)state;
	skip_on_a_host_install();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(".config/agentflow/cli.conf", cases[i].text, 0600);
		assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" not in \"%s\"", i,
			    cases[i].want, err);
	}
}

static void
test_flags_variables_and_data_directory_come_first(void **state)
{
	struct cli_opts o = { 0 };
	struct cli_found f;
	char err[1536];

	(void)state;
	skip_on_a_host_install();
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\ntoken = conf\n",
	    0600);
	setenv("AGENTFLOW_API", "127.0.0.1:7100", 1);
	setenv("AGENTFLOW_TOKEN", "env", 1);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.port, 7100);
	assert_string_equal(f.token, "env");
	o.api = "127.0.0.1:7200";
	o.token = "flag";
	assert_int_equal(find(&o, &f, err, sizeof(err)), 0);
	assert_int_equal(f.port, 7200);
	assert_string_equal(f.token, "flag");
	/* an empty variable is none: the token comes from the user's file */
	setenv("AGENTFLOW_TOKEN", "", 1);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.port, 7100);
	assert_string_equal(f.token, "conf");
	unsetenv("AGENTFLOW_API");
	unsetenv("AGENTFLOW_TOKEN");
	/* ./agentflow-data before the user's file */
	assert_int_equal(mkdir("agentflow-data", 0700), 0);
	put("agentflow-data/api.json", "{\"address\": \"0.0.0.0\", \"port\": "
	    "7300}", 0600);
	put("agentflow-data/tokens.json", "{\"read\": \"r\", \"write\": \"w\"}",
	    0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.host, "127.0.0.1");
	assert_int_equal(f.port, 7300);
	assert_string_equal(f.token, "w");
	assert_string_equal(f.dir, "./agentflow-data");
}

/* A token read from a file goes only to the address of the same place
 * (or to one given): never the user's token to an address a directory of
 * anybody's names, nor a data directory's token to the user's file's. */
static void
test_a_token_goes_only_where_its_place_says(void **state)
{
	struct cli_found f;
	char err[1536];

	(void)state;
	skip_on_a_host_install();
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\ntoken = conf\n",
	    0600);
	assert_int_equal(mkdir("agentflow-data", 0700), 0);
	put("agentflow-data/api.json", "{\"address\": \"203.0.113.9\", "
	    "\"port\": 80}", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.host, "203.0.113.9");
	assert_int_equal(f.port, 80);
	assert_false(f.has_token);
	assert_string_equal(f.token, "");
	/* api.json being rewritten: the address from the user's file, with
	 * its token, not the directory's */
	put("agentflow-data/api.json", "{\"addr", 0600);
	put("agentflow-data/tokens.json", "{\"write\": \"dir-token\"}", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.port, 7001);
	assert_string_equal(f.token, "conf");
	/* an address given takes the first token found, as before */
	setenv("AGENTFLOW_API", "127.0.0.1:7100", 1);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_int_equal(f.port, 7100);
	assert_string_equal(f.token, "dir-token");
	unsetenv("AGENTFLOW_API");
}

static void
test_a_users_file_others_may_change_is_refused(void **state)
{
	struct cli_found f;
	char err[1536];

	(void)state;
	skip_on_a_host_install();
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\n", 0620);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cli.conf may be written by others (mode "
	    "0620): refused"));
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\n"
	    "token-file = token\n", 0600);
	put(".config/agentflow/token", "t\n", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), 0);
	assert_string_equal(f.token, "t");
	if (geteuid() != 0)
		return;		/* only root gives a file away */
	assert_int_equal(chown(".config/agentflow/token", 1, 1), 0);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/token belongs to uid 1, not to you"));
	assert_int_equal(chown(".config/agentflow/token", 0, 0), 0);
	assert_int_equal(chown(".config/agentflow/cli.conf", 1, 1), 0);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cli.conf belongs to uid 1, not to you"));
}

static void
test_a_named_data_directory_keeps_the_users_file_out(void **state)
{
	struct cli_opts o = { 0 };
	struct cli_found f;
	char err[1536], places[800];

	(void)state;
	put(".config/agentflow/cli.conf", "api = 127.0.0.1:7001\ntoken = conf\n",
	    0600);
	assert_int_equal(mkdir("empty", 0700), 0);
	o.data_dir = "empty";
	assert_int_equal(find(&o, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty/api.json (the data directory "
	    "given): not there"));
	assert_null(strstr(err, "cli.conf:"));
	o.api = "127.0.0.1:1";
	assert_int_equal(find(&o, &f, err, sizeof(err)), 0);
	assert_false(f.has_token);
	assert_string_equal(cli_find_token_places(&f, places, sizeof(places)),
	    "--token, $AGENTFLOW_TOKEN, empty/tokens.json");
}

static void
test_nothing_found_names_each_place_in_order(void **state)
{
	struct cli_found f;
	char err[1536], conf[128];
	const char *at[5];

	skip_on_a_host_install();
	snprintf(conf, sizeof(conf), "%s/.config/agentflow/cli.conf",
	    ((struct env *)*state)->dir);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	at[0] = strstr(err, "--api, $AGENTFLOW_API: not given");
	at[1] = strstr(err, "./agentflow-data/api.json: No such file");
	at[2] = strstr(err, "/var/lib/agentflow/api.json: No such file");
	at[3] = strstr(err, conf);
	at[4] = strstr(err, "give --data-dir DIR");
	for (size_t i = 0; i < 5; i++) {
		if (at[i] == NULL)
			fail_msg("place %zu not in \"%s\"", i, err);
		if (i > 0 && at[i] < at[i - 1])
			fail_msg("place %zu out of order in \"%s\"", i, err);
	}
	assert_non_null(strstr(err, "AGENTFLOW_API=HOST:PORT and "
	    "AGENTFLOW_TOKEN"));
	/* a user's file without api is said so */
	put(".config/agentflow/cli.conf", "token = t\n", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cli.conf: no api in it"));
	/* an api.json being written: that place said, the next not
	 * looked at (it is never reached) */
	assert_int_equal(mkdir("agentflow-data", 0700), 0);
	put("agentflow-data/api.json", "{\"addr", 0600);
	assert_int_equal(find(NULL, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "./agentflow-data/api.json: no address in "
	    "it"));
	assert_null(strstr(err, "/var/lib/agentflow"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_the_users_file_with_a_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_token_others_may_read_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_token_goes_only_where_its_place_says, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_users_file_others_may_change_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_bad_users_file_is_said,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_flags_variables_and_data_directory_come_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_named_data_directory_keeps_the_users_file_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_nothing_found_names_each_place_in_order, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
