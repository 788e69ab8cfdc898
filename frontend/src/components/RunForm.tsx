import { useEffect, useState } from 'react';
import { describeError, getDefinitions, postCommand } from '../lib/api';
import { useFrozen, useStore, useStoreApi } from '../lib/hooks';
import { clusterNodeIds } from '../lib/store';
import { CommandById } from './CommandResults';

/** "role=storage,zone=a" → a label selector; anything else is not one. */
export function isSelector(s: string): boolean {
  return /^[^=,\s]+=[^=,\s]*(,[^=,\s]+=[^=,\s]*)*$/.test(s.trim());
}

/** Shell-like split: whitespace separates, quotes group. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

export function RunForm() {
  const store = useStoreApi();
  const cluster = useStore((s) => s.cluster);
  const frozen = useFrozen();
  const [names, setNames] = useState<string[]>([]);
  const [task, setTask] = useState('');
  const [target, setTarget] = useState('');
  const [selector, setSelector] = useState('');
  const [args, setArgs] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lastId, setLastId] = useState<string | null>(null);

  useEffect(() => {
    getDefinitions().then(
      (d) => {
        const n = (d.tasks ?? []).map((t) => t.name).sort();
        setNames(n);
        setTask((cur) => cur || n[0] || '');
      },
      () => setNames([]),
    );
  }, []);

  const nodes = clusterNodeIds(cluster);
  const effTarget = target === '' ? (nodes[0] ?? '') : target;
  const finalTarget = effTarget === '__selector' ? selector.trim() : effTarget;
  const targetOk = effTarget === '__selector' ? isSelector(selector) : !!finalTarget;

  const submit = async () => {
    setError(null);
    setBusy(true);
    try {
      const a = splitArgs(args);
      const rec = await postCommand({
        target: finalTarget,
        type: 'run_task',
        args: a.length ? { task: task.trim(), args: a } : { task: task.trim() },
      });
      store.dispatch({ type: 'command', command: rec });
      setLastId(rec.id);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="card run-form"
      data-testid="run-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3>Run a task</h3>
      <div className="row wrap gap">
        <label>
          Task
          <input data-testid="run-task" list="task-names" value={task} onChange={(e) => setTask(e.target.value)} placeholder="task name" required />
          <datalist id="task-names">
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </label>
        <label>
          On
          <select data-testid="run-target" value={effTarget} onChange={(e) => setTarget(e.target.value)}>
            {nodes.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
            <option value="all">all nodes</option>
            <option value="__selector">label selector…</option>
          </select>
        </label>
        {effTarget === '__selector' && (
          <label>
            Selector
            <input data-testid="run-selector" value={selector} onChange={(e) => setSelector(e.target.value)} placeholder="role=storage" />
          </label>
        )}
        <label className="grow">
          Arguments
          <input data-testid="run-args" value={args} onChange={(e) => setArgs(e.target.value)} placeholder='optional, e.g. --dry-run "two words"' />
        </label>
        <button className="primary" type="submit" data-testid="run-submit" disabled={busy || frozen || !task.trim() || !targetOk}>
          Run
        </button>
      </div>
      {frozen && <p className="muted small">The mesh is frozen: task runs are refused until an unfreeze.</p>}
      {error && (
        <p className="error" data-testid="run-error" role="alert">
          {error}
        </p>
      )}
      {lastId && (
        <div data-testid="run-result">
          <CommandById id={lastId} />
        </div>
      )}
    </form>
  );
}
