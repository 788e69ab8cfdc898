/*
 * What an origin says of its own work reaches the views here: its events
 * (taken by sync.c in order, or filling a hole) and the work of its own
 * snapshots.  sync.c and sync_vouch.c have made sure it is the origin's
 * word (signed by it, or straight from it): no member speaks for
 * another's jobs, workflows, schedules, silences, services or artifacts.
 */
#include "sync.h"
#include "sync_priv.h"

void
sync_work_apply(struct sync *s, const char *origin,
    const Agentflow__Mesh__V1__Event *e)
{
	switch (e->kind_case) {
	case AGENTFLOW__MESH__V1__EVENT__KIND_JOB:
		sync_jobs_apply(s, origin, e->job);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW:
		sync_workflows_apply(s, origin, e->workflow);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE:
		sync_schedules_apply(s, origin, e->schedule);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE:
		sync_services_apply(s, origin, e->service);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE:
		sync_silences_apply(s, origin, e->silence);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT:
		sync_artifacts_apply(s, origin, e->artifact);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_TOKEN_REVOKED:
		if (s->token_revoked != NULL)
			s->token_revoked(origin, e->token_revoked->token_id,
			    s->token_revoked_arg);
		break;
	default:
		break;
	}
}

void
sync_work_merge(struct sync *s, const char *origin,
    const Agentflow__Mesh__V1__OriginState *st)
{
	sync_jobs_merge(s, origin, st->jobs, st->n_jobs);
	sync_workflows_merge(s, origin, st->workflows, st->n_workflows);
	sync_schedules_merge(s, origin, st->schedules, st->n_schedules);
	sync_silences_merge(s, origin, st->silences, st->n_silences);
	sync_services_merge(s, origin, st->services, st->n_services);
	sync_artifacts_merge(s, origin, st->artifacts, st->n_artifacts);
}
