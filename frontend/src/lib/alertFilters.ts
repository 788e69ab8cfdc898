// The Alerts page's filters, kept in the hash's query (`#/alerts?state=firing&node=home-2&q=disk`)
// so that a link reproduces the view.  Pure functions: the page reads and
// writes the hash, these decide what it shows.

import type { Alert, AlertState } from './types';

export const ALERT_STATES: readonly AlertState[] = ['firing', 'acknowledged', 'resolved'];

/** What the page shows; an empty string is "any". */
export interface AlertFilter {
  state: AlertState | '';
  severity: string;
  node: string;
  rule: string;
  /** Text searched for (case-insensitively) in rule, subject, message, node and id. */
  q: string;
}

export const NO_FILTER: AlertFilter = { state: '', severity: '', node: '', rule: '', q: '' };

const KEYS = ['state', 'severity', 'node', 'rule', 'q'] as const;

/** The filter a hash's query names (`state=...&q=...`, with or without the `?`); unknown keys and states are ignored. */
export function parseAlertFilter(query: string): AlertFilter {
  const p = new URLSearchParams(query.replace(/^\?/, ''));
  const state = p.get('state') ?? '';
  return {
    state: (ALERT_STATES as readonly string[]).includes(state) ? (state as AlertState) : '',
    severity: p.get('severity') ?? '',
    node: p.get('node') ?? '',
    rule: p.get('rule') ?? '',
    q: p.get('q') ?? '',
  };
}

/** The query for a filter: only what is set, in a fixed order ('' when nothing is). */
export function alertFilterQuery(f: AlertFilter): string {
  const p = new URLSearchParams();
  for (const k of KEYS) if (f[k]) p.set(k, f[k]);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The query part of a location hash ('' when it has none). */
export function hashQuery(hash: string): string {
  const i = hash.indexOf('?');
  return i < 0 ? '' : hash.slice(i);
}

function matchesText(a: Alert, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [a.rule, a.subject, a.message, a.node, a.alert_id].some((s) => (s ?? '').toLowerCase().includes(needle));
}

/** Whether an alert passes every filter but the state one. */
function matchesAllButState(a: Alert, f: AlertFilter): boolean {
  return (
    (!f.severity || a.severity === f.severity) &&
    (!f.node || a.node === f.node) &&
    (!f.rule || a.rule === f.rule) &&
    matchesText(a, f.q)
  );
}

/** The alerts a filter keeps, in the order given. */
export function filterAlerts(list: Alert[], f: AlertFilter): Alert[] {
  return list.filter((a) => (!f.state || a.state === f.state) && matchesAllButState(a, f));
}

/**
 * How many alerts each state tab would show under the other filters, and
 * `all` for every state: a tab's count is what clicking it lists.
 */
export function alertStateCounts(list: Alert[], f: AlertFilter): Record<AlertState | 'all', number> {
  const c = { firing: 0, acknowledged: 0, resolved: 0, all: 0 };
  for (const a of list) {
    if (!matchesAllButState(a, f)) continue;
    c.all++;
    if (a.state in c) c[a.state]++;
  }
  return c;
}

/** The choices of the severity, node and rule menus: the values the alerts have, sorted. */
export function alertFilterChoices(list: Alert[]): { severity: string[]; node: string[]; rule: string[] } {
  const sets = { severity: new Set<string>(), node: new Set<string>(), rule: new Set<string>() };
  for (const a of list) {
    sets.severity.add(a.severity);
    sets.node.add(a.node);
    sets.rule.add(a.rule);
  }
  const sorted = (s: Set<string>) => [...s].filter(Boolean).sort();
  return { severity: sorted(sets.severity), node: sorted(sets.node), rule: sorted(sets.rule) };
}
