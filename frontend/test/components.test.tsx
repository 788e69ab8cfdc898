import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { NodeCard } from '../src/components/NodeCard';
import { Header } from '../src/components/Header';
import { setToken } from '../src/lib/token';
import { StoreContext } from '../src/lib/hooks';
import { nodeViews } from '../src/lib/selectors';
import { Alerts } from '../src/pages/Alerts';
import { Tasks } from '../src/pages/Tasks';
import { Topology } from '../src/pages/Topology';
import { EndOfList, emptyOlder, PAGE, PAGES_PER_ASK, PAGES_PER_SCROLL, Timeline } from '../src/pages/Timeline';
import { NodeDetail } from '../src/pages/NodeDetail';
import { alert, cluster, command, ev, evMsg, hello, slink, snapshot, status, task } from './fixtures';
import type { MemberState, StatusMember } from '../src/lib/types';

const mem = (node_id: string, state: MemberState): StatusMember => ({ node_id, state, last_seen_ms: 1, direct: true });
import { bodyOf, mockFetch, renderWith, storeWith } from './render';

beforeEach(() => {
  setToken('tok-w');
  window.location.hash = '';
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Topology', () => {
  it('draws every node and every link of the link-state graph, relayed nodes marked', () => {
    const c = cluster(['a', 'b', 'c', 'd'], { relayed: ['d'] });
    const store = storeWith(hello(), snapshot(c));
    renderWith(store, <Topology />);
    for (const id of ['a', 'b', 'c', 'd']) expect(screen.getByTestId(`topology-node-${id}`)).toBeInTheDocument();
    // a-b, a-c, b-c from a, b, c; b-d and c-d only from the relayed node's own status
    const links = screen.getAllByTestId(/^topology-link-/).map((e) => e.getAttribute('data-testid'));
    expect(links.sort()).toEqual(['topology-link-a-b', 'topology-link-a-c', 'topology-link-b-c', 'topology-link-b-d', 'topology-link-c-d']);
    expect(screen.getByTestId('topology-node-d')).toHaveAttribute('data-path', 'relayed');
    expect(screen.getByTestId('topology-node-b')).toHaveAttribute('data-path', 'direct');
    expect(within(screen.getByTestId('topology-node-d')).getByText('relayed')).toBeInTheDocument();
    expect(screen.getByTestId('topology-link-a-b')).toHaveAttribute('data-state', 'up');
    expect(screen.getByTestId('topology-rtt-b-c')).toHaveTextContent('1.5 ms');
    expect(screen.getByTestId('signal-state')).toHaveTextContent('signal reachable');
  });

  it('colors a link by the state both ends report, shows an unreachable signal, and opens a node on click', () => {
    const c = cluster(['a', 'b', 'c'], { signal: false });
    c.local.links = c.local.links.map((l) => (l.peer === 'b' ? { ...l, state: 'down', rtt_ms: null } : l));
    c.remote[1].status!.links = [slink('a'), slink('b', 'connecting')];
    c.remote[0].status!.links = [slink('a'), slink('c', 'connecting')];
    renderWith(storeWith(hello(), snapshot(c)), <Topology />);
    expect(screen.getByTestId('topology-link-a-b')).toHaveAttribute('data-state', 'partial');
    expect(screen.getByTestId('topology-link-b-c')).toHaveAttribute('data-state', 'connecting');
    expect(screen.getByTestId('signal-state')).toHaveTextContent('signal unreachable');
    fireEvent.click(screen.getByTestId('topology-node-c'));
    expect(window.location.hash).toBe('#/nodes/c');
  });

  it('renders 100 nodes', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    renderWith(storeWith(hello(), snapshot(cluster(ids))), <Topology />);
    expect(screen.getAllByTestId(/^topology-node-/)).toHaveLength(100);
    expect(screen.getAllByTestId(/^topology-link-/)).toHaveLength((100 * 99) / 2);
  });
});

