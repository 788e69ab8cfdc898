import { useMemo, useState } from 'react';
import { VirtualList } from '../components/VirtualList';
import { describeError, postUserEvent } from '../lib/api';
import { fmtPct, fmtTime } from '../lib/format';
import { eventKey, idText } from '../lib/id';
import { useCanWrite, useFrozen, useNow, useStore } from '../lib/hooks';
import type { Alert, Job, LogLine, MeshEvent, NodeStatus, Task, UserEventBody } from '../lib/types';

const summaries = new WeakMap<MeshEvent, string>();

/** A user event's payload in a line: its text, or for bytes that are not
 * text (payload_b64, docs/api.md) their size. */
export function userPayloadText(u: UserEventBody): string {
  if (u.payload == null && u.payload_b64 !== undefined) return `binary, ${u.payload_bytes} bytes`;
  return u.payload ?? '';
}

/** The bytes of a binary payload, one click away: a link that downloads
 * them, its title the base64 itself. */
export function BinaryPayload({ e }: { e: MeshEvent }) {
  const u = e.body as UserEventBody | null;
  if (e.kind !== 'user' || !u || u.payload != null || u.payload_b64 === undefined) return null;
  return (
    <a
      className="tl-b64 small"
      data-testid="payload-b64"
      data-b64={u.payload_b64}
      title={u.payload_b64}
      download={`${u.name}-${idText(e.seq)}.bin`}
      href={`data:application/octet-stream;base64,${u.payload_b64}`}
    >
      base64
    </a>
  );
}

/** One line describing an event (cached per event object). */
export function summarize(e: MeshEvent): string {
  const hit = summaries.get(e);
  if (hit !== undefined) return hit;
  let s: string;
  const b = e.body as Record<string, unknown> | null;
  if (e.summarized) s = `(${e.body_bytes ?? '?'} bytes, not in the snapshot: ${e.url ?? ''})`;
  else if (!b) s = '(no body)';
  else
    switch (e.kind) {
      case 'status': {
        const st = b as unknown as NodeStatus;
        const mem = st.mem_total_bytes ? (100 * st.mem_used_bytes) / st.mem_total_bytes : null;
        s = `cpu ${fmtPct(st.cpu_percent)} · mem ${fmtPct(mem)} · load ${st.load?.[0]?.toFixed(2) ?? '–'} · ${st.links?.filter((l) => l.state === 'up').length ?? 0} links up${st.frozen ? ' · frozen' : ''}`;
        break;
      }
      case 'task': {
        const t = b as unknown as Task;
        s = `task ${t.name} ${t.task_id} → ${t.state}${t.reason ? ` (${t.reason})` : ''}`;
        break;
      }
      case 'log': {
        const l = b as unknown as LogLine;
        s = `[${l.task_id} ${l.stream}] ${l.text}`;
        break;
      }
      case 'alert': {
        const a = b as unknown as Alert;
        s = `alert ${a.rule} ${a.state} (${a.severity}): ${a.message}`;
        break;
      }
      case 'job': {
        const j = b as unknown as Job;
        s = `job ${j.id} ${j.task ?? '(ad-hoc)'} → ${j.state}${j.node ? ` on ${j.node}` : ''}${j.reason ? ` (${j.reason})` : ''}`;
        break;
      }
      case 'user': {
        const u = b as unknown as UserEventBody;
        s = `${u.name}: ${userPayloadText(u)}`;
        break;
      }
      default:
        s = JSON.stringify(b);
    }
  if (s.length > 400) s = `${s.slice(0, 397)}…`;
  summaries.set(e, s);
  return s;
}

const KINDS = ['status', 'task', 'log', 'alert', 'job', 'user'];
const WINDOWS: [string, number][] = [
  ['all time', 0],
  ['last minute', 60e3],
  ['last 5 minutes', 300e3],
  ['last 15 minutes', 900e3],
  ['last hour', 3600e3],
];

export interface TimelineFilter {
  node: string;
  kind: string;
  windowMs: number;
  text: string;
}

