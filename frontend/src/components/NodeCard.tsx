import { memo, useMemo } from 'react';
import { fmtBytes, fmtDuration, fmtPct, fmtRate } from '../lib/format';
import { go } from '../lib/hooks';
import type { NodeView } from '../lib/selectors';
import type { Sample } from '../lib/store';
import { sameId } from '../lib/id';
import { MemberBadge } from './Badges';
import { Sparkline } from './Sparkline';

interface Props {
  v: NodeView;
  history: Sample[] | undefined;
}

const EMPTY: Sample[] = [];

function Metric({ id, name, value, values, max, color }: { id: string; name: string; value: string; values: number[]; max?: number; color: string }) {
  return (
    <div className="metric">
      <div className="metric-head">
        <span className="muted">{name}</span>
        <span data-testid={`metric-${name}-${id}`}>{value}</span>
      </div>
      <Sparkline values={values} max={max} color={color} testId={`spark-${name}-${id}`} label={`${name} history`} />
    </div>
  );
}

function NodeCardImpl({ v, history = EMPTY }: Props) {
  const series = useMemo(
    () => ({
      cpu: history.map((s) => s.cpu),
      mem: history.map((s) => s.mem),
      disk: history.map((s) => s.disk),
      rx: history.map((s) => s.rx),
      tx: history.map((s) => s.tx),
    }),
    [history],
  );
  const st = v.status;
  const labels = v.info?.labels ?? {};
  const last = history.length ? history[history.length - 1] : null;
  const cpu = st?.cpu_percent ?? last?.cpu;
  const mem = st && st.mem_total_bytes ? (100 * st.mem_used_bytes) / st.mem_total_bytes : last?.mem;
  const disk = st && st.disk_total_bytes ? (100 * st.disk_used_bytes) / st.disk_total_bytes : last?.disk;
  return (
    <article
      className={`card node-card member-${v.member} ${v.frozen ? 'is-frozen' : ''}`}
      data-testid={`node-card-${v.id}`}
      data-member={v.member}
      data-path={v.path}
    >
      <header className="row between">
        <a href={`#/nodes/${encodeURIComponent(v.id)}`} className="node-name" onClick={(e) => (e.preventDefault(), go(`#/nodes/${encodeURIComponent(v.id)}`))}>
          {v.id}
        </a>
        <span className="row gap-s">
          {v.local && <span className="badge local">this node</span>}
          {v.path === 'relayed' && (
            <span className="badge relayed" data-testid={`relayed-${v.id}`}>
              relayed
            </span>
          )}
          {v.frozen && (
            <span className="badge frozen" data-testid={`frozen-badge-${v.id}`}>
              frozen
            </span>
          )}
          <MemberBadge id={v.id} member={v.member} />
        </span>
      </header>
      <div className="row wrap gap-s muted small">
        {Object.entries(labels).map(([k, val]) => (
          <span key={k} className="label-chip">
            {k}={val}
          </span>
        ))}
      </div>
      <div className="metrics">
        <Metric id={v.id} name="cpu" value={fmtPct(cpu)} values={series.cpu} max={100} color="#58a6ff" />
        <Metric id={v.id} name="mem" value={fmtPct(mem)} values={series.mem} max={100} color="#bc8cff" />
        <Metric id={v.id} name="disk" value={fmtPct(disk)} values={series.disk} max={100} color="#d29922" />
        <Metric id={v.id} name="rx" value={fmtRate(st?.net_rx_bytes_per_s ?? last?.rx)} values={series.rx} color="#3fb950" />
        <Metric id={v.id} name="tx" value={fmtRate(st?.net_tx_bytes_per_s ?? last?.tx)} values={series.tx} color="#39c5cf" />
      </div>
      <footer className="row between small">
        <span data-testid={`uptime-${v.id}`} title={st ? `agentflow-node up ${fmtDuration(st.process_uptime_s)}` : ''}>
          up {fmtDuration(st?.uptime_s)}
        </span>
        <span className="muted">{st ? `${fmtBytes(st.mem_used_bytes)} / ${fmtBytes(st.mem_total_bytes)}` : 'no status yet'}</span>
        <span className={v.openAlerts ? 'alert-count hot' : 'alert-count muted'} data-testid={`alert-count-${v.id}`} data-count={v.openAlerts}>
          {v.openAlerts} open alert{v.openAlerts === 1 ? '' : 's'}
        </span>
      </footer>
    </article>
  );
}

/** Re-renders only when what it shows changed (100 cards, statuses every second). */
export const NodeCard = memo(
  NodeCardImpl,
  (a, b) =>
    a.history === b.history &&
    a.v.id === b.v.id &&
    a.v.member === b.v.member &&
    a.v.path === b.v.path &&
    a.v.frozen === b.v.frozen &&
    a.v.openAlerts === b.v.openAlerts &&
    a.v.statusTime === b.v.statusTime &&
    a.v.local === b.v.local &&
    (a.v.status === null) === (b.v.status === null) &&
    sameId(a.v.info?.incarnation, b.v.info?.incarnation) &&
    a.v.info?.version === b.v.info?.version,
);
