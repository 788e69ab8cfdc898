/*
 * The number of descriptors the test process has open, to tell that a
 * module under test closed every one it opened: compare the count before
 * and after.  Linux only (/proc/self/fd); aborts where that is missing
 * rather than compare two meaningless counts.
 */
#ifndef AGENTFLOW_TEST_OPEN_FDS_H
#define AGENTFLOW_TEST_OPEN_FDS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static inline size_t
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	if (d == NULL) {
		perror("/proc/self/fd");
		abort();
	}
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

#endif
