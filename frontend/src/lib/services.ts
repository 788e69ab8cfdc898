// What the services pages compute from GET /api/services rows: keys,
// filters, times ("in 3 s", uptime) and the words a confirmation uses.

import { fmtDuration } from './format';
import type { Service, ServiceEndpoint } from './types';

/** The states a user must notice: the row stands out. */
export const TROUBLE = new Set(['unhealthy', 'failed', 'backing-off']);

/** The states with a process (uptime counts from started_ms). */
const LIVE = new Set(['starting', 'running', 'healthy', 'unhealthy', 'stopping']);

export const SERVICE_STATES = ['starting', 'running', 'healthy', 'unhealthy', 'backing-off', 'failed', 'stopping', 'stopped'];

/** A row's key: a name is unique on its node. */
export const serviceKey = (s: Pick<Service, 'node' | 'name'>) => `${s.node}/${s.name}`;

/** "in 3 s" until a time, "now" once it has passed. */
export function fmtIn(ms: number | null | undefined, now: number): string {
  if (!ms) return '';
  const s = Math.ceil((ms - now) / 1000);
  if (s <= 0) return 'now';
  return s < 60 ? `in ${s} s` : `in ${fmtDuration(s)}`;
}

/** How long the current process has run ("–" without one). */
export function uptime(s: Service, now: number): string {
  if (!s.started_ms || !LIVE.has(s.state)) return '–';
  return fmtDuration((now - s.started_ms) / 1000);
}

export function lastExitText(e: Service['last_exit']): string {
  if (!e) return '';
  return e.signal ? `signal ${e.signal}` : `exit ${e.code}`;
}

export function endpointText(e: ServiceEndpoint): string {
  return `${e.name} ${e.port}/${e.protocol}${e.tags?.length ? ` [${e.tags.join(', ')}]` : ''}`;
}

export interface ServiceFilter {
  /** Part of the name (any case). */
  name: string;
  /** A node id, or '' for every node. */
  node: string;
  /** A state, 'trouble' for TROUBLE, or '' for any. */
  state: string;
}

export function filterServices(rows: Service[], f: ServiceFilter): Service[] {
  const name = f.name.trim().toLowerCase();
  return rows.filter(
    (s) =>
      (!name || s.name.toLowerCase().includes(name)) &&
      (!f.node || s.node === f.node) &&
      (!f.state || (f.state === 'trouble' ? TROUBLE.has(s.state) : s.state === f.state)),
  );
}

/** "web on a, b; db on c": what a bulk action touches, by name. */
export function describeRows(rows: Pick<Service, 'node' | 'name'>[]): string {
  const by = new Map<string, string[]>();
  for (const r of rows) by.set(r.name, [...(by.get(r.name) ?? []), r.node]);
  return [...by].map(([name, nodes]) => `${name} on ${nodes.join(', ')}`).join('; ');
}

/** The distinct names of rows, in their order. */
export const namesOf = (rows: Pick<Service, 'name'>[]) => [...new Set(rows.map((r) => r.name))];

export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
