import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rowActions } from '../src/components/ServiceTable';
import { parseHash } from '../src/lib/hooks';
import { describeRows, fmtIn, uptime } from '../src/lib/services';
import { setToken } from '../src/lib/token';
import type { CommandRecord, Service, ServiceDetail } from '../src/lib/types';
import { Services } from '../src/pages/Services';
import { hello } from './fixtures';
import { bodyOf, mockFetch, renderWith, storeWith } from './render';

// Date.now() stands still (timers stay real), so "in 3 s" and uptimes are exact.
const NOW = 1_800_000_000_000;

const svc = (node: string, name: string, state: Service['state'], extra: Partial<Service> = {}): Service => ({
  node,
  name,
  desired: 'running',
  state,
  pid: null,
  started_ms: null,
  restarts: 0,
  last_exit: null,
  next_attempt_ms: null,
  updated_ms: NOW - 1000,
  reason: null,
  endpoints: [],
  task_id: null,
  version: 'v1',
  ...extra,
});

const ROWS: Service[] = [
  svc('c', 'db', 'failed', { restarts: 5, last_exit: { code: 0, signal: 9 }, reason: 'restart budget spent: 5 in 300 s' }),
  svc('a', 'web', 'healthy', {
    pid: 4242,
    started_ms: NOW - 3_700_000,
    task_id: 't-17',
    endpoints: [{ name: 'http', protocol: 'http', port: 8000, tags: ['web'] }],
  }),
  svc('b', 'web', 'backing-off', { restarts: 3, last_exit: { code: 1, signal: 0 }, next_attempt_ms: NOW + 3000, reason: 'exited with status 1' }),
  svc('a', 'zcache', 'stopped', { desired: 'stopped' }),
];

const record = (id: string, target: string, args: Record<string, unknown>, results: CommandRecord['results'] = []): CommandRecord => ({
  id,
  target,
  type: 'service',
  args,
  state: results.length ? 'done' : 'pending',
  destinations: target === 'all' ? ['a', 'b', 'c'] : [target],
  pending: [],
  results,
});

/** The fetch mock of a node with ROWS; POSTs to /api/commands answered by post. */
function node(post: (body: { target: string; args: Record<string, unknown> }) => { status?: number; body: unknown } = (b) => ({
  status: 202,
  body: record(`c-${b.target}-${String(b.args.name)}`, b.target, b.args),
})) {
  return mockFetch((url, init) => {
    if (url === '/api/commands' && init.method === 'POST') return post(bodyOf(init));
    if (url === '/api/services') return { body: { services: ROWS } };
    return undefined;
  });
}

const posts = (fetch: ReturnType<typeof mockFetch>) =>
  fetch.mock.calls.filter(([u, i]) => u === '/api/commands' && i?.method === 'POST').map(([, i]) => bodyOf(i));

const rows = () => screen.getAllByTestId('svc-row');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  setToken('tok-w');
  window.location.hash = '';
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('service helpers', () => {
  it('counts down, measures uptime, names what a bulk action touches', () => {
    expect(fmtIn(NOW + 3000, NOW)).toBe('in 3 s');
    expect(fmtIn(NOW + 2001, NOW)).toBe('in 3 s');
    expect(fmtIn(NOW + 125_000, NOW)).toBe('in 2m 5s');
    expect(fmtIn(NOW - 10, NOW)).toBe('now');
    expect(uptime(ROWS[1], NOW)).toBe('1h 1m');
    expect(uptime(ROWS[3], NOW)).toBe('–');
    expect(describeRows([ROWS[1], ROWS[2], ROWS[0]])).toBe('web on a, b; db on c');
  });

  it('offers the actions that mean something for a row', () => {
    expect(rowActions(ROWS[1])).toEqual(['stop', 'restart']);
    expect(rowActions(ROWS[0])).toEqual(['start', 'stop', 'restart']);
    expect(rowActions(ROWS[3])).toEqual(['start']);
  });

  it('routes #/services and #/services/NAME', () => {
    expect(parseHash('#/services')).toEqual({ page: 'services', param: null });
    expect(parseHash('#/services/web')).toEqual({ page: 'services', param: 'web' });
  });
});

