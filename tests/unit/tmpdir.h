/*
 * A private temporary directory for a unit test's fixture: made with
 * mkdtemp under /tmp, removed with everything in it by the teardown.
 */
#ifndef AGENTFLOW_TEST_TMPDIR_H
#define AGENTFLOW_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* buf becomes /tmp/<name>.XXXXXX, made; 0, or -1 when it cannot be. */
static inline int
tmpdir_make(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/tmp/%s.XXXXXX", name);
	return mkdtemp(buf) != NULL ? 0 : -1;
}

static inline int
tmpdir_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes dir and everything in it; 0, or what nftw returned. */
static inline int
tmpdir_remove(const char *dir)
{
	return nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
