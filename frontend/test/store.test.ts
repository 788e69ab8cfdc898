import { describe, expect, it, vi } from 'vitest';
import { LIMITS, Store, initialState, reduce, taskKey, type State } from '../src/lib/store';
import type { ServerMessage } from '../src/lib/types';
import { alert, cluster, command, ev, evMsg, hello, snapshot, status, task } from './fixtures';

const apply = (s: State, ...messages: ServerMessage[]) => reduce(s, { type: 'messages', messages });

describe('reducer: snapshot', () => {
  it('replaces cluster, tasks, alerts, commands and timeline', () => {
    const c = cluster(['a', 'b', 'c']);
    const s = apply(
      initialState,
      hello('write'),
      snapshot(c, {
        tasks: [task('b', 't1')],
        alerts: [alert('c', 'x1')],
        commands: [command('cmd1')],
        events: [ev('b', 'user', { name: 'deploy', payload: 'v2', payload_bytes: 2 }, 5000), ev('a', 'user', { name: 'first', payload: '', payload_bytes: 0 }, 4000)],
      }),
    );
    expect(s.conn.state).toBe('open');
    expect(s.hello?.role).toBe('write');
    expect(s.cluster).toBe(c);
    expect(Object.keys(s.tasks)).toEqual(['b/t1']);
    expect(s.alerts['c/x1'].state).toBe('firing');
    expect(s.commands.cmd1.type).toBe('ping');
    // oldest first, sorted by time_ms
    expect(s.timeline.map((e) => (e.body as { name: string }).name)).toEqual(['first', 'deploy']);
    // latest status of every node comes from the cluster
    expect(Object.keys(s.latest).sort()).toEqual(['a', 'b', 'c']);
    expect(s.generation).toBe(1);
  });

  it('a reconnect snapshot replaces the previous state (no stale tasks, alerts, logs)', () => {
    let s = apply(initialState, hello(), snapshot(cluster(['a', 'b']), { tasks: [task('b', 'old')], alerts: [alert('b', 'old')] }));
    s = apply(s, evMsg(ev('b', 'log', { node: 'b', task_id: 'old', line_seq: 1, stream: 'stdout', text: 'hi', dropped: 0, continued: false })));
    s = apply(s, evMsg(ev('b', 'status', status({ cpu_percent: 50 }), 2000)));
    expect(s.logs['b/old']).toHaveLength(1);
    // the connection drops; a new one brings a new snapshot
    s = reduce(s, { type: 'conn', conn: { state: 'reconnecting', attempt: 1 } });
    s = apply(s, hello(), snapshot(cluster(['a', 'c']), { tasks: [task('c', 'new')] }));
    expect(s.conn.state).toBe('open');
    expect(Object.keys(s.tasks)).toEqual(['c/new']);
    expect(s.alerts).toEqual({});
    expect(s.logs).toEqual({});
    expect(s.timeline).toEqual([]);
    expect(s.cluster?.remote.map((r) => r.node_id)).toEqual(['c']);
    // metric history is kept only for nodes still in the cluster
    expect(s.history.b).toBeUndefined();
    expect(s.generation).toBe(2);
  });

  it('keeps metric history of known nodes across a snapshot and merges the snapshot samples', () => {
    let s = apply(initialState, snapshot(cluster(['a', 'b'])));
    s = apply(s, evMsg(ev('b', 'status', status({ cpu_percent: 10 }), 1000)), evMsg(ev('b', 'status', status({ cpu_percent: 20 }), 2000)));
    s = apply(s, snapshot(cluster(['a', 'b']), { events: [ev('b', 'status', status({ cpu_percent: 20 }), 2000), ev('b', 'status', status({ cpu_percent: 30 }), 3000)] }));
    expect(s.history.b.map((x) => x.cpu)).toEqual([10, 20, 30]);
  });
});

