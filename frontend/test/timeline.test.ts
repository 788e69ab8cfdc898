import { describe, expect, it } from 'vitest';
import type { MeshEvent } from '../src/lib/types';
import { memberChanges } from '../src/lib/timelineRows';
import { changeRow, eventHref, filterRows, summarize } from '../src/pages/Timeline';

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
