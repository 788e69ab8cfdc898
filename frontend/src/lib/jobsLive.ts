// Jobs followed live: the issuer of every job emits a "job" event at each
// change (GET /ws, node/api/WS.md), whose body is the job's summary as
// GET /api/jobs lists it.  mergeJobs lays the events a page has seen over
// the list it last fetched, so the list moves without waiting for a poll;
// the poll still brings what the events do not carry (a local record's
// deadline, key, callback).

import type { Job, MeshEvent } from './types';

/** A job's key mesh-wide: job ids are unique per issuer. */
export const jobKey = (j: Pick<Job, 'issuer' | 'id'>) => `${j.issuer}/${j.id}`;

function isSummary(b: unknown): b is Job {
  const j = b as Job | null;
  return !!j && typeof j.id === 'string' && typeof j.issuer === 'string' && typeof j.state === 'string';
}

/**
 * The list with the job events laid over it, newest submitted first.  An
 * event at least as new (updated_ms) as a listed job updates it (what the
 * summary lacks is kept); one of a job not listed adds it, marked remote
 * unless its issuer is self (this node).  state ('' any) filters the
 * result as the node filters the list.  events are in the order applied.
 */
export function mergeJobs(jobs: Job[], events: MeshEvent[], self: string | null, state = ''): Job[] {
  const byKey = new Map<string, Job>();
  for (const j of jobs) byKey.set(jobKey(j), j);
  for (const e of events) {
    if (e.kind !== 'job' || !isSummary(e.body)) continue;
    const b = e.body;
    const k = jobKey(b);
    const old = byKey.get(k);
    if (old) {
      if ((b.updated_ms ?? 0) < (old.updated_ms ?? 0)) continue;
      byKey.set(k, { ...old, ...b, remote: old.remote });
    } else {
      byKey.set(k, { ...b, remote: b.issuer !== self });
    }
  }
  let out = [...byKey.values()];
  if (state) out = out.filter((j) => j.state === state);
  return out.sort((a, b) => (b.submitted_ms ?? 0) - (a.submitted_ms ?? 0));
}