describe('NodeCard', () => {
  it('shows the member state, frozen badge, open alerts, uptime and sparklines', () => {
    const c = cluster(['a', 'b'], { member: { b: 'suspect' }, frozen: ['b'] });
    let store = storeWith(hello(), snapshot(c, { alerts: [alert('b', 'x1'), alert('b', 'x2', { state: 'resolved' })] }));
    store = storeWith(
      hello(),
      snapshot(c, { alerts: [alert('b', 'x1'), alert('b', 'x2', { state: 'resolved' })] }),
      evMsg(ev('b', 'status', status({ cpu_percent: 10, frozen: true }), 5000)),
      evMsg(ev('b', 'status', status({ cpu_percent: 20, frozen: true }), 6000)),
    );
    const s = store.getState();
    const v = nodeViews(s).find((x) => x.id === 'b')!;
    renderWith(store, <NodeCard v={v} history={s.history.b} />);
    expect(screen.getByTestId('member-state-b')).toHaveTextContent('suspect');
    expect(screen.getByTestId('frozen-badge-b')).toBeInTheDocument();
    expect(screen.getByTestId('alert-count-b')).toHaveTextContent('1 open alert');
    expect(screen.getByTestId('uptime-b')).toHaveTextContent('up 3d 2h');
    expect(screen.getByTestId('metric-cpu-b')).toHaveTextContent('20%');
    expect(screen.getByTestId('spark-cpu-b')).toHaveAttribute('data-points', '2');
  });

  it('dead nodes say so', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b'], { member: { b: 'dead' } })));
    const v = nodeViews(store.getState()).find((x) => x.id === 'b')!;
    renderWith(store, <NodeCard v={v} history={undefined} />);
    expect(screen.getByTestId('member-state-b')).toHaveTextContent('dead');
    expect(screen.getByTestId('node-card-b')).toHaveAttribute('data-member', 'dead');
  });
});

describe('roles', () => {
  const state = (role: 'read' | 'write') =>
    storeWith(hello(role), snapshot(cluster(['a', 'b']), { tasks: [task('b', 't1')], alerts: [alert('b', 'x1')] }));

  beforeEach(() => {
    mockFetch((url) => (url.startsWith('/api/definitions') ? { body: { node: 'a', tasks: [{ name: 'backup' }], alert_rules: [], frozen: false } } : undefined));
  });

  it('a read-only token sees no write controls, and a note saying why', () => {
    const store = state('read');
    renderWith(
      store,
      <>
        <Header page="tasks" onSignOut={() => {}} />
        <Tasks param={null} />
        <Alerts />
      </>,
    );
    expect(screen.getByTestId('task-row-b-t1')).toBeInTheDocument();
    expect(screen.getByTestId('alert-row-b-x1')).toBeInTheDocument();
    expect(screen.getByTestId('readonly-note')).toHaveTextContent(/read-only/i);
    expect(screen.getByTestId('role-badge')).toHaveTextContent('read-only');
    for (const id of ['freeze-button', 'unfreeze-button', 'run-form', 'cancel-b-t1', 'cancel-hard-b-t1', 'ack-b-x1', 'user-event-form'])
      expect(screen.queryByTestId(id)).toBeNull();
  });

  it('a write token gets them', async () => {
    renderWith(
      state('write'),
      <>
        <Header page="tasks" onSignOut={() => {}} />
        <Tasks param={null} />
        <Alerts />
      </>,
    );
    for (const id of ['freeze-button', 'unfreeze-button', 'run-form', 'cancel-b-t1', 'cancel-hard-b-t1', 'ack-b-x1']) expect(screen.getByTestId(id)).toBeInTheDocument();
    expect(screen.queryByTestId('readonly-note')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('run-task')).toHaveValue('backup'));
  });
});

