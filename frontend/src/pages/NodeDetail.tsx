import { useCallback, useMemo, useRef, useState } from 'react';
import { AlertTable, sortAlerts } from '../components/AlertTable';
import { MemberBadge } from '../components/Badges';
import { Chart } from '../components/Sparkline';
import { TaskTable } from '../components/TaskTable';
import { describeError } from '../lib/api';
import { fmtAgo, fmtBytes, fmtDuration, fmtPct, fmtRate, fmtRtt } from '../lib/format';
import { HISTORY_RANGES, getHistory, mergeHistory, rangeMs, samplesOfHistory, type HistoryRange } from '../lib/history';
import { go, useCanWrite, useFrozen, useNow, usePoll, useStore } from '../lib/hooks';
import { nodeViews } from '../lib/selectors';
import { taskTime, type Sample } from '../lib/store';
import type { Task } from '../lib/types';

const EMPTY: Sample[] = [];

const PeerCell = ({ peer }: { peer: string }) => (
  <td>
    <a href={`#/nodes/${encodeURIComponent(peer)}`} className="mono">
      {peer}
    </a>
  </td>
);

/** How often the page asks for the history again: the store keeps only
 * the last LIMITS.history live samples, so an open page would otherwise
 * lose those between its fetch and the oldest it still holds. */
const REFETCH_MS = 60_000;

/**
 * The node's own history for the range (GET /api/history, through the
 * mesh for another node), fetched when the page opens, when the range
 * changes and every REFETCH_MS, with the live samples appended.
 */
function useNodeHistory(id: string, range: HistoryRange, live: Sample[]) {
  const [fetched, setFetched] = useState<{ key: string; samples: Sample[]; resolution: string } | null>(null);
  const [failed, setFailed] = useState<{ key: string; error: string } | null>(null);
  const key = `${id} ${range}`;
  // An answer for a range left meanwhile is dropped (the key no longer
  // matches); one for the current key replaces the last.
  const current = useRef(key);
  current.current = key;
  const load = useCallback(async () => {
    const to = Date.now();
    try {
      const a = await getHistory(id, to - rangeMs(range), to);
      if (current.current !== key) return;
      setFetched({ key, samples: samplesOfHistory(a), resolution: a.resolution });
      setFailed(null);
    } catch (e) {
      if (current.current === key) setFailed({ key, error: describeError(e) });
    }
  }, [id, range, key]);
  usePoll(load, REFETCH_MS);
  const mine = fetched?.key === key ? fetched : null;
  const error = failed?.key === key ? failed.error : null;
  const samples = useMemo(() => mergeHistory(mine?.samples ?? [], live), [mine, live]);
  return { samples, resolution: mine?.resolution ?? null, loading: !mine && !error, error };
}

