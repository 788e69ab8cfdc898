/* Unit tests of common/workq.c: every job runs once on a worker and comes
 * back on the loop thread; freeing cancels what is still queued; a job
 * no worker has started can be withdrawn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "workq.h"

#define JOBS 2000

struct job {
	int		 worked;
	int		 done;
	int		 cancelled;
	pthread_t	 worker;
	int		 thread_index;
};

static pthread_t loop_thread;
static struct event_base *base;
static int done_count;

static void *
init(int index, void *arg)
{
	int *ctx = malloc(sizeof(*ctx));

	(void)arg;
	*ctx = index;
	return ctx;
}

static void
work(void *ctx, void *arg)
{
	struct job *j = arg;

	j->worked++;
	j->worker = pthread_self();
	j->thread_index = *(int *)ctx;
}

static void
done(void *arg, int cancelled)
{
	struct job *j = arg;

	assert_true(pthread_equal(pthread_self(), loop_thread));
	j->done++;
	j->cancelled = cancelled;
	if (++done_count == JOBS)
		event_base_loopbreak(base);
}

static void
test_every_job_once_and_back_on_the_loop(void **state)
{
	static struct job jobs[JOBS];
	struct workq *wq;
	int on_worker = 0;

	(void)state;
	loop_thread = pthread_self();
	base = event_base_new();
	wq = workq_new(base, 3, init, free, NULL);
	assert_non_null(wq);
	for (int i = 0; i < JOBS; i++)
		workq_submit(wq, &jobs[i], work, done);
	assert_int_equal(workq_pending(wq), JOBS);
	/* Only the workers' hand-back wakes this loop: keep it waiting. */
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	assert_int_equal(workq_pending(wq), 0);
	for (int i = 0; i < JOBS; i++) {
		assert_int_equal(jobs[i].worked, 1);
		assert_int_equal(jobs[i].done, 1);
		assert_int_equal(jobs[i].cancelled, 0);
		assert_in_range(jobs[i].thread_index, 0, 2);
		on_worker += !pthread_equal(jobs[i].worker, loop_thread);
	}
	assert_int_equal(on_worker, JOBS);
	workq_free(wq);
	event_base_free(base);
}

static void
slow_work(void *ctx, void *arg)
{
	(void)ctx;
	usleep(20000);
	work(ctx == NULL ? &(int){ 0 } : ctx, arg);
}

static void
test_free_cancels_queued_jobs(void **state)
{
	static struct job jobs[50];
	struct workq *wq;
	int cancelled = 0, completed = 0;

	(void)state;
	loop_thread = pthread_self();
	done_count = 0;
	base = event_base_new();
	wq = workq_new(base, 1, init, free, NULL);
	for (int i = 0; i < 50; i++)
		workq_submit(wq, &jobs[i], slow_work, done);
	usleep(30000);
	workq_free(wq);		/* ~1 job ran; the rest never will */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(jobs[i].done, 1);
		cancelled += jobs[i].cancelled;
		completed += jobs[i].worked;
		if (!jobs[i].cancelled)
			assert_int_equal(jobs[i].worked, 1);
	}
	assert_true(cancelled >= 40);
	assert_true(completed <= 10);
	event_base_free(base);
}

static atomic_int gate_open, in_gate;

/* work() once gate_open is set, holding its worker till then. */
static void
gate_work(void *ctx, void *arg)
{
	atomic_store(&in_gate, 1);
	while (!atomic_load(&gate_open))
		usleep(1000);
	work(ctx, arg);
}

static void
test_withdraw_takes_back_a_queued_job(void **state)
{
	static struct job jobs[3];
	struct workq *wq;

	(void)state;
	loop_thread = pthread_self();
	done_count = JOBS - 2;		/* done() breaks the loop at the 2nd */
	base = event_base_new();
	wq = workq_new(base, 1, init, free, NULL);
	workq_submit(wq, &jobs[0], gate_work, done);
	while (!atomic_load(&in_gate))
		usleep(1000);
	workq_submit(wq, &jobs[1], work, done);
	workq_submit(wq, &jobs[2], work, done);
	assert_int_equal(workq_pending(wq), 3);
	assert_int_equal(workq_withdraw(wq, &jobs[0]), 0);	/* a worker's */
	assert_int_equal(workq_withdraw(wq, &jobs[1]), 1);
	assert_int_equal(workq_withdraw(wq, &jobs[1]), 0);	/* gone */
	assert_int_equal(workq_pending(wq), 2);
	atomic_store(&gate_open, 1);
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	assert_int_equal(workq_pending(wq), 0);
	assert_int_equal(jobs[0].done + jobs[2].done, 2);
	assert_int_equal(jobs[1].worked + jobs[1].done, 0);
	workq_free(wq);
	assert_int_equal(jobs[1].done, 0);	/* not cancelled either */
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_job_once_and_back_on_the_loop),
		cmocka_unit_test(test_free_cancels_queued_jobs),
		cmocka_unit_test(test_withdraw_takes_back_a_queued_job),
	};
	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
