// What an event that is not a status says happened, in words: the
// timeline's row text for tasks, jobs, alerts, user events, schedules,
// workflows, services, artifacts, silences and token revocations.  An
// update event carries a thing's whole state, not what changed, so some
// rows need the update before it of the same thing (`prev`, from
// previousUpdates): a service's "running → failed", a workflow's step that
// began to wait for a person.  Bodies come from the network and from older
// nodes: every field is read as possibly missing or of another type, and a
// body that names nothing readable makes a plain fallback row, never an
// exception.  Pure functions; the timeline caches per event.

import type { MeshEvent } from './types';

type Body = Record<string, unknown>;

const str = (b: Body, k: string): string | undefined => (typeof b[k] === 'string' && b[k] !== '' ? (b[k] as string) : undefined);
const num = (b: Body, k: string): number | undefined => (typeof b[k] === 'number' ? (b[k] as number) : undefined);
const obj = (v: unknown): Body | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Body) : null);

/** " by P" for the principal who asked, when the body names one. */
export function byWhom(b: Body, key = 'principal'): string {
  const p = str(b, key);
  return p ? ` by ${p}` : '';
}

const why = (b: Body) => (str(b, 'reason') ? ` (${str(b, 'reason')})` : '');

/**
 * What identifies the thing an update event is about, among events of
 * its kind (null: a kind whose rows need no earlier update, or a body
 * that names nothing).
 */
export function thingOf(e: MeshEvent): string | null {
  const b = obj(e.body);
  if (!b) return null;
  switch (e.kind) {
    case 'schedule':
      return str(b, 'name') ? `schedule ${str(b, 'name')}` : null;
    case 'service':
      return str(b, 'name') ? `service ${str(b, 'node') ?? e.origin}/${str(b, 'name')}` : null;
    case 'workflow':
      return str(b, 'id') ? `workflow ${e.origin}/${str(b, 'id')}` : null;
    default:
      return null;
  }
}

/**
 * Each update event's previous update of the same thing among `events`
 * (any order; the earlier by time_ms, then by arrival in the list).  An
 * event with none in view is not in the map.
 */
export function previousUpdates(events: MeshEvent[]): Map<MeshEvent, MeshEvent> {
  const sorted = events.map((e, i) => ({ e, i, t: thingOf(e) })).filter((x) => x.t !== null);
  sorted.sort((a, b) => a.e.time_ms - b.e.time_ms || a.i - b.i);
  const last = new Map<string, MeshEvent>();
  const out = new Map<MeshEvent, MeshEvent>();
  for (const { e, t } of sorted) {
    const p = last.get(t as string);
    if (p) out.set(e, p);
    last.set(t as string, e);
  }
  return out;
}

/**
 * A schedule update in words.  A fire's outcome is told apart from a
 * change of the definition by the definition's time: the update before
 * in view has the same updated_ms (the definition did not move: this
 * update is the fire's, whatever the clocks of the nodes that wrote the
 * two times), or with none in view fire_updated_ms is at or after
 * updated_ms.  Created versus changed needs the update before: none in
 * view and never fired reads as created; none in view but fired before
 * (the earlier update paged out) reads as defined.  "by" names who made
 * the definition, so only a row about the definition says it.
 */
function scheduleText(b: Body, prev: Body | null): string {
  const name = str(b, 'name') as string;
  const fired = num(b, 'fire_updated_ms') ?? 0;
  const defined = num(b, 'updated_ms') ?? 0;
  const sameDefinition = prev !== null && prev.deleted !== true && num(prev, 'updated_ms') === defined;
  if (b.deleted !== true && fired > 0 && (sameDefinition || fired >= defined)) {
    const job = str(b, 'fire_job');
    return `schedule ${name} fired${job ? `: job ${job}` : ''} → ${str(b, 'fire_outcome') ?? 'handled'}`;
  }
  // Who made the definition so (principal: absent when nobody is named or
  // an older node made it; the node names only the definition's own).
  const by = byWhom(b);
  if (b.deleted === true) return `schedule ${name} deleted${by}`;
  if (prev && prev.deleted !== true) {
    if (prev.paused !== true && b.paused === true) return `schedule ${name} paused${by}`;
    if (prev.paused === true && b.paused === false) return `schedule ${name} resumed${by}`;
    return `schedule ${name} changed${by}`;
  }
  if (!prev && (num(b, 'fire_ms') ?? 0) > 0) return `schedule ${name} defined${by}${b.paused === true ? ' (paused)' : ''}`;
  return `schedule ${name} created${by}${b.paused === true ? ' (paused)' : ''}`;
}

function serviceText(e: MeshEvent, b: Body, prev: Body | null): string {
  const where = `service ${str(b, 'name')} on ${str(b, 'node') ?? e.origin}`;
  if (b.removed === true) return `${where} removed`;
  const state = str(b, 'state') ?? '?';
  const was = prev ? str(prev, 'state') : undefined;
  if (was && was !== state) return `${where}: ${was} → ${state}${why(b)}`;
  if (was) return `${where}: ${state}, ${num(b, 'restarts') ?? 0} restarts${why(b)}`;
  return `${where} → ${state} (desired ${str(b, 'desired') ?? '?'})${why(b)}`;
}

