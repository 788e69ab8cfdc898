// A node's metric history as GET /api/history serves it (the node keeps
// its own: node/host/history.h), turned into the store's Samples and
// merged with the live ones the page receives after it opened.

import { apiGet } from './api';
import type { Sample } from './store';

export type HistoryRange = '15m' | '1h' | '24h' | '7d';

export const HISTORY_RANGES: { key: HistoryRange; label: string; ms: number }[] = [
  { key: '15m', label: '15 min', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', ms: 3_600_000 },
  { key: '24h', label: '24 h', ms: 24 * 3_600_000 },
  { key: '7d', label: '7 d', ms: 7 * 24 * 3_600_000 },
];

export const rangeMs = (r: HistoryRange) => HISTORY_RANGES.find((x) => x.key === r)?.ms ?? 3_600_000;

type Series = Record<
  'cpu_percent' | 'mem_used_percent' | 'disk_used_percent' | 'load1' | 'net_rx_bytes_per_s' | 'net_tx_bytes_per_s',
  number[]
>;

export interface HistoryAnswer {
  node: string;
  resolution: 'sample' | 'minute';
  from_ms: number;
  to_ms: number;
  t_ms: number[];
  series: Series;
  max: Series;
  truncated: boolean;
}

/** Points per series asked for: about a chart's width. */
export const HISTORY_POINTS = 360;

export const getHistory = (node: string, fromMs: number, toMs: number, points = HISTORY_POINTS) =>
  apiGet<HistoryAnswer>(
    `/api/history?node=${encodeURIComponent(node)}&from_ms=${Math.max(0, Math.floor(fromMs))}&to_ms=${Math.floor(toMs)}&points=${points}`,
  );

/** The answer's points as Samples (means), skipping any array cut short. */
export function samplesOfHistory(a: HistoryAnswer): Sample[] {
  const s = a.series;
  const at = (v: number[] | undefined, i: number) => (v && Number.isFinite(v[i]) ? v[i] : 0);
  return (a.t_ms ?? []).map((t, i) => ({
    t,
    cpu: at(s?.cpu_percent, i),
    mem: at(s?.mem_used_percent, i),
    disk: at(s?.disk_used_percent, i),
    rx: at(s?.net_rx_bytes_per_s, i),
    tx: at(s?.net_tx_bytes_per_s, i),
    load: at(s?.load1, i),
  }));
}

/**
 * The fetched history, then the live samples newer than its last point, in
 * time order.  A live sample inside the fetched span is left out: the
 * fetched points already hold it (merged into a minute, perhaps), and a
 * chart of mixed spacing there would mislead.  The live ones are all
 * recent (the page received them since it opened): none is cut by range.
 */
export function mergeHistory(fetched: Sample[], live: Sample[]): Sample[] {
  const last = fetched.length ? fetched[fetched.length - 1].t : -Infinity;
  return [...fetched, ...live.filter((s) => s.t > last)].sort((a, b) => a.t - b.t);
}
