/*
 * CHECK(cond): the one invariant check of AgentFlow's C (STYLE.md, "a bug
 * → one always-on invariant macro").  Unlike assert() it is never compiled
 * out: release builds define NDEBUG, and a state machine whose invariant
 * broke must stop there rather than corrupt what it stores or sends.
 *
 * On failure it writes "file:line: CHECK(cond) failed" to stderr and
 * aborts (a core, a sanitizer report, a debugger stop).  It writes with
 * plain stdio, not log.c: the process is already in a state it cannot
 * trust, and the line must come out without allocating.
 *
 * For conditions that only a bug can make true: a peer's, a client's or
 * the network's fault is an error returned and logged, never a CHECK.
 */
#ifndef AGENTFLOW_CHECK_H
#define AGENTFLOW_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static inline void check_failed(const char *, int, const char *)
    __attribute__((noreturn, cold));

static inline void
check_failed(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, expr);
	fflush(stderr);
	abort();
}

#define CHECK(cond)							\
	((cond) ? (void)0 : check_failed(__FILE__, __LINE__, #cond))

#endif