/** What happened to one workflow step between two updates (null: nothing
 * worth a row). */
function stepText(s: Body, was: Body | null): string | null {
  const name = str(s, 'name') ?? '?';
  const state = str(s, 'state');
  const decided = str(s, 'approved_by');
  if (decided && (!was || str(was, 'approved_by') !== decided))
    return `step ${name} ${state === 'failed' || state === 'cancelled' ? 'rejected' : 'approved'} by ${decided}`;
  if (!state || (was && str(was, 'state') === state)) return null;
  if (state === 'waiting-approval') return `step ${name} waits for a person`;
  // Without an earlier update only a wait is news: every other step
  // state is in the workflow's own.
  return was ? `step ${name} → ${state}` : null;
}

function steps(b: Body | null): Body[] {
  const s = b?.steps;
  return Array.isArray(s) ? s.map(obj).filter((x): x is Body => x !== null) : [];
}

function workflowText(b: Body, prev: Body | null): string {
  const head = `workflow ${str(b, 'name') ?? '?'} ${str(b, 'id')}`;
  const state = str(b, 'state') ?? '?';
  const before = new Map(steps(prev).map((s) => [str(s, 'name'), s]));
  const moves = steps(b)
    .map((s) => stepText(s, before.get(str(s, 'name')) ?? null))
    .filter((t): t is string => t !== null);
  if (prev && str(prev, 'state') === state && moves.length) return `${head}: ${moves.join('; ')}`;
  const tail = moves.length ? `; ${moves.join('; ')}` : '';
  return `${head} → ${state}${why(b)}${prev ? '' : byWhom(b)}${tail}`;
}

/** "YYYY-MM-DD HH:MM UTC" of a time from a body; undefined for 0, a
 * missing one, or one no Date can hold (|ms| > 8.64e15: toISOString
 * would throw). */
export function utcMinute(ms: number | undefined): string | undefined {
  if (!ms) return undefined;
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : undefined;
}

function silenceText(b: Body): string {
  const id = str(b, 'id') as string;
  if (b.deleted === true) return `silence ${id} removed${byWhom(b)}`;
  const ends = utcMinute(num(b, 'ends_ms'));
  const until = ends ? ` until ${ends}` : '';
  const comment = str(b, 'comment') ? `: ${str(b, 'comment')}` : '';
  return `silence ${id} added${byWhom(b, 'created_by')}${until}${comment}`;
}

/** The field each kind cannot be read without (its row falls back to
 * plain words when it is missing). */
const NEEDS: Partial<Record<string, string>> = {
  task: 'task_id',
  log: 'task_id',
  alert: 'rule',
  job: 'id',
  user: 'name',
  schedule: 'name',
  service: 'name',
  workflow: 'id',
  silence: 'id',
  token_revoked: 'token_id',
};

/**
 * One line describing event e, given the update before it of the same
 * thing (previousUpdates; undefined: none in view).  `payloadText` renders
 * a user event's payload (the timeline's, which knows binary ones).
 */
export function describeEvent(e: MeshEvent, prev?: MeshEvent, payloadText: (b: Body) => string = (b) => String(b.payload ?? '')): string {
  if (e.summarized) return `(${e.body_bytes ?? '?'} bytes, not in the snapshot: ${e.url ?? ''})`;
  const b = obj(e.body);
  if (!b) return e.body == null ? `${e.kind} (no body)` : `${e.kind} (body not understood)`;
  const need = NEEDS[e.kind];
  if (need && b[need] == null) return `${e.kind} (body not understood)`;
  const p = prev ? obj(prev.body) : null;
  switch (e.kind) {
    case 'task':
      return `task ${str(b, 'name') ?? '?'} ${b.task_id} → ${str(b, 'state') ?? '?'}${why(b)}${byWhom(b)}`;
    case 'log':
      return `[${b.task_id} ${str(b, 'stream') ?? '?'}] ${str(b, 'text') ?? ''}`;
    case 'alert':
      return `alert ${b.rule} ${str(b, 'state') ?? '?'} (${str(b, 'severity') ?? '?'}): ${str(b, 'message') ?? ''}`;
    case 'job':
      return `job ${b.id} ${str(b, 'task') ?? '(ad-hoc)'} → ${str(b, 'state') ?? '?'}${str(b, 'node') ? ` on ${str(b, 'node')}` : ''}${why(b)}${byWhom(b)}`;
    case 'user':
      return `${b.name}: ${payloadText(b)}`;
    case 'schedule':
      return scheduleText(b, p);
    case 'service':
      return serviceText(e, b, p);
    case 'workflow':
      return workflowText(b, p);
    case 'artifact':
      return `artifact ${str(b, 'name') ?? str(b, 'artifact') ?? '?'} ${b.removed === true ? 'removed' : `added (${num(b, 'size') ?? '?'} bytes)`}`;
    case 'silence':
      return silenceText(b);
    case 'token_revoked':
      return `token ${b.token_id} revoked`;
    default:
      return `${e.kind}: ${JSON.stringify(b)}`;
  }
}
