import { act, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { Header } from '../src/components/Header';
import { documentTitle, parseHash } from '../src/lib/hooks';
import { setToken } from '../src/lib/token';
import { alert, cluster, ev, evMsg, hello, snapshot } from './fixtures';
import { renderWith, storeWith } from './render';

const conn = () => ({ useToken: vi.fn(), signOut: vi.fn() });

function go(hash: string) {
  act(() => {
    window.location.hash = hash;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
}

beforeEach(() => {
  setToken('tok-w');
  window.location.hash = '';
  document.title = 'AgentFlow';
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('document title', () => {
  it('formats "(N) node · AgentFlow" while alerts fire, "node · AgentFlow" otherwise', () => {
    expect(documentTitle('node-1', 2)).toBe('(2) node-1 · AgentFlow');
    expect(documentTitle('node-1', 0)).toBe('node-1 · AgentFlow');
    expect(documentTitle(null, 0)).toBe('AgentFlow');
    expect(documentTitle(null, 3)).toBe('(3) AgentFlow');
  });

  it('names the node serving the page when nothing fires', () => {
    const store = storeWith(hello('write', 'node-1'), snapshot(cluster(['node-1', 'b']), { alerts: [alert('b', 'x', { state: 'resolved' })] }));
    window.location.hash = '#/nodes';
    renderWith(store, <App connection={conn()} />);
    expect(document.title).toBe('node-1 · AgentFlow');
  });

  it('counts firing alerts mesh-wide and follows them live', () => {
    const store = storeWith(
      hello('read', 'node-1'),
      snapshot(cluster(['node-1', 'b', 'c']), {
        alerts: [alert('b', 'x1'), alert('c', 'x2'), alert('c', 'x3', { state: 'acknowledged' })],
      }),
    );
    window.location.hash = '#/alerts';
    renderWith(store, <App connection={conn()} />);
    expect(document.title).toBe('(2) node-1 · AgentFlow');
    // one resolves: one left
    act(() => store.dispatch({ type: 'messages', messages: [evMsg(ev('b', 'alert', alert('b', 'x1', { state: 'resolved', resolved_ms: 2000 })))] }));
    expect(document.title).toBe('(1) node-1 · AgentFlow');
    // a new one fires
    act(() => store.dispatch({ type: 'messages', messages: [evMsg(ev('node-1', 'alert', alert('node-1', 'x4')))] }));
    expect(document.title).toBe('(2) node-1 · AgentFlow');
    act(() =>
      store.dispatch({
        type: 'messages',
        messages: [
          evMsg(ev('c', 'alert', alert('c', 'x2', { state: 'resolved', resolved_ms: 3000 }))),
          evMsg(ev('node-1', 'alert', alert('node-1', 'x4', { state: 'resolved', resolved_ms: 3000 }))),
        ],
      }),
    );
    expect(document.title).toBe('node-1 · AgentFlow');
  });
});

describe('unknown routes', () => {
  it('parses a path naming no page as notfound, keeping known pages and their sub-paths', () => {
    expect(parseHash('')).toEqual({ page: 'topology', param: null });
    expect(parseHash('#/')).toEqual({ page: 'topology', param: null });
    expect(parseHash('#/bogus')).toEqual({ page: 'notfound', param: '/bogus' });
    expect(parseHash('#/no/such/page?x=1')).toEqual({ page: 'notfound', param: '/no/such/page' });
    expect(parseHash('#/caf%C3%A9')).toEqual({ page: 'notfound', param: '/café' });
    expect(parseHash('#/bad%E0')).toEqual({ page: 'notfound', param: '/bad%E0' });
    expect(parseHash('#/services/web/extra')).toEqual({ page: 'services', param: 'web/extra' });
    expect(parseHash('#/nodes/a/more')).toEqual({ page: 'node', param: 'a' });
  });

  it('shows a not-found page naming the path, linking to the overview', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b'])));
    window.location.hash = '#/no-such-page';
    renderWith(store, <App connection={conn()} />);
    const nf = screen.getByTestId('not-found');
    expect(nf).toHaveTextContent('#/no-such-page');
    expect(screen.getByTestId('not-found-home')).toHaveAttribute('href', '#/topology');
    expect(screen.queryByTestId(/^topology-node-/)).toBeNull();
    // no nav entry is marked as the page shown
    expect(document.querySelector('nav a.active')).toBeNull();
    go('#/nodes');
    expect(screen.queryByTestId('not-found')).toBeNull();
    expect(screen.getAllByTestId(/^node-card-/)).toHaveLength(2);
    go('#/nodes/zzz/top');
    expect(screen.queryByTestId('not-found')).toBeNull();
  });
});

describe('nav toggle (narrow screens)', () => {
  it('opens and closes the nav, says which page is shown, and closes when a page is picked', () => {
    const store = storeWith(hello(), snapshot(cluster(['a', 'b']), { alerts: [alert('b', 'x1')] }));
    renderWith(store, <Header page="jobs" onSignOut={() => {}} />);
    const toggle = screen.getByTestId('nav-toggle');
    const nav = screen.getByTestId('nav');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(toggle).toHaveAttribute('aria-controls', nav.id);
    expect(toggle).toHaveTextContent('Jobs');
    expect(toggle).toHaveTextContent('1'); // the firing count shows while the menu is shut
    expect(nav).not.toHaveClass('open');
    fireEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(nav).toHaveClass('open');
    fireEvent.click(toggle);
    expect(nav).not.toHaveClass('open');
    fireEvent.click(toggle);
    fireEvent.click(screen.getByTestId('nav-alerts'));
    expect(nav).not.toHaveClass('open');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
  });
});
