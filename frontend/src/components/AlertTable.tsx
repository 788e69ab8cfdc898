import { memo, useState } from 'react';
import { describeError, postCommand } from '../lib/api';
import { fmtDateTime } from '../lib/format';
import { useStoreApi } from '../lib/hooks';
import type { Alert } from '../lib/types';
import { StateBadge } from './Badges';

const ORDER: Record<string, number> = { firing: 0, acknowledged: 1, resolved: 2 };

export function sortAlerts(list: Alert[]): Alert[] {
  return list.slice().sort((a, b) => (ORDER[a.state] ?? 3) - (ORDER[b.state] ?? 3) || (b.fired_ms ?? 0) - (a.fired_ms ?? 0));
}

/**
 * What the Alerts page adds to a row: the silence holding it (its id), a
 * link to its story, and a "Silence" button (for the alerts a silence
 * added here can hold: this node's open ones).
 */
export interface AlertRowExtras {
  silenceId?: string;
  storyHref?: string;
  selected?: boolean;
  onSilence?: () => void;
}

const AlertRow = memo(function AlertRow({ a, canWrite, frozen, extras }: { a: Alert; canWrite: boolean; frozen: boolean; extras?: AlertRowExtras }) {
  const store = useStoreApi();
  const [msg, setMsg] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ack = async () => {
    setBusy(true);
    setMsg('acknowledging…');
    try {
      const rec = await postCommand({ target: a.node, type: 'ack_alert', args: { alert_id: a.alert_id } });
      store.dispatch({ type: 'command', command: rec });
      setMsg('ack sent');
    } catch (e) {
      setMsg(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const value = a.threshold || a.value ? `${+a.value.toFixed(2)} (threshold ${+a.threshold.toFixed(2)})` : '';
  return (
    <tr
      data-testid={`alert-row-${a.node}-${a.alert_id}`}
      data-state={a.state}
      data-silenced={extras?.silenceId ? 'true' : undefined}
      className={`alert-${a.state}${extras?.selected ? ' selected' : ''}`}
    >
      <td>
        <StateBadge state={a.state} testId={`alert-state-${a.node}-${a.alert_id}`} />
        {extras?.silenceId && (
          <div>
            <span className="badge st-silenced" data-testid={`alert-silenced-${a.node}-${a.alert_id}`} title={`notices held back by ${extras.silenceId}`}>
              silenced
            </span>
          </div>
        )}
      </td>
      <td>
        <span className={`badge sev-${a.severity}`}>{a.severity}</span>
      </td>
      <td className="mono">{a.node}</td>
      <td className="text">
        {extras?.storyHref ? (
          <a href={extras.storyHref} data-testid={`alert-open-${a.node}-${a.alert_id}`} title="this alert's story">
            <strong>{a.rule}</strong>
          </a>
        ) : (
          <strong>{a.rule}</strong>
        )}
        {a.subject ? <span className="muted"> · {a.subject}</span> : null}
        <div className="small">{a.message}</div>
      </td>
      <td className="small">{value}</td>
      <td className="small">
        fired {fmtDateTime(a.fired_ms)}
        {a.acked_ms ? <div>acked {fmtDateTime(a.acked_ms)}{a.acked_by ? ` by ${a.acked_by}` : ''}</div> : null}
        {a.resolved_ms ? <div>resolved {fmtDateTime(a.resolved_ms)}</div> : null}
      </td>
      <td className="actions">
        {canWrite && a.state === 'firing' && (
          <button
            type="button"
            className="primary"
            data-testid={`ack-${a.node}-${a.alert_id}`}
            disabled={busy || frozen}
            title={frozen ? 'the mesh is frozen: acks are refused until an unfreeze' : 'acknowledge'}
            onClick={() => void ack()}
          >
            Acknowledge
          </button>
        )}
        {canWrite && extras?.onSilence && a.state !== 'resolved' && !extras.silenceId && (
          <button type="button" data-testid={`silence-${a.node}-${a.alert_id}`} title="hold back this alert's notices for a while" onClick={extras.onSilence}>
            Silence
          </button>
        )}
        {msg && <div className="muted small" data-testid={`ack-message-${a.node}-${a.alert_id}`}>{msg}</div>}
      </td>
    </tr>
  );
});

/**
 * "Acknowledge N firing": one ack command per firing alert among those
 * shown (the page's filters pick them), a few at a time, each to the
 * alert's node; says how many were sent and the first refusal.
 */
export function AckShown({ alerts, frozen }: { alerts: Alert[]; frozen: boolean }) {
  const store = useStoreApi();
  const [msg, setMsg] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const firing = alerts.filter((a) => a.state === 'firing');
  if (firing.length === 0 && !msg) return null;
  const ackAll = async () => {
    setBusy(true);
    setMsg(`acknowledging ${firing.length}…`);
    let sent = 0;
    const refused: string[] = [];
    for (let i = 0; i < firing.length; i += 8) {
      await Promise.all(
        firing.slice(i, i + 8).map(async (a) => {
          try {
            const rec = await postCommand({ target: a.node, type: 'ack_alert', args: { alert_id: a.alert_id } });
            store.dispatch({ type: 'command', command: rec });
            sent++;
          } catch (e) {
            refused.push(`${a.node} ${a.alert_id}: ${describeError(e)}`);
          }
        }),
      );
    }
    setMsg(refused.length ? `${sent} acks sent, ${refused.length} refused (${refused[0]})` : `${sent} acks sent`);
    setBusy(false);
  };
  return (
    <span className="small">
      {firing.length > 0 && (
        <button
          type="button"
          data-testid="ack-shown"
          disabled={busy || frozen}
          title={frozen ? 'the mesh is frozen: acks are refused until an unfreeze' : 'acknowledge every firing alert shown'}
          onClick={() => void ackAll()}
        >
          Acknowledge {firing.length} firing
        </button>
      )}
      {msg && (
        <span className="muted" data-testid="ack-shown-message">
          {' '}
          {msg}
        </span>
      )}
    </span>
  );
}

export function AlertTable({
  alerts,
  canWrite,
  frozen,
  testId = 'alert-table',
  extras,
}: {
  alerts: Alert[];
  canWrite: boolean;
  frozen: boolean;
  testId?: string;
  /** The Alerts page's additions to an alert's row. */
  extras?: (a: Alert) => AlertRowExtras;
}) {
  if (alerts.length === 0) return <p className="muted">No alerts.</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>state</th>
            <th>severity</th>
            <th>node</th>
            <th>alert</th>
            <th>value</th>
            <th>when</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <AlertRow key={`${a.node}/${a.alert_id}`} a={a} canWrite={canWrite} frozen={frozen} extras={extras?.(a)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