describe('writes', () => {
  it('acknowledge posts ack_alert to the alert’s node with the bearer token', async () => {
    const fetchMock = mockFetch((url, init) =>
      url === '/api/commands' && init.method === 'POST' ? { status: 202, body: command('c1', { type: 'ack_alert', destinations: ['b'], pending: ['b'] }) } : undefined,
    );
    const store = storeWith(hello('write'), snapshot(cluster(['a', 'b']), { alerts: [alert('b', 'x1'), alert('b', 'x2', { state: 'acknowledged' })] }));
    renderWith(store, <Alerts />);
    expect(screen.queryByTestId('ack-b-x2')).toBeNull(); // already acknowledged
    fireEvent.click(screen.getByTestId('ack-b-x1'));
    await waitFor(() => expect(screen.getByTestId('ack-message-b-x1')).toHaveTextContent('ack sent'));
    // (the page also loads this node's silences)
    const posts = fetchMock.mock.calls.filter(([u]) => u === '/api/commands');
    expect(posts).toHaveLength(1);
    const [url, init] = posts[0];
    expect(url).toBe('/api/commands');
    expect(init!.method).toBe('POST');
    expect((init!.headers as Record<string, string>).Authorization).toBe('Bearer tok-w');
    expect(bodyOf(init)).toEqual({ target: 'b', type: 'ack_alert', args: { alert_id: 'x1' } });
    expect(store.getState().commands.c1).toBeDefined();
  });

  it('a refused write shows the reason', async () => {
    mockFetch(() => ({ status: 403, body: { error: 'forbidden', message: 'the read token is read-only' } }));
    renderWith(storeWith(hello('write'), snapshot(cluster(['a', 'b']), { alerts: [alert('b', 'x1')] })), <Alerts />);
    fireEvent.click(screen.getByTestId('ack-b-x1'));
    await waitFor(() => expect(screen.getByTestId('ack-message-b-x1')).toHaveTextContent(/read-only token/));
  });

  it('freeze asks for confirmation, then posts freeze to all', async () => {
    const fetchMock = mockFetch(() => ({ status: 202, body: command('f1', { type: 'freeze', destinations: ['a', 'b'] }) }));
    renderWith(storeWith(hello('write'), snapshot(cluster(['a', 'b']))), <Header page="topology" onSignOut={() => {}} />);
    fireEvent.click(screen.getByTestId('freeze-button'));
    expect(screen.getByTestId('confirm-dialog')).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('confirm-no'));
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    fireEvent.click(screen.getByTestId('freeze-button'));
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledOnce());
    expect(bodyOf(fetchMock.mock.calls[0][1])).toEqual({ target: 'all', type: 'freeze', args: {} });
    await waitFor(() => expect(screen.getByTestId('header-message')).toHaveTextContent('issued to 2 node(s)'));
  });

  it('runs a task on a label selector and shows each node’s result as the record updates', async () => {
    const fetchMock = mockFetch((url, init) => {
      if (url === '/api/definitions') return { body: { node: 'a', tasks: [{ name: 'greet' }, { name: 'backup' }], alert_rules: [], frozen: false } };
      if (url === '/api/commands' && init.method === 'POST')
        return { status: 202, body: command('r1', { type: 'run_task', target: { labels: { role: 'worker' } }, destinations: ['b', 'c'], pending: ['b', 'c'] }) };
      return undefined;
    });
    const store = storeWith(hello('write'), snapshot(cluster(['a', 'b', 'c'])));
    renderWith(store, <Tasks param={null} />);
    await waitFor(() => expect(screen.getByTestId('run-task')).toHaveValue('backup'));
    fireEvent.change(screen.getByTestId('run-task'), { target: { value: 'greet' } });
    fireEvent.change(screen.getByTestId('run-target'), { target: { value: '__selector' } });
    fireEvent.change(screen.getByTestId('run-selector'), { target: { value: 'role=worker' } });
    fireEvent.change(screen.getByTestId('run-args'), { target: { value: 'hello "big world"' } });
    fireEvent.click(screen.getByTestId('run-submit'));
    await waitFor(() => expect(within(screen.getByTestId('run-result')).getByTestId('command-r1')).toBeInTheDocument());
    const post = fetchMock.mock.calls.find(([u]) => u === '/api/commands')!;
    expect(bodyOf(post[1])).toEqual({ target: 'role=worker', type: 'run_task', args: { task: 'greet', args: ['hello', 'big world'] } });
    const result = () => within(screen.getByTestId('run-result'));
    expect(result().getByTestId('command-result-r1-b')).toHaveAttribute('data-status', 'pending');
    // the WS brings the record's updates
    act(() => {
      store.enqueue({
        type: 'command',
        command: command('r1', {
          type: 'run_task',
          destinations: ['b', 'c'],
          pending: ['c'],
          results: [{ node: 'b', status: 'ok', body: { task_id: 't9', node: 'b' }, path: ['a', 'b'], rtt_ms: 3 }],
        }),
      });
      store.flush();
    });
    const rb = result().getByTestId('command-result-r1-b');
    expect(rb).toHaveAttribute('data-status', 'ok');
    expect(rb).toHaveTextContent('task t9');
    expect(result().getByTestId('command-result-r1-c')).toHaveAttribute('data-status', 'pending');
    expect(within(screen.getByTestId('recent-commands')).getByTestId('command-r1')).toBeInTheDocument();
  });

  it('cancel and kill post cancel_task with hard false/true', async () => {
    const fetchMock = mockFetch(() => ({ status: 202, body: command('k', { type: 'cancel_task' }) }));
    renderWith(storeWith(hello('write'), snapshot(cluster(['a', 'b']), { tasks: [task('b', 't1'), task('b', 't2', { state: 'succeeded' })] })), <Tasks param={null} />);
    expect(screen.queryByTestId('cancel-b-t2')).toBeNull(); // finished
    fireEvent.click(screen.getByTestId('cancel-b-t1'));
    fireEvent.click(screen.getByTestId('cancel-hard-b-t1'));
    await waitFor(() => expect(fetchMock.mock.calls.filter(([u]) => u === '/api/commands')).toHaveLength(2));
    const bodies = fetchMock.mock.calls.filter(([u]) => u === '/api/commands').map(([, i]) => bodyOf(i));
    expect(bodies).toEqual([
      { target: 'b', type: 'cancel_task', args: { task_id: 't1', hard: false } },
      { target: 'b', type: 'cancel_task', args: { task_id: 't1', hard: true } },
    ]);
  });
});

