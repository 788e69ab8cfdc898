// One alert's story, as its node tells it: the alert events it emitted at
// each change of state (fired, acknowledged, resolved), and the node's
// audit records that concern it (the ack_alert command that acknowledged
// it, and who ran it; the silences added and removed whose matchers hold
// it).  Pure: the Alerts page fetches, this assembles.

import { fmtDateTime } from './format';
import type { Alert, AuditRecord, MeshEvent, NoticeRecord, SilenceMatchers } from './types';

export type StoryKind = 'fired' | 'notice' | 'acknowledged' | 'ack_command' | 'silenced' | 'unsilenced' | 'resolved';

export interface StoryEntry {
  time_ms: number;
  kind: StoryKind;
  text: string;
  /** Who did it, when a person or token did. */
  by?: string;
}

/** Whether a silence's matchers hold an alert (every matcher given must; labels are the alert's node's). */
export function silenceMatches(m: SilenceMatchers, a: Pick<Alert, 'rule' | 'node'>, nodeLabels: Record<string, string> = {}): boolean {
  if (m.rule && m.rule !== a.rule) return false;
  if (m.node && m.node !== a.node) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (nodeLabels[k] !== v) return false;
  return !!(m.rule || m.node || Object.keys(m.labels ?? {}).length);
}

/** "rule=disk_full node=home-2 site=cabin": a silence's matchers in one line. */
export function describeMatchers(m: SilenceMatchers): string {
  const parts: string[] = [];
  if (m.rule) parts.push(`rule=${m.rule}`);
  if (m.node) parts.push(`node=${m.node}`);
  for (const [k, v] of Object.entries(m.labels ?? {})) parts.push(`${k}=${v}`);
  return parts.join(' ');
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

const ORDER: Record<StoryKind, number> = { fired: 0, silenced: 1, notice: 2, ack_command: 3, acknowledged: 4, unsilenced: 5, resolved: 6 };

/** One notice's line: "firing notice delivered to hook (3 attempts)". */
export function describeNotice(n: NoticeRecord): string {
  const tries = n.attempts === 1 ? '' : ` (${n.attempts} attempts)`;
  switch (n.outcome) {
    case 'delivered':
      return `${n.notice} notice delivered to ${n.channel}${tries}`;
    case 'failed':
      return `${n.notice} notice to ${n.channel} given up after ${n.attempts} attempts${n.why ? `: ${n.why}` : ''}`;
    case 'dropped':
      return `${n.notice} notice to ${n.channel} dropped (${n.why || 'too many waiting'})`;
    case 'silenced':
      return `${n.notice} notice held back${n.why ? ` by ${n.why}` : ' by a silence'}`;
    default:
      return `${n.notice} notice: ${String(n.outcome)}`;
  }
}

/**
 * The story of alert `a`, oldest first.  `events` are its node's alert
 * events (others are skipped), `audit` its node's audit records of
 * `command.executed`, `command.refused`, `silence.add` and
 * `silence.delete`, `notices` what became of its notices (its node's
 * GET /api/alerts/notices; other alerts' are skipped).  The alert's own
 * times fill in a change whose event this node no longer keeps.
 */
export function alertStory(
  a: Alert,
  events: MeshEvent[],
  audit: AuditRecord[],
  nodeLabels: Record<string, string> = {},
  notices: NoticeRecord[] = [],
): StoryEntry[] {
  const out: StoryEntry[] = [];
  const seen = new Set<string>();
  const fired = a.fired_ms ?? 0;
  const end = a.resolved_ms ?? Infinity;

  for (const ev of events) {
    if (ev.kind !== 'alert') continue;
    const b = obj(ev.body);
    if (str(b.alert_id) !== a.alert_id || (str(b.node) || ev.origin) !== a.node) continue;
    const state = str(b.state);
    if (seen.has(state)) continue;
    if (state === 'firing') {
      seen.add(state);
      const value = num(b.threshold) || num(b.value) ? ` at ${+num(b.value).toFixed(2)} (threshold ${+num(b.threshold).toFixed(2)})` : '';
      out.push({ time_ms: num(b.fired_ms) || ev.time_ms, kind: 'fired', text: `fired${value}${str(b.message) ? `: ${str(b.message)}` : ''}` });
    } else if (state === 'acknowledged') {
      seen.add(state);
      const by = str(b.acked_by);
      out.push({ time_ms: num(b.acked_ms) || ev.time_ms, kind: 'acknowledged', text: `acknowledged${by ? ` by ${by}` : ''}`, by: by || undefined });
    } else if (state === 'resolved') {
      seen.add(state);
      out.push({ time_ms: num(b.resolved_ms) || ev.time_ms, kind: 'resolved', text: 'resolved' });
    }
  }
  if (!seen.has('firing') && a.fired_ms) out.push({ time_ms: a.fired_ms, kind: 'fired', text: 'fired' });
  if (!seen.has('acknowledged') && a.acked_ms)
    out.push({ time_ms: a.acked_ms, kind: 'acknowledged', text: `acknowledged${a.acked_by ? ` by ${a.acked_by}` : ''}`, by: a.acked_by || undefined });
  if (!seen.has('resolved') && a.resolved_ms) out.push({ time_ms: a.resolved_ms, kind: 'resolved', text: 'resolved' });

  const silences = new Set<string>();
  for (const r of [...audit].sort((x, y) => x.time_ms - y.time_ms)) {
    const d = obj(r.details);
    if ((r.action === 'command.executed' || r.action === 'command.refused') && d.type === 'ack_alert') {
      if (str(obj(d.args).alert_id) !== a.alert_id || r.time_ms < fired - 1000) continue;
      const err = str(d.error);
      out.push({
        time_ms: r.time_ms,
        kind: 'ack_command',
        text: `ack_alert command ${str(d.command_id)} from ${str(d.origin) || '?'}: ${r.result}${err ? ` (${err})` : ''}`,
        by: r.actor || undefined,
      });
    } else if (r.action === 'silence.add' && r.result === 'ok') {
      const m = obj(d.matchers) as SilenceMatchers;
      const ends = num(d.ends_ms);
      if (!silenceMatches(m, a, nodeLabels) || ends <= fired || r.time_ms >= end) continue;
      silences.add(str(d.id));
      const comment = str(d.comment);
      out.push({
        time_ms: r.time_ms,
        kind: 'silenced',
        text: `silenced by ${str(d.id)} (${describeMatchers(m)}) until ${fmtDateTime(ends)}${comment ? `: ${comment}` : ''}`,
        by: r.actor || undefined,
      });
    } else if (r.action === 'silence.delete' && r.result === 'ok' && silences.has(str(d.id)) && r.time_ms < end) {
      out.push({ time_ms: r.time_ms, kind: 'unsilenced', text: `silence ${str(d.id)} removed`, by: r.actor || undefined });
    }
  }
  for (const n of notices)
    if (n.alert_id === a.alert_id && n.time_ms >= fired - 1000) out.push({ time_ms: n.time_ms, kind: 'notice', text: describeNotice(n) });
  return out.sort((x, y) => x.time_ms - y.time_ms || ORDER[x.kind] - ORDER[y.kind]);
}
