import { memo } from 'react';
import { targetText } from '../lib/commandRows';
import { fmtTime } from '../lib/format';
import { useStore } from '../lib/hooks';
import type { CommandRecord } from '../lib/types';

function bodyText(b: unknown): string {
  if (b == null) return '';
  // A service's answer is the service: its state, not its run's task id.
  if (typeof b === 'object' && 'desired' in b && 'state' in b) {
    const v = b as { name?: string; desired: string; state: string };
    return `${v.name ?? 'service'}: desired ${v.desired}, ${v.state}`;
  }
  if (typeof b === 'object' && b && 'task_id' in b) return `task ${(b as { task_id: string }).task_id}`;
  const s = typeof b === 'string' ? b : JSON.stringify(b);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

export const CommandView = memo(function CommandView({ c }: { c: CommandRecord }) {
  const results = c.results ?? [];
  const answered = new Set(results.map((r) => r.node));
  const waiting = (c.destinations ?? []).filter((d) => !answered.has(d));
  const args = c.args && Object.keys(c.args).length ? JSON.stringify(c.args) : '';
  return (
    <div className="command" data-testid={`command-${c.id}`} data-state={c.state}>
      <div className="row between small">
        <span>
          <strong>{c.type}</strong> → {targetText(c.target)} <span className="muted">{args}</span>
        </span>
        <span className="muted">
          {fmtTime(c.issued_ms)} · {c.state} · {results.length}/{c.destinations?.length ?? 0}
        </span>
      </div>
      <ul className="results">
        {results.map((r) => (
          <li key={r.node} data-testid={`command-result-${c.id}-${r.node}`} data-status={r.status}>
            <span className="mono">{r.node}</span> <span className={`badge res-${r.status}`}>{r.status}</span>{' '}
            <span className="muted small">
              {r.error ?? bodyText(r.body)}
              {r.rtt_ms != null ? ` · ${Math.round(r.rtt_ms)} ms` : ''}
              {r.path && r.path.length > 2 ? ` · via ${r.path.slice(1, -1).join(' → ')}` : ''}
            </span>
          </li>
        ))}
        {waiting.map((n) => (
          <li key={n} data-testid={`command-result-${c.id}-${n}`} data-status="pending">
            <span className="mono">{n}</span> <span className="badge res-pending">{c.state === 'pending' ? 'pending' : 'no answer'}</span>
          </li>
        ))}
      </ul>
    </div>
  );
});

export function CommandById({ id }: { id: string }) {
  const c = useStore((s) => s.commands[id]);
  return c ? <CommandView c={c} /> : null;
}

export function RecentCommands({ limit = 10 }: { limit?: number }) {
  const commands = useStore((s) => s.commands);
  const list = Object.values(commands)
    .sort((a, b) => (b.issued_ms ?? 0) - (a.issued_ms ?? 0))
    .slice(0, limit);
  return (
    <div className="card" data-testid="recent-commands">
      <h3>Recent commands (issued on this node)</h3>
      {list.length === 0 ? <p className="muted">none yet</p> : list.map((c) => <CommandView key={c.id} c={c} />)}
    </div>
  );
}