describe('tasks and logs', () => {
  it('filters tasks by node, state and name', () => {
    mockFetch(() => undefined);
    const tasks = [task('a', 't1', { name: 'backup' }), task('b', 't2', { name: 'greet', state: 'failed' }), task('b', 't3', { name: 'backup', state: 'succeeded' })];
    renderWith(storeWith(hello('read'), snapshot(cluster(['a', 'b']), { tasks })), <Tasks param={null} />);
    expect(screen.getAllByTestId(/^task-row-/)).toHaveLength(3);
    fireEvent.change(screen.getByTestId('task-filter-node'), { target: { value: 'b' } });
    expect(screen.getAllByTestId(/^task-row-/)).toHaveLength(2);
    fireEvent.change(screen.getByTestId('task-filter-state'), { target: { value: 'failed' } });
    expect(screen.getAllByTestId(/^task-row-/).map((r) => r.dataset.testid)).toEqual(['task-row-b-t2']);
    fireEvent.change(screen.getByTestId('task-filter-state'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('task-filter-name'), { target: { value: 'back' } });
    expect(screen.getAllByTestId(/^task-row-/).map((r) => r.dataset.testid)).toEqual(['task-row-b-t3']);
  });

  it('the log tail loads history over REST, then follows live log events', async () => {
    const fetchMock = mockFetch((url) =>
      url.startsWith('/api/tasks/b/t1/logs')
        ? {
            body: {
              lines: [1, 2].map((n) => ({ node: 'b', task_id: 't1', line_seq: n, stream: 'stdout', text: `history ${n}`, dropped: 0, continued: false, time_ms: 1000 + n })),
            },
          }
        : undefined,
    );
    const store = storeWith(hello('read'), snapshot(cluster(['a', 'b']), { tasks: [task('b', 't1')] }));
    renderWith(store, <Tasks param="b/t1" />);
    await waitFor(() => expect(screen.getAllByTestId('log-line')).toHaveLength(2));
    expect(fetchMock.mock.calls[0][0]).toBe('/api/tasks/b/t1/logs?after=0&limit=5000');
    act(() => {
      store.enqueue(evMsg(ev('b', 'log', { node: 'b', task_id: 't1', line_seq: 3, stream: 'stderr', text: 'live 3', dropped: 0, continued: false })));
      store.enqueue(evMsg(ev('b', 'log', { node: 'b', task_id: 'other', line_seq: 1, stream: 'stdout', text: 'not mine', dropped: 0, continued: false })));
      store.flush();
    });
    const lines = screen.getAllByTestId('log-line');
    expect(lines.map((l) => l.textContent)).toEqual([expect.stringContaining('history 1'), expect.stringContaining('history 2'), expect.stringContaining('live 3')]);
    expect(lines[2]).toHaveAttribute('data-stream', 'stderr');
  });
});

describe('app shell', () => {
  it('shows the token form when the token is refused, and uses what is typed', () => {
    const store = storeWith();
    store.dispatch({ type: 'conn', conn: { state: 'unauthorized', error: 'The node refused this token.' } });
    const useToken = vi.fn();
    renderWith(store, <App connection={{ useToken, signOut: vi.fn() }} />);
    expect(screen.getByTestId('token-error')).toHaveTextContent('refused');
    fireEvent.change(screen.getByTestId('token-input'), { target: { value: ' abc ' } });
    fireEvent.click(screen.getByTestId('token-submit'));
    expect(useToken).toHaveBeenCalledWith('abc');
  });

  it('shows "disconnected — reconnecting in Ns" while the feed is down', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b'])));
    store.dispatch({ type: 'conn', conn: { state: 'reconnecting', attempt: 2, retryAt: Date.now() + 3000, error: 'closed (1006)' } });
    renderWith(store, <Header page="nodes" onSignOut={() => {}} />);
    expect(screen.getByTestId('connection-state')).toHaveTextContent('disconnected — reconnecting in 3s');
    expect(screen.getByTestId('reconnect-banner')).toBeInTheDocument();
    act(() => store.dispatch({ type: 'conn', conn: { state: 'open', retryAt: null } }));
    expect(screen.getByTestId('connection-state')).toHaveTextContent('live');
    expect(screen.queryByTestId('reconnect-banner')).toBeNull();
  });

  it('shows FROZEN (read-only) when any node reports frozen', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b', 'c'], { frozen: ['c'] })));
    renderWith(store, <Header page="nodes" onSignOut={() => {}} />);
    expect(screen.getByTestId('frozen-banner')).toHaveTextContent('FROZEN (read-only)');
  });

  it('routes by hash: the nodes page lists a card per node; a node detail page shows its tasks and alerts', async () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b', 'c']), { tasks: [task('c', 't1')], alerts: [alert('c', 'x1')] }));
    window.location.hash = '#/nodes';
    renderWith(store, <App connection={{ useToken: vi.fn(), signOut: vi.fn() }} />);
    expect(screen.getAllByTestId(/^node-card-/)).toHaveLength(3);
    act(() => {
      window.location.hash = '#/nodes/c';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    expect(await screen.findByTestId('node-detail-c')).toBeInTheDocument();
    expect(screen.getByTestId('task-row-c-t1')).toBeInTheDocument();
    expect(screen.getByTestId('alert-row-c-x1')).toBeInTheDocument();
    expect(screen.getByTestId('node-link-c-a')).toHaveAttribute('data-state', 'up');
  });
});