describe('Services list', () => {
  it('shows every service on every node with its badges; trouble stands out', async () => {
    node();
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(rows().map((r) => `${r.dataset.name}@${r.dataset.node}`)).toEqual(['db@c', 'web@a', 'web@b', 'zcache@a']);
    expect(screen.getByTestId('svc-state-a-web')).toHaveTextContent('healthy');
    expect(screen.getByTestId('svc-state-a-web')).toHaveClass('st-healthy');
    expect(screen.getByTestId('svc-state-c-db')).toHaveClass('st-failed');
    expect(screen.getByTestId('svc-desired-a-zcache')).toHaveTextContent('stopped');
    expect(screen.getByTestId('svc-next-b-web')).toHaveTextContent('in 3 s');
    expect(screen.getByTestId('svc-uptime-a-web')).toHaveTextContent('1h 1m');
    const [db, web, webB, cache] = rows();
    expect(db).toHaveClass('svc-trouble');
    expect(webB).toHaveClass('svc-trouble', 'svc-backing-off');
    expect(web).not.toHaveClass('svc-trouble');
    expect(cache).not.toHaveClass('svc-trouble');
    expect(within(web).getByText('4242')).toBeInTheDocument();
    expect(within(web).getByText('http 8000/http [web]')).toBeInTheDocument();
    expect(screen.getByTestId('svc-logs-a-web')).toHaveAttribute('href', '#/tasks/a/t-17');
    expect(within(db).getByText('signal 9')).toBeInTheDocument();
    expect(within(db).getByText('restart budget spent: 5 in 300 s')).toBeInTheDocument();
    expect(within(web).getByRole('link', { name: 'web' })).toHaveAttribute('href', '#/services/web');
    expect(screen.getByTestId('svc-count')).toHaveTextContent('4 of 4 · 2 in trouble');
  });

  it('filters by name, node and state', async () => {
    node();
    renderWith(storeWith(hello('read')), <Services param={null} pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    fireEvent.change(screen.getByTestId('svc-filter-name'), { target: { value: 'WE' } });
    expect(rows().map((r) => r.dataset.node)).toEqual(['a', 'b']);
    fireEvent.change(screen.getByTestId('svc-filter-node'), { target: { value: 'b' } });
    expect(rows()).toHaveLength(1);
    fireEvent.change(screen.getByTestId('svc-filter-name'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('svc-filter-node'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('svc-filter-state'), { target: { value: 'trouble' } });
    expect(rows().map((r) => r.dataset.state)).toEqual(['failed', 'backing-off']);
    fireEvent.change(screen.getByTestId('svc-filter-state'), { target: { value: 'stopped' } });
    expect(rows().map((r) => r.dataset.name)).toEqual(['zcache']);
  });

  it('a read token sees the services and no action, no checkbox', async () => {
    node();
    renderWith(storeWith(hello('read')), <Services param={null} pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(screen.queryAllByRole('checkbox')).toHaveLength(0);
  });

  it("a row's stop sends the service command to that node and shows its answer", async () => {
    const fetch = node((b) => ({
      body: record('c-1', b.target, b.args, [{ node: 'a', status: 'ok', body: { ...ROWS[1], desired: 'stopped', state: 'stopping' } }]),
    }));
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('svc-stop-a-web'));
    await waitFor(() => expect(screen.getByTestId('command-result-c-1-a')).toHaveAttribute('data-status', 'ok'));
    expect(screen.getByTestId('command-result-c-1-a')).toHaveTextContent('web: desired stopped, stopping');
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(posts(fetch)).toEqual([{ target: 'a', type: 'service', args: { name: 'web', action: 'stop' } }]);
    expect(screen.getByTestId('svc-msg')).toHaveTextContent('stop web on a: 1 command sent');
  });

  it('a bulk stop names what it stops, sends nothing until confirmed, then one command per node', async () => {
    const fetch = node();
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('svc-select-b-web'));
    fireEvent.click(screen.getByTestId('svc-select-c-db'));
    fireEvent.click(screen.getByTestId('svc-bulk-stop'));
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog).toHaveTextContent('stop 2 services?');
    expect(dialog).toHaveTextContent('Stops db on c; web on b.');
    // Cancel sends nothing.
    fireEvent.click(screen.getByTestId('confirm-no'));
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(posts(fetch)).toHaveLength(0);
    fireEvent.click(screen.getByTestId('svc-bulk-stop'));
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(posts(fetch)).toHaveLength(2));
    expect(posts(fetch)).toEqual([
      { target: 'c', type: 'service', args: { name: 'db', action: 'stop' } },
      { target: 'b', type: 'service', args: { name: 'web', action: 'stop' } },
    ]);
    await waitFor(() => expect(screen.getByTestId('svc-results')).toBeInTheDocument());
    expect(screen.getByTestId('command-c-b-web')).toBeInTheDocument();
    expect(screen.getByTestId('command-c-c-db')).toBeInTheDocument();
  });

  it('"stop everywhere" for the selected names asks first, then sends target all once per name', async () => {
    const fetch = node();
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('svc-select-a-web'));
    fireEvent.click(screen.getByTestId('svc-select-b-web'));
    fireEvent.click(screen.getByTestId('svc-bulk-stop-all'));
    expect(screen.getByTestId('confirm-dialog')).toHaveTextContent('stop web on every node?');
    expect(posts(fetch)).toHaveLength(0);
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(posts(fetch)).toEqual([{ target: 'all', type: 'service', args: { name: 'web', action: 'stop' } }]));
  });

  it('select all takes only the rows shown', async () => {
    const fetch = node();
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    fireEvent.change(screen.getByTestId('svc-filter-state'), { target: { value: 'trouble' } });
    fireEvent.click(screen.getByTestId('svc-select-all'));
    fireEvent.click(screen.getByTestId('svc-bulk-restart'));
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(posts(fetch)).toHaveLength(2));
    expect(posts(fetch).map((b) => `${b.args.name}@${b.target}:${b.args.action}`)).toEqual(['db@c:restart', 'web@b:restart']);
  });

  it("shows the node's refusal of a command and of the list", async () => {
    node(() => ({ status: 423, body: { error: 'frozen', message: 'a is frozen (read-only mode)' } }));
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('svc-start-c-db'));
    await waitFor(() => expect(screen.getByTestId('svc-msg')).toHaveTextContent('start db on c failed — frozen: a is frozen (read-only mode)'));
    expect(screen.queryByTestId('svc-results')).toBeNull();
  });

  it('says why the list could not be read, and keeps the last rows', async () => {
    let fail = false;
    mockFetch((url) => {
      if (url !== '/api/services') return undefined;
      return fail ? { status: 500, body: { error: 'internal', message: 'database is locked' } } : { body: { services: ROWS } };
    });
    renderWith(storeWith(hello('read')), <Services param={null} pollMs={50} />);
    await waitFor(() => expect(rows()).toHaveLength(4));
    fail = true;
    await waitFor(() => expect(screen.getByTestId('svc-error')).toHaveTextContent('internal: database is locked'));
    expect(rows()).toHaveLength(4);
  });

  it('a per-node error in the answer is shown on that node', async () => {
    node((b) => ({ body: record('c-9', b.target, b.args, [{ node: 'b', status: 'not_found', error: 'no service named web on this node' }]) }));
    renderWith(storeWith(hello('write')), <Services param={null} pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('svc-restart-b-web'));
    const res = await screen.findByTestId('command-result-c-9-b');
    expect(res).toHaveAttribute('data-status', 'not_found');
    expect(res).toHaveTextContent('no service named web on this node');
  });

  it('polls while shown, not while hidden, and stops when unmounted', async () => {
    const fetch = node();
    const gets = () => fetch.mock.calls.filter(([u]) => u === '/api/services').length;
    const view = renderWith(storeWith(hello('read')), <Services param={null} pollMs={40} />);
    await waitFor(() => expect(gets()).toBeGreaterThanOrEqual(3));
    const hide = (v: 'hidden' | 'visible') => {
      Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      hide('hidden');
      await act(() => new Promise((r) => setTimeout(r, 60)));
      const hidden = gets();
      await act(() => new Promise((r) => setTimeout(r, 200)));
      expect(gets()).toBe(hidden);
      hide('visible');
      await waitFor(() => expect(gets()).toBeGreaterThan(hidden));
    } finally {
      hide('visible');
    }
    view.unmount();
    const at = gets();
    await new Promise((r) => setTimeout(r, 200));
    expect(gets()).toBe(at);
  });
});

