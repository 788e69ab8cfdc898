// Views derived from the state: one row per node, the mesh's link graph.

import type { State } from './store';
import type { ClusterStatus, LinkState, LocalLink, MemberState, NodeInfo, NodeStatus, Alert } from './types';

export interface NodeView {
  id: string;
  local: boolean;
  member: MemberState;
  /** local (this node), direct link, relayed over others, none (unreachable). */
  path: 'local' | 'direct' | 'relayed' | 'none';
  status: NodeStatus | null;
  statusTime: number;
  info: NodeInfo | null;
  link: LocalLink | null;
  frozen: boolean;
  openAlerts: number;
}

export function openAlertCounts(alerts: Record<string, Alert>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in alerts) {
    const a = alerts[k];
    if (a.state === 'firing' || a.state === 'acknowledged') out[a.node] = (out[a.node] ?? 0) + 1;
  }
  return out;
}

export function nodeViews(s: Pick<State, 'cluster' | 'latest' | 'alerts'>): NodeView[] {
  const c = s.cluster;
  if (!c) return [];
  const counts = openAlertCounts(s.alerts);
  const out: NodeView[] = [];
  const self = c.local;
  const selfStatus = s.latest[self.node_id]?.status ?? self.state?.status ?? null;
  out.push({
    id: self.node_id,
    local: true,
    member: 'alive',
    path: 'local',
    status: selfStatus,
    statusTime: s.latest[self.node_id]?.time_ms ?? self.state?.status_ms ?? 0,
    info: self.state?.info ?? {
      node_id: self.node_id,
      incarnation: self.incarnation,
      version: self.version,
      addresses: self.addresses ?? [],
      labels: self.labels ?? {},
      started_ms: self.started_ms,
    },
    link: null,
    frozen: !!selfStatus?.frozen,
    openAlerts: counts[self.node_id] ?? 0,
  });
  const remote = c.remote.slice().sort((a, b) => a.node_id.localeCompare(b.node_id));
  for (const r of remote) {
    const st = s.latest[r.node_id]?.status ?? r.status ?? null;
    out.push({
      id: r.node_id,
      local: false,
      member: r.member ?? 'unknown',
      path: r.path ?? (r.link?.state === 'up' ? 'direct' : 'none'),
      status: st,
      statusTime: s.latest[r.node_id]?.time_ms ?? r.status_ms ?? 0,
      info: r.info ?? null,
      link: r.link ?? null,
      frozen: !!st?.frozen,
      openAlerts: counts[r.node_id] ?? 0,
    });
  }
  return out;
}

export type GraphLinkState = LinkState | 'partial';

export interface GraphLink {
  a: string; // a < b
  b: string;
  state: GraphLinkState;
  rtt: number | null;
  /** Who reported this link, and how. */
  reports: { from: string; state: LinkState; rtt: number | null }[];
}

export interface Graph {
  nodes: string[];
  links: GraphLink[];
}

export const linkId = (x: string, y: string): [string, string] => (x < y ? [x, y] : [y, x]);

/**
 * The whole link-state graph: every node's own view of its links (its
 * status.links; for this node, the live cluster.local.links).  Nodes known
 * to be dead or gone are not asked: their last status is stale.
 */
export function buildGraph(c: ClusterStatus | null, latest: State['latest']): Graph {
  if (!c) return { nodes: [], links: [] };
  const nodes = new Set<string>([c.local.node_id]);
  const byKey = new Map<string, GraphLink>();
  const report = (from: string, peer: string, state: LinkState, rtt: number | null) => {
    if (!peer || peer === from) return;
    nodes.add(peer);
    const [a, b] = linkId(from, peer);
    const key = `${a}\u0000${b}`;
    let l = byKey.get(key);
    if (!l) byKey.set(key, (l = { a, b, state: 'unknown', rtt: null, reports: [] }));
    l.reports.push({ from, state, rtt: rtt != null && rtt > 0 ? rtt : null });
  };
  for (const l of c.local.links ?? []) report(c.local.node_id, l.peer, l.state, l.rtt_ms);
  for (const r of c.remote) {
    nodes.add(r.node_id);
    if (r.member === 'dead' || r.member === 'left') continue;
    const st = latest[r.node_id]?.status ?? r.status;
    for (const l of st?.links ?? []) report(r.node_id, l.peer, l.state, l.rtt_ms);
  }
  const links: GraphLink[] = [];
  for (const l of byKey.values()) {
    const up = l.reports.filter((x) => x.state === 'up').length;
    if (up === l.reports.length) l.state = 'up';
    else if (up > 0) l.state = 'partial';
    else if (l.reports.some((x) => x.state === 'connecting')) l.state = 'connecting';
    else if (l.reports.some((x) => x.state === 'down')) l.state = 'down';
    else l.state = 'unknown';
    const rtts = l.reports.map((x) => x.rtt).filter((x): x is number => x != null);
    l.rtt = rtts.length ? rtts.reduce((p, q) => p + q, 0) / rtts.length : null;
    links.push(l);
  }
  links.sort((x, y) => (x.a === y.a ? x.b.localeCompare(y.b) : x.a.localeCompare(y.a)));
  const local = c.local.node_id;
  const rest = [...nodes].filter((n) => n !== local).sort();
  return { nodes: [local, ...rest], links };
}