describe('Timeline', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows what happened newest first, no status rows, and filters by node, kind and text', () => {
    mockFetch(() => ({ body: { events: [] } }));
    const store = storeWith(
      hello('read'),
      snapshot(cluster(['a', 'b']), {
        events: [
          ev('a', 'user', { name: 'deploy', payload: 'v2', payload_bytes: 2 }, 1000),
          ev('b', 'task', task('b', 't1', { name: 'backup', state: 'failed' }), 3000),
        ],
      }),
      // b's link to a is up in the snapshot; its next status is frozen
      evMsg(ev('b', 'status', status({ links: [slink('a')], frozen: true }), 2000)),
      evMsg(ev('b', 'status', status({ links: [slink('a')], frozen: true, cpu_percent: 90 }), 2500)),
    );
    renderWith(store, <Timeline />);
    const kinds = () => screen.getAllByTestId('timeline-event').map((e) => e.dataset.kind);
    expect(kinds()).toEqual(['task', 'freeze', 'user']);
    const freeze = screen.getAllByTestId('timeline-event')[1];
    expect(freeze).toHaveTextContent('b frozen');
    expect(within(freeze).getByTestId('timeline-link')).toHaveAttribute('href', '#/nodes/b');
    expect(within(screen.getAllByTestId('timeline-event')[0]).getByTestId('timeline-link')).toHaveAttribute('href', '#/tasks/b/t1');
    expect(screen.getByTestId('lane-b').dataset.samples).toBe('2');
    fireEvent.change(screen.getByTestId('timeline-filter-node'), { target: { value: 'b' } });
    expect(kinds()).toEqual(['task', 'freeze']);
    expect(screen.queryByTestId('lane-a')).toBeNull();
    fireEvent.change(screen.getByTestId('timeline-filter-kind'), { target: { value: 'freeze' } });
    expect(kinds()).toEqual(['freeze']);
    fireEvent.change(screen.getByTestId('timeline-filter-node'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('timeline-filter-kind'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('timeline-filter-text'), { target: { value: 'deploy' } });
    expect(kinds()).toEqual(['user']);
    expect(screen.getByTestId('timeline-event')).toHaveTextContent('deploy: v2');
  });

  it('a command issued here is a row that the feed updates in place, linking to the task it started', () => {
    mockFetch(() => ({ body: { events: [] } }));
    const issued = { origin: 'a', target: 'b', type: 'run_task', args: { task: 'backup' }, principal: 'alice', destinations: ['b'], issued_ms: 2000 };
    const store = storeWith(
      hello('read'),
      snapshot(cluster(['a', 'b']), {
        events: [ev('a', 'user', { name: 'deploy', payload: 'v2', payload_bytes: 2 }, 1000)],
        commands: [command('c1', { ...issued, pending: ['b'] }), command('h1', { type: 'history_query', issued_ms: 3000 })],
      }),
    );
    renderWith(store, <Timeline />);
    const rows = () => screen.getAllByTestId('timeline-event');
    // the history read a node page asks by itself is no row
    expect(rows().map((e) => e.dataset.kind)).toEqual(['command', 'user']);
    expect(rows()[0]).toHaveAttribute('data-command', 'c1');
    expect(rows()[0]).toHaveTextContent('run backup by alice → b: pending');
    expect(within(rows()[0]).getByTestId('timeline-link')).toHaveAttribute('href', '#/nodes/b');
    act(() => {
      store.enqueue({ type: 'command', command: command('c1', { ...issued, state: 'done', pending: [], results: [{ node: 'b', status: 'ok', body: { task_id: 't9', node: 'b' } }] }) });
      store.flush();
    });
    expect(rows()).toHaveLength(2);
    expect(rows()[0]).toHaveTextContent('run backup by alice → b: ok, task t9');
    expect(within(rows()[0]).getByTestId('timeline-link')).toHaveAttribute('href', '#/tasks/b/t9');
    fireEvent.change(screen.getByTestId('timeline-filter-node'), { target: { value: 'b' } });
    expect(rows().map((e) => e.dataset.kind)).toEqual(['command']);
  });

  it('loads older history at the end of the list, reads its statuses, and says when there is no more', async () => {
    const older = [
      ev('a', 'status', status({ members: [mem('b', 'alive')] }), 100),
      ev('a', 'status', status({ members: [mem('b', 'alive'), mem('c', 'alive')] }), 200),
      ev('b', 'status', status({ members: [mem('a', 'alive')] }), 150),
      ev('b', 'status', status({ members: [mem('a', 'alive'), mem('c', 'alive')] }), 250),
      ev('c', 'job', { id: 'j1', issuer: 'c', state: 'running' }, 300),
    ];
    const fetch = mockFetch((url) => (url.includes('/api/events?until=') ? { body: { events: older } } : undefined));
    renderWith(storeWith(hello('read'), snapshot(cluster(['a', 'b', 'c']))), <Timeline />);
    await waitFor(() => expect(screen.getByTestId('timeline-end').dataset.state).toBe('end'));
    expect(screen.getByTestId('timeline-end')).toHaveTextContent('no older events here');
    expect(fetch.mock.calls[0][0]).toMatch(/\/api\/events\?until=\d+&limit=500$/);
    const rows = screen.getAllByTestId('timeline-event');
    // one join row for c though a and b both saw it
    expect(rows.map((r) => [r.dataset.kind, r.dataset.what ?? ''])).toEqual([['job', ''], ['node', 'joined']]);
    expect(rows[1]).toHaveTextContent('c joined (seen by a)');
    expect(within(rows[0]).getByTestId('timeline-link')).toHaveAttribute('href', '#/jobs/j1%40c');
  });
});

