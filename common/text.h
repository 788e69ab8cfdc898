/*
 * The text rules every parser shares, each in one function: what valid
 * UTF-8 is, how invalid text is made printable or cut, what a label key
 * is, and how comma-separated and KEY=VALUE lists are read.  The frame
 * codec, the signal, tasks, alerts, commands and option parsing all call
 * these, so a rule cannot hold in one parser and not in another.
 *
 * Pure functions over bytes: no allocation, no locale, nothing kept.
 */
#ifndef AGENTFLOW_TEXT_H
#define AGENTFLOW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A label is KEY=VALUE; the wire (frame_codec.h) and the signal bound it. */
#define TEXT_LABEL_KEY_MAX	63
#define TEXT_LABEL_VALUE_MAX	255

/*
 * The length (1-4) of the strictly valid UTF-8 sequence at s, reading at
 * most avail (>= 1) bytes, or 0 when there is none: no overlong forms, no
 * surrogates, nothing above U+10FFFF.  Any ASCII byte, NUL included, is a
 * sequence of 1.
 */
size_t text_utf8_seq(const char *s, size_t avail);

/* Whether c is a C0 control character or DEL. */
bool text_is_ctrl(unsigned char c);

/*
 * Whether s[0..len) is valid UTF-8; with no_ctrl, also free of control
 * characters (NUL included).
 */
bool text_utf8_valid(const char *s, size_t len, bool no_ctrl);

/*
 * Makes s[0..len) valid UTF-8 without NUL bytes, in place: each byte that
 * does not start a valid sequence, and each NUL, becomes '?'.  The length
 * never changes, so bounds checked before still hold.
 */
void text_sanitize(char *s, size_t len);

/*
 * Copies src (NULL: "") into dst, a buffer of cap >= 1 bytes, as valid
 * UTF-8 of at most cap - 1 bytes, NUL-terminated: invalid bytes (and, with
 * no_ctrl, control characters) become U+FFFD, and truncation never splits
 * a character.  Returns the length written.
 */
size_t text_copy(char *dst, size_t cap, const char *src, bool no_ctrl);

/*
 * Where to cut s[0..len) so that no UTF-8 sequence is split: before an
 * incomplete sequence at its end (at most 3 bytes), else at len.
 */
size_t text_cut(const char *s, size_t len);

/* Whether k[0..len) is a label key: 1-63 of [A-Za-z0-9._/-]. */
bool text_label_key_valid(const char *k, size_t len);

/*
 * Whether s[0..len) is a name in name syntax: 1-63 of [A-Za-z0-9_-] (a
 * service, its endpoints and their tags; no dot, so a name can be read
 * up to one).
 */
#define TEXT_NAME_MAX		63
bool text_name_valid(const char *s, size_t len);

/*
 * Whether k[0..len) is an environment variable's name as a process's
 * definition may set it: [A-Za-z_][A-Za-z0-9_]*, so that no shell or
 * program reads it differently (tasks, services).
 */
bool text_env_name_valid(const char *k, size_t len);

/*
 * Whether v[0..len) is a label value as the wire carries it: at most 255
 * bytes of UTF-8 without control characters.
 */
bool text_label_value_valid(const char *v, size_t len);

/* An artifact's id: "sha256:" and 64 lowercase hex digits (the SHA-256
 * of its bytes), TEXT_ARTIFACT_LEN bytes. */
#define TEXT_ARTIFACT_PREFIX	"sha256:"
#define TEXT_ARTIFACT_LEN	(7 + 64)
bool text_artifact_valid(const char *s);

/*
 * Walks a comma-separated list ("a,b,,c"): each call points *item at the
 * next item and sets *len (0 for an empty one) and returns 1, or returns
 * 0 past the last.  *cursor starts at the list (NULL: no items) and is
 * advanced; items point into the list, nothing is copied.
 */
int text_list_next(const char **cursor, const char **item, size_t *len);

/* One item of a KEY=VALUE list; the pointers are into the list. */
struct text_kv {
	const char	*item;		/* the whole item, for messages */
	size_t		 item_len;
	const char	*key;
	size_t		 key_len;	/* >= 1 */
	const char	*value;		/* after the first '=' */
	size_t		 value_len;
};

/*
 * Walks a comma-separated KEY=VALUE list ("role=db,site=home"), skipping
 * empty items: returns 1 with *kv filled, 0 past the last item, or -1 with
 * kv->item set when the next item has no '=' or nothing before it.  Keys
 * and values are not checked here (text_label_key_valid does for labels).
 * *cursor is as text_list_next's.
 */
int text_kv_next(const char **cursor, struct text_kv *kv);

/*
 * The Levenshtein distance between a and b (bytes; insert, delete and
 * replace cost 1), for "did you mean" hints.  SIZE_MAX when either is
 * longer than 255 bytes: names are short.
 */
size_t text_edit_distance(const char *a, const char *b);

/* FNV-1a 64 of len bytes at p, from h: TEXT_FNV1A_BASIS, or the value of
 * an earlier call to go on. */
#define TEXT_FNV1A_BASIS	14695981039346656037ULL
uint64_t text_fnv1a(const void *p, size_t len, uint64_t h);

#endif
