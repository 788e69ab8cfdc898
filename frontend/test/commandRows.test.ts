import { describe, expect, it } from 'vitest';
import { commandLinks, commandShown, describeCommand, outcomeText, targetText } from '../src/lib/commandRows';
import type { CommandRecord } from '../src/lib/types';
import { buildRows, commandRow, emptyOlder, filterRows } from '../src/pages/Timeline';
import { command } from './fixtures';

const ok = (node: string, body?: unknown) => ({ node, status: 'ok', body });

describe('describeCommand', () => {
  it('says who ran which task on which node, and the task it started', () => {
    const c = command('c1', {
      origin: 'n1', target: 'n2', type: 'run_task', args: { task: 'backup' }, principal: 'alice',
      destinations: ['n2'], pending: [], state: 'done', results: [ok('n2', { task_id: 't7-3', node: 'n2' })],
    });
    expect(describeCommand(c)).toBe('run backup by alice → n2: ok, task t7-3');
  });

  it('says a command still waiting, and one no destination answered in time', () => {
    const c = command('c2', { type: 'freeze', target: 'n3', destinations: ['n3'], pending: ['n3'], args: { epoch: 4 } });
    expect(describeCommand(c)).toBe('freeze → n3: pending');
    const late = { ...c, state: 'done', pending: [], results: [{ node: 'n3', status: 'timeout', error: 'no answer before the deadline' }] };
    expect(describeCommand(late)).toBe('freeze → n3: timeout: no answer before the deadline');
    expect(outcomeText({ ...c, state: 'interrupted' })).toBe('interrupted');
  });

  it('names each of a few destinations, and counts many', () => {
    const few = command('c3', {
      type: 'ping', target: 'all', destinations: ['a', 'b', 'c'], pending: ['c'],
      results: [ok('a'), { node: 'b', status: 'unreachable', error: 'no route to b' }],
    });
    expect(describeCommand(few)).toBe('ping → all (3 nodes): a ok; b unreachable: no route to b; c pending');
    const many = command('c4', {
      type: 'service', target: { labels: { role: 'web' } }, args: { name: 'web', action: 'restart' }, principal: 'bob', state: 'done',
      destinations: ['a', 'b', 'c', 'd', 'e'], pending: [],
      results: [ok('a'), ok('b'), ok('c'), { node: 'd', status: 'refused' }],
    });
    expect(describeCommand(many)).toBe('service web restart by bob → role=web (5 nodes): 3 ok, 1 refused, 1 no answer');
  });

  it('reads what an ad-hoc run, a cancel, an ack and a forget asked', () => {
    const one = { destinations: ['n2'], pending: ['n2'] };
    expect(describeCommand(command('a', { ...one, type: 'run_task', args: { command: ['df', '-h'] } }))).toBe('run ad-hoc df -h → n2: pending');
    expect(describeCommand(command('b', { ...one, type: 'cancel_task', args: { task_id: 't1-2', hard: true } }))).toBe('cancel task t1-2 (hard) → n2: pending');
    expect(describeCommand(command('c', { ...one, type: 'ack_alert', args: { alert_id: 'a1-9' } }))).toBe('ack alert a1-9 → n2: pending');
    expect(describeCommand(command('d', { ...one, type: 'forget_node', args: { node: 'n9' } }))).toBe('forget n9 → n2: pending');
  });

  it('a record missing its fields still makes a row, never an exception', () => {
    const bare = { id: 'x', type: 'run_task', target: null, args: null, state: 'done' } as unknown as CommandRecord;
    expect(describeCommand(bare)).toBe('run ad-hoc ? → null (0 nodes): no destination');
    expect(commandLinks(bare)).toEqual([]);
    const odd = command('y', { results: [null, { status: 'ok' }, ok('a', 'not an object')] as unknown as CommandRecord['results'] });
    expect(describeCommand(odd)).toBe('ping → a: ok');
    expect(targetText({ labels: { zone: 'eu', role: 'db' } })).toBe('zone=eu,role=db');
  });
});

describe('commandLinks', () => {
  it('leads to the task a run started, else to the node', () => {
    const c = command('c1', {
      type: 'run_task', args: { task: 'backup' }, destinations: ['n2', 'n3'], pending: [], state: 'done',
      results: [ok('n2', { task_id: 't7-3' }), { node: 'n3', status: 'not_found', error: 'no task named backup' }],
    });
    expect(commandLinks(c)).toEqual([
      { node: 'n2', href: '#/tasks/n2/t7-3', text: 'task t7-3' },
      { node: 'n3', href: '#/nodes/n3', text: 'n3' },
    ]);
  });

  it('leads to the task cancelled, the alert acknowledged, the service', () => {
    const one = { destinations: ['n2'], pending: ['n2'] };
    expect(commandLinks(command('a', { ...one, type: 'cancel_task', args: { task_id: 't1-2' } }))[0].href).toBe('#/tasks/n2/t1-2');
    expect(commandLinks(command('b', { ...one, type: 'ack_alert', args: { alert_id: 'a1-9' } }))[0].href).toBe('#/alerts/n2/a1-9');
    expect(commandLinks(command('c', { ...one, type: 'service', args: { name: 'web', action: 'stop' } }))[0].href).toBe('#/services/web');
    expect(commandLinks(command('d', { ...one, type: 'freeze' }))[0].href).toBe('#/nodes/n2');
  });
});

describe('command rows on the timeline', () => {
  const run = command('c1', {
    origin: 'n1', target: 'n2', type: 'run_task', args: { task: 'backup' }, principal: 'alice', issued_ms: 5000,
    destinations: ['n2'], pending: [], state: 'done', results: [ok('n2', { task_id: 't7-3' })],
  });

  it('a command is a row of kind command at its issue time, linking to its task', () => {
    const r = commandRow(run, 'n1');
    expect(r).toMatchObject({ key: 'command/c1', kind: 'command', time_ms: 5000, origin: 'n1', href: '#/tasks/n2/t7-3' });
    expect(r.links).toBeUndefined();
    // a record without its origin is this node's
    expect(commandRow({ ...run, origin: undefined }, 'n1').origin).toBe('n1');
    // several destinations: a link each
    const all = commandRow(command('c2', { type: 'ping', destinations: ['a', 'b'], pending: ['a', 'b'] }), 'n1');
    expect(all.links?.map((l) => l.href)).toEqual(['#/nodes/a', '#/nodes/b']);
    expect(all.href).toBe('#/nodes/a');
  });

  it('buildRows adds the commands worth a row, in time order with the rest', () => {
    const history = command('h', { type: 'history_query', issued_ms: 6000 });
    const job = command('j', { type: 'job_run', issued_ms: 7000 });
    const ping = command('p', { type: 'ping', issued_ms: 4000 });
    expect([history, job].map(commandShown)).toEqual([false, false]);
    const rows = buildRows([], [], emptyOlder(10_000), 'n1', [ping, history, run, job]);
    expect(rows.map((r) => r.key)).toEqual(['command/c1', 'command/p']);
  });

  it('the node filter keeps a command by its issuer or any destination', () => {
    const r = commandRow(run, 'n1');
    const f = { node: 'n2', kind: '', windowMs: 0, text: '' };
    expect(filterRows([r], f, 10_000)).toEqual([r]);
    expect(filterRows([r], { ...f, node: 'n1' }, 10_000)).toEqual([r]);
    expect(filterRows([r], { ...f, node: 'n3' }, 10_000)).toEqual([]);
    expect(filterRows([r], { ...f, node: '', kind: 'command', text: 'alice' }, 10_000)).toEqual([r]);
  });
});
