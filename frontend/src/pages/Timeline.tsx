import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Sparkline } from '../components/Sparkline';
import { VirtualList } from '../components/VirtualList';
import { describeError, getEventsBefore, postUserEvent } from '../lib/api';
import { fmtPct, fmtTime } from '../lib/format';
import { eventKey, idText } from '../lib/id';
import { useCanWrite, useFrozen, useNow, useStore } from '../lib/hooks';
import type { Sample } from '../lib/store';
import { commandLinks, commandShown, describeCommand, type CommandLink } from '../lib/commandRows';
import { describeEvent, previousUpdates } from '../lib/eventRows';
import { dedupeChanges, describeChange, nextStatus, readStatuses, type Change } from '../lib/timelineRows';
import type { Alert, CommandRecord, Job, LogLine, MeshEvent, NodeStatus, Task, UserEventBody } from '../lib/types';
import { jobHref } from './Jobs';

/** Each event's line, with the earlier update it was read against. */
const summaries = new WeakMap<MeshEvent, { prev: MeshEvent | undefined; text: string }>();

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

/** One line describing an event, read against the update before it of
 * the same thing (lib/eventRows.ts; cached per event object). */
export function summarize(e: MeshEvent, prev?: MeshEvent): string {
  const hit = summaries.get(e);
  if (hit !== undefined && hit.prev === prev) return hit.text;
  let s: string;
  try {
    s = describeEvent(e, prev, (b) => userPayloadText(b as unknown as UserEventBody));
  } catch {
    // A body no reader foresaw costs its row's words, not the page (the
    // event is stored on every node, so a throw here would blank the
    // timeline everywhere).
    s = `${e.kind} (body not understood)`;
  }
  if (s.length > 400) s = `${s.slice(0, 397)}…`;
  summaries.set(e, { prev, text: s });
  return s;
}

/** The kinds a row may have: a change read from statuses, or an event's
 * (any other kind seen is offered too). */
const KINDS = ['node', 'link', 'freeze', 'command', 'task', 'job', 'workflow', 'service', 'schedule', 'alert', 'silence', 'artifact', 'token_revoked', 'user', 'log'];
const WINDOWS: [string, number][] = [
  ['all time', 0],
  ['last minute', 60e3],
  ['last 5 minutes', 300e3],
  ['last 15 minutes', 900e3],
  ['last hour', 3600e3],
];

/** One line of the timeline: an event, a change between two statuses, or
 * a command issued on this node. */
export interface Row {
  key: string;
  time_ms: number;
  origin: string;
  kind: string;
  text: string;
  /** The page of the task, job, alert or node the row is about. */
  href: string;
  event?: MeshEvent;
  change?: Change;
  command?: CommandRecord;
  /** A command's link per destination, when it had several. */
  links?: CommandLink[];
}

const nodeHref = (id: string) => `#/nodes/${encodeURIComponent(id)}`;

/** Where a row of this event leads; localNode tells this node's jobs from
 * another issuer's (whose page names the issuer). */
export function eventHref(e: MeshEvent, localNode: string | null): string {
  const b = e.body as Record<string, unknown> | null;
  if (!b) return nodeHref(e.origin);
  switch (e.kind) {
    case 'task':
    case 'log': {
      const t = b as unknown as Task | LogLine;
      return `#/tasks/${encodeURIComponent(t.node ?? e.origin)}/${encodeURIComponent(t.task_id)}`;
    }
    case 'alert': {
      const a = b as unknown as Alert;
      return `#/alerts/${encodeURIComponent(a.node ?? e.origin)}/${encodeURIComponent(a.alert_id)}`;
    }
    case 'job': {
      const j = b as unknown as Job;
      const issuer = j.issuer ?? e.origin;
      return jobHref({ id: j.id, issuer, remote: issuer !== localNode });
    }
    case 'service':
      return `#/services/${encodeURIComponent(String(b.name ?? ''))}`;
    case 'workflow':
      return `#/workflows/${encodeURIComponent(String(b.id ?? ''))}`;
    case 'artifact':
      return '#/artifacts';
    case 'silence':
      // Silences are listed on the alerts page; schedules and token
      // revocations have no page: their node's.
      return '#/alerts';
    default:
      return nodeHref(e.origin);
  }
}

export function eventRow(e: MeshEvent, localNode: string | null, prev?: MeshEvent): Row {
  return { key: eventKey(e), time_ms: e.time_ms, origin: e.origin, kind: e.kind, text: summarize(e, prev), href: eventHref(e, localNode), event: e };
}

export function changeRow(c: Change): Row {
  return { key: `change/${c.key}`, time_ms: c.time_ms, origin: c.origin, kind: c.kind, text: describeChange(c), href: nodeHref(c.subject), change: c };
}

