/*
 * The optional configuration file (see config_file.h for the syntax).
 *
 * config_file_parse() is the only code that looks at the file's bytes; it
 * works on one bounded line at a time in a stack buffer and allocates
 * nothing, so a fuzzer can drive it directly.  config_file_load() checks
 * every setting (unknown key, duplicate, opts.c's typed validation into a
 * scratch struct) before it touches the caller's struct, so a bad file
 * changes nothing.  The strings it sets live in the struct config_file it
 * returns.
 */
#include "config_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "xalloc.h"

struct setting {
	size_t		 opt;		/* index into the table */
	unsigned	 line;
	char		*value;		/* owned */
};

struct config_file {
	struct setting	*settings;
	size_t		 count, cap;
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/*
 * Splits one line (NUL-terminated, in a buffer we may rewrite) into key and
 * unescaped value.  Returns 1 with *key and *value set for a setting, 0 for a
 * blank or comment line, -1 with msg set for a syntax error.
 */
static int
parse_line(char *p, char **key, char **value, char *msg, size_t msglen)
{
	char *k, *kend, *v, *out, *end;

	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;

	k = p;
	while (is_key_char(*p))
		p++;
	kend = p;
	if (kend == k) {
		snprintf(msg, msglen, "expected a key (letters, digits, '-', "
		    "'_', '.'), found '%c'", *p);
		return -1;
	}
	while (is_blank(*p))
		p++;
	if (*p != '=') {
		*kend = '\0';
		snprintf(msg, msglen, "missing '=' after key \"%.64s\"", k);
		return -1;
	}
	*kend = '\0';
	p++;
	while (is_blank(*p))
		p++;

	if (*p == '"') {
		/* Unescape in place: the output never overtakes the input. */
		v = out = p;
		for (p++;; p++) {
			if (*p == '\0') {
				snprintf(msg, msglen, "%.64s: unterminated quote", k);
				return -1;
			}
			if (*p == '"')
				break;
			if (*p == '\\') {
				if (p[1] != '"' && p[1] != '\\') {
					if (p[1] == '\0')
						snprintf(msg, msglen,
						    "%.64s: unterminated quote", k);
					else
						snprintf(msg, msglen, "%.64s: unknown "
						    "escape \\%c (only \\\" and "
						    "\\\\)", k, p[1]);
					return -1;
				}
				p++;
			}
			*out++ = *p;
		}
		*out = '\0';
		for (p++; is_blank(*p); p++)
			;
		if (*p != '\0' && *p != '#') {
			snprintf(msg, msglen, "%.64s: unexpected text after the "
			    "closing quote", k);
			return -1;
		}
	} else {
		/* A '#' opening the value or after a blank starts a comment. */
		v = p;
		for (end = p; *end != '\0'; end++)
			if (*end == '#' && (end == v || is_blank(end[-1])))
				break;
		while (end > v && is_blank(end[-1]))
			end--;
		*end = '\0';
	}
	*key = k;
	*value = v;
	return 1;
}

int
config_file_parse(const char *name, const char *text, size_t len,
    config_file_cb cb, void *arg, unsigned *lineno, char *err, size_t errlen)
{
	char buf[CONFIG_FILE_LINE_MAX + 1], msg[512];
	const char *p = text, *end = text + len, *nl;
	char *key, *value;
	unsigned line = 0;
	size_t l;
	int r;

	if (name == NULL)
		name = "config";
	if (lineno != NULL)
		*lineno = 0;
	if (len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", name,
		    CONFIG_FILE_MAX);
		return -1;
	}
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl != NULL ? nl : end) - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l > CONFIG_FILE_LINE_MAX) {
			snprintf(msg, sizeof(msg), "line longer than %d bytes",
			    CONFIG_FILE_LINE_MAX);
			goto fail;
		}
		if (memchr(p, '\0', l) != NULL) {
			snprintf(msg, sizeof(msg), "NUL byte in line");
			goto fail;
		}
		memcpy(buf, p, l);
		buf[l] = '\0';
		p = nl != NULL ? nl + 1 : end;

		r = parse_line(buf, &key, &value, msg, sizeof(msg));
		if (r < 0)
			goto fail;
		if (r > 0 && cb(arg, line, key, value, msg, sizeof(msg)) != 0)
			goto fail;
	}
	return 0;
fail:
	if (lineno != NULL)
		*lineno = line;
	snprintf(err, errlen, "%s:%u: %s", name, line, msg);
	return -1;
}

void
config_file_free(struct config_file *cf)
{
	if (cf == NULL)
		return;
	for (size_t i = 0; i < cf->count; i++)
		free(cf->settings[i].value);
	free(cf->settings);
	free(cf);
}

/* What config_file_load's callback checks against. */
struct load_ctx {
	const struct opt	*table;
	size_t			 n;
	void			*scratch;	/* a throwaway config struct */
	struct config_file	*cf;
};

