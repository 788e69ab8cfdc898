import { describe, expect, it } from 'vitest';
import type { MemberState, MeshEvent, StatusMember } from '../src/lib/types';
import { memberChanges } from '../src/lib/timelineRows';
import { addPage, buildRows, changeRow, emptyOlder, eventHref, filterRows, OLDER_MAX, summarize } from '../src/pages/Timeline';
import { status } from './fixtures';

describe('summarize', () => {
  it('names the size and URL of an event a snapshot summarised', () => {
    const e: MeshEvent = {
      origin: 'node-1', incarnation: 3, seq: 7, kind: 'user', time_ms: 1, received_ms: 2,
      body: null, summarized: true, body_bytes: 65600, url: '/api/events/node-1/3/7',
    };
    expect(summarize(e)).toBe('(65600 bytes, not in the snapshot: /api/events/node-1/3/7)');
  });

  it('still shows a user event whole', () => {
    const e: MeshEvent = {
      origin: 'node-1', incarnation: 3, seq: 8, kind: 'user', time_ms: 1, received_ms: 2,
      body: { name: 'deploy', payload: 'v2' },
    };
    expect(summarize(e)).toBe('deploy: v2');
  });
});

describe('rows link to their page', () => {
  const e = (kind: MeshEvent['kind'], body: unknown, origin = 'n2'): MeshEvent => ({ origin, incarnation: 1, seq: 1, kind, time_ms: 1, received_ms: 1, body });

  it('a task, a log line, an alert, a job, a workflow, a service, a user event', () => {
    expect(eventHref(e('task', { node: 'n2', task_id: 't1-4' }), 'n1')).toBe('#/tasks/n2/t1-4');
    expect(eventHref(e('log', { node: 'n2', task_id: 't1-4', line_seq: 3 }), 'n1')).toBe('#/tasks/n2/t1-4');
    expect(eventHref(e('alert', { node: 'n2', alert_id: 'a1-2' }), 'n1')).toBe('#/alerts/n2/a1-2');
    // another issuer's job names its issuer; this node's does not need to
    expect(eventHref(e('job', { id: 'jab', issuer: 'n2' }), 'n1')).toBe('#/jobs/jab%40n2');
    expect(eventHref(e('job', { id: 'jab', issuer: 'n1' }, 'n1'), 'n1')).toBe('#/jobs/jab');
    expect(eventHref(e('workflow', { id: 'w12', name: 'deploy', state: 'running' }), 'n1')).toBe('#/workflows/w12');
    expect(eventHref(e('service', { name: 'web', node: 'n2', state: 'running', desired: 'running' }), 'n1')).toBe('#/services/web');
    expect(eventHref(e('user', { name: 'x', payload: '' }), 'n1')).toBe('#/nodes/n2');
    expect(summarize(e('service', { name: 'web', node: 'n2', state: 'running', desired: 'running' }))).toBe('service web on n2 → running (desired running)');
  });

  it('the node filter keeps the changes about a node, whoever saw them', () => {
    const joined = changeRow(memberChanges('n1', {}, [{ node_id: 'n3', state: 'alive', last_seen_ms: 0, direct: true }], 5)[0]);
    const f = { node: 'n3', kind: '', windowMs: 0, text: '' };
    expect(filterRows([joined], f, 10)).toEqual([joined]);
    expect(filterRows([joined], { ...f, node: 'n2' }, 10)).toEqual([]);
    expect(filterRows([joined], { ...f, node: '', text: 'JOINED' }, 10)).toEqual([joined]);
  });
});

describe('older history', () => {
  const mem = (node_id: string, state: MemberState): StatusMember => ({ node_id, state, last_seen_ms: 1, direct: true });
  let seq = 0;
  const at = (origin: string, kind: MeshEvent['kind'], time_ms: number, body: unknown): MeshEvent => ({ origin, incarnation: 1, seq: ++seq, kind, time_ms, received_ms: time_ms, body });
  const st = (origin: string, time_ms: number, members: StatusMember[]) => at(origin, 'status', time_ms, status({ members }));

  it('keeps a page as changes and each origin\u2019s oldest status, and reads the seam between pages', () => {
    // newest page first: a's statuses at 300 and 400 (c alive at both)
    let o = addPage(emptyOlder(1000), [st('a', 300, [mem('c', 'alive')]), st('a', 400, [mem('c', 'alive')]), at('a', 'user', 350, { name: 'x', payload: '' })], 3);
    expect(o.state).toBe('idle');
    expect(o.events.map((e) => e.kind)).toEqual(['user']);
    expect(o.changes).toEqual([]);
    expect(Object.keys(o.first)).toEqual(['a']);
    expect(o.first.a.time_ms).toBe(300);
    // the page before: c was suspect, new to a: its alive at 300 is a join
    o = addPage(o, [st('a', 100, []), st('a', 200, [mem('c', 'suspect')])], 3);
    expect(o.state).toBe('end');
    expect(o.changes.map((c) => [c.time_ms, c.what, c.subject])).toEqual([[300, 'joined', 'c']]);
    expect(o.first.a.time_ms).toBe(100);
  });

  it('drops the events of the oldest millisecond a page brings again', () => {
    const u = at('a', 'user', 500, { name: 'x', payload: '' });
    let o = addPage(emptyOlder(1000), [u, at('a', 'user', 600, { name: 'y', payload: '' })], 2);
    expect(o.until).toBe(501);
    o = addPage(o, [at('a', 'user', 400, { name: 'z', payload: '' }), u], 2);
    expect(o.events.map((e) => e.time_ms)).toEqual([400, 500, 600]);
  });

  it('stops at OLDER_MAX rows held with a state of its own, not the end', () => {
    const many = Array.from({ length: OLDER_MAX }, (_, i) => at('a', 'user', 10 + i, { name: 'x', payload: '' }));
    const o = addPage(emptyOlder(1e9), many, OLDER_MAX);
    expect(o.state).toBe('cap');
  });

  it('a live event wins over a page\u2019s summary of it', () => {
    const whole = at('a', 'user', 5, { name: 'deploy', payload: 'v2' });
    const summary: MeshEvent = { ...whole, body: null, summarized: true, body_bytes: 9000, url: '/api/events/a/1/1' };
    const o = addPage(emptyOlder(1000), [summary], 500);
    const rows = buildRows([whole], [], o, null);
    expect(rows).toHaveLength(1);
    expect(rows[0].text).toBe('deploy: v2');
  });
});