describe('Service page', () => {
  const detail = (over: Partial<ServiceDetail> = {}): ServiceDetail => ({
    ...ROWS[1],
    definition: { command: ['/usr/bin/python3', '-m', 'http.server', '8000'], restart: 'always' },
    checks: [
      {
        name: 'http-8000',
        type: 'http',
        status: 'healthy',
        consecutive_successes: 2,
        consecutive_failures: 0,
        last: { ok: true, ms: 1.25, at_ms: NOW - 4000, output: 'HTTP 200' },
        history: [
          { ok: false, ms: 2000, at_ms: NOW - 24000, output: 'connection refused' },
          { ok: true, ms: 1.5, at_ms: NOW - 14000, output: 'HTTP 200' },
          { ok: true, ms: 1.25, at_ms: NOW - 4000, output: 'HTTP 200' },
        ],
      },
    ],
    instances: [ROWS[1], ROWS[2]],
    ...over,
  });

  it("shows the instances on every node, this node's definition, checks and the run's log", async () => {
    mockFetch((url) => (url === '/api/services/web' ? { body: detail() } : undefined));
    renderWith(storeWith(hello('read')), <Services param="web" pollMs={60000} />);
    await waitFor(() => expect(screen.getAllByTestId('svc-row')).toHaveLength(2));
    expect(screen.getByTestId('svc-instances')).toBeInTheDocument();
    expect(screen.getByTestId('svc-local-state')).toHaveTextContent('healthy');
    expect(screen.getByTestId('svc-local-logs')).toHaveAttribute('href', '#/tasks/a/t-17');
    expect(JSON.parse(screen.getByTestId('svc-definition').textContent ?? '')).toEqual(detail().definition);
    const check = screen.getByTestId('svc-check');
    expect(check).toHaveAttribute('data-status', 'healthy');
    expect(within(check).getByTestId('svc-check-last')).toHaveTextContent('ok · 1.3 ms · 4s ago');
    expect(within(check).getByTestId('svc-check-history')).toHaveAttribute('data-points', '3');
    expect(within(check).getByTestId('svc-check-history').querySelectorAll('i.bad')).toHaveLength(1);
    expect(screen.queryByTestId('svc-stop-all')).toBeNull();
  });

  it('on a node that does not run it: the instances and a note', async () => {
    mockFetch((url) => (url === '/api/services/web' ? { body: { name: 'web', definition: null, instances: [ROWS[2]] } } : undefined));
    renderWith(storeWith(hello('read', 'c')), <Services param="web" pollMs={60000} />);
    expect(await screen.findByTestId('svc-not-here')).toHaveTextContent('c does not run web');
    expect(screen.getAllByTestId('svc-row')).toHaveLength(1);
  });

  it('"stop everywhere" asks, then sends target all', async () => {
    const fetch = mockFetch((url, init) => {
      if (url === '/api/commands' && init.method === 'POST') return { status: 202, body: record('c-all', 'all', bodyOf(init).args) };
      return url === '/api/services/web' ? { body: detail() } : undefined;
    });
    renderWith(storeWith(hello('write')), <Services param="web" pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('svc-stop-all'));
    expect(screen.getByTestId('confirm-dialog')).toHaveTextContent('target all');
    expect(posts(fetch)).toHaveLength(0);
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(posts(fetch)).toEqual([{ target: 'all', type: 'service', args: { name: 'web', action: 'stop' } }]));
    expect(await screen.findByTestId('command-c-all')).toBeInTheDocument();
  });

  it('an unknown service says so', async () => {
    mockFetch(() => ({ status: 404, body: { error: 'not_found', message: 'no service named nope on any node' } }));
    renderWith(storeWith(hello('read')), <Services param="nope" pollMs={60000} />);
    expect(await screen.findByTestId('svc-error')).toHaveTextContent('not_found: no service named nope on any node');
  });
});