/** A command's row, at the time it was issued, by the node that issued
 * it; it leads to the task, alert, service or node of its only
 * destination, or of its first with a link per destination. */
export function commandRow(c: CommandRecord, localNode: string | null): Row {
  const links = commandLinks(c);
  const origin = c.origin ?? localNode ?? '';
  return {
    key: `command/${c.id}`,
    time_ms: c.issued_ms ?? c.finished_ms ?? 0,
    origin,
    kind: 'command',
    text: describeCommand(c),
    href: links[0]?.href ?? nodeHref(origin),
    command: c,
    links: links.length > 1 ? links : undefined,
  };
}

/**
 * Every row, newest first: the store's events and changes and the older
 * pages' (their statuses already read into changes: Older), each event
 * once (the live copy first: a page may hold a summary of it), each change
 * once however many nodes reported it, and the commands this node issued
 * (the store's: no older page holds any).
 */
export function buildRows(events: MeshEvent[], changes: Change[], older: Older, localNode: string | null, commands: CommandRecord[] = []): Row[] {
  const seen = new Set<string>();
  const kept: MeshEvent[] = [];
  for (const list of [events, older.events])
    for (const e of list) {
      if (e.kind === 'status') continue;
      const k = eventKey(e);
      if (seen.has(k)) continue;
      seen.add(k);
      kept.push(e);
    }
  const prev = previousUpdates(kept);
  const rows: Row[] = kept.map((e) => eventRow(e, localNode, prev.get(e)));
  for (const c of dedupeChanges([...older.changes, ...changes])) rows.push(changeRow(c));
  for (const c of commands) if (commandShown(c)) rows.push(commandRow(c, localNode));
  return rows.sort((a, b) => b.time_ms - a.time_ms);
}

export interface TimelineFilter {
  node: string;
  kind: string;
  windowMs: number;
  text: string;
}

export function filterRows(rows: Row[], f: TimelineFilter, now: number): Row[] {
  const text = f.text.trim().toLowerCase();
  const since = f.windowMs ? now - f.windowMs : 0;
  return rows.filter(
    (r) =>
      (!f.node || r.origin === f.node || r.change?.subject === f.node || !!r.command?.destinations?.includes(f.node)) &&
      (!f.kind || r.kind === f.kind) &&
      (!since || r.time_ms >= since) &&
      (!text || r.text.toLowerCase().includes(text) || r.origin.includes(text)),
  );
}

/**
 * Older history as loaded so far, kept as rows' sources rather than raw
 * pages: a page's statuses are read into changes once (readStatuses) and
 * only each origin's oldest status is kept, to compare with the next older
 * page's.
 *
 *   idle ──load──▶ loading ──page(s)──▶ idle   (a row came; the end still
 *                                             in view asks again)
 *                          ├──▶ more  (PAGES_PER_ASK pages without a row, or
 *                          │          PAGES_PER_SCROLL since the user last
 *                          │          scrolled: waits for a scroll or click)
 *                          ├──▶ end   (a short page: the node keeps no more)
 *                          ├──▶ cap   (OLDER_MAX rows held: no more loaded)
 *                          └──▶ error (retry: loading again)
 */
export interface Older {
  /** The pages' events but statuses, oldest first. */
  events: MeshEvent[];
  /** What the pages' statuses showed changed. */
  changes: Change[];
  /** Each origin's oldest status held. */
  first: Record<string, { time_ms: number; status: NodeStatus }>;
  /** The keys of the events at the oldest millisecond held (the only ones
   * the next page can bring again). */
  edge: string[];
  until: number;
  state: 'idle' | 'loading' | 'more' | 'end' | 'cap' | 'error';
  error?: string;
}

export const emptyOlder = (now: number): Older => ({ events: [], changes: [], first: {}, edge: [], until: now + 1, state: 'idle' });

/** Events per page of older history (statuses included: rows are read from them). */
export const PAGE = 500;
/** Pages one load asks for at most while none brings a row. */
export const PAGES_PER_ASK = 4;
/** Pages loaded at most between two scrolls (or clicks) of the user. */
export const PAGES_PER_SCROLL = 8;
/** Rows (events and changes) of older history held at most: past it, no
 * more are loaded. */
export const OLDER_MAX = 20_000;

/** The rows older history holds (before dedupe: a bound, not a count shown). */
export const olderRows = (o: Older) => o.events.length + o.changes.length;

/**
 * Adds one page (the newest `limit` before older.until) to what is held:
 * a short page is the end of the node's log; the next page ends at the
 * oldest time seen plus one (a millisecond may hold more than fits), or at
 * it when the page brought nothing new.
 */