describe('Timeline paging bounds', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('stops after a few pages that bring no row, says so, and loads on when asked', async () => {
    // full pages of one unchanged status after another: no row, no end
    let t = 1_000_000;
    const fetch = mockFetch((url) => {
      if (!url.includes('/api/events?until=')) return undefined;
      const page = Array.from({ length: PAGE }, () => ev('a', 'status', status(), --t));
      return { body: { events: page.reverse() } };
    });
    renderWith(storeWith(hello('read'), snapshot(cluster(['a', 'b']))), <Timeline />);
    await waitFor(() => expect(screen.getByTestId('timeline-end').dataset.state).toBe('more'));
    const pages = () => fetch.mock.calls.filter((c) => String(c[0]).includes('until=')).length;
    expect(pages()).toBe(PAGES_PER_ASK);
    expect(screen.getByTestId('timeline-end')).toHaveTextContent('older events not loaded yet');
    fireEvent.click(screen.getByTestId('timeline-older'));
    await waitFor(() => expect(pages()).toBe(PAGES_PER_SCROLL));
    await waitFor(() => expect(screen.getByTestId('timeline-end').dataset.state).toBe('more'));
    await new Promise((r) => setTimeout(r, 50));
    expect(pages()).toBe(PAGES_PER_SCROLL);
  });

  it('names the cap as its own state, not as the end of the log', () => {
    const o = { ...emptyOlder(0), events: [ev('a', 'user', { name: 'x', payload: '' }, 1)], state: 'cap' as const };
    render(<EndOfList older={o} onMore={() => {}} />);
    expect(screen.getByTestId('timeline-end')).toHaveTextContent('older history not loaded: the page holds 1 older events');
    expect(screen.getByTestId('timeline-end')).not.toHaveTextContent('no older events here');
  });
});

