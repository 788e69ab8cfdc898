import { memo, useMemo } from 'react';
import { fmtRtt } from '../lib/format';
import { go, useStore } from '../lib/hooks';
import { buildGraph, nodeViews, type GraphLink, type NodeView } from '../lib/selectors';

const W = 800;
const H = 640;

const LINK_COLORS: Record<string, string> = {
  up: '#3fb950',
  partial: '#d29922',
  connecting: '#58a6ff',
  down: '#f85149',
  unknown: '#6e7681',
};

/** Where each node sits: a circle, this node first at the top. */
export function circleLayout(ids: string[], w = W, h = H): Record<string, Place> {
  const out: Record<string, Place> = {};
  const n = ids.length;
  const r = Math.min(w, h) / 2 - (n > 24 ? 110 : 70);
  ids.forEach((id, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
    out[id] = n === 1 ? { x: w / 2, y: h / 2, a: 0 } : { x: w / 2 + r * Math.cos(a), y: h / 2 + r * Math.sin(a), a: (a + 2 * Math.PI) % (2 * Math.PI) };
  });
  return out;
}

/** Node radius: smaller as the ring fills up. */
export function nodeRadius(n: number, w = W, h = H): number {
  const ring = 2 * Math.PI * (Math.min(w, h) / 2 - (n > 24 ? 110 : 70));
  return Math.max(3.5, Math.min(16, (ring / Math.max(1, n)) * 0.32));
}

const LinkLine = memo(function LinkLine({ l, p, q, label }: { l: GraphLink; p: { x: number; y: number }; q: { x: number; y: number }; label: boolean }) {
  const rtt = fmtRtt(l.rtt);
  const title = `${l.a} ↔ ${l.b}: ${l.state}${rtt ? `, ${rtt}` : ''}\n${l.reports.map((r) => `${r.from} sees ${r.state}${r.rtt ? ` ${fmtRtt(r.rtt)}` : ''}`).join('\n')}`;
  return (
    <g data-testid={`topology-link-${l.a}-${l.b}`} data-state={l.state} className={`tlink tlink-${l.state}`}>
      <title>{title}</title>
      <line x1={p.x} y1={p.y} x2={q.x} y2={q.y} stroke={LINK_COLORS[l.state]} strokeWidth={l.state === 'up' ? 2 : 1.5} strokeDasharray={l.state === 'up' ? undefined : '5 4'} />
      {label && rtt && (
        <text x={(p.x + q.x) / 2} y={(p.y + q.y) / 2 - 3} className="rtt" textAnchor="middle" data-testid={`topology-rtt-${l.a}-${l.b}`}>
          {rtt}
        </text>
      )}
    </g>
  );
});

interface Place {
  x: number;
  y: number;
  /** Angle from the centre (radians), for labels placed outward. */
  a: number;
}

const NodeDot = memo(function NodeDot({ v, id, p, r, radial }: { v: NodeView | undefined; id: string; p: Place; r: number; radial: boolean }) {
  const member = v?.member ?? 'unknown';
  const path = v?.path ?? 'none';
  const open = () => go(`#/nodes/${encodeURIComponent(id)}`);
  // Many nodes: labels point outward along the radius, so they do not overlap.
  const deg = (p.a * 180) / Math.PI;
  const flip = deg > 90 && deg < 270;
  return (
    <g
      data-testid={`topology-node-${id}`}
      data-member={member}
      data-path={path}
      className={`tnode member-${member} path-${path}`}
      transform={`translate(${p.x},${p.y})`}
      onClick={open}
      role="link"
      tabIndex={0}
      onKeyDown={(e) => e.key === 'Enter' && open()}
    >
      <title>{`${id}: ${member}, ${path === 'local' ? 'this node' : path}${v?.frozen ? ', frozen' : ''}${v?.openAlerts ? `, ${v.openAlerts} open alerts` : ''}`}</title>
      <circle r={r} className="tnode-circle" strokeDasharray={path === 'relayed' ? '4 3' : undefined} />
      {v?.local && <circle r={r + 4} className="tnode-ring" />}
      {v?.frozen && r >= 10 && (
        <text className="tnode-flag" y={4} textAnchor="middle">
          ❄
        </text>
      )}
      {(v?.openAlerts ?? 0) > 0 && <circle r={Math.max(2.5, r / 4)} cx={r * 0.8} cy={-r * 0.8} className="tnode-alert" />}
      {radial ? (
        <text
          className="tnode-label small-label"
          transform={`rotate(${flip ? deg - 180 : deg})`}
          x={flip ? -(r + 4) : r + 4}
          y={3}
          textAnchor={flip ? 'end' : 'start'}
        >
          {id}
        </text>
      ) : (
        <>
          <text y={r + 14} textAnchor="middle" className="tnode-label">
            {id}
          </text>
          {path === 'relayed' && (
            <text y={r + 26} textAnchor="middle" className="tnode-sub">
              relayed
            </text>
          )}
        </>
      )}
    </g>
  );
});

export function Topology() {
  const cluster = useStore((s) => s.cluster);
  const latest = useStore((s) => s.latest);
  const alerts = useStore((s) => s.alerts);
  const graph = useMemo(() => buildGraph(cluster, latest), [cluster, latest]);
  const views = useMemo(() => {
    const m: Record<string, NodeView> = {};
    for (const v of nodeViews({ cluster, latest, alerts })) m[v.id] = v;
    return m;
  }, [cluster, latest, alerts]);
  const pos = useMemo(() => circleLayout(graph.nodes), [graph.nodes.join('\u0000')]);

  if (!cluster) return <p className="muted">Waiting for the node's snapshot…</p>;
  const reachable = !!cluster.local.signal?.reachable;
  const radial = graph.nodes.length > 24;
  const r = nodeRadius(graph.nodes.length);
  const labels = graph.links.length <= 120;
  const counts: Record<string, number> = {};
  for (const l of graph.links) counts[l.state] = (counts[l.state] ?? 0) + 1;
  const relayed = Object.values(views).filter((v) => v.path === 'relayed').length;

  return (
    <section data-testid="topology-page">
      <div className="row wrap gap">
        <span className={`badge ${reachable ? 'ok' : 'bad'}`} data-testid="signal-state" data-reachable={String(reachable)}>
          signal {reachable ? 'reachable' : 'unreachable'}
        </span>
        <span className="muted" data-testid="topology-summary">
          {graph.nodes.length} nodes · {graph.links.length} links ({counts.up ?? 0} up) · {relayed} relayed
        </span>
        <span className="legend">
          {Object.entries(LINK_COLORS).map(([k, c]) => (
            <span key={k}>
              <i style={{ background: c }} /> {k}
            </span>
          ))}
          <span>
            <i className="legend-relayed" /> relayed node
          </span>
        </span>
      </div>
      <svg className="topology" viewBox={`0 0 ${W} ${H}`} data-testid="topology-svg">
        <g>
          {graph.links.map((l) =>
            pos[l.a] && pos[l.b] ? <LinkLine key={`${l.a}\u0000${l.b}`} l={l} p={pos[l.a]} q={pos[l.b]} label={labels} /> : null,
          )}
        </g>
        <g>
          {graph.nodes.map((id) => (
            <NodeDot key={id} id={id} v={views[id]} p={pos[id]} r={r} radial={radial} />
          ))}
        </g>
      </svg>
    </section>
  );
}
