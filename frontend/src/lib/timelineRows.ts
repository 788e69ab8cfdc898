// What happened, read from the nodes' statuses: the timeline's rows for
// joins, leaves, downs, returns, link changes and freezes.  A status is a
// sample of a node's whole state (every second while a dashboard is open),
// so a row is the difference between two successive samples of one node,
// never a sample itself.  Pure functions: the store runs them on live
// statuses and cluster views, the timeline on pages of older history.

import type { MemberState, MeshEvent, NodeStatus, StatusLink, StatusMember } from './types';

export type ChangeWhat = 'joined' | 'left' | 'down' | 'back' | 'link-up' | 'link-down' | 'frozen' | 'unfrozen';

/** The row kinds a status change makes (the timeline's kind filter). */
export type ChangeKind = 'node' | 'link' | 'freeze';

export interface Change {
  /** Unique among changes: observer, time, what, subject. */
  key: string;
  time_ms: number;
  /** The node whose status (or cluster view) showed the change. */
  origin: string;
  kind: ChangeKind;
  what: ChangeWhat;
  /** The node the row is about (for a link, the far end). */
  subject: string;
  /** What changed, as every observer names it: a node (its membership or
   * its freeze) or a link (both ends, sorted). */
  thing: string;
}

const KIND: Record<ChangeWhat, ChangeKind> = {
  joined: 'node',
  left: 'node',
  down: 'node',
  back: 'node',
  'link-up': 'link',
  'link-down': 'link',
  frozen: 'freeze',
  unfrozen: 'freeze',
};

function change(origin: string, time_ms: number, what: ChangeWhat, subject: string): Change {
  // A link is one thing seen from both ends; a member is one node.
  const kind = KIND[what];
  const thing = kind === 'link' ? `link ${[origin, subject].sort().join('|')}` : `${kind} ${subject}`;
  return { key: `${origin}/${time_ms}/${what}/${subject}`, time_ms, origin, kind, what, subject, thing };
}

/**
 * What a member's move from `prev` (undefined: not a member) to `cur` says
 * happened, or null for nothing worth a row (suspect comes and goes with
 * every slow ping; only dead, left and alive again are news).
 */
export function memberMove(prev: MemberState | undefined, cur: MemberState): ChangeWhat | null {
  if (prev === cur) return null;
  if (cur === 'left') return 'left';
  if (cur === 'dead') return prev === 'left' ? null : 'down';
  if (cur === 'alive') {
    if (prev === 'dead') return 'back';
    if (prev === undefined || prev === 'unknown' || prev === 'left') return 'joined';
  }
  return null;
}

/**
 * Each member's last state other than suspect, as one observer held it.
 * Suspect is see-through: links.c makes every new peer suspect before it is
 * alive, and a peer that left comes back suspect first, so comparing two
 * raw views would miss joins and rejoins (nothing→suspect→alive).
 */
export type Settled = Record<string, MemberState>;

/** cur as the next comparison needs it: a suspect member keeps the state it
 * had before (none yet: not a member); one gone from the list is forgotten.
 * At a starting point (`baseline`: no view before it) a suspect member is
 * a member in a state not known, so that its going alive is no join. */
export function settle(was: Settled, cur: StatusMember[], baseline = false): Settled {
  const out: Settled = {};
  for (const m of cur) {
    const s = m.state === 'suspect' ? (was[m.node_id] ?? (baseline ? 'suspect' : undefined)) : m.state;
    if (s !== undefined) out[m.node_id] = s;
  }
  return out;
}

/** The member rows between what one observer held settled (`was`) and its
 * next view of membership (a status's members, or the cluster view's
 * member states). */
export function memberChanges(origin: string, was: Settled, cur: StatusMember[], time_ms: number): Change[] {
  const out: Change[] = [];
  for (const m of cur) {
    if (m.node_id === origin || m.state === 'suspect') continue;
    const what = memberMove(was[m.node_id], m.state);
    if (what) out.push(change(origin, time_ms, what, m.node_id));
  }
  return out;
}

/** Link rows: a link that came up, or that was up and is no longer (down,
 * connecting again, or gone from the list). */
export function linkChanges(origin: string, prev: StatusLink[], cur: StatusLink[], time_ms: number): Change[] {
  const wasUp = new Set(prev.filter((l) => l.state === 'up').map((l) => l.peer));
  const isUp = new Set(cur.filter((l) => l.state === 'up').map((l) => l.peer));
  const out: Change[] = [];
  for (const p of isUp) if (!wasUp.has(p)) out.push(change(origin, time_ms, 'link-up', p));
  for (const p of wasUp) if (!isUp.has(p)) out.push(change(origin, time_ms, 'link-down', p));
  return out;
}

