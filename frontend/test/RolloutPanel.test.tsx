import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RolloutPanel } from '../src/components/RolloutPanel';
import { ApiError } from '../src/lib/api';
import { buildRollout, describeRolloutError, parseTarget, progress, type RolloutFormValues } from '../src/lib/rollouts';
import { setToken } from '../src/lib/token';
import type { Rollout, RolloutNode, Service, ServiceDetail } from '../src/lib/types';
import { Services } from '../src/pages/Services';
import { hello } from './fixtures';
import { bodyOf, mockFetch, renderWith, storeWith } from './render';

const NOW = 1_800_000_000_000;

const DEF = { command: ['/usr/bin/python3', '-m', 'http.server', '8000'], restart: 'always', version: 'v1' };

const rnode = (node: string, state: RolloutNode['state'], extra: Partial<RolloutNode> = {}): RolloutNode => ({
  node,
  state,
  version: null,
  previous_version: 'v1',
  reason: null,
  started_ms: null,
  finished_ms: null,
  ...extra,
});

const rollout = (id: string, state: Rollout['state'], nodes: RolloutNode[], extra: Partial<Rollout> = {}): Rollout => ({
  id,
  service: 'web',
  state,
  reason: null,
  principal: 'alice',
  created_ms: NOW - 120_000,
  updated_ms: NOW - 1000,
  finished_ms: null,
  max_parallel: 1,
  deadline_s: 60,
  min_healthy_s: 5,
  definition: { ...DEF, version: 'v2' },
  nodes,
  ...extra,
});

/** node-1 took v2, node-2 did not get healthy and went back to v1, node-3 was never touched. */
const FAILED = rollout(
  'r-1',
  'failed',
  [
    rnode('node-1', 'healthy', { version: 'v2', started_ms: NOW - 119_000, finished_ms: NOW - 100_000 }),
    rnode('node-2', 'rolled_back', {
      version: 'v1',
      previous_version: 'v1',
      reason: 'not healthy within 60 s (check http-8000: connection refused); rolled back to v1',
      started_ms: NOW - 99_000,
      finished_ms: NOW - 30_000,
    }),
    rnode('node-3', 'untouched'),
  ],
  { reason: 'node-2 failed: not healthy within 60 s', finished_ms: NOW - 30_000 },
);

const RUNNING = rollout('r-2', 'running', [rnode('node-1', 'healthy', { version: 'v3' }), rnode('node-2', 'updating'), rnode('node-3', 'pending')], {
  created_ms: NOW - 10_000,
  definition: { ...DEF, version: 'v3' },
});

const PAUSED = rollout('r-3', 'paused', [rnode('node-1', 'healthy', { version: 'v3' }), rnode('node-2', 'pending')], { created_ms: NOW - 5000 });

type Answer = { status?: number; body: unknown };

/**
 * A node holding `list` (newest first as the API answers): POSTs go to
 * `post`, whose 2xx rollout is kept in the list the way the node would.
 */
function node(list: Rollout[], post: (url: string, body: unknown) => Answer | undefined = () => undefined) {
  let rows = [...list];
  return mockFetch((url, init) => {
    if (init.method === 'POST') {
      const a = post(url, bodyOf(init));
      if (a && (a.status ?? 200) < 300) {
        const r = a.body as Rollout;
        rows = [r, ...rows.filter((x) => x.id !== r.id)];
      }
      return a;
    }
    if (url === '/api/rollouts?service=web') return { body: { rollouts: rows } };
    return undefined;
  });
}

const posts = (fetch: ReturnType<typeof mockFetch>) =>
  fetch.mock.calls.filter(([, i]) => i?.method === 'POST').map(([u, i]) => ({ url: u, body: bodyOf(i) }));

const cards = () => screen.getAllByTestId('rollout');
const card = (id: string) => cards().find((c) => c.dataset.id === id)!;

