// The dashboard's one state store.  A pure reducer (`reduce`) plus a tiny
// external store (`Store`) that React reads through useSyncExternalStore.
//
// WebSocket messages are queued and applied in batches (at most ~10 per
// second, see Store.enqueue) with copy-on-write per batch, so 1,000 events/s
// cost a handful of array copies per second, not one per event.
//
// Status events feed the latest status and the metric history, not the
// timeline: each is compared with the node's previous one, and what changed
// (a member, a link, a freeze: lib/timelineRows.ts) goes to `changes`.

import type {
  Alert,
  ClusterStatus,
  CommandRecord,
  Hello,
  LogLine,
  MeshEvent,
  NodeStatus,
  ServerMessage,
  Snapshot,
  StatusMember,
  Task,
} from './types';
import { memberChanges, settle, statusChanges, type Change, type Settled } from './timelineRows';

export const LIMITS = {
  history: 300, // metric samples per node
  timeline: 5000, // events (no statuses)
  changes: 2000, // rows read from statuses and cluster views
  logLines: 5000, // per task
  logTasks: 100, // tasks whose logs are kept (least recently updated dropped)
  tasks: 2000,
  commands: 200,
};

export interface Sample {
  t: number; // the status event's time_ms
  cpu: number; // %
  mem: number; // %
  disk: number; // %
  rx: number; // bytes/s
  tx: number; // bytes/s
  load: number; // load1
}

export type ConnState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized';

export interface Conn {
  state: ConnState;
  attempt: number;
  /** Wall-clock ms of the next reconnect attempt (state "reconnecting"). */
  retryAt: number | null;
  error: string | null;
}

export interface Latest {
  status: NodeStatus;
  time_ms: number;
}

export interface State {
  conn: Conn;
  hello: Hello | null;
  cluster: ClusterStatus | null;
  latest: Record<string, Latest>;
  history: Record<string, Sample[]>;
  tasks: Record<string, Task>;
  alerts: Record<string, Alert>;
  commands: Record<string, CommandRecord>;
  logs: Record<string, LogLine[]>;
  timeline: MeshEvent[];
  /** What successive statuses and cluster views showed changed, oldest first. */
  changes: Change[];
  /** Each observer's members as settled so far (suspect see-through), keyed
   * by a status's origin, or `cluster/` and the local node for cluster views. */
  settled: Record<string, Settled>;
  /** Bumped by every snapshot: caches fetched over REST (logs) are refetched. */
  generation: number;
  /** Messages applied since the page loaded (for the footer). */
  received: number;
}

export type Action =
  | { type: 'messages'; messages: ServerMessage[] }
  | { type: 'conn'; conn: Partial<Conn> }
  | { type: 'logs'; node: string; task_id: string; lines: LogLine[] }
  | { type: 'command'; command: CommandRecord }
  | { type: 'reset' };

export const initialState: State = {
  conn: { state: 'idle', attempt: 0, retryAt: null, error: null },
  hello: null,
  cluster: null,
  latest: {},
  history: {},
  tasks: {},
  alerts: {},
  commands: {},
  logs: {},
  timeline: [],
  changes: [],
  settled: {},
  generation: 0,
  received: 0,
};

export const taskKey = (node: string, taskId: string) => `${node}/${taskId}`;
export const alertKey = (node: string, alertId: string) => `${node}/${alertId}`;

const pct = (used: number, total: number) => (total > 0 ? (100 * used) / total : 0);

export function sampleOf(st: NodeStatus, t: number): Sample {
  return {
    t,
    cpu: st.cpu_percent ?? 0,
    mem: pct(st.mem_used_bytes, st.mem_total_bytes),
    disk: pct(st.disk_used_bytes, st.disk_total_bytes),
    rx: st.net_rx_bytes_per_s ?? 0,
    tx: st.net_tx_bytes_per_s ?? 0,
    load: Array.isArray(st.load) ? st.load[0] : 0,
  };
}

export function taskTime(t: Task): number {
  return Math.max(t.queued_ms ?? 0, t.started_ms ?? 0, t.finished_ms ?? 0);
}

const ACTIVE = new Set(['queued', 'running', 'retrying']);

