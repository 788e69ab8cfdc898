/*
 * Allocation that cannot fail: out of memory is not a condition a daemon
 * here can serve through, so these abort with a message (OpenBSD's
 * xmalloc.c shape).  Input-driven sizes must be bounded before they get here.
 */
#ifndef AGENTFLOW_XALLOC_H
#define AGENTFLOW_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);

#endif