export function NodeDetail({ id }: { id: string }) {
  const cluster = useStore((s) => s.cluster);
  const latest = useStore((s) => s.latest);
  const alertsAll = useStore((s) => s.alerts);
  const tasksAll = useStore((s) => s.tasks);
  const live = useStore((s) => s.history[id] ?? EMPTY);
  const [range, setRange] = useState<HistoryRange>('1h');
  const hist = useNodeHistory(id, range, live);
  const history = hist.samples;
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const now = useNow(1000);
  const v = useMemo(() => nodeViews({ cluster, latest, alerts: alertsAll }).find((x) => x.id === id), [cluster, latest, alertsAll, id]);
  const tasks = useMemo(() => Object.values(tasksAll).filter((t) => t.node === id).sort((a, b) => taskTime(b) - taskTime(a)), [tasksAll, id]);
  const alerts = useMemo(() => sortAlerts(Object.values(alertsAll).filter((a) => a.node === id)), [alertsAll, id]);
  const series = useMemo(
    () => ({
      cpu: history.map((s) => s.cpu),
      mem: history.map((s) => s.mem),
      disk: history.map((s) => s.disk),
      rx: history.map((s) => s.rx),
      tx: history.map((s) => s.tx),
      load: history.map((s) => s.load),
    }),
    [history],
  );
  const onSelect = useCallback((t: Task) => go(`#/tasks/${encodeURIComponent(t.node)}/${encodeURIComponent(t.task_id)}`), []);

  if (!cluster) return <p className="muted">Waiting for the node's snapshot…</p>;
  if (!v)
    return (
      <p className="muted" data-testid={`node-detail-${id}`}>
        No node {id} is known here. <a href="#/nodes">All nodes</a>
      </p>
    );
  const st = v.status;
  const links = v.local
    ? cluster.local.links.map((l) => ({ peer: l.peer, state: l.state, rtt: l.rtt_ms, since: l.since_ms, extra: `${l.member}${l.direction ? `, ${l.direction}` : ''}${l.address ? `, ${l.address}` : ''}${l.last_error ? ` — ${l.last_error}` : ''}` }))
    : (st?.links ?? []).map((l) => ({ peer: l.peer, state: l.state, rtt: l.rtt_ms, since: l.since_ms, extra: '' }));
  // Known nodes it has no link to: under --max-links that is by design (it
  // reaches them through others), so they are "not linked", never "down".
  const linked = new Set(links.map((l) => l.peer));
  const views = nodeViews({ cluster, latest, alerts: alertsAll });
  const unlinked = views
    .filter((x) => x.id !== id && !linked.has(x.id))
    .map((x) => ({ peer: x.id, extra: v.local ? `${x.member}, ${x.path}` : '' }));

  return (
    <section data-testid={`node-detail-${id}`} className="node-detail">
      <div className="row wrap gap">
        <h2 className="mono">{id}</h2>
        <MemberBadge id={id} member={v.member} />
        <span className={`badge path-${v.path}`} data-testid="node-path">
          {v.path === 'local' ? 'this node' : v.path}
        </span>
        {v.frozen && <span className="badge frozen">frozen</span>}
        {st && <span className={`badge ${st.signal_reachable ? 'ok' : 'bad'}`}>signal {st.signal_reachable ? 'reachable' : 'unreachable'}</span>}
      </div>
      <div className="card kv">
        <div>
          <span className="muted">version</span> {v.info?.version ?? '–'}
        </div>
        <div>
          <span className="muted">addresses</span> {v.info?.addresses?.join(', ') || '–'}
        </div>
        <div>
          <span className="muted">labels</span>{' '}
          {Object.entries(v.info?.labels ?? {})
            .map(([k, x]) => `${k}=${x}`)
            .join(', ') || '–'}
        </div>
        <div>
          <span className="muted">host up</span> {fmtDuration(st?.uptime_s)} · <span className="muted">node up</span> {fmtDuration(st?.process_uptime_s)}
        </div>
        <div>
          <span className="muted">cpu</span> {fmtPct(st?.cpu_percent)} of {st?.cpu_count ?? '–'} · <span className="muted">load</span> {st?.load?.map((x) => x.toFixed(2)).join(' ') ?? '–'}
        </div>
        <div>
          <span className="muted">memory</span> {fmtBytes(st?.mem_used_bytes)} / {fmtBytes(st?.mem_total_bytes)} · <span className="muted">disk</span> {fmtBytes(st?.disk_used_bytes)} /{' '}
          {fmtBytes(st?.disk_total_bytes)}
        </div>
        <div>
          <span className="muted">last status</span> {fmtAgo(v.statusTime, now)}
        </div>
      </div>
      <div className="tabs history-bar" data-testid="history-ranges">
        {HISTORY_RANGES.map((r) => (
          <button
            key={r.key}
            type="button"
            className={r.key === range ? 'active' : ''}
            aria-pressed={r.key === range}
            data-testid={`history-range-${r.key}`}
            onClick={() => setRange(r.key)}
          >
            {r.label}
          </button>
        ))}
        <span className="small muted" data-testid="history-since" data-since-ms={history.length ? history[0].t : ''} data-points={history.length}>
          {hist.loading
            ? 'loading history…'
            : history.length
              ? `since ${new Date(history[0].t).toLocaleString()}${hist.resolution === 'minute' ? ', by the minute' : ''}`
              : 'no samples yet'}
        </span>
        {hist.error && (
          <span className="small error" data-testid="history-error">
            no stored history: {hist.error}
          </span>
        )}
      </div>
      <div className="charts">
        <Chart title="CPU" series={[{ name: 'cpu', values: series.cpu, color: '#58a6ff' }]} max={100} format={fmtPct} testId="chart-cpu" />
        <Chart title="Memory" series={[{ name: 'mem', values: series.mem, color: '#bc8cff' }]} max={100} format={fmtPct} testId="chart-mem" />
        <Chart title="Disk" series={[{ name: 'disk', values: series.disk, color: '#d29922' }]} max={100} format={fmtPct} testId="chart-disk" />
        <Chart
          title="Network"
          series={[
            { name: 'rx', values: series.rx, color: '#3fb950' },
            { name: 'tx', values: series.tx, color: '#39c5cf' },
          ]}
          format={fmtRate}
          testId="chart-net"
        />
        <Chart title="Load (1 min)" series={[{ name: 'load', values: series.load, color: '#f0883e' }]} format={(x) => x.toFixed(2)} testId="chart-load" />
      </div>
      <h3>Links</h3>
      <div className="table-wrap">
        <table className="table" data-testid="node-links">
          <thead>
            <tr>
              <th>peer</th>
              <th>state</th>
              <th>rtt</th>
              <th>since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {links.map((l) => (
              <tr key={l.peer} data-testid={`node-link-${id}-${l.peer}`} data-state={l.state}>
                <PeerCell peer={l.peer} />
                <td>
                  <span className={`badge link-${l.state}`}>{l.state}</span>
                </td>
                <td>{fmtRtt(l.rtt) || '–'}</td>
                <td className="small">{fmtAgo(l.since, now)}</td>
                <td className="small muted">{l.extra}</td>
              </tr>
            ))}
            {unlinked.map((l) => (
              <tr key={l.peer} data-testid={`node-link-${id}-${l.peer}`} data-state="none">
                <PeerCell peer={l.peer} />
                <td>
                  <span className="badge link-none" title="no direct link by design: reached through other nodes">
                    not linked
                  </span>
                </td>
                <td>–</td>
                <td className="small">–</td>
                <td className="small muted">{l.extra}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {links.length === 0 && <p className="muted">No links reported.</p>}
      <h3>Tasks</h3>
      <div className="scroll-x">
        <TaskTable tasks={tasks} selectedKey={null} canWrite={canWrite} onSelect={onSelect} now={now} limit={100} testId="node-tasks" />
      </div>
      <h3>Alerts</h3>
      <AlertTable alerts={alerts} canWrite={canWrite} frozen={frozen} testId="node-alerts" />
    </section>
  );
}
