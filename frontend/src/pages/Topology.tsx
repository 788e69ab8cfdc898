import { memo, useEffect, useMemo, useState } from 'react';
import { fmtRtt } from '../lib/format';
import { go, useStore } from '../lib/hooks';
import { buildGraph, nodeViews, type GraphLink, type NodeView } from '../lib/selectors';
import { layoutNodes, LINE_H, placeRtts, type LabelPlace, type NodePlace, type RttPlace } from '../lib/topologyLayout';

const LINK_COLORS: Record<string, string> = {
  up: '#3fb950',
  partial: '#d29922',
  connecting: '#58a6ff',
  down: '#f85149',
  unknown: '#6e7681',
};

const LinkLine = memo(function LinkLine({ l, p, q, rtt, font }: { l: GraphLink; p: NodePlace; q: NodePlace; rtt: RttPlace | undefined; font: number }) {
  const shown = fmtRtt(l.rtt);
  const title = `${l.a} ↔ ${l.b}: ${l.state}${shown ? `, ${shown}` : ''}\n${l.reports.map((r) => `${r.from} sees ${r.state}${r.rtt ? ` ${fmtRtt(r.rtt)}` : ''}`).join('\n')}`;
  return (
    <g data-testid={`topology-link-${l.a}-${l.b}`} data-state={l.state} className={`tlink tlink-${l.state}`}>
      <title>{title}</title>
      <line x1={p.x} y1={p.y} x2={q.x} y2={q.y} stroke={LINK_COLORS[l.state]} strokeWidth={l.state === 'up' ? 2 : 1.5} strokeDasharray={l.state === 'up' ? undefined : '5 4'} />
      {rtt && (
        <text x={rtt.x} y={rtt.y} className="rtt" textAnchor="middle" dominantBaseline="central" style={{ fontSize: font }} data-testid={`topology-rtt-${l.a}-${l.b}`}>
          {rtt.text}
        </text>
      )}
    </g>
  );
});

const NodeDot = memo(function NodeDot({ v, id, p, label }: { v: NodeView | undefined; id: string; p: NodePlace; label: LabelPlace | undefined }) {
  const member = v?.member ?? 'unknown';
  const path = v?.path ?? 'none';
  const open = () => go(`#/nodes/${encodeURIComponent(id)}`);
  const r = p.r;
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
      {v?.local && <circle r={p.ring} className="tnode-ring" />}
      {v?.frozen && r >= 10 && (
        <text className="tnode-flag" y={4} textAnchor="middle">
          ❄
        </text>
      )}
      {(v?.openAlerts ?? 0) > 0 && <circle r={Math.max(2.5, r / 4)} cx={r * 0.7} cy={-r * 0.7} className="tnode-alert" />}
      {label &&
        label.lines.map((line, i) => (
          <text
            key={i}
            className={i ? 'tnode-sub' : 'tnode-label'}
            x={label.x}
            y={label.y + i * LINE_H * label.fontSize}
            transform={label.rotate ? `rotate(${label.rotate} ${label.x} ${label.y})` : undefined}
            textAnchor={label.anchor}
            dominantBaseline="central"
            style={{ fontSize: label.fontSize }}
          >
            {line}
          </text>
        ))}
    </g>
  );
});

/**
 * The canvas the layout draws on: 800 × 640 units, or on a window narrower
 * than that a square about as wide as the page, so a name drawn 12 units
 * high is about 12 px on a phone too rather than shrunk with the whole
 * drawing.  The window's width, not the page's: the page's changes with the
 * scroll bar the drawing's own height brings and goes, and would loop.
 */
function useCanvas(): { w: number; h: number } {
  const [width, setWidth] = useState(() => window.innerWidth);
  useEffect(() => {
    const on = () => setWidth(window.innerWidth);
    window.addEventListener('resize', on);
    return () => window.removeEventListener('resize', on);
  }, []);
  const side = Math.max(300, width - 24);
  return side < 800 ? { w: side, h: side } : { w: 800, h: 640 };
}

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
  // Where nodes and names go changes only with the set of nodes (and which
  // are relayed); RTT labels are placed anew as the RTTs move.
  const { w, h } = useCanvas();
  const subs = graph.nodes.map((id) => (views[id]?.path === 'relayed' ? 'relayed' : ''));
  const base = useMemo(
    () => layoutNodes(graph.nodes.map((id, i) => ({ id, sub: subs[i] || undefined })), w, h),
    [graph.nodes.join('\u0000'), subs.join('\u0000'), w, h],
  );
  const { rtts, rttFontSize } = useMemo(
    () => placeRtts(base, graph.links.map((l) => ({ a: l.a, b: l.b, text: fmtRtt(l.rtt) }))),
    [base, graph.links],
  );
  const rttOf = useMemo(() => new Map(rtts.map((x) => [`${x.a}\u0000${x.b}`, x])), [rtts]);

  if (!cluster) return <p className="muted">Waiting for the node's snapshot…</p>;
  const reachable = !!cluster.local.signal?.reachable;
  const pos = base.nodes;
  const vb = base.view;
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
      <svg className="topology" viewBox={`${vb.x} ${vb.y} ${vb.w} ${vb.h}`} data-testid="topology-svg" data-radial={base.radial}>
        <g>
          {graph.links.map((l) =>
            pos[l.a] && pos[l.b] ? <LinkLine key={`${l.a}\u0000${l.b}`} l={l} p={pos[l.a]} q={pos[l.b]} rtt={rttOf.get(`${l.a}\u0000${l.b}`)} font={rttFontSize} /> : null,
          )}
        </g>
        <g>
          {graph.nodes.map((id) => (
            <NodeDot key={id} id={id} v={views[id]} p={pos[id]} label={base.labels[id]} />
          ))}
        </g>
      </svg>
    </section>
  );
}
