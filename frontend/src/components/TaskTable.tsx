import { memo, useState } from 'react';
import { describeError, postCommand } from '../lib/api';
import { fmtDuration, fmtTime } from '../lib/format';
import { useStoreApi } from '../lib/hooks';
import type { Task } from '../lib/types';
import { StateBadge } from './Badges';

const ACTIVE = new Set(['queued', 'running', 'retrying']);

interface RowProps {
  t: Task;
  selected: boolean;
  canWrite: boolean;
  onSelect: (t: Task) => void;
  now: number;
}

const TaskRow = memo(function TaskRow({ t, selected, canWrite, onSelect, now }: RowProps) {
  const store = useStoreApi();
  const [msg, setMsg] = useState<string | null>(null);
  const cancel = async (hard: boolean) => {
    setMsg(hard ? 'killing…' : 'cancelling…');
    try {
      const rec = await postCommand({ target: t.node, type: 'cancel_task', args: { task_id: t.task_id, hard } });
      store.dispatch({ type: 'command', command: rec });
      setMsg(hard ? 'kill sent' : 'cancel sent');
    } catch (e) {
      setMsg(describeError(e));
    }
  };
  const end = t.finished_ms ?? (t.started_ms ? now : null);
  const dur = t.started_ms && end ? (end - t.started_ms) / 1000 : null;
  const outcome =
    t.state === 'succeeded' || t.state === 'failed'
      ? `exit ${t.exit_code}${t.term_signal ? ` (signal ${t.term_signal})` : ''}`
      : t.state === 'retrying' && t.next_retry_ms
        ? `retry at ${fmtTime(t.next_retry_ms)}`
        : '';
  return (
    <tr
      data-testid={`task-row-${t.node}-${t.task_id}`}
      data-state={t.state}
      className={selected ? 'selected' : ''}
      onClick={() => onSelect(t)}
    >
      <td className="mono">{t.node}</td>
      <td>{t.name}</td>
      <td className="mono small">{t.task_id}</td>
      <td>
        <StateBadge state={t.state} testId={`task-state-${t.node}-${t.task_id}`} />
      </td>
      <td className="small">
        {t.attempt}/{t.max_attempts || 1}
      </td>
      <td className="small">{fmtTime(t.started_ms ?? t.queued_ms)}</td>
      <td className="small">{dur != null ? fmtDuration(dur) : '–'}</td>
      <td className="small text" title={t.reason}>
        {[outcome, t.reason].filter(Boolean).join(' · ')}
      </td>
      <td onClick={(e) => e.stopPropagation()} className="actions">
        {canWrite && ACTIVE.has(t.state) && (
          <>
            <button type="button" data-testid={`cancel-${t.node}-${t.task_id}`} onClick={() => void cancel(false)} title="SIGTERM, then SIGKILL after 5 s">
              Cancel
            </button>
            <button type="button" className="danger" data-testid={`cancel-hard-${t.node}-${t.task_id}`} onClick={() => void cancel(true)} title="SIGKILL now">
              Kill
            </button>
          </>
        )}
        {msg && <span className="muted small"> {msg}</span>}
      </td>
    </tr>
  );
});

interface Props {
  tasks: Task[];
  selectedKey: string | null;
  canWrite: boolean;
  onSelect: (t: Task) => void;
  now: number;
  limit?: number;
  testId?: string;
}

export function TaskTable({ tasks, selectedKey, canWrite, onSelect, now, limit = 300, testId = 'task-table' }: Props) {
  const shown = tasks.slice(0, limit);
  return (
    <>
      <div className="table-wrap">
        <table className="table" data-testid={testId}>
          <thead>
            <tr>
              <th>node</th>
              <th>task</th>
              <th>id</th>
              <th>state</th>
              <th>attempt</th>
              <th>started</th>
              <th>duration</th>
              <th>outcome</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <TaskRow
                key={`${t.node}/${t.task_id}`}
                t={t}
                selected={selectedKey === `${t.node}/${t.task_id}`}
                canWrite={canWrite}
                onSelect={onSelect}
                now={ACTIVE.has(t.state) ? now : 0}
              />
            ))}
          </tbody>
        </table>
      </div>
      {tasks.length === 0 && <p className="muted">No tasks.</p>}
      {tasks.length > limit && (
        <p className="muted small" data-testid="tasks-truncated">
          showing the newest {limit} of {tasks.length}; narrow the filters to see others
        </p>
      )}
    </>
  );
}
