/*
 * The process groups of the tasks this node is running, in its database
 * (the task_groups table, a migration of store.c): a row from the start
 * of an attempt's group to its end, so that a start after a crash finds
 * what the crash left running (tasks_leftovers_end, tasks.h).  Each
 * group's leader has the pgid as its pid.  Conventions as in store.h:
 * 0 on success, -1 with store_error() set.
 */
#ifndef AGENTFLOW_STORE_RUNS_H
#define AGENTFLOW_STORE_RUNS_H

#include <stdint.h>

struct store;

struct store_run {
	const char	*task_id;
	int64_t		 pgid;
	uint64_t	 start_ticks;	/* /proc/<pgid>/stat field 22 */
	const char	*boot_id;
	int64_t		 started_ms;
};

/* Records a group, replacing an earlier attempt's of the same task and
 * any older record of the same pgid (that group is over). */
int store_runs_put(struct store *, const struct store_run *);
/* Forgets task_id's group; none recorded is not an error. */
int store_runs_del(struct store *, const char *task_id);
/* Every group recorded, oldest first; the strings are valid during the
 * callback only, which must not call into the store; non-zero from it
 * stops. */
typedef int (*store_run_cb)(void *arg, const struct store_run *);
int store_runs_list(struct store *, store_run_cb, void *arg);
/* Forgets every group. */
int store_runs_clear(struct store *);

#endif