export function filterEvents(events: MeshEvent[], f: TimelineFilter, now: number): MeshEvent[] {
  const text = f.text.trim().toLowerCase();
  const since = f.windowMs ? now - f.windowMs : 0;
  const out: MeshEvent[] = [];
  // Newest first.
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (f.node && e.origin !== f.node) continue;
    if (f.kind && e.kind !== f.kind) continue;
    if (since && e.time_ms < since) continue;
    if (text && !summarize(e).toLowerCase().includes(text) && !e.origin.includes(text)) continue;
    out.push(e);
  }
  return out;
}

function UserEventForm() {
  const [name, setName] = useState('');
  const [payload, setPayload] = useState('');
  const [msg, setMsg] = useState<string | null>(null);
  const frozen = useFrozen();
  return (
    <form
      className="row wrap gap card"
      data-testid="user-event-form"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          const r = await postUserEvent(name.trim(), payload);
          setMsg(`sent as ${r.origin}#${idText(r.seq)}`);
          setPayload('');
        } catch (err) {
          setMsg(describeError(err));
        }
      }}
    >
      <strong>Send a user event</strong>
      <input data-testid="user-event-name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required />
      <input data-testid="user-event-payload" className="grow" placeholder="payload (text or JSON)" value={payload} onChange={(e) => setPayload(e.target.value)} />
      <button type="submit" data-testid="user-event-submit" disabled={!name.trim() || frozen}>
        Send
      </button>
      {msg && <span className="muted small">{msg}</span>}
    </form>
  );
}

export function Timeline() {
  const events = useStore((s) => s.timeline);
  const cluster = useStore((s) => s.cluster);
  const canWrite = useCanWrite();
  const [f, setF] = useState<TimelineFilter>({ node: '', kind: '', windowMs: 0, text: '' });
  const [paused, setPaused] = useState<MeshEvent[] | null>(null);
  const now = useNow(f.windowMs ? 5000 : 60000);
  const source = paused ?? events;
  const shown = useMemo(() => filterEvents(source, f, now), [source, f, now]);
  const nodes = useMemo(() => {
    const s = new Set<string>();
    if (cluster) {
      s.add(cluster.local.node_id);
      for (const r of cluster.remote) s.add(r.node_id);
    }
    for (const e of events) s.add(e.origin);
    return [...s].sort();
  }, [cluster, events]);

  return (
    <section data-testid="timeline-page">
      {canWrite && <UserEventForm />}
      <div className="row wrap gap filters">
        <select data-testid="timeline-filter-node" value={f.node} onChange={(e) => setF({ ...f, node: e.target.value })}>
          <option value="">all nodes</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <select data-testid="timeline-filter-kind" value={f.kind} onChange={(e) => setF({ ...f, kind: e.target.value })}>
          <option value="">all kinds</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <select data-testid="timeline-filter-window" value={f.windowMs} onChange={(e) => setF({ ...f, windowMs: Number(e.target.value) })}>
          {WINDOWS.map(([label, ms]) => (
            <option key={ms} value={ms}>
              {label}
            </option>
          ))}
        </select>
        <input data-testid="timeline-filter-text" placeholder="search text" value={f.text} onChange={(e) => setF({ ...f, text: e.target.value })} />
        <button type="button" data-testid="timeline-pause" onClick={() => setPaused(paused ? null : events)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span className="muted small" data-testid="timeline-count">
          {shown.length} of {source.length} events (newest first; the last {events.length >= 5000 ? '5000' : events.length} kept)
        </span>
      </div>
      <VirtualList
        items={shown}
        rowHeight={22}
        height={600}
        testId="timeline-list"
        className="timeline"
        render={(e) => (
          <div className={`tl-row kind-${e.kind}`} data-testid="timeline-event" data-kind={e.kind} data-origin={e.origin} data-seq={idText(e.seq)} data-event={eventKey(e)}>
            <span className="tl-time">{fmtTime(e.time_ms)}</span>
            <span className={`badge kind kind-${e.kind}`}>{e.kind}</span>
            <span className="tl-origin mono">{e.origin}</span>
            <span className="tl-text">{summarize(e)}</span>
            <BinaryPayload e={e} />
          </div>
        )}
      />
    </section>
  );
}
