import type {
  Alert,
  ClusterStatus,
  CommandRecord,
  LocalLink,
  MeshEvent,
  NodeStatus,
  RemoteNode,
  ServerMessage,
  StatusLink,
  Task,
} from '../src/lib/types';

export function status(over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    cpu_percent: 12.5,
    cpu_count: 4,
    mem_used_bytes: 2 * 2 ** 30,
    mem_total_bytes: 8 * 2 ** 30,
    load: [0.5, 0.4, 0.3],
    disk_used_bytes: 50 * 2 ** 30,
    disk_total_bytes: 100 * 2 ** 30,
    net_rx_bytes: 1000,
    net_tx_bytes: 2000,
    net_rx_bytes_per_s: 1024,
    net_tx_bytes_per_s: 2048,
    uptime_s: 3 * 86400 + 7200,
    process_uptime_s: 600,
    links: [],
    members: [],
    frozen: false,
    signal_reachable: true,
    ...over,
  };
}

export const slink = (peer: string, state: StatusLink['state'] = 'up', rtt_ms = 1.5): StatusLink => ({ peer, state, rtt_ms, since_ms: 1 });

export function llink(peer: string, state: LocalLink['state'] = 'up', rtt_ms: number | null = 1.2): LocalLink {
  return {
    peer,
    state,
    member: state === 'up' ? 'alive' : 'suspect',
    address: '127.0.0.1:1',
    since_ms: 1,
    reconnects: 0,
    last_error: '',
    incarnation: 1,
    direction: 'outbound',
    rtt_ms,
    last_seen_ms: 1,
  };
}

/** A full mesh of ids[0] (local) + the rest; opts.relayed are reached through others. */
export function cluster(ids: string[], opts: { relayed?: string[]; member?: Record<string, RemoteNode['member']>; signal?: boolean; frozen?: string[] } = {}): ClusterStatus {
  const [self, ...rest] = ids;
  const relayed = new Set(opts.relayed ?? []);
  const peersOf = (id: string) => ids.filter((x) => x !== id && !(relayed.has(x) && (id === self || relayed.has(id))) && !(relayed.has(id) && x === self));
  const frozen = new Set(opts.frozen ?? []);
  const remote: RemoteNode[] = rest.map((id) => ({
    node_id: id,
    incarnation: 1,
    seq: 10,
    status_ms: 1000,
    updated_ms: 1000,
    left: false,
    status: status({ links: peersOf(id).map((p) => slink(p)), frozen: frozen.has(id) }),
    info: { node_id: id, incarnation: 1, version: '0.1.0', addresses: ['127.0.0.1:1'], labels: { role: 'worker' }, started_ms: 1 },
    member: opts.member?.[id] ?? 'alive',
    path: relayed.has(id) ? 'relayed' : 'direct',
    link: relayed.has(id) ? null : llink(id),
  }));
  return {
    local: {
      node_id: self,
      incarnation: 1,
      version: '0.1.0',
      addresses: ['127.0.0.1:50051'],
      labels: {},
      started_ms: 1,
      signal: { reachable: opts.signal ?? true, signals: [] },
      links: peersOf(self).map((p) => llink(p)),
      state: {
        node_id: self,
        status_ms: 1000,
        status: status({ links: peersOf(self).map((p) => slink(p)), frozen: frozen.has(self) }),
        info: null,
      },
    },
    remote,
  };
}

export function task(node: string, task_id: string, over: Partial<Task> = {}): Task {
  return {
    node,
    task_id,
    name: 'backup',
    state: 'running',
    attempt: 1,
    max_attempts: 1,
    exit_code: 0,
    term_signal: 0,
    reason: '',
    queued_ms: 1000,
    started_ms: 1001,
    finished_ms: null,
    next_retry_ms: null,
    ...over,
  };
}

export function alert(node: string, alert_id: string, over: Partial<Alert> = {}): Alert {
  return {
    node,
    alert_id,
    rule: 'cpu_high',
    severity: 'warning',
    state: 'firing',
    value: 95,
    threshold: 90,
    subject: 'cpu',
    message: 'CPU above 90% for 60 s',
    fired_ms: 1000,
    resolved_ms: null,
    acked_ms: null,
    ...over,
  };
}

let seq = 0;
export function ev(origin: string, kind: MeshEvent['kind'], body: unknown, time_ms = 1000 + ++seq): MeshEvent {
  return { origin, incarnation: 1, seq: ++seq, kind, time_ms, received_ms: time_ms, body };
}

export const evMsg = (e: MeshEvent): ServerMessage => ({ type: 'event', event: e });

export function command(id: string, over: Partial<CommandRecord> = {}): CommandRecord {
  return { id, target: 'a', type: 'ping', args: {}, state: 'pending', destinations: ['a'], pending: ['a'], results: [], issued_ms: 1, ...over };
}

export function snapshot(c: ClusterStatus, more: Partial<{ tasks: Task[]; alerts: Alert[]; events: MeshEvent[]; commands: CommandRecord[] }> = {}): ServerMessage {
  return { type: 'snapshot', cluster: c, tasks: more.tasks ?? [], alerts: more.alerts ?? [], events: more.events ?? [], commands: more.commands ?? [] };
}

export const hello = (role: 'read' | 'write' = 'write', node = 'a'): ServerMessage => ({ type: 'hello', node, role, version: '0.1.0', frozen: false });
