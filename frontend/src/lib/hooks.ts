import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { State, Store } from './store';

export const StoreContext = createContext<Store | null>(null);

export function useStoreApi(): Store {
  const s = useContext(StoreContext);
  if (!s) throw new Error('StoreContext missing');
  return s;
}

/** Subscribes to one slice of the state (the selector must return stable references). */
export function useStore<T>(selector: (s: State) => T): T {
  const store = useStoreApi();
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}

/** The role this token has: read until hello says otherwise. */
export function useCanWrite(): boolean {
  return useStore((s) => s.hello?.role === 'write');
}

/** Whether any node reports frozen (or the local node said so in hello). */
export function useFrozen(): boolean {
  return useStore((s) => {
    if (s.cluster?.local.state?.status?.frozen) return true;
    for (const id in s.latest) if (s.latest[id].status.frozen) return true;
    return !!s.hello?.frozen && !s.cluster;
  });
}

/** How many alerts are firing now, mesh-wide. */
export function useFiringCount(): number {
  return useStore((s) => {
    let n = 0;
    for (const k in s.alerts) if (s.alerts[k].state === 'firing') n++;
    return n;
  });
}

/** The tab's title: "(N) node · AgentFlow" while N alerts fire, the node being the one serving this page. */
export function documentTitle(node: string | null, firing: number): string {
  const parts = [node, 'AgentFlow'].filter(Boolean).join(' · ');
  return firing > 0 ? `(${firing}) ${parts}` : parts;
}

/** Keeps document.title in step with the node serving the page and the firing alerts. */
export function useDocumentTitle(): void {
  const node = useStore((s) => s.hello?.node ?? s.cluster?.local.node_id ?? null);
  const firing = useFiringCount();
  useEffect(() => {
    document.title = documentTitle(node, firing);
  }, [node, firing]);
}

/** Re-renders every `ms` (for "N s ago" and countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/**
 * Calls load now and every pollMs until unmounted (or stop).  A hidden page
 * (another tab, a minimised window) is not polled; it loads again at once
 * when it is shown.
 */
export function usePoll(load: () => Promise<void>, pollMs: number, stop = false): void {
  useEffect(() => {
    void load();
    if (stop) return;
    const tick = () => {
      if (document.visibilityState !== 'hidden') void load();
    };
    const shown = () => {
      if (document.visibilityState === 'visible') void load();
    };
    const t = setInterval(tick, pollMs);
    document.addEventListener('visibilitychange', shown);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [load, pollMs, stop]);
}

export type Page = 'topology' | 'nodes' | 'node' | 'tasks' | 'jobs' | 'workflows' | 'services' | 'artifacts' | 'alerts' | 'timeline' | 'audit';

const pages: readonly string[] = ['topology', 'nodes', 'tasks', 'jobs', 'workflows', 'services', 'artifacts', 'alerts', 'timeline', 'audit'];

/**
 * A page and its parameter; `notfound` when the first segment names no page
 * (param is then the path asked for, so the page can say what was not
 * found).  An empty hash is the overview.
 */
export type Route = { page: Page; param: string | null } | { page: 'notfound'; param: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '').split('?')[0];
  const parts = path.split('/').filter(Boolean);
  const p = parts[0] ?? 'topology';
  if (p === 'nodes' && parts[1]) return { page: 'node', param: decodeURIComponent(parts[1]) };
  if (pages.includes(p)) return { page: p as Page, param: parts.length > 1 ? parts.slice(1).map(decodeURIComponent).join('/') : null };
  let shown = path;
  try {
    shown = decodeURIComponent(path);
  } catch {
    // a malformed escape: show it as typed
  }
  return { page: 'notfound', param: '/' + shown.replace(/^\/+/, '') };
}

/** The location's hash, kept current (a page that rewrites it with replaceState dispatches a hashchange). */
export function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

export function useRoute(): Route {
  return parseHash(useHash());
}

export function go(hash: string): void {
  window.location.hash = hash;
}