describe('reducer: events', () => {
  const base = () => apply(initialState, hello(), snapshot(cluster(['a', 'b'])));

  it('status: updates the latest status and appends a metric sample', () => {
    let s = base();
    s = apply(s, evMsg(ev('b', 'status', status({ cpu_percent: 77, mem_used_bytes: 4, mem_total_bytes: 8 }), 5000)));
    expect(s.latest.b.status.cpu_percent).toBe(77);
    expect(s.history.b.at(-1)).toMatchObject({ t: 5000, cpu: 77, mem: 50, disk: 50, rx: 1024, tx: 2048 });
    // an older sample arriving late is inserted in order, not made "latest"
    s = apply(s, evMsg(ev('b', 'status', status({ cpu_percent: 5 }), 4000)));
    expect(s.latest.b.status.cpu_percent).toBe(77);
    expect(s.history.b.map((x) => x.t)).toEqual([4000, 5000]);
    // statuses are not rows: what changed between them is
    expect(s.timeline).toHaveLength(0);
    // the snapshot's status of b had its link to a up; the 5000 one has
    // none; the late 4000 one is compared with nothing
    expect(s.changes.map((c) => [c.time_ms, c.what, c.subject])).toEqual([[5000, 'link-down', 'a']]);
    s = apply(s, evMsg(ev('b', 'status', status({ frozen: true }), 6000)));
    expect(s.changes.map((c) => [c.time_ms, c.what, c.subject]).slice(1)).toEqual([[6000, 'frozen', 'b']]);
  });

  it('cluster: a member that turns alive is a join seen by the local node', () => {
    let s = base();
    s = apply(s, { type: 'cluster', cluster: cluster(['a', 'b']) });
    expect(s.changes).toEqual([]);
    s = apply(s, { type: 'cluster', cluster: cluster(['a', 'b', 'c']) });
    expect(s.changes.map((c) => [c.origin, c.what, c.subject])).toEqual([['a', 'joined', 'c']]);
    // a new peer is suspect before it is alive (links.c): still a join
    s = apply(s, { type: 'cluster', cluster: cluster(['a', 'b', 'c', 'd'], { member: { d: 'suspect' } }) });
    s = apply(s, { type: 'cluster', cluster: cluster(['a', 'b', 'c', 'd']) });
    expect(s.changes.map((c) => [c.origin, c.what, c.subject]).slice(1)).toEqual([['a', 'joined', 'd']]);
    // a snapshot after falling behind still tells what moved meanwhile
    s = apply(s, snapshot(cluster(['a', 'b', 'c', 'd'], { member: { b: 'dead' } })));
    expect(s.changes.map((c) => [c.origin, c.what, c.subject]).slice(2)).toEqual([['a', 'down', 'b']]);
  });

  it('task: upserts by (node, task_id)', () => {
    let s = base();
    s = apply(s, evMsg(ev('b', 'task', task('b', 't1', { state: 'queued' }))));
    s = apply(s, evMsg(ev('b', 'task', task('b', 't1', { state: 'succeeded' }))), evMsg(ev('a', 'task', task('a', 't1'))));
    expect(Object.keys(s.tasks).sort()).toEqual(['a/t1', 'b/t1']);
    expect(s.tasks[taskKey('b', 't1')].state).toBe('succeeded');
  });

  it('log: appends by line_seq, dedupes, takes the event time', () => {
    let s = base();
    const line = (n: number) => ev('b', 'log', { node: 'b', task_id: 't', line_seq: n, stream: 'stdout', text: `l${n}`, dropped: 0, continued: false }, 9000 + n);
    s = apply(s, evMsg(line(1)), evMsg(line(3)), evMsg(line(2)), evMsg(line(3)));
    expect(s.logs['b/t'].map((l) => l.text)).toEqual(['l1', 'l2', 'l3']);
    expect(s.logs['b/t'][0].time_ms).toBe(9001);
  });

  it('alert: upserts by (node, alert_id)', () => {
    let s = base();
    s = apply(s, evMsg(ev('b', 'alert', alert('b', 'x'))));
    s = apply(s, evMsg(ev('b', 'alert', alert('b', 'x', { state: 'acknowledged', acked_by: 'token:write' }))));
    expect(Object.keys(s.alerts)).toEqual(['b/x']);
    expect(s.alerts['b/x'].state).toBe('acknowledged');
  });

  it('user: goes to the timeline only', () => {
    const s = apply(base(), evMsg(ev('a', 'user', { name: 'deploy', payload: 'v1', payload_bytes: 2 })));
    expect(s.timeline.at(-1)?.kind).toBe('user');
    expect(s.tasks).toEqual({});
  });

  it('cluster replaces the cluster state; command upserts a record', () => {
    let s = base();
    const c2 = cluster(['a', 'b', 'c'], { relayed: ['c'] });
    s = apply(s, { type: 'cluster', cluster: c2 }, { type: 'command', command: command('k1') });
    expect(s.cluster).toBe(c2);
    s = apply(s, { type: 'command', command: command('k1', { state: 'done', results: [{ node: 'a', status: 'ok' }] }) });
    expect(s.commands.k1.state).toBe('done');
  });

  it('timeline stays in time order when events arrive out of order', () => {
    const s = apply(base(), evMsg(ev('a', 'user', {}, 300)), evMsg(ev('b', 'user', {}, 100)), evMsg(ev('a', 'user', {}, 200)));
    expect(s.timeline.map((e) => e.time_ms)).toEqual([100, 200, 300]);
  });

  it('does not mutate the previous state', () => {
    const s0 = base();
    const frozenCopy = JSON.stringify(s0);
    apply(s0, evMsg(ev('b', 'status', status(), 5000)), evMsg(ev('b', 'task', task('b', 't'))));
    expect(JSON.stringify(s0)).toBe(frozenCopy);
  });
});

