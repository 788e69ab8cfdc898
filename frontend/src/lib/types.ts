// Wire shapes of the node's local API and /ws feed (node/api/WS.md, README
// "Local API"; field names from node/api/api.c, sync.c, work_json.c, links.c,
// commands.c).  Optional/nullable where the C side may send null.

/** A 64-bit id: a number up to 2^53 - 1, a decimal string above (lib/id.ts). */
export type Id = number | string;

export type LinkState = 'unknown' | 'connecting' | 'up' | 'down';
export type MemberState = 'unknown' | 'alive' | 'suspect' | 'dead' | 'left';
export type Role = 'read' | 'write';

/** A link as a node reports it in its status (sync.c status_json). */
export interface StatusLink {
  peer: string;
  state: LinkState;
  rtt_ms: number;
  since_ms: number;
}

export interface StatusMember {
  node_id: string;
  state: MemberState;
  last_seen_ms: number;
  direct: boolean;
}

/** A node's status sample (sync.c status_json; also the body of `status` events). */
export interface NodeStatus {
  cpu_percent: number;
  cpu_count: number;
  mem_used_bytes: number;
  mem_total_bytes: number;
  load: [number, number, number];
  disk_used_bytes: number;
  disk_total_bytes: number;
  net_rx_bytes: number;
  net_tx_bytes: number;
  net_rx_bytes_per_s: number;
  net_tx_bytes_per_s: number;
  uptime_s: number;
  process_uptime_s: number;
  links: StatusLink[];
  /** In REST answers and the snapshot only: /ws status events leave it out. */
  members?: StatusMember[];
  frozen: boolean;
  signal_reachable: boolean;
}

export interface NodeInfo {
  node_id: string;
  incarnation: Id;
  version: string;
  addresses: string[];
  labels: Record<string, string>;
  started_ms: number;
}

/** Our own link to a peer (links.c status_peer). */
export interface LocalLink {
  peer: string;
  state: LinkState;
  member: MemberState;
  address: string;
  since_ms: number;
  reconnects: number;
  last_error: string;
  incarnation: Id;
  direction: 'inbound' | 'outbound' | null;
  rtt_ms: number | null;
  last_seen_ms: number | null;
}

/** sync.c origin_json */
export interface OriginState {
  node_id: string;
  incarnation?: Id;
  seq?: Id;
  status_ms?: number;
  updated_ms?: number;
  left?: boolean;
  /** Events skipped on a relayed snapshot, still asked for. */
  missing?: { from: Id; to: Id };
  status: NodeStatus | null;
  info: NodeInfo | null;
}

export interface RemoteNode extends OriginState {
  member: MemberState;
  path?: 'direct' | 'relayed' | 'none';
  link: LocalLink | null;
}

export interface ClusterStatus {
  local: {
    node_id: string;
    incarnation: Id;
    version: string;
    addresses: string[];
    labels: Record<string, string>;
    started_ms: number;
    signal: { reachable: boolean; signals: unknown[] };
    links: LocalLink[];
    state: OriginState | null;
  };
  remote: RemoteNode[];
}

export type TaskState =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'timed-out'
  | 'retrying';

export interface Task {
  node: string;
  task_id: string;
  name: string;
  state: TaskState;
  attempt: number;
  max_attempts: number;
  exit_code: number;
  term_signal: number;
  reason: string;
  queued_ms: number | null;
  started_ms: number | null;
  finished_ms: number | null;
  next_retry_ms: number | null;
  command_id?: string;
  principal?: string;
}

export interface LogLine {
  node: string;
  task_id: string;
  line_seq: number;
  stream: 'stdout' | 'stderr';
  text: string;
  dropped: number;
  continued: boolean;
  /** REST only; for WS log events the event's time_ms is copied in. */
  time_ms?: number;
}

export type AlertState = 'firing' | 'acknowledged' | 'resolved';

export interface Alert {
  node: string;
  alert_id: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical' | 'unknown';
  state: AlertState;
  value: number;
  threshold: number;
  subject: string;
  message: string;
  fired_ms: number | null;
  resolved_ms: number | null;
  acked_ms: number | null;
  acked_by?: string;
}

export interface SilenceMatchers {
  rule?: string;
  node?: string;
  labels?: Record<string, string>;
}

/** One active silence (GET /api/silences; docs/operations.md, "Silences"). */
export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  starts_ms: number;
  ends_ms: number;
  comment?: string;
  created_by?: string;
  /** The node it was added on (silences are the mesh's). */
  node?: string;
}

