/*
 * The CLI's durable-job commands, clients of the local node's jobs API
 * (the node is the job's issuer; jobs.h):
 *
 *   submit TASK --to NODE|any|any:SEL|all|SEL   submit a job; print its
 *                                       id (all, SEL: one child per node,
 *                                       cli_fanout.h)
 *       [--payload JSON|@FILE] [--key K] [--deadline 60s]
 *       [--at-most-once] [--wait]
 *   jobs [--state S] [--limit N]        the jobs issued on this node
 *   job ID                              one job and its history
 *   wait ID [--timeout-ms N]            block until the job is final
 *
 * Exit status of wait and submit --wait: the remote task's exit status
 * (128 + its signal when killed); 1 for a job that failed without one or
 * was cancelled; 124 for a job expired or lost, or when --timeout-ms
 * passes first; for a fanned-out job the summary of its children
 * (cli_fanout.h).  Otherwise 0 done, 1 failed, 2 usage.
 */
#ifndef AGENTFLOW_CLI_JOBS_H
#define AGENTFLOW_CLI_JOBS_H

#include <jansson.h>

#include "cmd_table.h"

int cli_jobs_submit(const struct cmd_entry *, int argc, char **argv);
int cli_jobs_list(const struct cmd_entry *, int argc, char **argv);
int cli_jobs_show(const struct cmd_entry *, int argc, char **argv);
int cli_jobs_wait(const struct cmd_entry *, int argc, char **argv);

/* `agentflow trace ID`: the job's story in time order (GET /api/jobs/ID):
 * every step with node, epoch and its other fields, as the job's page on
 * the dashboard shows it; --json the history array. */
int cli_jobs_trace(const struct cmd_entry *, int argc, char **argv);

/* --payload (and schedule --job; what names the option): JSON text, or
 * @FILE holding it; a new reference, or NULL after printing why. */
json_t *cli_jobs_payload_arg(const char *what, const char *arg);

#endif
