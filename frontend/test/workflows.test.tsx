import { fireEvent, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { depths, layout } from '../src/lib/dag';
import { setToken } from '../src/lib/token';
import type { Workflow, WorkflowStep } from '../src/lib/types';
import { Workflows, fmtDuration, workflowGraph } from '../src/pages/Workflows';
import { hello } from './fixtures';
import { bodyOf, mockFetch, renderWith, storeWith } from './render';

const step = (name: string, needs: string[], state: string, extra: Partial<WorkflowStep> = {}): WorkflowStep => ({
  name,
  kind: 'job',
  needs,
  state,
  ...extra,
});

const wf = (state: string, steps: WorkflowStep[]): Workflow => ({
  id: 'wf-1',
  name: 'backup',
  state,
  principal: 'alice',
  coordinator: 'a',
  created_ms: 1_700_000_000_000,
  steps,
});

beforeEach(() => {
  setToken('tok-w');
  window.location.hash = '';
});

describe('DAG layout', () => {
  it('puts a step one column after the deepest step it needs', () => {
    const steps = [step('d', ['b', 'c'], 'pending'), step('a', [], 'pending'), step('b', ['a'], 'pending'), step('c', ['a'], 'pending')];
    expect(depths(steps)).toEqual({ a: 0, b: 1, c: 1, d: 2 });
    const at = layout(steps);
    expect(at.b.x).toBe(at.c.x);
    expect(at.b.y).not.toBe(at.c.y);
    expect(at.d.x).toBeGreaterThan(at.b.x);
  });

  it('survives a need naming no step and a cycle', () => {
    expect(depths([step('a', ['ghost'], 'pending')])).toEqual({ a: 0 });
    const d = depths([step('a', ['b'], 'pending'), step('b', ['a'], 'pending')]);
    expect(Object.keys(d).sort()).toEqual(['a', 'b']);
  });

  it('draws an edge per need, animated into a running step', () => {
    const g = workflowGraph([step('a', [], 'succeeded'), step('b', ['a'], 'running', { started_ms: 1000 })], 3500);
    expect(g.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    expect(g.edges).toEqual([expect.objectContaining({ source: 'a', target: 'b', animated: true })]);
  });

  it('formats durations', () => {
    expect(fmtDuration(null)).toBe('—');
    expect(fmtDuration(250)).toBe('250 ms');
    expect(fmtDuration(2500)).toBe('2.5 s');
    expect(fmtDuration(125000)).toBe('2 min 5 s');
  });
});

describe('Workflow page', () => {
  it('shows each step with its state and node; approve sends the step and the comment', async () => {
    let state = 'waiting-approval';
    const fetch = mockFetch((url, init) => {
      if (url === '/api/workflows/wf-1/approve' && init.method === 'POST') {
        state = 'succeeded';
        return { body: { ok: true } };
      }
      if (url === '/api/workflows/wf-1')
        return {
          body: wf('running', [
            step('collect', [], 'succeeded', { node: 'b', attempt: 1, duration_ms: 1200 }),
            step('ok', ['collect'], state, { kind: 'approval', prompt: 'Prune?' }),
          ]),
        };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Workflows param="wf-1" pollMs={60000} />);
    await waitFor(() => expect(screen.getAllByTestId('wf-step-row')).toHaveLength(2));
    expect(screen.getAllByTestId('wf-step-row')[0]).toHaveAttribute('data-state', 'succeeded');
    expect(screen.getByTestId('wf-approval')).toHaveTextContent('Prune?');
    fireEvent.change(screen.getByTestId('wf-comment'), { target: { value: 'looks fine' } });
    fireEvent.click(screen.getByTestId('wf-approve'));
    await waitFor(() => expect(screen.queryByTestId('wf-approval')).toBeNull());
    const call = fetch.mock.calls.find(([u]) => u === '/api/workflows/wf-1/approve');
    expect(bodyOf(call?.[1])).toEqual({ step: 'ok', comment: 'looks fine' });
  });

  it('a read token sees who may approve but no buttons', async () => {
    mockFetch((url) => (url === '/api/workflows/wf-1' ? { body: wf('running', [step('ok', [], 'waiting-approval', { kind: 'approval' })]) } : undefined));
    renderWith(storeWith(hello('read')), <Workflows param="wf-1" pollMs={60000} />);
    await waitFor(() => expect(screen.getByTestId('wf-readonly-approval')).toBeInTheDocument());
    expect(screen.queryByTestId('wf-approve')).toBeNull();
    expect(screen.queryByTestId('wf-cancel')).toBeNull();
  });

  it('an action the node refuses says why', async () => {
    mockFetch((url, init) => {
      if (url === '/api/workflows/wf-1/cancel' && init.method === 'POST') return { status: 409, body: { error: 'conflict', message: 'workflow is succeeded' } };
      if (url === '/api/workflows/wf-1') return { body: wf('running', [step('a', [], 'running')]) };
      return undefined;
    });
    renderWith(storeWith(hello('write')), <Workflows param="wf-1" pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('wf-cancel'));
    await waitFor(() => expect(screen.getByTestId('wf-msg')).toHaveTextContent('cancel failed — conflict: workflow is succeeded'));
  });

  it('lists workflows linking to their pages', async () => {
    mockFetch((url) => (url.startsWith('/api/workflows?') ? { body: { workflows: [wf('failed', [])] } } : undefined));
    renderWith(storeWith(hello('read')), <Workflows param={null} pollMs={60000} />);
    const row = await screen.findByTestId('wf-row');
    expect(row).toHaveAttribute('data-state', 'failed');
    expect(row.querySelector('a')).toHaveAttribute('href', '#/workflows/wf-1');
  });
});