/**
 * Every row between one node's two successive statuses: member moves (when
 * both carry `members`: the /ws feed leaves them out, REST history has
 * them) against `was`, the members as settled so far (default: prev's
 * own), link changes and a freeze or unfreeze.  An unchanged status makes
 * none.
 */
export function statusChanges(origin: string, prev: NodeStatus, cur: NodeStatus, time_ms: number, was?: Settled): Change[] {
  const out: Change[] = [];
  if (prev.members && cur.members) out.push(...memberChanges(origin, was ?? settle({}, prev.members, true), cur.members, time_ms));
  out.push(...linkChanges(origin, prev.links ?? [], cur.links ?? [], time_ms));
  if (!!prev.frozen !== !!cur.frozen) out.push(change(origin, time_ms, cur.frozen ? 'frozen' : 'unfrozen', origin));
  return out;
}

/** What one origin's statuses left to compare the next one with. */
export interface LastStatus {
  time_ms: number;
  status: NodeStatus;
  /** Its members as settled over the statuses before (null: none carried). */
  settled: Settled | null;
}

/** The next status of an origin after `last`: its changes and the new last. */
export function nextStatus(origin: string, last: LastStatus | undefined, st: NodeStatus, time_ms: number): { changes: Change[]; last: LastStatus } {
  const was = last?.settled ?? (last?.status.members ? settle({}, last.status.members, true) : null);
  const changes = last ? statusChanges(origin, last.status, st, time_ms, was ?? undefined) : [];
  const settled = st.members ? settle(was ?? {}, st.members, was == null) : was;
  return { changes, last: { time_ms, status: st, settled } };
}

/** The changes a run of events holds (any order, any kinds: statuses are
 * compared per origin in time order, the rest ignored), and each origin's
 * last status.  The first status of each origin is the baseline: what came
 * before it is unknown. */
export function readStatuses(events: MeshEvent[]): { changes: Change[]; last: Map<string, LastStatus> } {
  const statuses = events.filter((e) => e.kind === 'status' && e.body).sort((a, b) => a.time_ms - b.time_ms);
  const last = new Map<string, LastStatus>();
  const changes: Change[] = [];
  for (const e of statuses) {
    const r = nextStatus(e.origin, last.get(e.origin), e.body as NodeStatus, e.time_ms);
    changes.push(...r.changes);
    last.set(e.origin, r.last);
  }
  return { changes, last };
}

/** The changes a run of events holds (readStatuses without the last statuses). */
export function changesOf(events: MeshEvent[]): Change[] {
  return readStatuses(events).changes;
}

/** How close two observers' reports of one change must be to be one row. */
export const SAME_CHANGE_MS = 30_000;

/**
 * One row per change however many nodes saw it: a join is in every
 * member's status, a link in both ends'.  A report is dropped when the
 * last one kept of the same thing says the same, less than SAME_CHANGE_MS
 * before; a link that went down and up again in between keeps both.
 */
export function dedupeChanges(changes: Change[]): Change[] {
  const sorted = changes.slice().sort((a, b) => a.time_ms - b.time_ms);
  const last = new Map<string, Change>();
  const keys = new Set<string>();
  const out: Change[] = [];
  for (const c of sorted) {
    if (keys.has(c.key)) continue;
    keys.add(c.key);
    const l = last.get(c.thing);
    if (l && l.what === c.what && c.time_ms - l.time_ms <= SAME_CHANGE_MS) continue;
    last.set(c.thing, c);
    out.push(c);
  }
  return out;
}

/** A change in words. */
export function describeChange(c: Change): string {
  const by = c.origin === c.subject ? '' : ` (seen by ${c.origin})`;
  switch (c.what) {
    case 'joined':
      return `${c.subject} joined${by}`;
    case 'left':
      return `${c.subject} left${by}`;
    case 'down':
      return `${c.subject} went down${by}`;
    case 'back':
      return `${c.subject} came back${by}`;
    case 'link-up':
      return `link ${c.origin} ↔ ${c.subject} up`;
    case 'link-down':
      return `link ${c.origin} ↔ ${c.subject} down`;
    case 'frozen':
      return `${c.subject} frozen`;
    case 'unfrozen':
      return `${c.subject} unfrozen`;
  }
}