export function addPage(older: Older, page: MeshEvent[], limit: number): Older {
  const edge = new Set(older.edge);
  const fresh = page.filter((e) => !edge.has(eventKey(e)));
  const oldest = page.length ? Math.min(...page.map((e) => e.time_ms)) : older.until;
  const read = readStatuses(fresh);
  // Where this page meets the pages held: each origin's newest status here
  // against its oldest held.
  const boundary: Change[] = [];
  for (const [origin, last] of read.last) {
    const next = older.first[origin];
    if (next && next.time_ms > last.time_ms) boundary.push(...nextStatus(origin, last, next.status, next.time_ms).changes);
  }
  const first = { ...older.first };
  for (const e of fresh) {
    if (e.kind !== 'status' || !e.body) continue;
    const f = first[e.origin];
    if (!f || e.time_ms < f.time_ms) first[e.origin] = { time_ms: e.time_ms, status: e.body as NodeStatus };
  }
  const others = fresh.filter((e) => e.kind !== 'status').sort((a, b) => a.time_ms - b.time_ms);
  const events = others.length ? [...others, ...older.events] : older.events;
  const changes = read.changes.length || boundary.length ? [...read.changes, ...boundary, ...older.changes] : older.changes;
  const atOldest = page.filter((e) => e.time_ms === oldest).map(eventKey);
  const until = fresh.length ? Math.min(older.until - 1, oldest + 1) : Math.min(older.until - 1, oldest);
  const held = { ...older, events, changes, first, edge: fresh.length ? atOldest : [], until: Math.max(1, until) };
  const state = page.length < limit ? 'end' : olderRows(held) >= OLDER_MAX ? 'cap' : 'idle';
  return { ...held, state };
}

/**
 * Pages of older history, loaded while the end of the list is in view: a
 * load stops at the first page that brings a row, after PAGES_PER_ASK
 * pages without one, or when PAGES_PER_SCROLL pages went by since the
 * user last scrolled (then `more`: a scroll or a click asks again).
 */
