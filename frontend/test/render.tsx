import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { StoreContext } from '../src/lib/hooks';
import { Store, initialState, reduce } from '../src/lib/store';
import type { ServerMessage } from '../src/lib/types';

/** A store already fed with these messages (flushed at once). */
export function storeWith(...messages: ServerMessage[]): Store {
  return new Store(reduce(initialState, { type: 'messages', messages }), 0);
}

export function renderWith(store: Store, ui: ReactElement) {
  return render(<StoreContext.Provider value={store}>{ui}</StoreContext.Provider>);
}

type Route = (url: string, init: RequestInit) => { status?: number; body: unknown } | undefined;

/** A fetch mock answering JSON by URL; records every call. */
export function mockFetch(route: Route) {
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    const r = route(url, init) ?? { status: 404, body: { error: 'not_found', message: url } };
    const status = r.status ?? 200;
    return new Response(JSON.stringify(r.body), { status, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

export const bodyOf = (init: RequestInit | undefined) => JSON.parse(String(init?.body ?? 'null'));
