/*
 * Worker pool (see workq.h).  Two FIFOs under one mutex: "todo" (loop →
 * workers, with a condition variable) and "done" (workers → loop, with an
 * event activated on the loop's base).
 */
#include "workq.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "xalloc.h"

struct job {
	void			*arg;
	workq_work_fn		 work;
	workq_done_fn		 done;
	STAILQ_ENTRY(job)	 entry;
};

STAILQ_HEAD(job_list, job);

struct worker {
	struct workq		*wq;
	pthread_t		 thread;
	void			*ctx;
	int			 started;
};

struct workq {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct job_list		 todo;
	struct job_list		 done;
	int			 stopping;
	struct event		*done_ev;
	struct worker		*workers;
	int			 n;
	void			(*fini)(void *);
	size_t			 pending;	/* loop thread only */
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct workq *wq = w->wq;
	struct job *j;

	pthread_mutex_lock(&wq->lock);
	for (;;) {
		while (!wq->stopping && STAILQ_EMPTY(&wq->todo))
			pthread_cond_wait(&wq->cond, &wq->lock);
		if (wq->stopping)
			break;
		j = STAILQ_FIRST(&wq->todo);
		STAILQ_REMOVE_HEAD(&wq->todo, entry);
		pthread_mutex_unlock(&wq->lock);

		j->work(w->ctx, j->arg);

		pthread_mutex_lock(&wq->lock);
		STAILQ_INSERT_TAIL(&wq->done, j, entry);
		event_active(wq->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&wq->lock);
	return NULL;
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workq *wq = arg;
	struct job_list ready;
	struct job *j;

	(void)fd;
	(void)what;
	STAILQ_INIT(&ready);
	pthread_mutex_lock(&wq->lock);
	STAILQ_CONCAT(&ready, &wq->done);
	pthread_mutex_unlock(&wq->lock);
	while ((j = STAILQ_FIRST(&ready)) != NULL) {
		STAILQ_REMOVE_HEAD(&ready, entry);
		wq->pending--;
		j->done(j->arg, 0);
		free(j);
	}
}

struct workq *
workq_new(struct event_base *base, int n, void *(*init)(int, void *),
    void (*fini)(void *), void *arg)
{
	struct workq *wq = xcalloc(1, sizeof(*wq));

	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->cond, NULL);
	STAILQ_INIT(&wq->todo);
	STAILQ_INIT(&wq->done);
	wq->done_ev = event_new(base, -1, 0, done_cb, wq);
	wq->workers = xcalloc((size_t)n, sizeof(*wq->workers));
	wq->n = n;
	wq->fini = fini;
	for (int i = 0; i < n; i++) {
		struct worker *w = &wq->workers[i];
		w->wq = wq;
		if (init != NULL && (w->ctx = init(i, arg)) == NULL) {
			workq_free(wq);
			return NULL;
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			if (fini != NULL)
				fini(w->ctx);
			w->ctx = NULL;
			workq_free(wq);
			return NULL;
		}
		w->started = 1;
	}
	return wq;
}

void
workq_free(struct workq *wq)
{
	struct job *j;

	if (wq == NULL)
		return;
	pthread_mutex_lock(&wq->lock);
	wq->stopping = 1;
	pthread_cond_broadcast(&wq->cond);
	pthread_mutex_unlock(&wq->lock);
	for (int i = 0; i < wq->n; i++) {
		if (wq->workers[i].started)
			pthread_join(wq->workers[i].thread, NULL);
		if (wq->fini != NULL && wq->workers[i].ctx != NULL)
			wq->fini(wq->workers[i].ctx);
	}
	/* Threads are gone: both lists are ours now. */
	STAILQ_CONCAT(&wq->done, &wq->todo);
	while ((j = STAILQ_FIRST(&wq->done)) != NULL) {
		STAILQ_REMOVE_HEAD(&wq->done, entry);
		j->done(j->arg, 1);
		free(j);
	}
	event_free(wq->done_ev);
	pthread_cond_destroy(&wq->cond);
	pthread_mutex_destroy(&wq->lock);
	free(wq->workers);
	free(wq);
}

void
workq_submit(struct workq *wq, void *arg, workq_work_fn work, workq_done_fn done)
{
	struct job *j = xmalloc(sizeof(*j));

	j->arg = arg;
	j->work = work;
	j->done = done;
	wq->pending++;
	pthread_mutex_lock(&wq->lock);
	STAILQ_INSERT_TAIL(&wq->todo, j, entry);
	pthread_cond_signal(&wq->cond);
	pthread_mutex_unlock(&wq->lock);
}

int
workq_withdraw(struct workq *wq, void *arg)
{
	struct job *j;

	pthread_mutex_lock(&wq->lock);
	STAILQ_FOREACH(j, &wq->todo, entry)
		if (j->arg == arg)
			break;
	if (j != NULL)
		STAILQ_REMOVE(&wq->todo, j, job, entry);
	pthread_mutex_unlock(&wq->lock);
	if (j == NULL)
		return 0;
	wq->pending--;
	free(j);
	return 1;
}

size_t
workq_pending(const struct workq *wq)
{
	return wq->pending;
}
