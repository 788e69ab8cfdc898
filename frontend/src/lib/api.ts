// REST calls to the local node: Bearer token, JSON, errors as ApiError
// (the node answers {"error": code, "message": text}).  A 401 is reported
// to the app (token form); 403 means a read-only token tried to write.

import { getToken } from './token';
import type {
  Alert,
  AuditRecord,
  CommandRecord,
  Definitions,
  Id,
  Job,
  JobSubmit,
  LogLine,
  MeshEvent,
  NoticeRecord,
  Rollout,
  RolloutStart,
  Service,
  ServiceDetail,
  Silence,
  SilenceMatchers,
  Workflow,
} from './types';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    /** The node's answer, parsed (e.g. the offset a 409 names). */
    public body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let unauthorizedHandler: (() => void) | null = null;

/** Called on every 401 (the app shows the token form). */
export function onUnauthorized(fn: (() => void) | null): void {
  unauthorizedHandler = fn;
}

/** A Blob body is sent as it is (application/octet-stream); anything else as JSON. */
export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const raw = body instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : raw ? body : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the node: ${(e as Error).message ?? e}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (json ?? {}) as { error?: string; message?: string };
    if (res.status === 401) unauthorizedHandler?.();
    throw new ApiError(res.status, err.error ?? `http_${res.status}`, err.message ?? (text || res.statusText), json);
  }
  return json as T;
}

export const apiGet = <T>(path: string) => request<T>('GET', path);
export const apiPost = <T>(path: string, body: unknown) => request<T>('POST', path, body);

export interface CommandRequest {
  target: string | { labels: Record<string, string> };
  type: 'run_task' | 'cancel_task' | 'ack_alert' | 'freeze' | 'unfreeze' | 'ping' | 'service';
  args?: Record<string, unknown>;
  wait_ms?: number;
  idempotency_key?: string;
}

export const postCommand = (c: CommandRequest) => apiPost<CommandRecord>('/api/commands', c);

export const getDefinitions = () => apiGet<Definitions>('/api/definitions');

export const getAudit = (limit = 500) =>
  apiGet<{ records: AuditRecord[] }>(`/api/audit?limit=${limit}`).then((r) => r.records ?? []);

export const getJobs = (state = '', limit = 200) =>
  apiGet<{ jobs: Job[] }>(`/api/jobs?limit=${limit}${state ? `&state=${encodeURIComponent(state)}` : ''}`).then((r) => r.jobs ?? []);

/** One job; issuer names which one when another node issued it. */
export const getJob = (id: string, issuer?: string) =>
  apiGet<Job>(`/api/jobs/${encodeURIComponent(id)}${issuer ? `?issuer=${encodeURIComponent(issuer)}` : ''}`);

export const submitJob = (j: JobSubmit) => apiPost<{ id: string; state?: string; duplicate?: boolean }>('/api/jobs', j);

export const cancelJob = (id: string) => apiPost<unknown>(`/api/jobs/${encodeURIComponent(id)}/cancel`, {});

/** Runs a failed, cancelled, lost or expired job again as a new job (its id). */
export const replayJob = (id: string) =>
  apiPost<{ id: string; replay_of: string; note?: string }>(`/api/jobs/${encodeURIComponent(id)}/replay`, {});

export const postUserEvent = (name: string, payload: unknown) =>
  apiPost<{ origin: string; incarnation: Id; seq: Id }>('/api/events', { name, payload });

/** A task's log history: pages of up to 5000 lines; the last `keep` are returned. */
export async function getTaskLogs(node: string, taskId: string, keep = 5000, maxPages = 20): Promise<LogLine[]> {
  const page = 5000;
  let after = 0;
  let out: LogLine[] = [];
  for (let i = 0; i < maxPages; i++) {
    const r = await apiGet<{ lines: LogLine[] }>(
      `/api/tasks/${encodeURIComponent(node)}/${encodeURIComponent(taskId)}/logs?after=${after}&limit=${page}`,
    );
    const lines = r.lines ?? [];
    out = out.concat(lines);
    if (out.length > keep) out = out.slice(out.length - keep);
    if (lines.length < page) break;
    after = lines[lines.length - 1].line_seq;
  }
  return out;
}