/** What became of one notice of this node's alert (GET /api/alerts/notices). */
export interface NoticeRecord {
  time_ms: number;
  alert_id: string;
  notice: 'firing' | 'repeat' | 'resolved';
  /** Absent for one a silence kept back from every channel. */
  channel?: string;
  outcome: 'delivered' | 'failed' | 'dropped' | 'silenced';
  attempts: number;
  /** The last failure, or the id of the silence that held it. */
  why?: string;
}

export interface UserEventBody {
  name: string;
  /** The payload as text; null when its bytes are not UTF-8 ... */
  payload: string | null;
  /** ... and then the bytes in base64 (docs/api.md). */
  payload_b64?: string;
  payload_bytes: number;
}

export type EventKind = 'status' | 'task' | 'log' | 'alert' | 'user' | 'job' | 'workflow' | 'service' | 'artifact' | 'schedule' | 'silence' | 'token_revoked' | 'unknown';

export interface MeshEvent {
  origin: string;
  incarnation: Id;
  seq: Id;
  kind: EventKind;
  time_ms: number;
  received_ms: number;
  body: unknown;
  /** A snapshot's event too big to inline (WS.md): body is null, the whole
   * event is at `url` (GET, read token). */
  summarized?: boolean;
  body_bytes?: number;
  url?: string;
}

export interface CommandResult {
  node: string;
  status: string;
  body?: unknown;
  error?: string;
  finished_ms?: number;
  duplicate?: boolean;
  path?: string[];
  result_path?: string[];
  rtt_ms?: number;
}

export interface CommandRecord {
  id: string;
  origin?: string;
  target: unknown;
  type: string;
  args: Record<string, unknown>;
  principal?: string;
  idempotency_key?: string;
  issued_ms?: number;
  deadline_ms?: number | null;
  timeout_ms?: number;
  state: string; // pending | done | interrupted
  destinations: string[];
  pending: string[];
  results: CommandResult[];
  finished_ms?: number;
  duplicate?: boolean;
}

export interface AuditRecord {
  time_ms: number;
  node: string;
  action: string;
  actor: string;
  result: string;
  details?: unknown;
}

export interface Definitions {
  node: string;
  tasks: { name: string; command: string[]; allow_args: boolean; timeout_s: number }[];
  alert_rules: unknown[];
  frozen: boolean;
}

export interface Hello {
  node: string;
  role: Role;
  version: string;
  frozen: boolean;
}

export interface Snapshot {
  cluster: ClusterStatus;
  tasks: Task[];
  alerts: Alert[];
  events: MeshEvent[];
  commands: CommandRecord[];
  /** Older events were left out for the snapshot's byte budget. */
  truncated?: boolean;
}

export type ServerMessage =
  | ({ type: 'hello' } & Hello)
  | ({ type: 'snapshot' } & Snapshot)
  | { type: 'event'; event: MeshEvent }
  | { type: 'cluster'; cluster: ClusterStatus }
  | { type: 'command'; command: CommandRecord }
  | { type: 'pong' };

/** A durable job as its issuer serves it (GET /api/jobs, /api/jobs/ID). */
export interface Job {
  id: string;
  issuer: string;
  principal: string;
  state: 'queued' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired' | 'lost';
  task?: string | null;
  command?: string[];
  to: string;
  node: string | null;
  epoch: number;
  submitted_ms: number;
  updated_ms?: number;
  deadline_ms?: number;
  finished_ms?: number | null;
  reason?: string | null;
  key?: string;
  at_most_once?: boolean;
  payload?: string | null;
  exit_code?: number | null;
  term_signal?: number | null;
  result?: unknown;
  /** Issued by another node: a summary from the mesh (no payload, result or history). */
  remote?: boolean;
  /** The job this one is part of, or replays (when the issuer says). */
  parent?: string;
  replay_of?: string;
  /** The newest replay of this job (POST /api/jobs/{id}/replay). */
  replayed_as?: string;
  /** A fanned-out job's children, one per node, as they are now. */
  children?: JobChild[];
  history?: JobHistoryEntry[];
  /** Where the result is POSTed when the job ends (never the secret). */
  callback?: { url: string; state?: string; attempts?: number; next_ms?: number };
}

/** One node's part of a fanned-out job (`to: "all"` or a selector). */
export interface JobChild {
  id: string;
  node: string;
  state?: Job['state'];
  exit_code?: number | null;
  reason?: string | null;
}

/** One step of a job's story: what happened, when, where, in which epoch. */
export interface JobHistoryEntry {
  time_ms: number;
  event: string;
  by: string;
  node?: string | null;
  epoch?: number;
  reason?: string;
  [k: string]: unknown;
}

