/*
 * The CLI's text helpers, shared by every command that prints what the
 * node answered.  Each writes into the caller's buffer and returns it.
 */
#ifndef AGENTFLOW_CLI_FMT_H
#define AGENTFLOW_CLI_FMT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* o[key] when it is a string (borrowed from o), else dflt. */
const char *cli_fmt_str(json_t *o, const char *key, const char *dflt);
/* s with control characters replaced by '?', cut to fit buf; for text
 * other nodes wrote. */
const char *cli_fmt_clean(const char *s, char *buf, size_t len);
/* How long ago the wall-clock time v (ms since the epoch, a JSON integer)
 * was: "-" (none), "now", "4.2s ago", "12m ago", "3h ago". */
const char *cli_fmt_ago(json_t *v, char *buf, size_t len);
/* A size for people: "512 B", "1.5 MiB". */
const char *cli_fmt_bytes(uint64_t n, char *buf, size_t len);
/* A duration for people: "42s", "12m", "3h4m", "2d3h"; "-" when s < 0. */
const char *cli_fmt_duration(long long s, char *buf, size_t len);

#define CLI_EXIT_EXPIRED	124	/* as timeout(1) */
/* The exit status a final job or task (the API's JSON) stands for: its
 * exit code; 128 + its signal when killed (cancelled ones too);
 * CLI_EXIT_EXPIRED when it expired, was lost or timed out; 1 when it
 * failed without an exit code (or with 0) or was cancelled without a
 * signal; 0 when it succeeded. */
int cli_fmt_exit_status(json_t *o);

#endif
