/*
 * What every fuzz target needs (header-only: each target is one
 * translation unit, built from its own .c and the product libraries).
 *
 * fuzz_log_init(): the product's logger at the level named by
 * $AGENTFLOW_FUZZ_LOG (debug, info, warn, error; default debug), so that
 * the log calls on hostile input run with their arguments formatted too.
 * scripts/fuzz.sh passes -close_fd_mask=2, which keeps libFuzzer's and the
 * sanitizers' reports and drops the target's own stderr.
 *
 * fuzz_tmpdir(): a private temporary directory for a target that needs
 * real files (a store, an audit log): made once per process with mkdtemp
 * under $TMPDIR (else /tmp) and removed with everything in it at exit.  A
 * crashing run leaves it behind; its path starts with agentflow-fuzz-.
 */
#ifndef AGENTFLOW_FUZZ_UTIL_H
#define AGENTFLOW_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "../unit/tmpdir.h"

static inline void
fuzz_log_init(void)
{
	const char *s = getenv("AGENTFLOW_FUZZ_LOG");
	enum log_level level = LOG_DEBUG;

	if (s != NULL && log_level_parse(s, &level) != 0) {
		fprintf(stderr, "fuzz: AGENTFLOW_FUZZ_LOG: debug, info, warn or "
		    "error\n");
		exit(1);
	}
	log_init("fuzz", level);
}

static char fuzz_tmpdir_path[512];

static inline void
fuzz_tmpdir_cleanup(void)
{
	if (fuzz_tmpdir_path[0] != '\0')
		(void)tmpdir_remove(fuzz_tmpdir_path);
}

/* The directory's path; exits the process when it cannot be made. */
static inline const char *
fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (fuzz_tmpdir_path[0] != '\0')
		return fuzz_tmpdir_path;
	snprintf(fuzz_tmpdir_path, sizeof(fuzz_tmpdir_path),
	    "%s/agentflow-fuzz-XXXXXX", base != NULL && base[0] != '\0' ?
	    base : "/tmp");
	if (mkdtemp(fuzz_tmpdir_path) == NULL) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
	atexit(fuzz_tmpdir_cleanup);
	return fuzz_tmpdir_path;
}

#endif
