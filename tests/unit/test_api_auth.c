/*
 * Unit tests of node/api/api_auth.c: tokens generated on first start (mode
 * 0600, read back on the next), tokens given as flags with their "next"
 * tokens for rotation, refusals of short or malformed tokens and of a
 * damaged tokens.json, and the per-token write rate.
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

#include "api_auth.h"
#include "rng.h"
#include "tmpdir.h"

struct fixture {
	char		 dir[64];
	char		 file[128];
	struct rng	*rng;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "test_api_auth") != 0 ||
	    (f->rng = rng_new("test")) == NULL)
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, API_AUTH_FILE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = tmpdir_remove(f->dir);

	rng_free(f->rng);
	free(f);
	return rc;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_generated_once_and_kept(void **state)
{
	struct fixture *f = *state;
	struct api_auth_config c = { .data_dir = f->dir, .write_rate = 10 };
	struct api_auth *a, *b;
	char err[256], read1[80], write1[80];
	const char *name;
	struct stat sb;

	assert_non_null(a = api_auth_new(&c, f->rng, err, sizeof(err)));
	assert_int_equal(stat(f->file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(read1, sizeof(read1), "%s", api_auth_token(a, API_ROLE_READ));
	snprintf(write1, sizeof(write1), "%s", api_auth_token(a, API_ROLE_WRITE));
	assert_int_equal(strlen(read1), 64);
	assert_string_not_equal(read1, write1);
	assert_int_equal(api_auth_check(a, read1, &name), API_ROLE_READ);
	assert_string_equal(name, "read");
	assert_int_equal(api_auth_check(a, write1, &name), API_ROLE_WRITE);
	assert_string_equal(name, "write");
	assert_int_equal(api_auth_check(a, NULL, &name), API_ROLE_NONE);
	assert_null(name);
	/* a prefix, a longer string and a changed byte are all refused */
	write1[63] = '\0';
	assert_int_equal(api_auth_check(a, write1, &name), API_ROLE_NONE);
	api_auth_free(a);

	/* the next start reads the same tokens back */
	assert_non_null(b = api_auth_new(&c, f->rng, err, sizeof(err)));
	assert_string_equal(api_auth_token(b, API_ROLE_READ), read1);
	api_auth_free(b);
}

static void
test_given_tokens_and_rotation(void **state)
{
	struct fixture *f = *state;
	struct api_auth_config c = { .data_dir = f->dir, .write_rate = 10,
	    .read = "reader-token-0123456789", .write = "writer-token-0123456789",
	    .write_next = "writer-next-0123456789" };
	struct api_auth *a;
	char err[256];
	const char *name;
	struct stat sb;

	assert_non_null(a = api_auth_new(&c, f->rng, err, sizeof(err)));
	/* given tokens: nothing is generated */
	assert_int_not_equal(stat(f->file, &sb), 0);
	assert_int_equal(api_auth_check(a, "writer-next-0123456789", &name),
	    API_ROLE_WRITE);
	assert_string_equal(name, "write-next");
	assert_int_equal(api_auth_check(a, "reader-token-0123456789", &name),
	    API_ROLE_READ);
	assert_int_equal(api_auth_check(a, "reader-next-0123456789", &name),
	    API_ROLE_NONE);
	api_auth_free(a);

	c.read = "short";
	assert_null(api_auth_new(&c, f->rng, err, sizeof(err)));
	assert_non_null(strstr(err, "read token"));
	c.read = "has spaces in it, too many";
	assert_null(api_auth_new(&c, f->rng, err, sizeof(err)));
}

static void
test_damaged_tokens_file_is_refused(void **state)
{
	struct fixture *f = *state;
	struct api_auth_config c = { .data_dir = f->dir, .write_rate = 10 };
	const char *const bad[] = {
		"not json",
		"[\"a\"]",
		"{}",
		"{\"admin\": \"0123456789abcdef0123\"}",
		"{\"read\": 12}",
		"{\"read\": \"tooshort\"}",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->file, bad[i]);
		assert_null(api_auth_new(&c, f->rng, err, sizeof(err)));
		assert_non_null(strstr(err, API_AUTH_FILE));
	}
	/* and it was left as it was: no overwrite */
	write_file(f->file, "{\"read\": \"0123456789abcdef0123\"}");
	struct api_auth *a = api_auth_new(&c, f->rng, err, sizeof(err));
	assert_non_null(a);
	assert_null(api_auth_token(a, API_ROLE_WRITE));
	api_auth_free(a);
}

static void
test_write_rate_per_token(void **state)
{
	struct fixture *f = *state;
	struct api_auth_config c = { .data_dir = f->dir, .write_rate = 1,
	    .write = "writer-token-0123456789" };
	struct api_auth *a;
	char err[256];
	unsigned retry = 0;
	int allowed = 0;

	assert_non_null(a = api_auth_new(&c, f->rng, err, sizeof(err)));
	/* rate 1/s, burst 3: three at once, then a refusal with a retry time */
	for (int i = 0; i < 10; i++)
		allowed += api_auth_write_allowed(a, "write", 1000, &retry);
	assert_int_equal(allowed, 3);
	assert_true(retry >= 1);
	/* another token has its own budget; time refills this one */
	assert_int_equal(api_auth_write_allowed(a, "write-next", 1000, NULL), 1);
	assert_int_equal(api_auth_write_allowed(a, "write", 2100, NULL), 1);
	api_auth_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generated_once_and_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_given_tokens_and_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_tokens_file_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_rate_per_token, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
