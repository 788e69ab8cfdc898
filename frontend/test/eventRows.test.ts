import { describe, expect, it } from 'vitest';
import { describeEvent, previousUpdates } from '../src/lib/eventRows';
import type { MeshEvent } from '../src/lib/types';
import { fmtDateTime, fmtTime } from '../src/lib/format';
import { buildRows, emptyOlder, eventHref, filterRows, summarize } from '../src/pages/Timeline';

let seq = 0;
const ev = (kind: MeshEvent['kind'], body: unknown, time_ms = 1000, origin = 'n1'): MeshEvent => ({
  origin, incarnation: 1, seq: ++seq, kind, time_ms, received_ms: time_ms, body,
});
/** The text of `after`'s row read against `before`. */
const pair = (before: MeshEvent, after: MeshEvent) => describeEvent(after, previousUpdates([after, before]).get(after));

describe('schedule rows', () => {
  const sched = (b: object, t = 1000) => ev('schedule', { name: 'nightly-backup', deleted: false, updated_ms: t, author: 'n1', fire_ms: 0, fire_outcome: '', ...b }, t);

  it('created, changed, paused, resumed, fired, deleted', () => {
    const made = sched({ paused: false });
    expect(describeEvent(made)).toBe('schedule nightly-backup created');
    expect(pair(made, sched({ paused: false }, 2000))).toBe('schedule nightly-backup changed');
    expect(pair(made, sched({ paused: true }, 2000))).toBe('schedule nightly-backup paused');
    expect(pair(sched({ paused: true }), sched({ paused: false }, 2000))).toBe('schedule nightly-backup resumed');
    const fired = sched({ updated_ms: 1000, fire_ms: 1500, fire_updated_ms: 1600, fire_job: 'j7', fire_outcome: 'succeeded' }, 1600);
    expect(pair(made, fired)).toBe('schedule nightly-backup fired: job j7 → succeeded');
    expect(describeEvent(sched({ deleted: true }, 3000))).toBe('schedule nightly-backup deleted');
    // deleted then defined again: created anew
    expect(pair(sched({ deleted: true }), sched({ paused: false }, 2000))).toBe('schedule nightly-backup created');
  });

  it('names who made the definition so, when the update carries it', () => {
    const made = sched({ paused: false, principal: 'alice' });
    expect(describeEvent(made)).toBe('schedule nightly-backup created by alice');
    expect(pair(made, sched({ paused: true, principal: 'bob' }, 2000))).toBe('schedule nightly-backup paused by bob');
    expect(describeEvent(sched({ deleted: true, principal: 'carol' }, 3000))).toBe('schedule nightly-backup deleted by carol');
    // a fire is the schedule's own doing, whoever defined it
    const fired = sched({ principal: 'alice', fire_ms: 1500, fire_updated_ms: 1600, fire_outcome: 'queued' }, 1600);
    expect(pair(made, fired)).toBe('schedule nightly-backup fired → queued');
  });

  it('a fire written by a node whose clock is behind the definition is still a fire, by nobody', () => {
    // alice defined it at 5000 by her node's clock; the firing node's
    // clock says 4200 when it records the fire
    const made = sched({ paused: false, principal: 'alice', updated_ms: 5000 }, 5000);
    const fired = sched({ principal: 'alice', updated_ms: 5000, fire_ms: 4100, fire_updated_ms: 4200, fire_job: 'j8', fire_outcome: 'queued' }, 5100);
    expect(pair(made, fired)).toBe('schedule nightly-backup fired: job j8 → queued');
    // a new definition after a fire is a change, and says by whom
    const changed = sched({ principal: 'bob', updated_ms: 6000, fire_ms: 4100, fire_updated_ms: 4200, fire_outcome: 'queued' }, 6000);
    expect(pair(fired, changed)).toBe('schedule nightly-backup changed by bob');
    // the update before paged out: defined, not created
    expect(describeEvent(changed)).toBe('schedule nightly-backup defined by bob');
  });

  it('links to its node (no schedules page) and is a kind of its own in the filter', () => {
    const e = sched({}, 1000);
    expect(eventHref(e, 'n1')).toBe('#/nodes/n1');
    const rows = buildRows([e, ev('user', { name: 'x', payload: '' })], [], emptyOlder(5000), 'n1');
    expect(filterRows(rows, { node: '', kind: 'schedule', windowMs: 0, text: '' }, 5000).map((r) => r.text)).toEqual(['schedule nightly-backup created']);
  });
});

describe('service rows', () => {
  const svc = (state: string, t: number, extra: object = {}) => ev('service', { name: 'web', node: 'n2', state, desired: 'running', restarts: 0, ...extra }, t, 'n2');

  it('a transition names the state before and after', () => {
    expect(pair(svc('running', 1000), svc('failed', 2000, { reason: 'exited with 1' }))).toBe('service web on n2: running → failed (exited with 1)');
    expect(describeEvent(svc('running', 1000))).toBe('service web on n2 → running (desired running)');
    expect(describeEvent(svc('running', 1000, { removed: true }))).toBe('service web on n2 removed');
  });

  it('buildRows reads each update against the one before, older pages included', () => {
    const older = { ...emptyOlder(5000), events: [svc('running', 1000)] };
    const rows = buildRows([svc('unhealthy', 2000)], [], older, 'n1');
    expect(rows.map((r) => r.text)).toEqual(['service web on n2: running → unhealthy', 'service web on n2 → running (desired running)']);
  });
});

