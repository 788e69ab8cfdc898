/*
 * The field checks every JSON parser of ours makes, each in one function:
 * only known keys, integers within bounds, a name from a table, bounded
 * valid text.  They answer yes or no (and the value); the caller writes
 * the message, since each API words its refusals in its own terms.
 */
#ifndef AGENTFLOW_JSON_CHECK_H
#define AGENTFLOW_JSON_CHECK_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The first key of o that is not one of keys[0..n), or NULL when there
 * is none (or o is not an object).  The key is o's: valid while o is
 * unchanged.
 */
const char *json_check_keys(const json_t *o, const char *const keys[],
    size_t n);

/* The largest json_int_t, for a bound only from below. */
#if JSON_INTEGER_IS_LONG_LONG
#define JSON_CHECK_INT_MAX	LLONG_MAX
#else
#define JSON_CHECK_INT_MAX	LONG_MAX
#endif

/* Whether v is an integer within lo..hi; then *out (may be NULL) is it. */
bool json_check_int(const json_t *v, json_int_t lo, json_int_t hi,
    json_int_t *out);

/*
 * Whether v is a string of min..max bytes of valid UTF-8 without NUL
 * bytes; with no_ctrl, without any control character either.
 */
bool json_check_text(const json_t *v, size_t min, size_t max, bool no_ctrl);

/*
 * The index of s in a table of n entries, stride bytes apart, whose name
 * member the first entry's is at *name; -1 when s (may be NULL) is none of
 * them.  JSON_CHECK_NAME and JSON_CHECK_ENUM take the table itself.
 */
int json_check_name(const char *s, const char *const *name, size_t n,
    size_t stride);

/* json_check_name of v's string; -1 when v is not a string. */
int json_check_enum(const json_t *v, const char *const *name, size_t n,
    size_t stride);

/*
 * Readers of a record we made ourselves (a job's, a workflow's): o's
 * member k as text, "" when absent or not a string; as a positive
 * integer, 0 when absent, not an integer or not positive.
 */
/*
 * Where and why a file did not parse, for a message: "line 3, column 17:
 * invalid escape", without the text jansson quotes near the error (in a
 * tokens, --notify or --services file it can be a secret).  Returns buf.
 */
const char *json_check_load_error(const json_error_t *, char *buf,
    size_t len);
const char *json_text_of(const json_t *o, const char *k);
uint64_t json_u64_of(const json_t *o, const char *k);

#define JSON_CHECK_NAME(s, table)	json_check_name((s),		\
	&(table)[0].name, sizeof(table) / sizeof((table)[0]), sizeof((table)[0]))
#define JSON_CHECK_ENUM(v, table)	json_check_enum((v),		\
	&(table)[0].name, sizeof(table) / sizeof((table)[0]), sizeof((table)[0]))

#endif
