/*
 * A pool of worker threads for CPU-heavy work (signature verification) that
 * must not stall the loop thread.  A job runs work() on some worker, then
 * done() on the loop thread.  Workers own nothing but the per-thread
 * context made by init(); jobs carry their own copies of what work() reads
 * and write their results into themselves.  The hand-back to the loop is
 * the project's one kind of lock: a mutex-protected list and event_active.
 */
#ifndef AGENTFLOW_WORKQ_H
#define AGENTFLOW_WORKQ_H

#include <event2/event.h>
#include <stddef.h>

struct workq;

/* Runs on a worker with its thread context. */
typedef void (*workq_work_fn)(void *thread_ctx, void *job);
/* Runs on the loop thread once work() returned; cancelled is 1 when the
 * queue is being freed and work() may not have run. */
typedef void (*workq_done_fn)(void *job, int cancelled);

/*
 * Starts n threads.  init(i, arg) makes thread i's context (on the calling
 * thread, before the thread starts, so it may fail cleanly: NULL aborts the
 * creation); fini(ctx) frees it.  The event base must have been made after
 * evthread_use_pthreads().
 */
struct workq *workq_new(struct event_base *, int n,
    void *(*init)(int index, void *arg), void (*fini)(void *ctx), void *arg);
/* Stops the threads; queued jobs get done(job, 1) without running. */
void workq_free(struct workq *);
void workq_submit(struct workq *, void *job, workq_work_fn, workq_done_fn);
/* Takes job back if no worker has started it: its slot is free at once
 * and neither work() nor done() will run for it (the caller frees it).
 * 1 when withdrawn, 0 when a worker has it or it is done.  Loop thread. */
int workq_withdraw(struct workq *, void *job);
/* Jobs submitted and not yet handed to done(). */
size_t workq_pending(const struct workq *);

#endif
