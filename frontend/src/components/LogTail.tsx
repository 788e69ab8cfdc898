import { useEffect, useState } from 'react';
import { describeError, getTaskLogs } from '../lib/api';
import { fmtTime } from '../lib/format';
import { useStore, useStoreApi } from '../lib/hooks';
import { taskKey } from '../lib/store';
import type { LogLine } from '../lib/types';
import { VirtualList } from './VirtualList';

const NONE: LogLine[] = [];

/** A task's log: history over REST, then live `log` events from the store. */
export function LogTail({ node, taskId }: { node: string; taskId: string }) {
  const store = useStoreApi();
  const generation = useStore((s) => s.generation);
  const lines = useStore((s) => s.logs[taskKey(node, taskId)] ?? NONE);
  const [state, setState] = useState<{ loading: boolean; error: string | null }>({ loading: true, error: null });

  useEffect(() => {
    let live = true;
    setState({ loading: true, error: null });
    getTaskLogs(node, taskId).then(
      (hist) => {
        if (!live) return;
        store.dispatch({ type: 'logs', node, task_id: taskId, lines: hist });
        setState({ loading: false, error: null });
      },
      (e) => live && setState({ loading: false, error: describeError(e) }),
    );
    return () => {
      live = false;
    };
  }, [node, taskId, generation, store]);

  return (
    <div className="card log-tail" data-testid="log-tail" data-task={`${node}/${taskId}`}>
      <div className="row between">
        <h3>
          Log of <span className="mono">{taskId}</span> on {node}
        </h3>
        <span className="muted small" data-testid="log-count">
          {state.loading ? 'loading…' : `${lines.length} lines`}
          {state.error ? ` · ${state.error}` : ''}
        </span>
      </div>
      <VirtualList
        items={lines}
        rowHeight={18}
        height={320}
        follow
        className="log"
        render={(l) => (
          <div className={`log-line ${l.stream}`} data-testid="log-line" data-seq={l.line_seq} data-stream={l.stream}>
            <span className="log-time">{fmtTime(l.time_ms)}</span>
            <span className="log-text">
              {l.continued ? '↪ ' : ''}
              {l.text}
              {l.dropped > 0 ? <em className="muted"> [{l.dropped} lines dropped]</em> : null}
            </span>
          </div>
        )}
      />
    </div>
  );
}
