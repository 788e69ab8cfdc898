/*
 * The audit log and its hash chain (node/work/audit.c, common/audit_chain.c):
 * records appended and verified, an edited, deleted, inserted or cut line
 * named by its number, the chain going on across a restart, a missing file
 * reported at start, and queries bounded in bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "audit_chain.h"
#include "store.h"
#include "tmpdir.h"

struct fixture {
	char		 dir[256];
	char		 path[300];
	struct store	*st;
	struct audit	*a;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || tmpdir_make(f->dir, sizeof(f->dir), "test_audit") != 0 ||
	    (f->st = store_open(f->dir, err, sizeof(err))) == NULL ||
	    (f->a = audit_open(f->dir, "self", f->st, err, sizeof(err))) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, AUDIT_FILE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	audit_close(f->a);
	store_close(f->st);
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

static void
append_n(struct fixture *f, int n)
{
	for (int i = 0; i < n; i++)
		audit_record(f->a, i % 2 ? "command.issued" : "api.event",
		    i % 3 ? "token:alice" : "token:bob", "ok",
		    json_pack("{s:i, s:s}", "i", i, "text", "caf\xc3\xa9"));
}

/* The file's lines (NULL-terminated, each without its newline). */
static char **
read_lines(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char **lines = calloc(64, sizeof(*lines)), *line = NULL;
	size_t cap = 0;
	ssize_t len;

	*n = 0;
	assert_non_null(fp);
	while ((len = getline(&line, &cap, fp)) > 0 && *n < 63) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		lines[(*n)++] = strdup(line);
	}
	free(line);
	fclose(fp);
	return lines;
}

static void
write_lines(const char *path, char **lines, size_t n, int last_newline)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s%s", lines[i], i + 1 < n || last_newline ? "\n" : "");
	fclose(fp);
}

static void
free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void
verify(const char *path, uint64_t records, uint64_t bad_line, const char *why)
{
	struct audit_chain_report r;

	assert_int_equal(audit_chain_verify_file(path, &r), 0);
	assert_int_equal(r.records, records);
	assert_int_equal(r.bad_line, bad_line);
	if (why != NULL)
		assert_non_null(strstr(r.why, why));
	else
		assert_string_equal(r.why, "");
}

static void
test_append_and_verify(void **state)
{
	struct fixture *f = *state;
	json_t *v;

	append_n(f, 5);
	verify(f->path, 5, 0, NULL);
	v = audit_verify_json(f->a);
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "records")), 5);
	json_decref(v);
}

static void
test_edit_names_the_line(void **state)
{
	struct fixture *f = *state;
	size_t n;
	char **lines, *at;

	append_n(f, 5);
	lines = read_lines(f->path, &n);
	assert_int_equal(n, 5);
	at = strstr(lines[2], "token:");
	assert_non_null(at);
	memcpy(at, "token:mallo", 11);	/* same length, other actor */
	write_lines(f->path, lines, n, 1);
	verify(f->path, 2, 3, "hash mismatch");
	free_lines(lines, n);
}

static void
test_delete_insert_and_move_name_the_line(void **state)
{
	struct fixture *f = *state;
	size_t n;
	char **lines, *keep[6];

	append_n(f, 5);
	lines = read_lines(f->path, &n);
	/* line 2 deleted: the old line 3, now 2, does not follow line 1 */
	keep[0] = lines[0]; keep[1] = lines[2]; keep[2] = lines[3];
	write_lines(f->path, keep, 3, 1);
	verify(f->path, 1, 2, "prev mismatch");
	/* line 4 copied in front of line 2 */
	keep[0] = lines[0]; keep[1] = lines[3]; keep[2] = lines[1];
	keep[3] = lines[2]; keep[4] = lines[3]; keep[5] = lines[4];
	write_lines(f->path, keep, 6, 1);
	verify(f->path, 1, 2, "prev mismatch");
	/* the first line removed */
	write_lines(f->path, lines + 1, n - 1, 1);
	verify(f->path, 0, 1, "removed");
	free_lines(lines, n);
}

static void
test_truncation(void **state)
{
	struct fixture *f = *state;
	size_t n;
	char **lines;
	json_t *v;

	append_n(f, 4);
	lines = read_lines(f->path, &n);
	/* cut inside the last line */
	lines[3][10] = '\0';
	write_lines(f->path, lines, n, 0);
	verify(f->path, 3, 4, "truncated");
	/* whole lines cut from the end: only the index knows */
	write_lines(f->path, lines, 2, 1);
	verify(f->path, 2, 0, NULL);
	v = audit_verify_json(f->a);
	assert_true(json_is_false(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "line")), 3);
	assert_non_null(strstr(json_string_value(json_object_get(v, "error")),
	    "removed from its end"));
	json_decref(v);
	free_lines(lines, n);
}

static void
test_chain_survives_a_restart(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *v;

	append_n(f, 3);
	audit_close(f->a);
	f->a = audit_open(f->dir, "self", f->st, err, sizeof(err));
	assert_non_null(f->a);
	append_n(f, 2);
	verify(f->path, 5, 0, NULL);
	v = audit_query_json(f->a, &(struct audit_query){ .action =
	    "audit.damaged" }, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(v, "records")), 0);
	json_decref(v);
}

static void
test_missing_file_is_reported(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *v, *rec;

	append_n(f, 3);
	audit_close(f->a);
	assert_int_equal(unlink(f->path), 0);
	f->a = audit_open(f->dir, "self", f->st, err, sizeof(err));
	assert_non_null(f->a);
	v = audit_query_json(f->a, &(struct audit_query){ .action =
	    "audit.damaged" }, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(v, "records")), 1);
	rec = json_array_get(json_object_get(v, "records"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(
	    rec, "details"), "why")), "missing"));
	json_decref(v);
	/* the new file goes on from the old chain: verify says so */
	verify(f->path, 0, 1, "prev mismatch");
}

static void
test_query_filters_and_bound(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *v, *v2, *recs;
	size_t i;

	append_n(f, 40);
	v = audit_query_json(f->a, &(struct audit_query){ .actor = "token:bob" },
	    err, sizeof(err));
	recs = json_object_get(v, "records");
	assert_int_equal(json_array_size(recs), 14);
	json_array_foreach(recs, i, v2)
		assert_string_equal(json_string_value(json_object_get(v2, "actor")),
		    "token:bob");
	assert_true(json_is_false(json_object_get(v, "truncated")));
	assert_string_equal(json_string_value(json_object_get(v, "node")), "self");
	json_decref(v);
	v = audit_query_json(f->a, &(struct audit_query){ .max_bytes = 2000 },
	    err, sizeof(err));
	recs = json_object_get(v, "records");
	assert_true(json_is_true(json_object_get(v, "truncated")));
	assert_true(json_array_size(recs) > 0 && json_array_size(recs) < 40);
	assert_true(json_dumpb(v, NULL, 0, JSON_COMPACT) <= 2000);
	/* the newest are kept */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(recs, json_array_size(recs) - 1), "details"), "i")), 39);
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_names_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_insert_and_move_name_the_line,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_survives_a_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_is_reported, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_query_filters_and_bound, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