function useOlder() {
  const [older, setOlder] = useState<Older>(() => emptyOlder(Date.now()));
  const busy = useRef(false);
  const alive = useRef(true);
  /** Pages left before the user must scroll again. */
  const budget = useRef(PAGES_PER_SCROLL);
  // Set in the body too: StrictMode (dev) mounts, unmounts and mounts
  // again, and a ref left false would drop every page loaded after.
  useEffect(() => {
    alive.current = true;
    return () => void (alive.current = false);
  }, []);
  const load = useCallback(async () => {
    if (busy.current || older.state === 'end' || older.state === 'cap') return;
    busy.current = true;
    setOlder((o) => ({ ...o, state: 'loading' }));
    let cur: Older = { ...older, state: 'idle' };
    try {
      const before = olderRows(cur);
      for (let i = 0; cur.state === 'idle'; i++) {
        if (i === PAGES_PER_ASK || budget.current <= 0) {
          cur = { ...cur, state: 'more' };
          break;
        }
        budget.current--;
        cur = addPage(cur, await getEventsBefore(cur.until, PAGE), PAGE);
        if (olderRows(cur) > before) break;
      }
    } catch (err) {
      cur = { ...cur, state: 'error', error: describeError(err) };
    }
    busy.current = false;
    if (alive.current) setOlder(cur);
  }, [older]);
  /** The user scrolled or clicked: a new allowance, and `more` may go on. */
  const ask = useCallback(() => {
    budget.current = PAGES_PER_SCROLL;
    setOlder((o) => (o.state === 'more' ? { ...o, state: 'idle' } : o));
  }, []);
  return { older, load, ask };
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

/** cpu and mem of each node over the window shown: a strip a node. */
function MetricsLane({ nodes, history, since }: { nodes: string[]; history: Record<string, Sample[]>; since: number }) {
  return (
    <div className="metrics-lane card" data-testid="metrics-lane">
      {nodes.map((n) => {
        const h = (history[n] ?? []).filter((x) => x.t >= since);
        const last = h.at(-1);
        return (
          <div key={n} className="lane-row" data-testid={`lane-${n}`} data-samples={h.length}>
            <a className="mono lane-node" href={nodeHref(n)}>
              {n}
            </a>
            <span className="muted small lane-label">cpu {fmtPct(last?.cpu)}</span>
            <Sparkline values={h.map((x) => x.cpu)} max={100} width={160} height={18} label={`${n} cpu`} />
            <span className="muted small lane-label">mem {fmtPct(last?.mem)}</span>
            <Sparkline values={h.map((x) => x.mem)} max={100} width={160} height={18} color="#d2a8ff" label={`${n} mem`} />
          </div>
        );
      })}
    </div>
  );
}

export function EndOfList({ older, onMore }: { older: Older; onMore: () => void }) {
  const button = (label: string) => (
    <button type="button" className="small" data-testid="timeline-older" onClick={onMore}>
      {label}
    </button>
  );
  let body;
  switch (older.state) {
    case 'end':
      body = 'no older events here';
      break;
    case 'cap':
      body = `older history not loaded: the page holds ${olderRows(older).toLocaleString('en-US')} older events, its most; reload it to start again from now`;
      break;
    case 'error':
      body = (
        <>
          cannot load older events: {older.error} {button('retry')}
        </>
      );
      break;
    case 'more':
      body = (
        <>
          older events not loaded yet (scroll, or) {button('load older')}
        </>
      );
      break;
    default:
      body = 'loading older…';
  }
  return (
    <div className="tl-row tl-end muted small" data-testid="timeline-end" data-state={older.state} data-older={olderRows(older)}>
      {body}
    </div>
  );
}

export function Timeline() {
  const events = useStore((s) => s.timeline);
  const changes = useStore((s) => s.changes);
  const history = useStore((s) => s.history);
  const cluster = useStore((s) => s.cluster);
  const commandMap = useStore((s) => s.commands);
  const commands = useMemo(() => Object.values(commandMap), [commandMap]);
  const localNode = useStore((s) => s.hello?.node ?? null);
  const canWrite = useCanWrite();
  const [f, setF] = useState<TimelineFilter>({ node: '', kind: '', windowMs: 0, text: '' });
  const [paused, setPaused] = useState<{ events: MeshEvent[]; changes: Change[]; commands: CommandRecord[] } | null>(null);
  const now = useNow(f.windowMs ? 5000 : 60000);
  const { older, load, ask } = useOlder();
  const src = paused ?? { events, changes, commands };
  const rows = useMemo(
    () => buildRows(src.events, src.changes, older, localNode, src.commands),
    [src.events, src.changes, src.commands, older, localNode],
  );
  const shown = useMemo(() => filterRows(rows, f, now), [rows, f, now]);
  const kinds = useMemo(() => [...new Set([...KINDS, ...rows.map((r) => r.kind)])], [rows]);
  const nodes = useMemo(() => {
    const s = new Set<string>();
    if (cluster) {
      s.add(cluster.local.node_id);
      for (const r of cluster.remote) s.add(r.node_id);
    }
    for (const e of events) s.add(e.origin);
    return [...s].sort();
  }, [cluster, events]);
  // Past the window nothing older is shown: no need to ask for it.
  const since = f.windowMs ? now - f.windowMs : 0;
  const wantOlder = older.state === 'idle' && !(since && older.until <= since);
  const onEnd = useCallback(() => {
    if (wantOlder) void load();
  }, [wantOlder, load]);

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
          {kinds.map((k) => (
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
        <button type="button" data-testid="timeline-pause" onClick={() => setPaused(paused ? null : { events, changes, commands })}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <span className="muted small" data-testid="timeline-count">
          {shown.length} of {rows.length} rows (newest first; statuses are the metrics lane)
        </span>
      </div>
      <MetricsLane nodes={f.node ? [f.node] : nodes} history={history} since={since} />
      <VirtualList
        items={shown}
        rowHeight={22}
        height={600}
        testId="timeline-list"
        className="timeline"
        onEnd={onEnd}
        onScroll={ask}
        footer={
          <EndOfList
            older={since && older.until <= since && older.state === 'idle' ? { ...older, state: 'end' } : older}
            onMore={() => {
              ask();
              void load();
            }}
          />
        }
        render={(r) => (
          <div
            className={`tl-row kind-${r.kind}`}
            data-testid="timeline-event"
            data-kind={r.kind}
            data-origin={r.origin}
            data-seq={r.event ? idText(r.event.seq) : undefined}
            data-event={r.event ? eventKey(r.event) : undefined}
            data-what={r.change?.what}
            data-subject={r.change?.subject}
            data-command={r.command?.id}
          >
            <span className="tl-time">{fmtTime(r.time_ms)}</span>
            <span className={`badge kind kind-${r.kind}`}>{r.kind}</span>
            <span className="tl-origin mono">{r.origin}</span>
            <a className="tl-text" href={r.href} data-testid="timeline-link">
              {r.text}
            </a>
            {r.event && <BinaryPayload e={r.event} />}
            {r.links?.map((l) => (
              <a key={l.node} className="tl-dest small" href={l.href} data-testid="timeline-command-link">
                {l.text}
              </a>
            ))}
          </div>
        )}
      />
    </section>
  );
}
