import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setToken } from '../src/lib/token';
import { Jobs, entryDetails, jobHref } from '../src/pages/Jobs';
import type { Job } from '../src/lib/types';
import { hello } from './fixtures';
import { bodyOf, mockFetch, renderWith, storeWith } from './render';

const job = (id: string, state: Job['state'], extra: Partial<Job> = {}): Job => ({
  id,
  issuer: 'a',
  principal: 'alice',
  state,
  task: 'backup',
  to: 'any:role=nas',
  node: 'b',
  epoch: 1,
  submitted_ms: 1_700_000_000_000,
  deadline_ms: 1_700_086_400_000,
  ...extra,
});

beforeEach(() => {
  setToken('tok-w');
  window.location.hash = '';
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Jobs list', () => {
  it('lists the jobs with their node, epoch and state; the state filter asks the node', async () => {
    const fetch = mockFetch((url) => {
      if (url.startsWith('/api/jobs?')) {
        const failed = url.includes('state=failed');
        return { body: { jobs: failed ? [job('j2', 'failed')] : [job('j1', 'running', { epoch: 2, node: 'c' }), job('j2', 'failed')] } };
      }
      return undefined;
    });
    renderWith(storeWith(hello('read')), <Jobs param={null} pollMs={60000} />);
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(2));
    const row = screen.getAllByTestId('job-row')[0];
    expect(row).toHaveAttribute('data-job', 'j1');
    expect(within(row).getByText('c')).toBeInTheDocument();
    expect(within(row).getByText('2')).toBeInTheDocument();
    expect(row).toHaveAttribute('data-state', 'running');
    // A read token: no submit form.
    expect(screen.queryByTestId('job-form')).toBeNull();
    fireEvent.change(screen.getByTestId('jobs-state'), { target: { value: 'failed' } });
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(1));
    expect(fetch.mock.calls.some(([u]) => String(u).includes('state=failed'))).toBe(true);
  });

  it('submits a job with its payload parsed; a payload that is not JSON is refused before sending', async () => {
    const fetch = mockFetch((url, init) => {
      if (url === '/api/jobs' && init.method === 'POST') return { status: 202, body: { id: 'j9', state: 'queued' } };
      if (url.startsWith('/api/jobs?')) return { body: { jobs: [] } };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Jobs param={null} pollMs={60000} />);
    fireEvent.change(screen.getByTestId('job-task'), { target: { value: 'backup' } });
    fireEvent.change(screen.getByTestId('job-to'), { target: { value: 'any:role=nas' } });
    fireEvent.change(screen.getByTestId('job-payload'), { target: { value: '{"dir": "/srv"' } });
    fireEvent.click(screen.getByTestId('job-submit'));
    await waitFor(() => expect(screen.getByTestId('job-submit-msg')).toHaveTextContent('payload: not JSON'));
    expect(fetch.mock.calls.filter(([u, i]) => u === '/api/jobs' && i?.method === 'POST')).toHaveLength(0);
    fireEvent.change(screen.getByTestId('job-payload'), { target: { value: '{"dir": "/srv"}' } });
    fireEvent.change(screen.getByTestId('job-key'), { target: { value: 'nightly-1' } });
    fireEvent.click(screen.getByTestId('job-at-most-once'));
    fireEvent.click(screen.getByTestId('job-submit'));
    await waitFor(() => expect(screen.getByTestId('job-submit-msg')).toHaveTextContent('job j9 queued'));
    const post = fetch.mock.calls.find(([u, i]) => u === '/api/jobs' && i?.method === 'POST');
    expect(bodyOf(post?.[1])).toEqual({ task: 'backup', to: 'any:role=nas', payload: { dir: '/srv' }, key: 'nightly-1', at_most_once: true });
  });

  it('shows the node’s refusal of a bad job', async () => {
    mockFetch((url, init) => {
      if (url === '/api/jobs' && init.method === 'POST') return { status: 400, body: { error: 'invalid_field', message: 'to: a node id, any or any:SELECTOR' } };
      if (url.startsWith('/api/jobs?')) return { body: { jobs: [] } };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Jobs param={null} pollMs={60000} />);
    fireEvent.change(screen.getByTestId('job-task'), { target: { value: 'backup' } });
    fireEvent.change(screen.getByTestId('job-to'), { target: { value: 'every:thing' } });
    fireEvent.click(screen.getByTestId('job-submit'));
    await waitFor(() => expect(screen.getByTestId('job-submit-msg')).toHaveTextContent('invalid_field: to: a node id'));
  });
});