/** Every node id the cluster state names, local first. */
export function clusterNodeIds(c: ClusterStatus | null): string[] {
  if (!c) return [];
  return [c.local.node_id, ...c.remote.map((r) => r.node_id)];
}

/* --- copy-on-write batch ---------------------------------------------------- */

type Keyed = 'latest' | 'history' | 'tasks' | 'alerts' | 'commands' | 'logs' | 'settled';

class Draft {
  s: State;
  private copied = new Set<string>();
  private touchedHistory = new Set<string>();
  private touchedLogs = new Set<string>();
  newEvents: MeshEvent[] = [];
  newChanges: Change[] = [];
  replacedTimeline = false;

  constructor(s: State) {
    this.s = { ...s };
  }

  /** A mutable copy of one keyed map (copied once per batch). */
  map<K extends Keyed>(k: K): State[K] {
    if (!this.copied.has(k)) {
      this.s[k] = { ...this.s[k] } as State[K];
      this.copied.add(k);
    }
    return this.s[k];
  }

  historyOf(node: string): Sample[] {
    const h = this.map('history');
    if (!this.touchedHistory.has(node)) {
      h[node] = h[node] ? h[node].slice() : [];
      this.touchedHistory.add(node);
    }
    return h[node];
  }

  logsOf(key: string): LogLine[] {
    const l = this.map('logs');
    if (!this.touchedLogs.has(key)) {
      const prev = l[key];
      delete l[key]; // re-inserted last: insertion order is the LRU order
      l[key] = prev ? prev.slice() : [];
      this.touchedLogs.add(key);
    }
    return l[key];
  }

  /** After a snapshot replaced the keyed maps with fresh objects. */
  afterReplace() {
    for (const k of ['tasks', 'alerts', 'commands', 'logs', 'latest', 'history']) this.copied.add(k);
    this.touchedLogs.clear();
    for (const node of [...this.touchedHistory])
      if (!this.s.history[node]) this.touchedHistory.delete(node);
  }

  finish(): State {
    const s = this.s;
    for (const node of this.touchedHistory) {
      const h = s.history[node];
      if (h && h.length > LIMITS.history) s.history[node] = h.slice(h.length - LIMITS.history);
    }
    for (const key of this.touchedLogs) {
      const l = s.logs[key];
      if (l && l.length > LIMITS.logLines) s.logs[key] = l.slice(l.length - LIMITS.logLines);
    }
    if (this.touchedLogs.size) {
      const keys = Object.keys(s.logs);
      for (let i = 0; i < keys.length - LIMITS.logTasks; i++) delete s.logs[keys[i]];
    }
    if (this.newEvents.length || this.replacedTimeline) {
      s.timeline = mergeTimeline(this.replacedTimeline ? [] : s.timeline, this.newEvents);
    }
    if (this.newChanges.length) {
      const c = s.changes.concat(this.newChanges);
      s.changes = c.length > LIMITS.changes ? c.slice(c.length - LIMITS.changes) : c;
    }
    if (this.copied.has('tasks')) trimTasks(s.tasks);
    if (this.copied.has('commands')) trimCommands(s.commands);
    return s;
  }
}

function mergeTimeline(prev: MeshEvent[], add: MeshEvent[]): MeshEvent[] {
  let out = prev.concat(add);
  const lastPrev = prev.length ? prev[prev.length - 1].time_ms : -Infinity;
  let sorted = add.length === 0 || add[0].time_ms >= lastPrev;
  for (let i = 1; sorted && i < add.length; i++) sorted = add[i].time_ms >= add[i - 1].time_ms;
  if (!sorted) out.sort((a, b) => a.time_ms - b.time_ms); // stable
  if (out.length > LIMITS.timeline) out = out.slice(out.length - LIMITS.timeline);
  return out;
}

function trimTasks(tasks: Record<string, Task>) {
  const keys = Object.keys(tasks);
  if (keys.length <= LIMITS.tasks) return;
  // Drop the oldest finished tasks first; active ones are kept.
  const done = keys
    .filter((k) => !ACTIVE.has(tasks[k].state))
    .sort((a, b) => taskTime(tasks[a]) - taskTime(tasks[b]));
  for (let i = 0; i < keys.length - LIMITS.tasks && i < done.length; i++) delete tasks[done[i]];
}

