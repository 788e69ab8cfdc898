export function fmtBytes(n: number | null | undefined): string {
  if (n == null || !isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${u[i]}`;
}

export const fmtRate = (n: number | null | undefined) => (n == null ? '–' : `${fmtBytes(n)}/s`);

export const fmtPct = (n: number | null | undefined) => (n == null || !isFinite(n) ? '–' : `${n.toFixed(n < 10 ? 1 : 0)}%`);

export function fmtDuration(s: number | null | undefined): string {
  if (s == null || !isFinite(s)) return '–';
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function fmtTime(ms: number | null | undefined): string {
  const d = new Date(ms ?? 0);
  if (!ms || !Number.isFinite(d.getTime())) return '–';
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtDateTime(ms: number | null | undefined): string {
  const d = new Date(ms ?? 0);
  if (!ms || !Number.isFinite(d.getTime())) return '–';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtTime(ms)}`;
}

export function fmtAgo(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return '–';
  const s = Math.round((now - ms) / 1000);
  return s <= 0 ? 'now' : `${fmtDuration(s)} ago`;
}

export const fmtRtt = (ms: number | null | undefined) =>
  ms == null || !(ms > 0) ? '' : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