describe('Job page', () => {
  it('tells the job’s story in order, with node, epoch and the rest of each step', async () => {
    const history = [
      { time_ms: 1_700_000_000_000, event: 'submitted', by: 'a', principal: 'alice' },
      { time_ms: 1_700_000_001_000, event: 'dispatched', by: 'a', node: 'b', epoch: 1 },
      { time_ms: 1_700_000_009_000, event: 'queued', by: 'a', node: 'b', epoch: 1, reason: 'node b is dead' },
      { time_ms: 1_700_000_009_500, event: 'dispatched', by: 'a', node: 'c', epoch: 2 },
      { time_ms: 1_700_000_012_000, event: 'succeeded', by: 'a', node: 'c', epoch: 2 },
    ];
    const fetch = mockFetch((url, init) => {
      if (url === '/api/jobs/j1' && (init.method ?? 'GET') === 'GET')
        return {
          body: job('j1', 'running', {
            node: 'c',
            epoch: 2,
            history,
            callback: { url: 'https://hooks.example/af', state: 'waiting', attempts: 0 },
          }),
        };
      if (url === '/api/jobs/j1/cancel') return { body: { id: 'j1', state: 'cancelled' } };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Jobs param="j1" pollMs={60000} />);
    await waitFor(() => expect(screen.getAllByTestId('job-history-row')).toHaveLength(5));
    expect(screen.getAllByTestId('job-history-row').map((r) => r.getAttribute('data-event'))).toEqual([
      'submitted',
      'dispatched',
      'queued',
      'dispatched',
      'succeeded',
    ]);
    const redispatch = screen.getAllByTestId('job-history-row')[3];
    expect(within(redispatch).getByText('c')).toBeInTheDocument();
    expect(within(redispatch).getByText('2')).toBeInTheDocument();
    expect(screen.getAllByTestId('job-history-row')[2]).toHaveTextContent('node b is dead');
    expect(screen.getByTestId('job-state')).toHaveAttribute('data-state', 'running');
    expect(screen.getByTestId('job-callback')).toHaveTextContent('https://hooks.example/af — waiting');
    fireEvent.click(screen.getByTestId('job-cancel'));
    await waitFor(() => expect(fetch.mock.calls.some(([u, i]) => u === '/api/jobs/j1/cancel' && i?.method === 'POST')).toBe(true));
  });

  it('shows a fanned-out job on each node, and replays a failed job to its new page', async () => {
    const fetch = mockFetch((url, init) => {
      if (url === '/api/jobs/p1' && (init.method ?? 'GET') === 'GET')
        return {
          body: job('p1', 'failed', {
            to: 'all',
            node: null,
            reason: '1 of 2 failed',
            history: [],
            children: [
              { id: 'p1.1', node: 'b', state: 'succeeded', exit_code: 0 },
              { id: 'p1.2', node: 'c', state: 'failed', exit_code: 3 },
            ],
          }),
        };
      if (url === '/api/jobs/p1/replay') return { status: 202, body: { id: 'j9', state: 'running', replay_of: 'p1' } };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Jobs param="p1" pollMs={60000} />);
    await waitFor(() => expect(screen.getAllByTestId('job-child')).toHaveLength(2));
    const [b, c] = screen.getAllByTestId('job-child');
    expect(b).toHaveAttribute('data-node', 'b');
    expect(b).toHaveAttribute('data-state', 'succeeded');
    expect(c).toHaveAttribute('data-state', 'failed');
    expect(within(c).getByText('3')).toBeInTheDocument();
    expect(within(c).getByRole('link')).toHaveAttribute('href', '#/jobs/p1.2');
    // No cancel for a final job; replay instead, which opens the new job.
    expect(screen.queryByTestId('job-cancel')).toBeNull();
    fireEvent.click(screen.getByTestId('job-replay'));
    await waitFor(() => expect(window.location.hash).toBe('#/jobs/j9'));
    expect(fetch.mock.calls.some(([u, i]) => u === '/api/jobs/p1/replay' && i?.method === 'POST')).toBe(true);
  });

  it('offers no replay for a succeeded job, nor to a read token; links a replay to its first job', async () => {
    mockFetch((url) => {
      if (url === '/api/jobs/j2') return { body: job('j2', 'succeeded', { history: [], replay_of: 'j1' }) };
      if (url === '/api/jobs/j3') return { body: job('j3', 'failed', { history: [], replayed_as: 'j4' }) };
      return undefined;
    });
    const { unmount } = renderWith(storeWith(hello('write')), <Jobs param="j2" pollMs={60000} />);
    await waitFor(() => expect(screen.getByTestId('job-replay-of')).toHaveAttribute('href', '#/jobs/j1'));
    expect(screen.queryByTestId('job-replay')).toBeNull();
    unmount();
    renderWith(storeWith(hello('read')), <Jobs param="j3" pollMs={60000} />);
    await waitFor(() => expect(screen.getByTestId('job-replayed-as')).toHaveAttribute('href', '#/jobs/j4'));
    expect(screen.queryByTestId('job-replay')).toBeNull();
  });

  it('asks for another issuer’s job by its issuer, since two members may use one id', async () => {
    const fetch = mockFetch((url) => {
      if (url === '/api/jobs/j5?issuer=c') return { body: job('j5', 'running', { issuer: 'c', remote: true }) };
      return undefined;
    });
    expect(jobHref({ id: 'j5', issuer: 'c', remote: true })).toBe('#/jobs/j5%40c');
    expect(jobHref({ id: 'j5', issuer: 'a' })).toBe('#/jobs/j5');
    renderWith(storeWith(hello('read')), <Jobs param="j5@c" pollMs={60000} />);
    await waitFor(() => expect(screen.getByTestId('job-remote')).toHaveAttribute('data-issuer', 'c'));
    expect(fetch.mock.calls.map(([u]) => u)).toContain('/api/jobs/j5?issuer=c');
  });

  it('says so when the job is not on this node', async () => {
    mockFetch(() => ({ status: 404, body: { error: 'not_found', message: 'no job j7 issued here' } }));
    renderWith(storeWith(hello('read')), <Jobs param="j7" pollMs={60000} />);
    await waitFor(() => expect(screen.getByTestId('job-error')).toHaveTextContent('no job j7 issued here'));
  });

  it('details list the fields without a column of their own, sorted', () => {
    expect(entryDetails({ time_ms: 1, event: 'fenced', by: 'a', node: 'b', epoch: 1, task_id: 't9', exit_code: 0 })).toBe('exit_code=0 task_id=t9');
  });
});
