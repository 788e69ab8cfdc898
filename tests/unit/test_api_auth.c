/*
 * Unit tests of node/api/api_auth.c: tokens generated on first start (mode
 * 0600, read back on the next), tokens given as flags with their "next"
 * tokens for rotation, refusals of short or malformed tokens and of a
 * damaged tokens.json, the per-token write rate, the admin role (and the
 * bootstrap admin of a file without one), and reloading tokens.json.
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

/* The role of token; *name: its principal's name, NULL when refused. */
static enum principal_role
check(struct api_auth *a, const char *token, const char **name)
{
	static struct principal p;
	char why[256];
	enum principal_role r = api_auth_check(a, token, &p, why, sizeof(why));

	*name = r != PRINCIPAL_NONE ? p.name : NULL;
	if (r == PRINCIPAL_NONE)
		assert_true(why[0] != '\0');
	return r;
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
	snprintf(read1, sizeof(read1), "%s", api_auth_token(a, PRINCIPAL_READ));
	snprintf(write1, sizeof(write1), "%s", api_auth_token(a, PRINCIPAL_WRITE));
	assert_int_equal(strlen(read1), 64);
	assert_string_not_equal(read1, write1);
	assert_int_equal(check(a, read1, &name), PRINCIPAL_READ);
	assert_string_equal(name, "token:read");
	/* no admin token in the file: the write token is the bootstrap admin */
	assert_int_equal(check(a, write1, &name), PRINCIPAL_ADMIN);
	assert_string_equal(name, "token:write");
	assert_int_equal(check(a, NULL, &name), PRINCIPAL_NONE);
	assert_null(name);
	/* a prefix, a longer string and a changed byte are all refused */
	write1[63] = '\0';
	assert_int_equal(check(a, write1, &name), PRINCIPAL_NONE);
	api_auth_free(a);

	/* the next start reads the same tokens back */
	assert_non_null(b = api_auth_new(&c, f->rng, err, sizeof(err)));
	assert_string_equal(api_auth_token(b, PRINCIPAL_READ), read1);
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
	assert_int_equal(check(a, "writer-next-0123456789", &name),
	    PRINCIPAL_ADMIN);
	assert_string_equal(name, "token:write-next");
	assert_int_equal(check(a, "reader-token-0123456789", &name),
	    PRINCIPAL_READ);
	assert_int_equal(check(a, "reader-next-0123456789", &name),
	    PRINCIPAL_NONE);
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
		"{\"root\": \"0123456789abcdef0123\"}",
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
	assert_null(api_auth_token(a, PRINCIPAL_WRITE));
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
	struct principal w = { "token:write", "", PRINCIPAL_WRITE, "" };
	struct principal wn = { "token:write-next", "", PRINCIPAL_WRITE, "" };
	struct principal alice = { "alice", "00ff", PRINCIPAL_WRITE, "" };

	for (int i = 0; i < 10; i++)
		allowed += api_auth_write_allowed(a, &w, 1000, &retry);
	assert_int_equal(allowed, 3);
	assert_true(retry >= 1);
	/* another token has its own budget; time refills this one */
	assert_int_equal(api_auth_write_allowed(a, &wn, 1000, NULL), 1);
	assert_int_equal(api_auth_write_allowed(a, &alice, 1000, NULL), 1);
	assert_int_equal(api_auth_write_allowed(a, &w, 2100, NULL), 1);
	api_auth_free(a);
}

/* With an admin token, write is write; admin-next is admin too. */
static void
test_admin_role(void **state)
{
	struct fixture *f = *state;
	struct api_auth_config c = { .data_dir = f->dir, .write_rate = 10 };
	struct api_auth *a;
	char err[256];
	const char *name;

	write_file(f->file, "{\"read\": \"reader-token-0123456789\", "
	    "\"write\": \"writer-token-0123456789\", "
	    "\"admin-next\": \"admin-next-0123456789\"}");
	assert_non_null(a = api_auth_new(&c, f->rng, err, sizeof(err)));
	assert_int_equal(check(a, "writer-token-0123456789", &name),
	    PRINCIPAL_WRITE);
	assert_int_equal(check(a, "admin-next-0123456789", &name),
	    PRINCIPAL_ADMIN);
	assert_string_equal(name, "token:admin-next");
	assert_string_equal(api_auth_token(a, PRINCIPAL_ADMIN),
	    "admin-next-0123456789");
	/* a signed token with no registry configured is refused, saying so */
	assert_int_equal(check(a, "af1.abc.def", &name), PRINCIPAL_NONE);
	api_auth_free(a);
}

/*
 * tokens.json is read again when it changes (a request looks at most once
 * a second) and on api_auth_reload; a damaged file keeps the old tokens.
 */
static void
test_reload(void **state)
{
	struct fixture *f = *state;
	struct api_auth_config c = { .data_dir = f->dir, .write_rate = 10 };
	struct api_auth *a;
	char err[256];
	const char *name;

	write_file(f->file, "{\"write\": \"writer-token-0123456789\"}");
	assert_non_null(a = api_auth_new(&c, f->rng, err, sizeof(err)));
	assert_int_equal(check(a, "writer-token-0123456789", &name),
	    PRINCIPAL_ADMIN);
	/* rotated: the next token works after the recheck period */
	write_file(f->file, "{\"write\": \"writer-newer-0123456789\", "
	    "\"read\": \"reader-newer-0123456789\"}");
	usleep(1100 * 1000);
	assert_int_equal(check(a, "writer-newer-0123456789", &name),
	    PRINCIPAL_ADMIN);
	assert_int_equal(check(a, "writer-token-0123456789", &name),
	    PRINCIPAL_NONE);
	/* damaged: refused, the old tokens stay */
	write_file(f->file, "{\"write\": 1");
	assert_int_equal(api_auth_reload(a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, API_AUTH_FILE));
	assert_int_equal(check(a, "reader-newer-0123456789", &name),
	    PRINCIPAL_READ);
	/* and a good file again, on demand (SIGHUP) */
	write_file(f->file, "{\"admin\": \"admin-token-0123456789\", "
	    "\"write\": \"writer-newer-0123456789\"}");
	assert_int_equal(api_auth_reload(a, err, sizeof(err)), 0);
	assert_int_equal(check(a, "writer-newer-0123456789", &name),
	    PRINCIPAL_WRITE);
	assert_int_equal(check(a, "admin-token-0123456789", &name),
	    PRINCIPAL_ADMIN);
	assert_int_equal(check(a, "reader-newer-0123456789", &name),
	    PRINCIPAL_NONE);
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
		cmocka_unit_test_setup_teardown(test_admin_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