function trimCommands(cmds: Record<string, CommandRecord>) {
  const keys = Object.keys(cmds);
  if (keys.length <= LIMITS.commands) return;
  keys.sort((a, b) => (cmds[a].issued_ms ?? 0) - (cmds[b].issued_ms ?? 0));
  for (let i = 0; i < keys.length - LIMITS.commands; i++) delete cmds[keys[i]];
}

/** Inserts a sample in time order (usually an append); same time: replaced. */
function addSample(h: Sample[], smp: Sample) {
  let i = h.length;
  while (i > 0 && h[i - 1].t > smp.t) i--;
  if (i > 0 && h[i - 1].t === smp.t) h[i - 1] = smp;
  else h.splice(i, 0, smp);
}

/** Inserts a log line by line_seq (usually an append); duplicates replace. */
function addLine(l: LogLine[], line: LogLine) {
  let i = l.length;
  while (i > 0 && l[i - 1].line_seq > line.line_seq) i--;
  if (i > 0 && l[i - 1].line_seq === line.line_seq) l[i - 1] = line;
  else l.splice(i, 0, line);
}

function setLatest(d: Draft, node: string, status: NodeStatus | null | undefined, t: number) {
  if (!status) return;
  const cur = d.s.latest[node];
  if (cur && cur.time_ms > t) return;
  d.map('latest')[node] = { status, time_ms: t };
}

function latestFromCluster(d: Draft, c: ClusterStatus) {
  const self = c.local.state;
  if (self?.status) setLatest(d, c.local.node_id, self.status, self.status_ms ?? 0);
  for (const r of c.remote) if (r.status) setLatest(d, r.node_id, r.status, r.status_ms ?? 0);
}

/** Each remote node's member state as the local node holds it. */
function clusterMembers(c: ClusterStatus): StatusMember[] {
  return c.remote.map((r) => ({ node_id: r.node_id, state: r.member, last_seen_ms: 0, direct: r.path === 'direct' }));
}

function applyEvent(d: Draft, ev: MeshEvent) {
  const b = ev.body as Record<string, unknown> | null;
  if (ev.kind !== 'status') d.newEvents.push(ev);
  if (!b) return;
  switch (ev.kind) {
    case 'status': {
      const st = b as unknown as NodeStatus;
      const prev = d.s.latest[ev.origin];
      if (prev && prev.time_ms < ev.time_ms) {
        const was = d.s.settled[ev.origin];
        d.newChanges.push(...statusChanges(ev.origin, prev.status, st, ev.time_ms, was));
        if (st.members) d.map('settled')[ev.origin] = settle(was ?? settle({}, prev.status.members ?? [], true), st.members);
      }
      setLatest(d, ev.origin, st, ev.time_ms);
      addSample(d.historyOf(ev.origin), sampleOf(st, ev.time_ms));
      break;
    }
    case 'task': {
      const t = b as unknown as Task;
      d.map('tasks')[taskKey(t.node ?? ev.origin, t.task_id)] = t;
      break;
    }
    case 'log': {
      const l = b as unknown as LogLine;
      const line = l.time_ms ? l : { ...l, time_ms: ev.time_ms };
      addLine(d.logsOf(taskKey(l.node ?? ev.origin, l.task_id)), line);
      break;
    }
    case 'alert': {
      const a = b as unknown as Alert;
      d.map('alerts')[alertKey(a.node ?? ev.origin, a.alert_id)] = a;
      break;
    }
    default:
      break; // user events (and unknown kinds) only go to the timeline
  }
}

/** The local node's member moves between two cluster views (none when the
 * page moved to another node). */
function clusterChanges(d: Draft, prev: ClusterStatus | null, next: ClusterStatus) {
  const local = next.local.node_id;
  const key = `cluster/${local}`;
  const cur = clusterMembers(next);
  if (prev && prev.local.node_id === local) {
    const was = d.s.settled[key] ?? settle({}, clusterMembers(prev), true);
    d.newChanges.push(...memberChanges(local, was, cur, Date.now()));
    d.map('settled')[key] = settle(was, cur);
  } else d.map('settled')[key] = settle({}, cur, true);
}

