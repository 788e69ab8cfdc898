/* Unit tests of common/file.c: the bounded whole-file reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static char dir[] = "/tmp/agentflow-test-file-XXXXXX";

static void
write_at(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(data, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_read(void **state)
{
	char path[256], err[128];
	struct stat st;
	size_t len = 0;
	char *buf;

	(void)state;
	snprintf(path, sizeof(path), "%s/a", dir);
	write_at(path, "hello");
	buf = file_read(path, 5, &len, &st, err, sizeof(err));
	assert_non_null(buf);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");	/* NUL-terminated */
	assert_int_equal(st.st_size, 5);
	free(buf);
	/* len and st may be NULL. */
	buf = file_read(path, 5, NULL, NULL, err, sizeof(err));
	assert_non_null(buf);
	free(buf);
	write_at(path, "");
	buf = file_read(path, 5, &len, NULL, err, sizeof(err));
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	unlink(path);
}

static void
test_errors(void **state)
{
	char path[256], err[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_null(file_read(path, 100, NULL, NULL, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, strerror(ENOENT));
	assert_null(file_read(dir, 100, NULL, NULL, err, sizeof(err)));
	assert_string_equal(err, "not a regular file");
	snprintf(path, sizeof(path), "%s/big", dir);
	write_at(path, "12345");
	assert_null(file_read(path, 4, NULL, NULL, err, sizeof(err)));
	assert_int_equal(errno, EFBIG);
	assert_string_equal(err, "larger than 4 bytes");
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
