import { useCallback, useMemo, useState } from 'react';
import { RecentCommands } from '../components/CommandResults';
import { LogTail } from '../components/LogTail';
import { RunForm } from '../components/RunForm';
import { TaskTable } from '../components/TaskTable';
import { go, useCanWrite, useNow, useStore } from '../lib/hooks';
import { clusterNodeIds, taskTime } from '../lib/store';
import type { Task } from '../lib/types';

const STATES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'timed-out'];

export function Tasks({ param }: { param: string | null }) {
  const tasks = useStore((s) => s.tasks);
  const cluster = useStore((s) => s.cluster);
  const canWrite = useCanWrite();
  const now = useNow(1000);
  const [node, setNode] = useState('');
  const [state, setState] = useState('');
  const [name, setName] = useState('');

  const list = useMemo(() => {
    const n = name.trim().toLowerCase();
    return Object.values(tasks)
      .filter((t) => (!node || t.node === node) && (!state || t.state === state) && (!n || t.name.toLowerCase().includes(n) || t.task_id.includes(n)))
      .sort((a, b) => taskTime(b) - taskTime(a));
  }, [tasks, node, state, name]);

  const nodes = useMemo(() => {
    const s = new Set(clusterNodeIds(cluster));
    for (const k in tasks) s.add(tasks[k].node);
    return [...s].sort();
  }, [cluster, tasks]);

  const onSelect = useCallback((t: Task) => go(`#/tasks/${encodeURIComponent(t.node)}/${encodeURIComponent(t.task_id)}`), []);
  const sel = param && param.includes('/') ? { node: param.slice(0, param.indexOf('/')), id: param.slice(param.indexOf('/') + 1) } : null;

  return (
    <section data-testid="tasks-page">
      {canWrite ? <RunForm /> : null}
      <div className="row wrap gap filters">
        <select data-testid="task-filter-node" value={node} onChange={(e) => setNode(e.target.value)}>
          <option value="">all nodes</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <select data-testid="task-filter-state" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">any state</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <input data-testid="task-filter-name" placeholder="name or id" value={name} onChange={(e) => setName(e.target.value)} />
        <span className="muted small" data-testid="task-count">
          {list.length} task{list.length === 1 ? '' : 's'}
        </span>
      </div>
      <div className={sel ? 'split' : ''}>
        <div className="scroll-x">
          <TaskTable tasks={list} selectedKey={sel ? `${sel.node}/${sel.id}` : null} canWrite={canWrite} onSelect={onSelect} now={now} />
        </div>
        {sel && (
          <div>
            <div className="row end">
              <button type="button" className="link" onClick={() => go('#/tasks')} data-testid="log-close">
                close log
              </button>
            </div>
            <LogTail key={`${sel.node}/${sel.id}`} node={sel.node} taskId={sel.id} />
          </div>
        )}
      </div>
      {canWrite && <RecentCommands />}
    </section>
  );
}
