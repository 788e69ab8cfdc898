// What a command says happened: the timeline's rows for commands (who
// issued what to which nodes, and how each answered).  A command is not a
// mesh event: its record is kept by the node that issued it (GET
// /api/commands, the snapshot's `commands`, the /ws `command` message on
// each change), so a dashboard holds the commands issued on its own node.
// One another node issued shows only through what it did (the task it
// started, the alert it acknowledged, the freeze).  A record changes as
// answers come in; its row is the record as it is now, at the time it was
// issued.  Pure functions; records are read as possibly missing fields
// (an older node's, or one read back from storage).

import type { CommandRecord, CommandResult } from './types';

type Body = Record<string, unknown>;

const obj = (v: unknown): Body | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Body) : null);
const str = (b: Body | null, k: string): string | undefined => (b && typeof b[k] === 'string' && b[k] !== '' ? (b[k] as string) : undefined);

/**
 * Types that make no row: reads a page or the CLI asks by itself (a node
 * page's history every minute, an alert's audit, a task's logs) and the
 * durable jobs' own traffic (the job's rows tell its story).
 */
export const QUIET_COMMANDS: ReadonlySet<string> = new Set(['history_query', 'audit_query', 'task_logs', 'job_run', 'job_result', 'job_fence']);

/** Whether a command is a row of the timeline. */
export const commandShown = (c: CommandRecord): boolean => typeof c.id === 'string' && !QUIET_COMMANDS.has(c.type);

/** A command's target as given: a node id, "all", or labels k=v,k=v. */
export function targetText(t: unknown): string {
  if (typeof t === 'string') return t;
  const labels = obj(obj(t)?.labels);
  if (labels)
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
  return JSON.stringify(t) ?? '?';
}

const destinations = (c: CommandRecord): string[] => (Array.isArray(c.destinations) ? c.destinations.filter((d) => typeof d === 'string') : []);
const results = (c: CommandRecord): CommandResult[] => (Array.isArray(c.results) ? c.results.filter((r) => obj(r) !== null && typeof r.node === 'string') : []);

/** What was asked, in words ("run backup", "ack alert a1-2"). */
function asked(c: CommandRecord): string {
  const a = obj(c.args);
  switch (c.type) {
    case 'run_task': {
      const cmd = Array.isArray(a?.command) ? a.command.map(String).join(' ') : undefined;
      return str(a, 'task') ? `run ${str(a, 'task')}` : `run ad-hoc ${cmd ?? '?'}`;
    }
    case 'cancel_task':
      return `cancel task ${str(a, 'task_id') ?? '?'}${a?.hard === true ? ' (hard)' : ''}`;
    case 'ack_alert':
      return `ack alert ${str(a, 'alert_id') ?? '?'}`;
    case 'service':
      return `service ${str(a, 'name') ?? '?'} ${str(a, 'action') ?? '?'}`;
    case 'forget_node':
      return `forget ${str(a, 'node') ?? '?'}`;
    default:
      return c.type;
  }
}

/** One destination's answer ("ok, task t1-4", "refused: frozen"). */
function answer(c: CommandRecord, r: CommandResult): string {
  if (r.status !== 'ok') return r.error ? `${r.status}: ${r.error}` : r.status;
  const task = c.type === 'run_task' ? str(obj(r.body), 'task_id') : undefined;
  return task ? `ok, task ${task}` : 'ok';
}

/** How the command stands: each destination's answer, or counts by
 * answer past three destinations. */
export function outcomeText(c: CommandRecord): string {
  const dests = destinations(c);
  const res = results(c);
  const answered = new Set(res.map((r) => r.node));
  const waiting = dests.filter((d) => !answered.has(d));
  const none = c.state === 'pending' ? 'pending' : 'no answer';
  if (c.state === 'interrupted' && res.length === 0) return 'interrupted';
  if (dests.length === 0 && res.length === 0) return c.state === 'pending' ? 'pending' : 'no destination';
  if (dests.length <= 1 && res.length <= 1) return res.length ? answer(c, res[0]) : none;
  if (dests.length <= 3)
    return [...res.map((r) => `${r.node} ${answer(c, r)}`), ...waiting.map((d) => `${d} ${none}`)].join('; ');
  const counts = new Map<string, number>();
  for (const r of res) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  if (waiting.length) counts.set(none, waiting.length);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

/** A command in words: what, by whom, to which nodes, and how it went. */
export function describeCommand(c: CommandRecord): string {
  const dests = destinations(c);
  const by = typeof c.principal === 'string' && c.principal ? ` by ${c.principal}` : '';
  const to = dests.length === 1 ? dests[0] : `${targetText(c.target)} (${dests.length} node${dests.length === 1 ? '' : 's'})`;
  return `${asked(c)}${by} → ${to}: ${outcomeText(c)}`;
}

export interface CommandLink {
  /** The destination this link is about. */
  node: string;
  href: string;
  /** What the link opens, in a word or two ("task t1-4", "node-2"). */
  text: string;
}

const nodeHref = (id: string) => `#/nodes/${encodeURIComponent(id)}`;

/**
 * Where a command's row leads, one link per destination: the task it
 * started or cancelled there, the alert it acknowledged, the service, or
 * else the node.
 */
export function commandLinks(c: CommandRecord): CommandLink[] {
  const a = obj(c.args);
  const byNode = new Map(results(c).map((r) => [r.node, r]));
  return destinations(c).map((node) => {
    const started = c.type === 'run_task' ? str(obj(byNode.get(node)?.body), 'task_id') : undefined;
    const task = started ?? (c.type === 'cancel_task' ? str(a, 'task_id') : undefined);
    if (task) return { node, href: `#/tasks/${encodeURIComponent(node)}/${encodeURIComponent(task)}`, text: `task ${task}` };
    if (c.type === 'ack_alert' && str(a, 'alert_id'))
      return { node, href: `#/alerts/${encodeURIComponent(node)}/${encodeURIComponent(str(a, 'alert_id') as string)}`, text: `alert on ${node}` };
    if (c.type === 'service' && str(a, 'name')) return { node, href: `#/services/${encodeURIComponent(str(a, 'name') as string)}`, text: `service on ${node}` };
    return { node, href: nodeHref(node), text: node };
  });
}
