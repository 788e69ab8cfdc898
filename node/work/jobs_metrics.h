/*
 * Jobs issued here counted by task (jobs_metrics.c), for /metrics: what
 * jobs_counters totals, split by the job's task name.  At most
 * JOBS_METRICS_TASKS names are told apart (the first seen since the
 * start); the others count as "(other)", ad-hoc jobs as "(ad-hoc)".
 */
#ifndef AGENTFLOW_JOBS_METRICS_H
#define AGENTFLOW_JOBS_METRICS_H

#include <jansson.h>

struct jobs;

#define JOBS_METRICS_TASKS	64

/* {task: {"submitted": n, ... every counter}, ...} (new reference). */
json_t *jobs_task_counters(struct jobs *);

#endif