describe('workflow rows', () => {
  const wf = (state: string, steps: object[], t: number) => ev('workflow', { id: 'w3', name: 'deploy', state, principal: 'alice', steps }, t);

  it('who ran it, a step waiting for a person, who approved it', () => {
    const start = wf('running', [{ name: 'build', kind: 'job', state: 'running' }, { name: 'ok', kind: 'approval', state: 'pending' }], 1000);
    expect(describeEvent(start)).toBe('workflow deploy w3 → running by alice');
    const wait = wf('running', [{ name: 'build', kind: 'job', state: 'succeeded' }, { name: 'ok', kind: 'approval', state: 'waiting-approval' }], 2000);
    expect(pair(start, wait)).toBe('workflow deploy w3: step build → succeeded; step ok waits for a person');
    const yes = wf('running', [{ name: 'build', kind: 'job', state: 'succeeded' }, { name: 'ok', kind: 'approval', state: 'succeeded', approved_by: 'bob' }], 3000);
    expect(pair(wait, yes)).toBe('workflow deploy w3: step ok approved by bob');
    expect(eventHref(yes, 'n1')).toBe('#/workflows/w3');
  });
});

describe('silence, artifact, token, task and job rows', () => {
  it('say what happened and who asked', () => {
    const s = ev('silence', { id: 'sil-1-ab', deleted: false, updated_ms: 1, author: 'n1', ends_ms: Date.UTC(2026, 11, 7, 18, 30), created_by: 'alice', comment: 'disk swap' });
    expect(describeEvent(s)).toBe('silence sil-1-ab added by alice until 2026-12-07 18:30 UTC: disk swap');
    expect(eventHref(s, 'n1')).toBe('#/alerts');
    expect(describeEvent(ev('silence', { id: 'sil-1-ab', deleted: true, updated_ms: 2, author: 'n1', ends_ms: 9 }))).toBe('silence sil-1-ab removed');
    expect(describeEvent(ev('silence', { id: 'sil-1-ab', deleted: true, updated_ms: 2, author: 'n1', ends_ms: 9, principal: 'bob' }))).toBe('silence sil-1-ab removed by bob');
    expect(describeEvent(ev('artifact', { artifact: 'sha256:00', name: 'app.tar', size: 12, removed: false }))).toBe('artifact app.tar added (12 bytes)');
    const t = ev('token_revoked', { token_id: 'abc123' });
    expect(describeEvent(t)).toBe('token abc123 revoked');
    expect(eventHref(t, 'n1')).toBe('#/nodes/n1');
    expect(describeEvent(ev('task', { task_id: 't1-2', name: 'backup', state: 'running', principal: 'alice', command_id: 'c9' }))).toBe('task backup t1-2 → running by alice');
    expect(describeEvent(ev('job', { id: 'j4', task: 'backup', state: 'queued', principal: 'bob' }))).toBe('job j4 backup → queued by bob');
  });
});

describe('malformed or missing bodies', () => {
  const kinds: MeshEvent['kind'][] = ['task', 'log', 'alert', 'job', 'user', 'schedule', 'service', 'workflow', 'artifact', 'silence', 'token_revoked', 'unknown'];

  it('make a plain row, never an exception', () => {
    for (const k of kinds) {
      expect(describeEvent(ev(k, null))).toBe(`${k} (no body)`);
      expect(describeEvent(ev(k, 'text'))).toBe(`${k} (body not understood)`);
      expect(describeEvent(ev(k, [1, 2]))).toBe(`${k} (body not understood)`);
      expect(() => describeEvent(ev(k, { steps: 'no', state: 7, name: 3 }))).not.toThrow();
      expect(() => eventHref(ev(k, { steps: 'no' }), 'n1')).not.toThrow();
    }
    expect(describeEvent(ev('schedule', { deleted: true }))).toBe('schedule (body not understood)');
    // a workflow whose steps are not objects, against one whose steps are
    const bad = ev('workflow', { id: 'w1', state: 'running', steps: [null, 3, 'x'] }, 2);
    const good = ev('workflow', { id: 'w1', name: 'd', state: 'running', steps: [{ name: 'a', state: 'running' }] }, 1);
    expect(pair(good, bad)).toBe('workflow ? w1 → running');
  });

  it('a time no Date can hold makes no "until" and no bad clock, never an exception', () => {
    // ends_ms past 8.64e15: new Date(ends).toISOString() throws RangeError
    const far = ev('silence', { id: 'sil-9', deleted: false, ends_ms: 9e15, created_by: 'eve' }, 9e15);
    expect(describeEvent(far)).toBe('silence sil-9 added by eve');
    expect(describeEvent(ev('silence', { id: 'sil-9', ends_ms: -9e15 }))).toBe('silence sil-9 added');
    expect(fmtTime(9e15)).toBe('–');
    expect(fmtDateTime(-9e15)).toBe('–');
    const rows = buildRows([far, ev('user', { name: 'x', payload: 'y' }, 1e300)], [], emptyOlder(5000), 'n1');
    expect(rows.map((r) => r.text)).toEqual(['x: y', 'silence sil-9 added by eve']);
  });

  it('a reader that throws anyway costs the row its words, not the page', () => {
    const body = { name: 'x', get payload(): string { throw new RangeError('boom'); } };
    expect(summarize(ev('user', body))).toBe('user (body not understood)');
  });
});