/** What a failed write tells the user. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.status) {
      case 401:
        return 'the node refused the token';
      case 403:
        return 'read-only token: writes need a write token';
      case 423:
        return `frozen: ${e.message}`;
      case 429:
        return `rate limited: ${e.message}`;
      default:
        return e.status ? `${e.code}: ${e.message}` : e.message;
    }
  }
  return String(e);
}

/** Probe for the WS client: is the token refused (401) or is the node away? */
export async function probeAuth(): Promise<'ok' | 'unauthorized' | 'unreachable'> {
  const token = getToken();
  try {
    const res = await fetch('/api/definitions', {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    if (res.status === 401) return 'unauthorized';
    return res.ok ? 'ok' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

export const getWorkflows = (limit = 200) =>
  apiGet<{ workflows: Workflow[] }>(`/api/workflows?limit=${limit}`).then((r) => r.workflows ?? []);

export const getWorkflow = (id: string) => apiGet<Workflow>(`/api/workflows/${encodeURIComponent(id)}`);

export type WorkflowAction = 'approve' | 'reject' | 'pause' | 'resume' | 'cancel' | 'retry';

/** A person's action on a workflow; step and comment for approve/reject (and retry's step). */
export const workflowAction = (id: string, action: WorkflowAction, body: { step?: string; comment?: string } = {}) =>
  apiPost<unknown>(`/api/workflows/${encodeURIComponent(id)}/${action}`, body);

/** Every service on every node, as the mesh told this node (by name, then node). */
export const getServices = () => apiGet<{ services: Service[] }>('/api/services').then((r) => r.services ?? []);

/** This node's NAME (definition, checks) and NAME's instances on every node. */
export const getService = (name: string) => apiGet<ServiceDetail>(`/api/services/${encodeURIComponent(name)}`);

export type ServiceAction = 'start' | 'stop' | 'restart';

/**
 * A service's desired state set on a node, `all` or a `k=v` selector: the
 * signed `service` command, so any node's services are driven from here.
 */
export const serviceCommand = (target: string, name: string, action: ServiceAction) =>
  postCommand({ target, type: 'service', args: { name, action } });

/** Rollouts, newest first: every service's, or only NAME's. */
export const getRollouts = (service?: string) =>
  apiGet<{ rollouts: Rollout[] }>(`/api/rollouts${service ? `?service=${encodeURIComponent(service)}` : ''}`).then((r) => r.rollouts ?? []);

export const getRollout = (id: string) => apiGet<Rollout>(`/api/rollouts/${encodeURIComponent(id)}`);

/** Starts a rollout (201); 409 while one of that service is still running. */
export const startRollout = (body: RolloutStart) => apiPost<Rollout>('/api/rollouts', body);

export type RolloutAction = 'pause' | 'resume' | 'abort';

/** The rollout as it is after the action; 409 when its state does not allow it. */
export const rolloutAction = (id: string, action: RolloutAction) =>
  apiPost<Rollout>(`/api/rollouts/${encodeURIComponent(id)}/${action}`, {});

/** The active silences of this node (GET /api/silences). */
export const getSilences = () => apiGet<{ node: string; silences: Silence[] }>('/api/silences').then((r) => r.silences ?? []);

export interface SilenceAdd {
  matchers: SilenceMatchers;
  /** "90s", "15m", "2h", "7d" (docs/operations.md, "Silences"). */
  for: string;
  comment?: string;
}

/** Adds a silence on this node (write): 201 with the silence; 400 names the field it refused. */
export const addSilence = (s: SilenceAdd) => apiPost<Silence>('/api/silences', s);

export const deleteSilence = (id: string) => request<{ id: string; deleted: boolean }>('DELETE', `/api/silences/${encodeURIComponent(id)}`);

/** Every node's open alerts as GET /api/alerts marks them: `silence_id` of each a silence holds, by "node/alert_id". */
export const getSilencedAlerts = () =>
  apiGet<{ alerts: (Alert & { silenced?: boolean; silence_id?: string })[] }>('/api/alerts').then((r) => {
    const held: Record<string, string> = {};
    for (const a of r.alerts ?? []) if (a.silenced && a.silence_id) held[`${a.node}/${a.alert_id}`] = a.silence_id;
    return held;
  });

/** A page of this node's event log before untilMs (exclusive), the newest
 * `limit` of them, oldest first (docs/api.md, "Paging back"). */
export const getEventsBefore = (untilMs: number, limit: number) =>
  apiGet<{ events: MeshEvent[] }>(`/api/events?until=${Math.max(1, Math.floor(untilMs))}&limit=${limit}`).then((r) => r.events ?? []);

/** A node's alert events from since_ms on (each a change of an alert's state). */
export const getAlertEvents = (node: string, sinceMs: number) =>
  apiGet<{ events: MeshEvent[] }>(
    `/api/events?kind=alert&node=${encodeURIComponent(node)}&since=${Math.max(0, Math.floor(sinceMs))}&limit=10000`,
  ).then((r) => r.events ?? []);

/** A node's audit records of one action (another node's are fetched over the mesh). */
export const getAuditOf = (node: string, action: string, limit = 500) =>
  apiGet<{ records: AuditRecord[] }>(
    `/api/audit?node=${encodeURIComponent(node)}&action=${encodeURIComponent(action)}&limit=${limit}`,
  ).then((r) => r.records ?? []);

/** What became of this node's notices of one alert (an empty list without --notify). */
export const getAlertNotices = (alertId: string) =>
  apiGet<{ notices: NoticeRecord[] }>(`/api/alerts/notices?alert_id=${encodeURIComponent(alertId)}`).then((r) => r.notices ?? []);
