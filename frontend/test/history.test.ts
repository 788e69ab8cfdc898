import { describe, expect, it } from 'vitest';
import { mergeHistory, rangeMs, samplesOfHistory, type HistoryAnswer } from '../src/lib/history';
import type { Sample } from '../src/lib/store';

const smp = (t: number, cpu = t / 1000): Sample => ({ t, cpu, mem: 1, disk: 2, rx: 3, tx: 4, load: 0.5 });

const answer = (t: number[]): HistoryAnswer => {
  const col = (f: (x: number) => number) => t.map(f);
  const series = {
    cpu_percent: col((x) => x / 1000),
    mem_used_percent: col(() => 1),
    disk_used_percent: col(() => 2),
    load1: col(() => 0.5),
    net_rx_bytes_per_s: col(() => 3),
    net_tx_bytes_per_s: col(() => 4),
  };
  return { node: 'n', resolution: 'sample', from_ms: 0, to_ms: 1e12, t_ms: t, series, max: series, truncated: false };
};

describe('history: the API answer as samples', () => {
  it('maps each point of each series', () => {
    expect(samplesOfHistory(answer([1000, 2000]))).toEqual([smp(1000), smp(2000)]);
  });
  it('reads an array cut short as 0, never undefined', () => {
    const a = answer([1000, 2000]);
    a.series.cpu_percent = [7];
    const s = samplesOfHistory(a);
    expect(s.map((x) => x.cpu)).toEqual([7, 0]);
  });
  it('an empty answer is no samples', () => {
    expect(samplesOfHistory(answer([]))).toEqual([]);
  });
});

describe('history: fetched points merged with live samples', () => {
  it('appends the live samples newer than the fetched ones, in order', () => {
    const fetched = [smp(1000), smp(2000), smp(3000)];
    const live = [smp(2500, 99), smp(3000, 99), smp(4000), smp(5000)];
    const m = mergeHistory(fetched, live);
    expect(m.map((x) => x.t)).toEqual([1000, 2000, 3000, 4000, 5000]);
    // the fetched point wins over a live one at or before its end
    expect(m[2].cpu).toBe(3);
  });
  it('is the live samples alone before (or without) the fetch', () => {
    expect(mergeHistory([], [smp(2000), smp(1000)]).map((x) => x.t)).toEqual([1000, 2000]);
  });
  it('is the fetched points alone before any live sample', () => {
    expect(mergeHistory([smp(1000)], [])).toEqual([smp(1000)]);
  });
  it('knows every range the page offers', () => {
    expect(rangeMs('15m')).toBe(900_000);
    expect(rangeMs('7d')).toBe(604_800_000);
  });
});