describe('Timeline in StrictMode', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('a remount (StrictMode in dev) still shows the pages it loads', async () => {
    mockFetch((url) => (url.includes('/api/events?until=') ? { body: { events: [ev('c', 'user', { name: 'old', payload: '' }, 300)] } } : undefined));
    render(
      <StrictMode>
        <StoreContext.Provider value={storeWith(hello('read'), snapshot(cluster(['a', 'b', 'c'])))}>
          <Timeline />
        </StoreContext.Provider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('timeline-end').dataset.state).toBe('end'));
    expect(screen.getByTestId('timeline-event')).toHaveTextContent('old:');
  });
});

describe('NodeDetail', () => {
  it('charts the metric history', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b'])), ...[1, 2, 3].map((i) => evMsg(ev('b', 'status', status({ cpu_percent: i * 10 }), 1000 * i))));
    renderWith(store, <NodeDetail id="b" />);
    expect(screen.getByTestId('chart-cpu')).toHaveTextContent('cpu 30%');
    expect(screen.getByTestId('chart-cpu')).toHaveTextContent('3 samples');
  });

  it('opens with the stored history, appends live samples, and asks again for another range', async () => {
    const series = (v: number[]) => ({
      cpu_percent: v,
      mem_used_percent: v,
      disk_used_percent: v,
      load1: v,
      net_rx_bytes_per_s: v,
      net_tx_bytes_per_s: v,
    });
    const fetchMock = mockFetch((url) =>
      url.startsWith('/api/history?')
        ? { body: { node: 'b', resolution: 'minute', from_ms: 0, to_ms: 1, t_ms: [100, 500], series: series([5, 6]), max: series([5, 6]), truncated: false } }
        : undefined,
    );
    const store = storeWith(hello(), snapshot(cluster(['a', 'b'])), ...[1, 2, 3].map((i) => evMsg(ev('b', 'status', status({ cpu_percent: i * 10 }), 1000 * i))));
    renderWith(store, <NodeDetail id="b" />);
    await waitFor(() => expect(screen.getByTestId('chart-cpu')).toHaveTextContent('5 samples'));
    expect(screen.getByTestId('history-since').dataset.sinceMs).toBe('100');
    expect(screen.getByTestId('history-since')).toHaveTextContent('by the minute');
    expect(screen.getByTestId('chart-cpu')).toHaveTextContent('cpu 30%');
    const url = String(fetchMock.mock.calls[0][0]);
    expect(url).toMatch(/node=b&from_ms=\d+&to_ms=\d+&points=\d+/);
    const [from, to] = [/from_ms=(\d+)/, /to_ms=(\d+)/].map((r) => Number(url.match(r)?.[1]));
    expect(to - from).toBe(3_600_000);
    fireEvent.click(screen.getByTestId('history-range-7d'));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(2));
    const u2 = String(fetchMock.mock.calls[1][0]);
    expect(Number(u2.match(/to_ms=(\d+)/)?.[1]) - Number(u2.match(/from_ms=(\d+)/)?.[1])).toBe(7 * 24 * 3_600_000);
    expect(screen.getByTestId('history-range-7d')).toHaveAttribute('aria-pressed', 'true');
  });

  it('says so when the node keeps no history, and charts the live samples', async () => {
    mockFetch(() => ({ status: 501, body: { error: 'unsupported', message: 'b: an older node' } }));
    const store = storeWith(hello(), snapshot(cluster(['a', 'b'])), ...[1, 2].map((i) => evMsg(ev('b', 'status', status({ cpu_percent: i * 10 }), 1000 * i))));
    renderWith(store, <NodeDetail id="b" />);
    await waitFor(() => expect(screen.getByTestId('history-error')).toHaveTextContent('older node'));
    expect(screen.getByTestId('chart-cpu')).toHaveTextContent('2 samples');
  });

  it('shows a node it does not link to as not linked, not down', () => {
    // d is relayed: neither a nor d report a link between them.
    const store = storeWith(hello(), snapshot(cluster(['a', 'b', 'c', 'd'], { relayed: ['d'] })));
    renderWith(store, <NodeDetail id="a" />);
    expect(screen.getByTestId('node-link-a-b')).toHaveAttribute('data-state', 'up');
    const d = screen.getByTestId('node-link-a-d');
    expect(d).toHaveAttribute('data-state', 'none');
    expect(d).toHaveTextContent('not linked');
    expect(d).toHaveTextContent('alive, relayed');
    expect(d).not.toHaveTextContent('down');
  });

  it('lists the nodes a remote node does not link to as not linked', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b', 'c', 'd'], { relayed: ['d'] })));
    renderWith(store, <NodeDetail id="d" />);
    expect(screen.getByTestId('node-link-d-b')).toHaveAttribute('data-state', 'up');
    expect(screen.getByTestId('node-link-d-a')).toHaveAttribute('data-state', 'none');
  });
});