export interface JobSubmit {
  task: string;
  to: string;
  payload?: unknown;
  key?: string;
  deadline_ms?: number;
  at_most_once?: boolean;
}

/** A workflow step as GET /api/workflows/{id} answers it. */
export interface WorkflowStep {
  name: string;
  kind: 'job' | 'approval';
  needs: string[];
  state: string;
  attempt?: number;
  job?: string | null;
  node?: string | null;
  started_ms?: number | null;
  finished_ms?: number | null;
  duration_ms?: number | null;
  next_retry_ms?: number | null;
  result?: unknown;
  error?: string | null;
  prompt?: string | null;
  approved_by?: string | null;
  comment?: string | null;
}

/** A workflow: the list's rows carry no steps. */
export interface Workflow {
  id: string;
  name: string;
  state: string;
  principal?: string;
  coordinator?: string;
  epoch?: number;
  created_ms?: number;
  updated_ms?: number;
  finished_ms?: number | null;
  budget_ms?: number;
  reason?: string | null;
  steps?: WorkflowStep[];
  history?: Record<string, unknown>[];
}

/** A service's actual state (node/work/services.h draws the machine). */
export type ServiceState = 'starting' | 'running' | 'healthy' | 'unhealthy' | 'backing-off' | 'failed' | 'stopping' | 'stopped';

export interface ServiceEndpoint {
  name: string;
  protocol: string;
  port: number;
  tags: string[];
}

/**
 * A service on one node as the mesh tells every node (GET /api/services;
 * node/mesh/sync_services.c).  Times and pid are null when unset.
 */
export interface Service {
  node: string;
  name: string;
  desired: 'running' | 'stopped';
  state: ServiceState;
  pid: number | null;
  started_ms: number | null;
  restarts: number;
  last_exit: { code: number; signal: number } | null;
  next_attempt_ms: number | null;
  updated_ms?: number | null;
  reason: string | null;
  endpoints?: ServiceEndpoint[];
  task_id: string | null;
  version: string | null;
}

/** One probe of a health check. */
export interface CheckResult {
  ok: boolean;
  ms: number;
  at_ms: number;
  output: string;
}

/** A health check of this node's service (node/work/service_health.c). */
export interface ServiceCheck {
  name: string;
  type: string;
  running?: boolean;
  status: 'unknown' | 'healthy' | 'unhealthy';
  consecutive_successes?: number;
  consecutive_failures?: number;
  probes?: number;
  failures?: number;
  last: CheckResult | null;
  history: CheckResult[];
}

/**
 * GET /api/services/NAME: this node's NAME (definition null when it does
 * not run it, and then no state) and NAME on every node.
 */
export interface ServiceDetail extends Partial<Omit<Service, 'name' | 'node'>> {
  name: string;
  node?: string;
  definition: Record<string, unknown> | null;
  checks?: ServiceCheck[];
  instances: Service[];
}

/** A rollout's state: running and paused are live, the rest final. */
export type RolloutState = 'running' | 'paused' | 'succeeded' | 'failed' | 'aborted';

/** One node of a rollout: where it is in its update (or rollback). */
export type RolloutNodeState = 'pending' | 'updating' | 'healthy' | 'rolling_back' | 'rolled_back' | 'error' | 'untouched';

export interface RolloutNode {
  node: string;
  state: RolloutNodeState;
  version: string | null;
  previous_version: string | null;
  reason: string | null;
  started_ms: number | null;
  finished_ms: number | null;
}

/**
 * A new definition of a service taken to its nodes a few at a time
 * (GET /api/rollouts/ID); nodes are in rollout order.
 */
export interface Rollout {
  id: string;
  service: string;
  state: RolloutState;
  reason: string | null;
  principal: string;
  created_ms: number;
  updated_ms: number;
  finished_ms: number | null;
  max_parallel: number;
  deadline_s: number;
  min_healthy_s: number;
  definition: Record<string, unknown>;
  nodes: RolloutNode[];
}

/** Where a rollout goes: all, a node, a "k=v,k2=v2" selector or labels. */
export type RolloutTarget = string | { labels: Record<string, string> };

/** POST /api/rollouts: target or nodes (not both); the numbers have defaults. */
export interface RolloutStart {
  service: string;
  definition: Record<string, unknown>;
  target?: RolloutTarget;
  nodes?: string[];
  max_parallel?: number;
  deadline_s?: number;
  min_healthy_s?: number;
}
