/*
 * Unit tests of certs/certs_file.c: existing files are never written, new
 * keys are born with their mode, a failed set of creations leaves nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs_file.h"

static char dir[] = "/tmp/test_certs_file.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path(char *buf, const char *name)
{
	snprintf(buf, 256, "%s/%s", dir, name);
}

static void
test_create_modes(void **state)
{
	char key[256], crt[256], err[256];
	struct stat st;
	mode_t old;

	(void)state;
	path(key, "m.key");
	path(crt, "m.crt");
	/* Even a permissive umask cannot widen a key: it is born 0600. */
	old = umask(0);
	{
		const struct certs_file files[] = {
			{ key, 0600, "secret\n" }, { crt, 0644, "public\n" },
		};
		assert_int_equal(certs_file_create_all(files, 2, err,
		    sizeof(err)), 0);
	}
	umask(old);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(crt, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void
test_never_overwrites(void **state)
{
	char key[256], other[256], err[256], *data;
	size_t len;

	(void)state;
	path(key, "x.key");
	path(other, "x.crt");
	{
		const struct certs_file first[] = { { key, 0600, "original" } };
		assert_int_equal(certs_file_create_all(first, 1, err,
		    sizeof(err)), 0);
	}
	{
		/* The clash is on the second file: the first must vanish. */
		const struct certs_file again[] = {
			{ other, 0644, "new cert" }, { key, 0600, "new key" },
		};
		assert_int_equal(certs_file_create_all(again, 2, err,
		    sizeof(err)), -1);
	}
	assert_non_null(strstr(err, "refusing to overwrite"));
	assert_non_null(strstr(err, key));
	assert_int_equal(access(other, F_OK), -1);
	data = certs_file_read(key, &len, err, sizeof(err));
	assert_non_null(data);
	assert_string_equal(data, "original");
	assert_int_equal(len, 8);
	free(data);
}

static void
test_replace(void **state)
{
	char crl[256], err[256], *data;
	struct stat st;

	(void)state;
	path(crl, "ca.crl");
	assert_int_equal(certs_file_replace(crl, 0644, "one", err,
	    sizeof(err)), 0);
	assert_int_equal(certs_file_replace(crl, 0644, "two", err,
	    sizeof(err)), 0);
	data = certs_file_read(crl, NULL, err, sizeof(err));
	assert_string_equal(data, "two");
	free(data);
	assert_int_equal(stat(crl, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void
test_read_errors(void **state)
{
	char missing[256], err[256];

	(void)state;
	path(missing, "nope.crt");
	assert_null(certs_file_read(missing, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "No such file"));
	assert_null(certs_file_read(dir, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

static void
test_mkdirs(void **state)
{
	char deep[256], err[256];
	struct stat st;

	(void)state;
	path(deep, "a/b/c");
	assert_int_equal(certs_file_mkdirs(deep, err, sizeof(err)), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(certs_file_mkdirs(deep, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_modes),
		cmocka_unit_test(test_never_overwrites),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_mkdirs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
