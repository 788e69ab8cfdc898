/*
 * Unit tests of common/check.h: CHECK() passes a true condition without a
 * trace, and a false one aborts after naming file, line and expression on
 * stderr, even in a build that defines NDEBUG (as release builds do).  The
 * failing case runs in a child process so the abort is observed, not
 * suffered.
 */
#define NDEBUG 1	/* what a release build defines: CHECK must stay */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Runs fn in a child with stderr on a pipe; returns its wait status and
 * what it wrote. */
static int
run_child(void (*fn)(int), int arg, char *out, size_t outlen)
{
	int fds[2], status = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (len + 1 < outlen &&
	    (n = read(fds[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
check_equal(int v)
{
	CHECK(v == 1);
}
static const int check_equal_line = __LINE__ - 2;	/* the CHECK's */

static void
test_true_condition_passes(void **state)
{
	char out[256];
	int status;

	(void)state;
	status = run_child(check_equal, 1, out, sizeof(out));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(out, "");
}

static void
test_false_condition_aborts_naming_it(void **state)
{
	char out[256], want[256];
	int status;

	(void)state;
	status = run_child(check_equal, 2, out, sizeof(out));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	snprintf(want, sizeof(want), "test_check.c:%d: CHECK(v == 1) failed\n",
	    check_equal_line);
	assert_non_null(strstr(out, want));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_true_condition_passes),
		cmocka_unit_test(test_false_condition_aborts_naming_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