describe('reducer: bounds', () => {
  it('caps the timeline, per-node history and per-task logs', () => {
    let s = apply(initialState, snapshot(cluster(['a', 'b'])));
    const msgs: ServerMessage[] = [];
    for (let i = 0; i < LIMITS.timeline + 700; i++) {
      msgs.push(evMsg(ev('b', 'status', status({ cpu_percent: i % 100, frozen: i % 2 === 1 }), 10000 + i)));
      msgs.push(evMsg(ev('b', 'user', {}, 10000 + i)));
    }
    for (let i = 1; i <= LIMITS.logLines + 50; i++)
      msgs.push(evMsg(ev('b', 'log', { node: 'b', task_id: 't', line_seq: i, stream: 'stdout', text: `${i}`, dropped: 0, continued: false }, 20000 + i)));
    s = apply(s, ...msgs);
    expect(s.timeline.length).toBe(LIMITS.timeline);
    expect(s.timeline.at(-1)?.kind).toBe('log');
    expect(s.history.b.length).toBe(LIMITS.history);
    expect(s.history.b.at(-1)?.t).toBe(10000 + LIMITS.timeline + 699);
    expect(s.changes.length).toBe(LIMITS.changes);
    expect(s.changes.at(-1)?.time_ms).toBe(10000 + LIMITS.timeline + 699);
    expect(s.logs['b/t'].length).toBe(LIMITS.logLines);
    expect(s.logs['b/t'][0].line_seq).toBe(51);
  });

  it('keeps logs of at most LIMITS.logTasks tasks, dropping the least recently updated', () => {
    let s = apply(initialState, snapshot(cluster(['a'])));
    for (let t = 0; t < LIMITS.logTasks + 5; t++)
      s = apply(s, evMsg(ev('a', 'log', { node: 'a', task_id: `t${t}`, line_seq: 1, stream: 'stdout', text: 'x', dropped: 0, continued: false })));
    expect(Object.keys(s.logs).length).toBe(LIMITS.logTasks);
    expect(s.logs['a/t0']).toBeUndefined();
    expect(s.logs[`a/t${LIMITS.logTasks + 4}`]).toBeDefined();
  });

  it('caps tasks, dropping the oldest finished ones first', () => {
    const tasks = [];
    for (let i = 0; i < LIMITS.tasks + 10; i++) tasks.push(task('a', `t${i}`, { state: i < 5 ? 'running' : 'succeeded', finished_ms: 1000 + i }));
    const s = apply(initialState, snapshot(cluster(['a'])), ...tasks.map((t) => evMsg(ev('a', 'task', t))));
    expect(Object.keys(s.tasks).length).toBe(LIMITS.tasks);
    for (let i = 0; i < 5; i++) expect(s.tasks[`a/t${i}`]).toBeDefined(); // running: kept
    expect(s.tasks['a/t5']).toBeUndefined(); // oldest finished: dropped
  });
});

describe('Store batching', () => {
  it('applies queued messages in one batch, at most every flushMs', () => {
    vi.useFakeTimers();
    try {
      const store = new Store(initialState, 100);
      const seen: number[] = [];
      store.subscribe(() => seen.push(store.getState().timeline.length));
      store.enqueue(snapshot(cluster(['a', 'b'])));
      vi.advanceTimersByTime(0);
      expect(seen).toEqual([0]);
      for (let i = 0; i < 1000; i++) store.enqueue(evMsg(ev('b', 'user', {}, 50000 + i)));
      expect(seen).toHaveLength(1); // nothing yet: the next batch waits for the interval
      vi.advanceTimersByTime(100);
      expect(seen).toEqual([0, 1000]); // 1000 events, one notification
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('throughput', () => {
  it('applies 10 s of a 100-node mesh at 1,000 events/s in well under a second', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `n${i}`);
    let s = apply(initialState, hello(), snapshot(cluster(ids)));
    const t0 = performance.now();
    for (let sec = 0; sec < 10; sec++) {
      for (let b = 0; b < 10; b++) {
        // one 100 ms batch: 100 other events + a tenth of the status events
        const msgs: ServerMessage[] = [];
        for (let i = 0; i < 100; i++) {
          const id = ids[(sec * 1000 + b * 100 + i) % 100];
          msgs.push(evMsg(ev(id, 'log', { node: id, task_id: 't', line_seq: sec * 1000 + b * 100 + i, stream: 'stdout', text: 'x', dropped: 0, continued: false })));
        }
        for (let i = b * 10; i < b * 10 + 10; i++) msgs.push(evMsg(ev(ids[i], 'status', status(), 100000 + sec * 1000 + i)));
        s = apply(s, ...msgs);
      }
    }
    const ms = performance.now() - t0;
    expect(s.timeline.length).toBe(LIMITS.timeline);
    expect(s.history.n5.length).toBe(10);
    expect(ms).toBeLessThan(1000);
  });
});
