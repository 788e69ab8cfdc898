/*
 * For services.c (the states, the processes, the checks, the events) and
 * services_table.c (the table of services, storing them, what the API
 * and the "service" command call).  Callers elsewhere use services.h.
 */
#ifndef AGENTFLOW_SERVICES_PRIV_H
#define AGENTFLOW_SERVICES_PRIV_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "service_spec.h"
#include "services.h"

#define SERVICES_MAX		128

enum sv_state {
	SV_STOPPED, SV_STARTING, SV_RUNNING, SV_HEALTHY, SV_UNHEALTHY,
	SV_BACKING_OFF, SV_FAILED, SV_STOPPING
};

/* Each state's name in ServiceUpdate.state and the API. */
extern const char *const services_state_names[];

struct svc;

struct svc_check {
	struct svc		*svc;
	struct service_health	*h;
	int			 verdict;	/* -1 unknown, 0, 1 */
};

struct svc {
	struct services		*ss;
	struct service_spec	*spec;
	char			 name[SERVICE_NAME_MAX + 1];
	char			 version[17];	/* of the definition */
	int			 desired;	/* 1 running */
	enum sv_state		 state;
	int			 settled;	/* the policy stopped it */
	int			 restart_after;	/* stopping to start again */
	int			 health_restart; /* stopping: a check asked */
	int			 removing;	/* stopping to be removed */
	char			 task_id[64];	/* the live run; "" none */
	uint32_t		 pid;
	uint64_t		 started_ms;
	uint64_t		 next_attempt_ms;
	uint32_t		 restarts;
	int			 exited;
	int32_t			 exit_code;
	int32_t			 exit_signal;
	uint64_t		*window;	/* restarts counted by the policy */
	size_t			 nwindow;
	struct event		*timer;		/* deferred start, backoff */
	struct svc_check	 checks[SERVICE_CHECKS_MAX];
	char			 reason[256];
};

struct services {
	struct node	*n;
	struct svc	**v;		/* sorted by name */
	size_t		 nv;
	int		 frozen;
	uint64_t	 restarts;	/* all services, this life */
};

/* services.c */
void svc_set_reason(struct svc *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int svc_live(const struct svc *);
/* The definition's version: a hash of its normalized JSON. */
void svc_version(const struct service_spec *, char *out, size_t len);
struct svc *svc_find(const struct services *, const char *name);
/* The checks of s->spec made (none running), stopped, freed. */
void svc_checks_make(struct svc *);
void svc_checks_stop(struct svc *);
void svc_checks_free(struct svc *);
/* Asks the live run to stop; its end comes through services_task. */
void svc_stop_process(struct svc *);
/* Starts what should run and is not running, stops what should not. */
void svc_reconcile(struct svc *);
/* s's state to the mesh as a ServiceUpdate. */
void svc_emit(struct svc *);
void svc_timer_cb(evutil_socket_t, short, void *arg);

/* services_table.c */
/* Out of the table (its process has ended, it was removed). */
void svc_unlist(struct svc *);
void svc_free(struct svc *);

#endif