function panel(role: 'read' | 'write', definition: Record<string, unknown> | null = DEF) {
  return renderWith(storeWith(hello(role)), <RolloutPanel service="web" definition={definition} pollMs={60000} />);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  setToken('tok');
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('rollout helpers', () => {
  it('counts healthy nodes', () => {
    expect(progress(FAILED).text).toBe('1 of 3 nodes healthy');
    expect(progress(rollout('x', 'running', [rnode('n', 'healthy')])).text).toBe('1 of 1 node healthy');
  });

  it('reads the target field as the API takes it', () => {
    expect(parseTarget(' all ')).toEqual({ target: 'all' });
    expect(parseTarget('node-2')).toEqual({ target: 'node-2' });
    expect(parseTarget('role=web,zone=b')).toEqual({ target: 'role=web,zone=b' });
    expect(parseTarget('node-1, node-3,')).toEqual({ nodes: ['node-1', 'node-3'] });
    expect(parseTarget('{"labels": {"role": "web"}}')).toEqual({ target: { labels: { role: 'web' } } });
    expect(parseTarget('{"role": "web"}')).toHaveProperty('error');
    expect(parseTarget('{nope')).toHaveProperty('error');
    expect(parseTarget('  ')).toHaveProperty('error');
  });

  it('builds the request, or says every field that is wrong', () => {
    const f: RolloutFormValues = { definition: '{"command": ["x"]}', target: 'all', max_parallel: '2', deadline_s: '', min_healthy_s: '0' };
    expect(buildRollout('web', f)).toEqual({
      body: { service: 'web', definition: { command: ['x'] }, target: 'all', max_parallel: 2, deadline_s: 60, min_healthy_s: 0 },
    });
    const bad = buildRollout('web', { definition: '[1]', target: '', max_parallel: '17', deadline_s: '1.5', min_healthy_s: '-1' });
    expect('errors' in bad && bad.errors).toEqual([
      'definition: must be a JSON object',
      'target: say where (all, a node, k=v,k2=v2, or node-1,node-3)',
      'max parallel: a whole number from 1 to 16',
      'deadline (s): a whole number from 1 to 3600',
      'min healthy (s): a whole number from 0 to 600',
    ]);
  });

  it("tells a refusal: the 400's fields, a 409 in words, a code without the raw JSON", () => {
    const invalid = new ApiError(400, 'invalid', 'bad definition', {
      error: 'invalid',
      message: 'bad definition',
      errors: [{ path: 'definition.command', error: 'required' }],
    });
    expect(describeRolloutError(invalid, 'busy')).toBe('invalid: bad definition (definition.command: required)');
    expect(describeRolloutError(new ApiError(409, 'conflict', '{"error":"conflict"}', { error: 'conflict' }), 'busy')).toBe('busy');
    expect(describeRolloutError(new ApiError(404, 'not_found', '{"error":"not_found"}', { error: 'not_found' }), 'busy')).toBe('not_found');
    expect(describeRolloutError(new ApiError(403, 'forbidden', 'x', {}), 'busy')).toBe('read-only token: writes need a write token');
  });
});

describe('RolloutPanel', () => {
  it('shows a failed rollout: who, when, progress, and every node in rollout order', async () => {
    node([FAILED]);
    panel('read');
    await waitFor(() => expect(cards()).toHaveLength(1));
    const r = card('r-1');
    expect(r).toHaveAttribute('data-state', 'failed');
    expect(within(r).getByTestId('rollout-state')).toHaveClass('st-failed');
    expect(within(r).getByTestId('rollout-who')).toHaveTextContent('by alice');
    expect(within(r).getByTestId('rollout-who')).toHaveTextContent('(2m 0s ago)');
    expect(within(r).getByTestId('rollout-who')).toHaveTextContent('ended after 1m 30s');
    expect(within(r).getByTestId('rollout-progress')).toHaveTextContent('1 of 3 nodes healthy');
    expect(within(r).getByTestId('rollout-reason')).toHaveTextContent('node-2 failed: not healthy within 60 s');
    const rows = within(r).getAllByTestId('rollout-node');
    expect(rows.map((n) => `${n.dataset.node}:${n.dataset.state}`)).toEqual(['node-1:healthy', 'node-2:rolled_back', 'node-3:untouched']);
    const [n1, n2, n3] = rows;
    expect(within(n1).getByText('healthy')).toHaveClass('st-healthy');
    expect(within(n1).getByText('v2')).toBeInTheDocument();
    expect(within(n2).getByText('rolled_back')).toHaveClass('badge', 'st-rolled_back');
    expect(n2).toHaveTextContent('rolled back to v1');
    expect(n2).toHaveTextContent('1m 9s');
    expect(within(n3).getByText('untouched')).toHaveClass('st-untouched');
    expect(within(n3).getByText('v1')).toBeInTheDocument();
  });

  it('shows the newest five first and says how many are left out', async () => {
    const many = Array.from({ length: 7 }, (_, i) => rollout(`r-${i}`, 'succeeded', [rnode('node-1', 'healthy')], { created_ms: NOW - 1000 * (i + 1) }));
    node([...many].reverse());
    panel('read');
    await waitFor(() => expect(cards()).toHaveLength(5));
    expect(cards().map((c) => c.dataset.id)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
    expect(screen.getByTestId('rollout-more')).toHaveTextContent('2 older rollouts not shown');
  });

  it('a read token sees the rollouts and neither buttons nor the form', async () => {
    node([PAUSED, RUNNING, FAILED]);
    panel('read');
    await waitFor(() => expect(cards()).toHaveLength(3));
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(screen.queryByTestId('rollout-form')).toBeNull();
  });

  it('a write token: pause on a running one, resume on a paused one, abort on both, nothing on a final one', async () => {
    node([PAUSED, RUNNING, FAILED]);
    panel('write');
    await waitFor(() => expect(cards()).toHaveLength(3));
    const ids = (id: string) =>
      within(card(id))
        .queryAllByRole('button')
        .map((b) => b.dataset.testid);
    expect(ids('r-2')).toEqual(['rollout-pause', 'rollout-abort']);
    expect(ids('r-3')).toEqual(['rollout-resume', 'rollout-abort']);
    expect(ids('r-1')).toEqual([]);
    expect(screen.getByTestId('rollout-form')).toBeInTheDocument();
  });

  it('abort asks first, sends nothing on cancel, then POSTs /api/rollouts/ID/abort', async () => {
    const fetch = node([RUNNING, FAILED], (url) =>
      url === '/api/rollouts/r-2/abort' ? { body: { ...RUNNING, state: 'aborted', reason: 'aborted by alice', finished_ms: NOW } } : undefined,
    );
    panel('write');
    await waitFor(() => expect(cards()).toHaveLength(2));
    fireEvent.click(within(card('r-2')).getByTestId('rollout-abort'));
    expect(screen.getByTestId('confirm-dialog')).toHaveTextContent('Abort rollout r-2 of web?');
    expect(screen.getByTestId('confirm-dialog')).toHaveTextContent('1 of 3 nodes healthy');
    fireEvent.click(screen.getByTestId('confirm-no'));
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(posts(fetch)).toHaveLength(0);
    fireEvent.click(within(card('r-2')).getByTestId('rollout-abort'));
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(card('r-2')).toHaveAttribute('data-state', 'aborted'));
    expect(posts(fetch)).toEqual([{ url: '/api/rollouts/r-2/abort', body: {} }]);
    expect(screen.getByTestId('rollout-msg')).toHaveTextContent('abort r-2: done, the rollout is aborted');
    expect(within(card('r-2')).queryAllByRole('button')).toHaveLength(0);
  });

  it('pause goes at once; a 409 says the state no longer allows it', async () => {
    const fetch = node([RUNNING], () => ({ status: 409, body: { error: 'conflict' } }));
    panel('write');
    fireEvent.click(await screen.findByTestId('rollout-pause'));
    await waitFor(() => expect(screen.getByTestId('rollout-msg')).toHaveTextContent('pause r-2 refused — its state no longer allows pause'));
    expect(posts(fetch)).toEqual([{ url: '/api/rollouts/r-2/pause', body: {} }]);
  });

  it('the form starts from this node definition, refuses bad JSON without a request, then posts the parsed body', async () => {
    const started = rollout('r-9', 'running', [rnode('node-1', 'pending'), rnode('node-2', 'pending')], { created_ms: NOW, definition: { ...DEF, version: 'v9' } });
    const fetch = node([FAILED], (url) => (url === '/api/rollouts' ? { status: 201, body: started } : undefined));
    panel('write');
    await waitFor(() => expect(cards()).toHaveLength(1));
    const text = screen.getByTestId('rollout-definition') as HTMLTextAreaElement;
    expect(text.value).toBe(JSON.stringify(DEF, null, 2));
    expect(screen.getByTestId('rollout-target')).toHaveValue('all');

    fireEvent.change(text, { target: { value: '{"command": ["x"],' } });
    fireEvent.click(screen.getByTestId('rollout-submit'));
    expect(screen.getByTestId('rollout-form-error')).toHaveTextContent('definition: not valid JSON');
    fireEvent.change(screen.getByTestId('rollout-max-parallel'), { target: { value: '20' } });
    fireEvent.click(screen.getByTestId('rollout-submit'));
    expect(screen.getByTestId('rollout-form-error')).toHaveTextContent('max parallel: a whole number from 1 to 16');
    expect(posts(fetch)).toHaveLength(0);

    fireEvent.change(text, { target: { value: JSON.stringify({ ...DEF, version: 'v9' }) } });
    fireEvent.change(screen.getByTestId('rollout-target'), { target: { value: 'role=web' } });
    fireEvent.change(screen.getByTestId('rollout-max-parallel'), { target: { value: '2' } });
    fireEvent.change(screen.getByTestId('rollout-deadline-s'), { target: { value: '120' } });
    fireEvent.change(screen.getByTestId('rollout-min-healthy-s'), { target: { value: '10' } });
    fireEvent.click(screen.getByTestId('rollout-submit'));
    await waitFor(() => expect(posts(fetch)).toHaveLength(1));
    expect(screen.queryByTestId('rollout-form-error')).toBeNull();
    expect(posts(fetch)[0]).toEqual({
      url: '/api/rollouts',
      body: { service: 'web', definition: { ...DEF, version: 'v9' }, target: 'role=web', max_parallel: 2, deadline_s: 120, min_healthy_s: 10 },
    });
    await waitFor(() => expect(cards().map((c) => c.dataset.id)).toEqual(['r-9', 'r-1']));
    expect(card('r-9')).toHaveAttribute('data-state', 'running');
    expect(screen.getByTestId('rollout-form-msg')).toHaveTextContent('rollout r-9 started: 2 nodes');
  });

  it('a list of nodes goes as "nodes"; the node\'s 400 and 409 are shown', async () => {
    let answer: Answer = {
      status: 400,
      body: { error: 'invalid', message: 'invalid rollout', errors: [{ path: 'definition.command', error: 'required' }] },
    };
    const fetch = node([], () => answer);
    panel('write');
    await screen.findByTestId('rollout-none');
    fireEvent.change(screen.getByTestId('rollout-target'), { target: { value: 'node-1, node-3' } });
    fireEvent.click(screen.getByTestId('rollout-submit'));
    await waitFor(() => expect(screen.getByTestId('rollout-form-msg')).toHaveTextContent('not started — invalid: invalid rollout (definition.command: required)'));
    expect(posts(fetch)[0].body).toEqual({ service: 'web', definition: DEF, nodes: ['node-1', 'node-3'], max_parallel: 1, deadline_s: 60, min_healthy_s: 5 });
    answer = { status: 409, body: { error: 'conflict' } };
    fireEvent.click(screen.getByTestId('rollout-submit'));
    await waitFor(() => expect(screen.getByTestId('rollout-form-msg')).toHaveTextContent('web already has a rollout in progress'));
    expect(screen.getByTestId('rollout-none')).toBeInTheDocument();
  });

  it('on a node that does not run the service the definition is to be pasted', async () => {
    const fetch = node([]);
    panel('write', null);
    await screen.findByTestId('rollout-none');
    expect(screen.getByTestId('rollout-definition')).toHaveValue('');
    fireEvent.click(screen.getByTestId('rollout-submit'));
    expect(screen.getByTestId('rollout-form-error')).toHaveTextContent('definition: empty');
    expect(posts(fetch)).toHaveLength(0);
  });

  it("says why the list could not be read", async () => {
    mockFetch(() => ({ status: 500, body: { error: 'internal', message: 'database is locked' } }));
    panel('read');
    expect(await screen.findByTestId('rollout-error')).toHaveTextContent('rollouts: internal: database is locked');
  });
});

describe('Service page', () => {
  const web: Service = {
    node: 'a',
    name: 'web',
    desired: 'running',
    state: 'healthy',
    pid: 1,
    started_ms: NOW - 1000,
    restarts: 0,
    last_exit: null,
    next_attempt_ms: null,
    reason: null,
    task_id: 't-1',
    version: 'v1',
  };
  const detail: ServiceDetail = { ...web, definition: DEF, checks: [], instances: [web] };

  it('has the Rollouts panel, polling the service\'s rollouts, its form filled with this node\'s definition', async () => {
    const fetch = mockFetch((url) => {
      if (url === '/api/services/web') return { body: detail };
      if (url === '/api/rollouts?service=web') return { body: { rollouts: [FAILED] } };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Services param="web" pollMs={60000} />);
    const p = await screen.findByTestId('rollout-panel');
    expect(within(p).getByRole('heading', { name: 'Rollouts' })).toBeInTheDocument();
    await waitFor(() => expect(within(p).getAllByTestId('rollout')).toHaveLength(1));
    expect(within(p).getByTestId('rollout-definition')).toHaveValue(JSON.stringify(DEF, null, 2));
    // About once a second, also when the page polls slowly.
    const gets = () => fetch.mock.calls.filter(([u]) => u === '/api/rollouts?service=web').length;
    await waitFor(() => expect(gets()).toBeGreaterThanOrEqual(2), { timeout: 2500 });
  });
});
