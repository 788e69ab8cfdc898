// One service (GET /api/services/NAME): its instances on every node with
// their actions, and what only the node serving this dashboard knows of
// its own instance: the definition, the health checks with their last
// probe and history, and the current run's log (a task run on the node);
// between them the service's rollouts (RolloutPanel).

import { useCallback, useState } from 'react';
import { StateBadge } from '../components/Badges';
import { ROLLOUT_POLL_MS, RolloutPanel } from '../components/RolloutPanel';
import { everywhere, useServiceActions } from '../components/ServiceActions';
import { logsHref, ServiceTable } from '../components/ServiceTable';
import { describeError, getService } from '../lib/api';
import { fmtAgo, fmtDateTime } from '../lib/format';
import { useCanWrite, useFrozen, useNow, usePoll, useStore } from '../lib/hooks';
import type { CheckResult, ServiceCheck, ServiceDetail as Detail } from '../lib/types';

function resultTitle(r: CheckResult): string {
  return `${fmtDateTime(r.at_ms)} · ${r.ok ? 'ok' : 'failed'} · ${r.ms.toFixed(1)} ms${r.output ? ` · ${r.output}` : ''}`;
}

function CheckRow({ c, now }: { c: ServiceCheck; now: number }) {
  return (
    <tr data-testid="svc-check" data-check={c.name} data-status={c.status}>
      <td>{c.name}</td>
      <td>{c.type}</td>
      <td>
        <StateBadge state={c.status} />
      </td>
      <td className="small" data-testid="svc-check-last">
        {c.last ? (
          <>
            <span className={c.last.ok ? 'ok-text' : 'error'}>{c.last.ok ? 'ok' : 'failed'}</span> · {c.last.ms.toFixed(1)} ms ·{' '}
            {fmtAgo(c.last.at_ms, now)}
            {c.last.output && <div className="mono details">{c.last.output}</div>}
          </>
        ) : (
          <span className="muted">not probed yet</span>
        )}
      </td>
      <td className="small">
        {c.consecutive_failures ? `${c.consecutive_failures} failing in a row` : c.consecutive_successes ? `${c.consecutive_successes} ok in a row` : ''}
      </td>
      <td>
        <span className="check-history" data-testid="svc-check-history" data-points={c.history.length}>
          {c.history.map((r, i) => (
            <i key={i} className={r.ok ? 'ok' : 'bad'} title={resultTitle(r)} />
          ))}
        </span>
      </td>
    </tr>
  );
}

/** This node's own instance: state, run, definition and checks. */
function Local({ d, self, now }: { d: Detail; self: string; now: number }) {
  if (!d.definition)
    return (
      <p className="muted" data-testid="svc-not-here">
        {self} does not run {d.name}: its definition and checks are on the nodes listed above (their dashboards, or{' '}
        <code>agentflow service show</code> there).
      </p>
    );
  const logs = d.node && d.task_id ? logsHref({ node: d.node, task_id: d.task_id }) : null;
  const checks = d.checks ?? [];
  return (
    <div data-testid="svc-local">
      <dl className="facts">
        <dt>state</dt>
        <dd>
          <StateBadge state={d.state ?? 'stopped'} testId="svc-local-state" /> <span className="muted">desired {d.desired}</span>
        </dd>
        <dt>version</dt>
        <dd className="mono">{d.version ?? '–'}</dd>
        <dt>current run</dt>
        <dd>
          {logs ? (
            <a href={logs} data-testid="svc-local-logs">
              task {d.task_id}: its log
            </a>
          ) : (
            <span className="muted">no process</span>
          )}
        </dd>
        {d.reason && (
          <>
            <dt>reason</dt>
            <dd>{d.reason}</dd>
          </>
        )}
      </dl>
      <h4>Checks</h4>
      {checks.length === 0 ? (
        <p className="muted small">No health checks: the state is running while the process is up.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="svc-checks">
            <thead>
              <tr>
                <th>check</th>
                <th>type</th>
                <th>status</th>
                <th>last probe</th>
                <th>streak</th>
                <th>history (oldest first)</th>
              </tr>
            </thead>
            <tbody>
              {checks.map((c) => (
                <CheckRow key={c.name} c={c} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h4>Definition</h4>
      <pre className="mono small card" data-testid="svc-definition">
        {JSON.stringify(d.definition, null, 2)}
      </pre>
    </div>
  );
}

export function ServiceDetail({ name, pollMs }: { name: string; pollMs: number }) {
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const now = useNow(1000);
  const self = useStore((s) => s.hello?.node ?? 'this node');
  const [d, setD] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setD(await getService(name));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [name]);
  usePoll(load, pollMs);
  const { act, ask, panel } = useServiceActions(() => void load());

  return (
    <section data-testid="service-page" data-name={name}>
      <p>
        <a href="#/services">← all services</a>
      </p>
      <h2>{name}</h2>
      {error && (
        <p className="error" data-testid="svc-error" role="alert">
          {error}
        </p>
      )}
      {canWrite && d && (
        <div className="row wrap gap filters">
          <button type="button" className="danger" onClick={() => ask(everywhere([name], 'stop'))} data-testid="svc-stop-all">
            Stop everywhere…
          </button>
        </div>
      )}
      {panel}
      {d && (
        <>
          <h3>On every node</h3>
          {d.instances.length === 0 ? (
            <p className="muted">No node has told the mesh about {name} yet.</p>
          ) : (
            <ServiceTable rows={d.instances} now={now} canWrite={canWrite} frozen={frozen} onAct={act} testId="svc-instances" />
          )}
          <RolloutPanel service={name} definition={d.definition} pollMs={Math.min(pollMs, ROLLOUT_POLL_MS)} />
          <h3>On {d.node ?? self} (this node)</h3>
          <Local d={d} self={self} now={now} />
        </>
      )}
    </section>
  );
}
