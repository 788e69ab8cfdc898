// Services as rows: node, name, desired and actual state, process, uptime,
// reason, endpoints and the run's log.  Unhealthy, failed and backing-off
// rows stand out.  With a write token each row has its actions, and the
// list page adds a checkbox per row for bulk actions.

import { memo } from 'react';
import type { ServiceAction } from '../lib/api';
import { endpointText, fmtIn, lastExitText, serviceKey, TROUBLE, uptime } from '../lib/services';
import type { Service } from '../lib/types';
import { StateBadge } from './Badges';

/** The actions that mean something for a row (the node takes any of them). */
export function rowActions(s: Service): ServiceAction[] {
  const out: ServiceAction[] = [];
  if (s.desired !== 'running' || s.state === 'failed') out.push('start');
  if (s.desired === 'running' || s.state !== 'stopped') out.push('stop');
  if (s.desired === 'running') out.push('restart');
  return out;
}

/** The log of a service's current run: a task run on its node. */
export function logsHref(s: Pick<Service, 'node' | 'task_id'>): string | null {
  return s.task_id ? `#/tasks/${encodeURIComponent(s.node)}/${encodeURIComponent(s.task_id)}` : null;
}

interface RowProps {
  s: Service;
  now: number;
  canWrite: boolean;
  frozen: boolean;
  selected?: boolean;
  onSelect?: (key: string, on: boolean) => void;
  onAct: (s: Service, a: ServiceAction) => void;
}

const Row = memo(function Row({ s, now, canWrite, frozen, selected, onSelect, onAct }: RowProps) {
  const id = `${s.node}-${s.name}`;
  const logs = logsHref(s);
  return (
    <tr
      data-testid="svc-row"
      data-node={s.node}
      data-name={s.name}
      data-state={s.state}
      data-desired={s.desired}
      className={`${TROUBLE.has(s.state) ? `svc-trouble svc-${s.state}` : ''}${selected ? ' selected' : ''}`}
    >
      {onSelect && (
        <td>
          <input
            type="checkbox"
            aria-label={`select ${s.name} on ${s.node}`}
            checked={!!selected}
            onChange={(e) => onSelect(serviceKey(s), e.target.checked)}
            data-testid={`svc-select-${id}`}
          />
        </td>
      )}
      <td className="mono">{s.node}</td>
      <td>
        <a href={`#/services/${encodeURIComponent(s.name)}`}>{s.name}</a>
      </td>
      <td>
        <span className={`badge want-${s.desired}`} data-testid={`svc-desired-${id}`}>
          {s.desired}
        </span>
      </td>
      <td>
        <StateBadge state={s.state} testId={`svc-state-${id}`} />
        {s.state === 'backing-off' && s.next_attempt_ms ? (
          <span className="small" data-testid={`svc-next-${id}`} title="the next start">
            {' '}
            {fmtIn(s.next_attempt_ms, now)}
          </span>
        ) : null}
      </td>
      <td className="mono">{s.pid ?? ''}</td>
      <td>{s.restarts}</td>
      <td data-testid={`svc-uptime-${id}`}>{uptime(s, now)}</td>
      <td className="small">{lastExitText(s.last_exit)}</td>
      <td className="small details">{s.reason ?? ''}</td>
      <td className="small">
        {(s.endpoints ?? []).map((e) => (
          <div key={`${e.name}-${e.port}`} className="mono">
            {endpointText(e)}
          </div>
        ))}
      </td>
      <td>
        {logs && (
          <a href={logs} data-testid={`svc-logs-${id}`} title={`task ${s.task_id}`}>
            logs
          </a>
        )}
      </td>
      {canWrite && (
        <td className="actions">
          {rowActions(s).map((a) => (
            <button
              key={a}
              type="button"
              className={a === 'stop' ? 'danger' : ''}
              disabled={frozen && a !== 'stop'}
              title={frozen && a !== 'stop' ? 'the mesh is frozen: only stop is taken' : `${a} ${s.name} on ${s.node}`}
              onClick={() => onAct(s, a)}
              data-testid={`svc-${a}-${id}`}
            >
              {a}
            </button>
          ))}
        </td>
      )}
    </tr>
  );
});

interface Props {
  rows: Service[];
  now: number;
  canWrite: boolean;
  frozen: boolean;
  /** Keys (serviceKey) of the selected rows; no checkboxes without it. */
  selected?: Set<string>;
  onSelect?: (key: string, on: boolean) => void;
  onSelectAll?: (on: boolean) => void;
  onAct: (s: Service, a: ServiceAction) => void;
  testId?: string;
}

export function ServiceTable({ rows, now, canWrite, frozen, selected, onSelect, onSelectAll, onAct, testId = 'svc-table' }: Props) {
  const selectable = canWrite && !!selected && !!onSelect;
  const all = selectable && rows.length > 0 && rows.every((s) => selected.has(serviceKey(s)));
  return (
    <div className="scroll-x">
      <div className="table-wrap">
        <table className="table" data-testid={testId}>
          <thead>
            <tr>
              {selectable && (
                <th>
                  <input type="checkbox" aria-label="select every row shown" checked={all} onChange={(e) => onSelectAll?.(e.target.checked)} data-testid="svc-select-all" />
                </th>
              )}
              <th>node</th>
              <th>service</th>
              <th>desired</th>
              <th>state</th>
              <th>pid</th>
              <th>restarts</th>
              <th>uptime</th>
              <th>last exit</th>
              <th>reason</th>
              <th>endpoints</th>
              <th>run</th>
              {canWrite && <th />}
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <Row
                key={serviceKey(s)}
                s={s}
                now={now}
                canWrite={canWrite}
                frozen={frozen}
                selected={selectable ? selected.has(serviceKey(s)) : undefined}
                onSelect={selectable ? onSelect : undefined}
                onAct={onAct}
              />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
