import { useMemo, useState } from 'react';
import { NodeCard } from '../components/NodeCard';
import { useStore } from '../lib/hooks';
import { nodeViews } from '../lib/selectors';

export function Nodes() {
  const cluster = useStore((s) => s.cluster);
  const latest = useStore((s) => s.latest);
  const alerts = useStore((s) => s.alerts);
  const history = useStore((s) => s.history);
  const [q, setQ] = useState('');
  const views = useMemo(() => nodeViews({ cluster, latest, alerts }), [cluster, latest, alerts]);
  if (!cluster) return <p className="muted">Waiting for the node's snapshot…</p>;
  const shown = q ? views.filter((v) => v.id.includes(q) || Object.entries(v.info?.labels ?? {}).some(([k, x]) => `${k}=${x}`.includes(q))) : views;
  const by = (m: string) => views.filter((v) => v.member === m).length;
  return (
    <section data-testid="nodes-page">
      <div className="row wrap gap">
        <input placeholder="filter by id or label" value={q} onChange={(e) => setQ(e.target.value)} data-testid="nodes-filter" />
        <span className="muted" data-testid="nodes-summary">
          {views.length} nodes · {by('alive')} alive · {by('suspect')} suspect · {by('dead')} dead · {by('left')} left
        </span>
      </div>
      <div className="grid">
        {shown.map((v) => (
          <NodeCard key={v.id} v={v} history={history[v.id]} />
        ))}
      </div>
    </section>
  );
}