static int
load_cb(void *arg, unsigned line, const char *key, const char *value,
    char *msg, size_t msglen)
{
	struct load_ctx *ctx = arg;
	struct config_file *cf = ctx->cf;
	size_t i;

	for (i = 0; i < ctx->n; i++)
		if (strcmp(ctx->table[i].name, key) == 0)
			break;
	if (i == ctx->n) {
		snprintf(msg, msglen, "unknown key \"%.64s\"", key);
		return -1;
	}
	for (size_t j = 0; j < cf->count; j++)
		if (cf->settings[j].opt == i) {
			snprintf(msg, msglen, "%s: given twice (first on line "
			    "%u)", key, cf->settings[j].line);
			return -1;
		}
	/* Typed validation, without touching the caller's struct yet. */
	if (opts_set(&ctx->table[i], ctx->scratch, value, key, msg, msglen) != 0)
		return -1;
	if (cf->count == cf->cap) {
		cf->cap = cf->cap ? cf->cap * 2 : 8;
		cf->settings = xrealloc(cf->settings,
		    cf->cap * sizeof(*cf->settings));
	}
	cf->settings[cf->count].opt = i;
	cf->settings[cf->count].line = line;
	cf->settings[cf->count].value = xstrdup(value);
	cf->count++;
	return 0;
}

/* Reads the whole file, refusing anything over CONFIG_FILE_MAX; errors
 * read "PATH: why". */
static char *
read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	char why[256];
	char *buf;

	if ((buf = file_read(path, CONFIG_FILE_MAX, lenp, NULL, why,
	    sizeof(why))) == NULL)
		snprintf(err, errlen, "%s: %s", path, why);
	return buf;
}

int
config_file_load(const struct opt *table, size_t n, void *cfg,
    const char *path, struct config_file **out, char *err, size_t errlen)
{
	struct load_ctx ctx;
	size_t len, size = 0;
	char *text;
	int rc;

	*out = NULL;
	if ((text = read_file(path, &len, err, errlen)) == NULL)
		return -1;
	/* Room for every field: each is a long, an int or a pointer. */
	for (size_t i = 0; i < n; i++) {
		size_t end = table[i].offset + (sizeof(long) > sizeof(char *) ?
		    sizeof(long) : sizeof(char *));
		if (end > size)
			size = end;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.table = table;
	ctx.n = n;
	ctx.scratch = xcalloc(1, size);
	ctx.cf = xcalloc(1, sizeof(*ctx.cf));

	rc = config_file_parse(path, text, len, load_cb, &ctx, NULL, err,
	    errlen);
	free(text);
	free(ctx.scratch);
	if (rc != 0) {
		config_file_free(ctx.cf);
		return -1;
	}
	for (size_t i = 0; i < ctx.cf->count; i++) {
		const struct setting *s = &ctx.cf->settings[i];
		/* Cannot fail: the same call succeeded on the scratch copy. */
		if (opts_set(&table[s->opt], cfg, s->value, table[s->opt].name,
		    err, errlen) != 0) {
			config_file_free(ctx.cf);
			return -1;
		}
	}
	*out = ctx.cf;
	return 0;
}

enum opts_result
config_file_opts_parse(const struct opt *table, size_t n, void *cfg,
    int argc, char **argv, const char *usage, int *first_arg,
    const char *config_opt, struct config_file **out, char *err,
    size_t errlen)
{
	const struct opt *co = NULL;
	struct config_file *cf;
	const char *path, **field;
	enum opts_result r;

	*out = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, config_opt) == 0)
			co = &table[i];
	if (co == NULL || co->type != OPT_STRING) {
		snprintf(err, errlen, "no string option \"%s\" in the table",
		    config_opt);
		return OPTS_ERROR;
	}
	/* First pass: only to learn where the file is (or --help). */
	if ((r = opts_parse(table, n, cfg, argc, argv, usage, first_arg, err,
	    errlen)) != OPTS_OK)
		return r;
	field = (const char **)(void *)((char *)cfg + co->offset);
	path = *field;
	if (path == NULL || path[0] == '\0')
		return OPTS_OK;

	/* Second pass, lowest layer first: defaults, file, env, flags. */
	if (opts_defaults(table, n, cfg, err, errlen) != 0)
		return OPTS_ERROR;
	{
		const char *before = *field;
		if (config_file_load(table, n, cfg, path, &cf, err, errlen) != 0)
			return OPTS_ERROR;
		if (*field != before) {
			snprintf(err, errlen, "%s: \"%s\" cannot be set in a "
			    "config file", path, config_opt);
			config_file_free(cf);
			return OPTS_ERROR;
		}
	}
	if ((r = opts_apply(table, n, cfg, argc, argv, usage, first_arg, err,
	    errlen)) != OPTS_OK) {
		config_file_free(cf);
		return r;
	}
	*out = cf;
	return OPTS_OK;
}
