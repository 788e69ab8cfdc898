/*
 * What a fanned-out job's children add up to (placement "all" or a label
 * selector): one rule shared by the issuer, which sets the parent's final
 * state and reason from it, and the CLI, which exits with its status.
 * Pure: states are counted by name, so it needs neither node nor store.
 *
 * The precedence, for the parent and for `agentflow wait`:
 *   any child open                      → "running"     (no exit yet)
 *   every child succeeded               → "succeeded"   exit 0
 *   any child failed or cancelled       → "failed"      exit 1
 *   else (some expired or lost)         → "failed"      exit 124
 * A failure beats a timeout: a task that ran and failed is news the user
 * must act on; expired and lost say only that it did not run (in time).
 */
#ifndef AGENTFLOW_FANOUT_SUMMARY_H
#define AGENTFLOW_FANOUT_SUMMARY_H

#include <stddef.h>

#define FANOUT_EXIT_EXPIRED	124

struct fanout_summary {
	unsigned	n;		/* children counted */
	unsigned	open;		/* not final (or an unknown state) */
	unsigned	succeeded;
	unsigned	failed;
	unsigned	cancelled;
	unsigned	expired;
	unsigned	lost;
};

/* Counts one child in state (a job state's name; NULL or unknown: open). */
void fanout_summary_add(struct fanout_summary *, const char *state);
/*
 * The parent's state: "running", "succeeded" or "failed".  For "failed"
 * the reason counts the children that did not succeed, e.g. "2 of 5
 * failed, 1 lost" (reason may be NULL; otherwise always NUL-terminated).
 */
const char *fanout_summary_state(const struct fanout_summary *, char *reason,
    size_t len);
/* The exit status `agentflow wait` gives a final parent (precedence above);
 * -1 while a child is open. */
int fanout_summary_exit(const struct fanout_summary *);

#endif
