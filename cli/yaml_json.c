/*
 * YAML to JSON (yaml_json.h): libyaml's events build the value with a
 * stack of the containers open, each mapping holding the key that waits
 * for its value.
 */
#include "yaml_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct frame {
	json_t	*v;		/* an object or an array */
	char	*key;		/* a mapping's key waiting for its value */
};

struct build {
	struct frame	 stack[YAML_JSON_DEPTH];
	int		 depth;
	json_t		*root;
	size_t		 nodes;
	char		*err;
	size_t		 errlen;
};

static int
fail(struct build *b, const yaml_mark_t *m, const char *what)
{
	snprintf(b->err, b->errlen, "line %zu, column %zu: %s", m->line + 1,
	    m->column + 1, what);
	return -1;
}

static int
all_digits(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* [-+]? ( . digits | digits ( . digits? )? ) ( [eE] [-+]? digits )? */
static int
is_number(const char *s)
{
	int digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (digits == 0)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int
one_of(const char *s, const char *const words[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return 1;
	return 0;
}

/* A scalar as the core schema reads it; NULL with err set. */
static json_t *
scalar(struct build *b, const yaml_event_t *e)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	const char *s = (const char *)e->data.scalar.value;
	const char *tag = (const char *)e->data.scalar.tag;
	long long i;
	char *end;

	if (strlen(s) != e->data.scalar.length) {
		fail(b, &e->start_mark, "a NUL byte in a scalar");
		return NULL;
	}
	if (!e->data.scalar.plain_implicit || (tag != NULL &&
	    strcmp(tag, YAML_STR_TAG) == 0))
		return json_stringn(s, e->data.scalar.length);
	if (one_of(s, nulls, 5))
		return json_null();
	if (one_of(s, yes, 3))
		return json_true();
	if (one_of(s, no, 3))
		return json_false();
	if (all_digits(s)) {
		errno = 0;
		i = strtoll(s, &end, 10);
		if (errno == ERANGE) {
			fail(b, &e->start_mark, "an integer out of range");
			return NULL;
		}
		return json_integer((json_int_t)i);
	}
	if (is_number(s)) {
		double d = strtod(s, NULL);

		if (!isfinite(d)) {
			fail(b, &e->start_mark, "a number out of range");
			return NULL;
		}
		return json_real(d);
	}
	return json_stringn(s, e->data.scalar.length);
}

/* v (stolen) into the container open, or as the root. */
static int
add(struct build *b, json_t *v, const yaml_event_t *e, int is_key)
{
	struct frame *f = b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
	int rc = 0;

	if (++b->nodes > YAML_JSON_NODES) {
		json_decref(v);
		return fail(b, &e->start_mark, "more values than a definition "
		    "holds");
	}
	if (f == NULL)
		b->root = v;
	else if (json_is_array(f->v))
		json_array_append_new(f->v, v);
	else if (f->key == NULL) {
		if (!is_key) {
			json_decref(v);
			return fail(b, &e->start_mark, "a mapping's key must be a "
			    "scalar");
		}
		if (json_object_get(f->v, json_string_value(v)) != NULL)
			rc = fail(b, &e->start_mark, "a key given twice");
		else
			f->key = strdup(json_string_value(v));
		json_decref(v);
	} else {
		json_object_set_new(f->v, f->key, v);
		free(f->key);
		f->key = NULL;
	}
	return rc;
}

static int
open_container(struct build *b, json_t *v, const yaml_event_t *e)
{
	if (b->depth == YAML_JSON_DEPTH) {
		json_decref(v);
		return fail(b, &e->start_mark, "nested too deep");
	}
	b->stack[b->depth].v = v;
	b->stack[b->depth].key = NULL;
	b->depth++;
	return 0;
}

/* One event: 0 go on, 1 the stream ended, -1 an error. */
static int
step(struct build *b, const yaml_event_t *e, int *docs)
{
	struct frame *f = b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
	int is_key = f != NULL && json_is_object(f->v) && f->key == NULL;
	json_t *v;

	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return fail(b, &e->start_mark, "one document only");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail(b, &e->start_mark, "aliases are not taken");
	case YAML_SCALAR_EVENT:
		if (e->data.scalar.anchor != NULL)
			return fail(b, &e->start_mark, "anchors are not taken");
		/* A key is text whatever it looks like, as in JSON. */
		v = is_key ? json_stringn((const char *)e->data.scalar.value,
		    e->data.scalar.length) : scalar(b, e);
		if (v == NULL)
			return -1;
		return add(b, v, e, is_key);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((e->type == YAML_SEQUENCE_START_EVENT ?
		    e->data.sequence_start.anchor : e->data.mapping_start.anchor)
		    != NULL)
			return fail(b, &e->start_mark, "anchors are not taken");
		if (is_key)
			return fail(b, &e->start_mark, "a mapping's key must be a "
			    "scalar");
		return open_container(b, e->type == YAML_SEQUENCE_START_EVENT ?
		    json_array() : json_object(), e);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		v = b->stack[b->depth].v;
		free(b->stack[b->depth].key);
		return add(b, v, e, 0);
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

json_t *
yaml_json_load(const char *text, size_t len, char *err, size_t errlen)
{
	struct build b = { .err = err, .errlen = errlen };
	yaml_parser_t p;
	yaml_event_t e;
	int rc = 0, docs = 0;

	err[0] = '\0';
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (rc == 0) {
		if (!yaml_parser_parse(&p, &e)) {
			snprintf(err, errlen, "line %zu, column %zu: %s",
			    p.problem_mark.line + 1, p.problem_mark.column + 1,
			    p.problem != NULL ? p.problem : "not YAML");
			rc = -1;
			break;
		}
		rc = step(&b, &e, &docs);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	while (b.depth > 0) {
		b.depth--;
		json_decref(b.stack[b.depth].v);
		free(b.stack[b.depth].key);
	}
	if (rc < 0 || b.root == NULL) {
		if (rc >= 0)
			snprintf(err, errlen, "an empty document");
		json_decref(b.root);
		return NULL;
	}
	return b.root;
}
