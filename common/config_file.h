/*
 * An optional configuration file for an opts.h table.
 *
 * Syntax, one setting per line:
 *
 *   # a comment line
 *   max-links = 3            # a comment after an unquoted value
 *   signal    = "https://signal.example:7000"
 *   name      = "a \"quoted\" value with a \\ and # inside"
 *   verbose   = true         (booleans: true/false/yes/no/1/0)
 *
 * Keys are the table's long flag names.  Blank lines and lines whose first
 * non-blank character is '#' are ignored.  An unquoted value runs to the end
 * of the line, with surrounding blanks trimmed; a '#' preceded by a blank
 * starts a comment.  A quoted value ("...") knows two escapes, \" and \\,
 * and may be followed only by blanks and a comment.  Lines end with LF or
 * CRLF; a line holds at most CONFIG_FILE_LINE_MAX bytes and a file at most
 * CONFIG_FILE_MAX bytes.  A key given twice is an error, as are unknown keys
 * and values opts.c would refuse; every error names the file, the line and
 * the key.
 *
 * Precedence: flag > environment > file > default.  A daemon gets it with
 * one call, config_file_opts_parse(), in place of opts_parse():
 *
 *   struct config_file *cf;
 *   switch (config_file_opts_parse(table, n, &cfg, argc, argv, usage, NULL,
 *       "config", &cf, err, sizeof(err))) { ... }
 *   ... run ...
 *   config_file_free(cf);    (after the last use of cfg's strings)
 *
 * It parses flags and environment once to learn the file's path (the
 * table's OPT_STRING option named by config_opt, e.g. --config /
 * AGENTFLOW_CONFIG), then starts again from the defaults, applies the file,
 * and re-applies the environment and flags over it.
 */
#ifndef AGENTFLOW_CONFIG_FILE_H
#define AGENTFLOW_CONFIG_FILE_H

#include <stddef.h>

#include "opts.h"

#define CONFIG_FILE_LINE_MAX	4096		/* bytes, without the newline */
#define CONFIG_FILE_MAX		(1024 * 1024)	/* bytes */

/*
 * A loaded file: owns the strings it put into a config struct.  Those
 * strings stay valid until config_file_free(); config_file_free(NULL) is a
 * no-op.
 */
struct config_file;

/*
 * Called once per "key = value" line, in file order, with its line number
 * (from 1).  key and value are NUL-terminated, unescaped, and valid only
 * during the call.  Return 0 to go on; return -1 with err set (without the
 * "name:line: " prefix, which the parser adds) to stop.
 */
typedef int (*config_file_cb)(void *arg, unsigned line, const char *key,
    const char *value, char *err, size_t errlen);

/*
 * Parses len bytes of text (no NUL terminator needed; an embedded NUL is an
 * error) and hands each setting to cb.  name labels error messages
 * ("name:LINE: ..."; NULL gives "config").  Pure: no I/O, no allocation beyond a line buffer on
 * the stack, safe for a fuzzer.  Returns 0, or -1 with err set at the first
 * syntax error or refusal from cb; *lineno (may be NULL) receives the line
 * of the error.
 */
int config_file_parse(const char *name, const char *text, size_t len,
    config_file_cb cb, void *arg, unsigned *lineno, char *err, size_t errlen);

/*
 * Reads the file at path and applies its settings to cfg with opts_set()'s
 * validation.  All or nothing: on error cfg is unchanged.  On success *out
 * owns the strings set into cfg (see struct config_file).  Returns 0, or -1
 * with err naming the file, line and key.
 */
int config_file_load(const struct opt *table, size_t n, void *cfg,
    const char *path, struct config_file **out, char *err, size_t errlen);

/*
 * opts_parse() with the file layered in (see the top of this file).
 * config_opt names an OPT_STRING option of table; when it ends up NULL or
 * empty no file is read and *out is NULL.  The file may not set config_opt
 * itself.  Returns as opts_parse() does; on OPTS_OK *out holds the loaded
 * file or NULL, on anything else *out is NULL.
 */
enum opts_result config_file_opts_parse(const struct opt *table, size_t n,
    void *cfg, int argc, char **argv, const char *usage, int *first_arg,
    const char *config_opt, struct config_file **out, char *err,
    size_t errlen);

void config_file_free(struct config_file *cf);

#endif