function applySnapshot(d: Draft, snap: Snapshot) {
  const s = d.s;
  // A snapshot after a reconnect, or after falling behind: what moved
  // meanwhile is still news.
  if (snap.cluster) clusterChanges(d, s.cluster, snap.cluster);
  s.cluster = snap.cluster ?? null;
  s.tasks = {};
  s.alerts = {};
  s.commands = {};
  s.logs = {};
  s.latest = {};
  for (const t of snap.tasks ?? []) s.tasks[taskKey(t.node, t.task_id)] = t;
  for (const a of snap.alerts ?? []) s.alerts[alertKey(a.node, a.alert_id)] = a;
  for (const c of snap.commands ?? []) s.commands[c.id] = c;
  // Metric history is a client-side cache of immutable samples: it is kept
  // across snapshots (charts do not go blank on a reconnect), merged with
  // the snapshot's status events, and pruned to the nodes still known.
  const known = new Set(clusterNodeIds(s.cluster));
  const h: Record<string, Sample[]> = {};
  for (const id of Object.keys(s.history)) if (known.has(id)) h[id] = s.history[id];
  s.history = h;
  d.replacedTimeline = true;
  d.newEvents = [];
  d.afterReplace();
  if (s.cluster) latestFromCluster(d, s.cluster);
  const events = (snap.events ?? []).slice().sort((a, b) => a.time_ms - b.time_ms);
  for (const ev of events) applyEvent(d, ev);
  s.generation += 1;
}

export function applyMessage(d: Draft, m: ServerMessage) {
  switch (m.type) {
    case 'hello':
      d.s.hello = { node: m.node, role: m.role, version: m.version, frozen: !!m.frozen };
      d.s.conn = { state: 'open', attempt: 0, retryAt: null, error: null };
      break;
    case 'snapshot':
      applySnapshot(d, m);
      break;
    case 'event':
      if (m.event) applyEvent(d, m.event);
      break;
    case 'cluster':
      if (m.cluster) {
        // The cluster view carries the members the /ws statuses leave out.
        clusterChanges(d, d.s.cluster, m.cluster);
        d.s.cluster = m.cluster;
        latestFromCluster(d, m.cluster);
      }
      break;
    case 'command':
      if (m.command?.id) d.map('commands')[m.command.id] = m.command;
      break;
    default:
      break;
  }
  d.s.received += 1;
}

export function reduce(state: State, action: Action): State {
  switch (action.type) {
    case 'messages': {
      if (action.messages.length === 0) return state;
      const d = new Draft(state);
      for (const m of action.messages) applyMessage(d, m);
      return d.finish();
    }
    case 'conn':
      return { ...state, conn: { ...state.conn, ...action.conn } };
    case 'logs': {
      const d = new Draft(state);
      const l = d.logsOf(taskKey(action.node, action.task_id));
      for (const line of action.lines) addLine(l, line);
      return d.finish();
    }
    case 'command': {
      const d = new Draft(state);
      const cur = state.commands[action.command.id];
      // A WS update may have arrived first: keep the one with more results.
      if (!cur || (cur.results?.length ?? 0) <= (action.command.results?.length ?? 0))
        d.map('commands')[action.command.id] = action.command;
      return d.finish();
    }
    case 'reset':
      return { ...initialState, conn: state.conn };
    default:
      return state;
  }
}

/* --- the external store ------------------------------------------------------ */

export type Listener = () => void;

export class Store {
  private state: State;
  private listeners = new Set<Listener>();
  private queue: ServerMessage[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = 0;

  /** flushMs: the minimum time between two batches of WS messages. */
  constructor(
    state: State = initialState,
    private flushMs = 100,
  ) {
    this.state = state;
  }

  getState = (): State => this.state;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  dispatch = (a: Action): void => {
    const next = reduce(this.state, a);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  };

  /** Queues a WS message; batches are applied at most every flushMs. */
  enqueue = (m: ServerMessage): void => {
    this.queue.push(m);
    if (this.timer !== null) return;
    const wait = Math.max(0, this.flushMs - (Date.now() - this.lastFlush));
    this.timer = setTimeout(this.flush, wait);
  };

  flush = (): void => {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlush = Date.now();
    if (this.queue.length === 0) return;
    const messages = this.queue;
    this.queue = [];
    this.dispatch({ type: 'messages', messages });
  };
}
