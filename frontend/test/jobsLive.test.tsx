import { screen, waitFor, within } from '@testing-library/react';
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mergeJobs } from '../src/lib/jobsLive';
import { setToken } from '../src/lib/token';
import type { Job, MeshEvent } from '../src/lib/types';
import { Jobs } from '../src/pages/Jobs';
import { hello } from './fixtures';
import { mockFetch, renderWith, storeWith } from './render';

const job = (id: string, issuer: string, state: Job['state'], extra: Partial<Job> = {}): Job => ({
  id,
  issuer,
  principal: 'alice',
  state,
  task: 'backup',
  to: 'any',
  node: 'b',
  epoch: 1,
  submitted_ms: 1_700_000_000_000,
  updated_ms: 1_700_000_000_000,
  ...extra,
});

let seq = 0;
const jobEvent = (body: unknown, origin = 'b'): MeshEvent => ({
  origin,
  incarnation: 1,
  seq: ++seq,
  kind: 'job',
  time_ms: 1_700_000_000_000 + seq,
  received_ms: 1_700_000_000_000 + seq,
  body,
});

describe('mergeJobs', () => {
  it('adds the mesh’s jobs, marked remote unless this node issued them, newest submitted first', () => {
    const local = [job('j1', 'a', 'running')];
    const out = mergeJobs(local, [jobEvent(job('j9', 'b', 'queued', { submitted_ms: 1_700_000_005_000 }))], 'a');
    expect(out.map((j) => [j.issuer, j.id, j.remote])).toEqual([
      ['b', 'j9', true],
      ['a', 'j1', undefined],
    ]);
  });

  it('moves a listed job to a newer state, keeps what the summary lacks, ignores an older word', () => {
    const local = [job('j1', 'a', 'running', { deadline_ms: 42, updated_ms: 100 })];
    let out = mergeJobs(local, [jobEvent(job('j1', 'a', 'succeeded', { exit_code: 0, updated_ms: 200 }), 'a')], 'a');
    expect(out[0]).toMatchObject({ state: 'succeeded', exit_code: 0, deadline_ms: 42 });
    expect(out[0].remote).toBeUndefined();
    out = mergeJobs(local, [jobEvent(job('j1', 'a', 'queued', { updated_ms: 50 }), 'a')], 'a');
    expect(out[0].state).toBe('running');
  });

  it('keeps one row per (issuer, id): two issuers may use one id', () => {
    const out = mergeJobs([], [jobEvent(job('j1', 'b', 'queued')), jobEvent(job('j1', 'c', 'failed'), 'c')], 'a');
    expect(out.map((j) => j.issuer).sort()).toEqual(['b', 'c']);
  });

  it('filters by state as the node does, and skips what is not a job summary', () => {
    const events = [
      jobEvent(job('j2', 'b', 'failed')),
      jobEvent(job('j3', 'b', 'running')),
      jobEvent(null),
      jobEvent({ id: 7, issuer: 'b', state: 'failed' }),
      { ...jobEvent(job('j4', 'b', 'failed')), kind: 'user' as const },
    ];
    expect(mergeJobs([], events, 'a', 'failed').map((j) => j.id)).toEqual(['j2']);
    expect(mergeJobs([], events, 'a').map((j) => j.id).sort()).toEqual(['j2', 'j3']);
  });
});

describe('Jobs list, live', () => {
  beforeEach(() => {
    setToken('tok-r');
    window.location.hash = '';
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('shows each job’s issuer and follows the /ws job events without a poll', async () => {
    const fetch = mockFetch((url) => (url.startsWith('/api/jobs?') ? { body: { jobs: [job('j1', 'a', 'running')] } } : undefined));
    const store = storeWith(hello('read', 'a'));
    renderWith(store, <Jobs param={null} pollMs={60000} />);
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(1));
    expect(within(screen.getAllByTestId('job-row')[0]).getByTestId('job-issuer')).toHaveTextContent('a (here)');
    act(() => {
      store.enqueue({ type: 'event', event: jobEvent(job('j7', 'b', 'queued', { submitted_ms: 1_700_000_009_000, node: null })) });
      store.enqueue({ type: 'event', event: jobEvent(job('j1', 'a', 'succeeded', { exit_code: 0, updated_ms: 1_700_000_001_000 }), 'a') });
    });
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(2));
    const [remote, mine] = screen.getAllByTestId('job-row');
    expect(remote).toHaveAttribute('data-job', 'j7');
    expect(remote).toHaveAttribute('data-issuer', 'b');
    expect(within(remote).getByTestId('job-issuer')).toHaveTextContent(/^b$/);
    expect(mine).toHaveAttribute('data-state', 'succeeded');
    expect(fetch.mock.calls.filter(([u]) => String(u).startsWith('/api/jobs?'))).toHaveLength(1);
  });
});

describe('Job page of another issuer’s job', () => {
  beforeEach(() => {
    setToken('tok-w');
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('shows the summary, says where the story is, offers no cancel', async () => {
    mockFetch((url) => (url === '/api/jobs/j7' ? { body: { ...job('j7', 'b', 'running'), remote: true, exit_code: null } } : undefined));
    renderWith(storeWith(hello('write', 'a')), <Jobs param="j7" pollMs={60000} />);
    await waitFor(() => expect(screen.getByTestId('job-remote')).toHaveAttribute('data-issuer', 'b'));
    expect(screen.getByTestId('job-remote')).toHaveTextContent('agentflow trace j7');
    expect(screen.getByTestId('job-state')).toHaveAttribute('data-state', 'running');
    expect(screen.queryByTestId('job-history')).toBeNull();
    expect(screen.queryByTestId('job-cancel')).toBeNull();
    expect(screen.queryByTestId('job-exit')).toBeNull();
  });
});
