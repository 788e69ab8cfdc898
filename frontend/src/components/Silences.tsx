import { useState } from 'react';
import { addSilence, deleteSilence, describeError } from '../lib/api';
import { describeMatchers } from '../lib/alertStory';
import { fmtDateTime } from '../lib/format';
import type { Alert, Silence } from '../lib/types';

/** The durations the form offers (the API takes 90s, 15m, 2h, 7d, up to 90 days). */
export const SILENCE_DURATIONS = ['15m', '1h', '2h', '8h', '1d', '7d'] as const;

/**
 * The mesh's active silences, each with the node it was added on; a write
 * token gets a Remove button on each (a read token sees the list only).
 */
export function SilenceList({ node, silences, canWrite, onChanged }: { node: string; silences: Silence[]; canWrite: boolean; onChanged: () => void }) {
  const [msg, setMsg] = useState<Record<string, string>>({});
  const remove = async (id: string) => {
    setMsg((m) => ({ ...m, [id]: 'removing…' }));
    try {
      await deleteSilence(id);
      onChanged();
    } catch (e) {
      setMsg((m) => ({ ...m, [id]: describeError(e) }));
    }
  };
  return (
    <div className="card" data-testid="silences">
      <h3>Silences of the mesh</h3>
      <p className="muted small">
        A silence holds back the notices of every node's alerts it matches, whichever node it was added on ({node} serves this page); the alerts
        still fire and are listed.
      </p>
      {silences.length === 0 ? (
        <p className="muted" data-testid="silences-none">
          No active silence.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="silence-table">
            <thead>
              <tr>
                <th>id</th>
                <th>added on</th>
                <th>matches</th>
                <th>ends</th>
                <th>by</th>
                <th>comment</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {silences.map((s) => (
                <tr key={s.id} data-testid={`silence-row-${s.id}`}>
                  <td className="mono">{s.id}</td>
                  <td className="mono" data-testid={`silence-node-${s.id}`}>{s.node ?? '–'}</td>
                  <td className="mono">{describeMatchers(s.matchers)}</td>
                  <td className="small">{fmtDateTime(s.ends_ms)}</td>
                  <td className="small">{s.created_by || '–'}</td>
                  <td className="small text">{s.comment}</td>
                  <td className="actions">
                    {canWrite && (
                      <button type="button" data-testid={`silence-remove-${s.id}`} onClick={() => void remove(s.id)}>
                        Remove
                      </button>
                    )}
                    {msg[s.id] && <div className="muted small">{msg[s.id]}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** "Silence" from an alert's row: its rule and node prefilled, a duration and a comment; the API's refusal shown as it words it. */
export function SilenceForm({ alert, onDone, onCancel }: { alert: Alert; onDone: () => void; onCancel: () => void }) {
  const [byRule, setByRule] = useState(true);
  const [byNode, setByNode] = useState(true);
  const [dur, setDur] = useState<string>('2h');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await addSilence({
        matchers: { ...(byRule ? { rule: alert.rule } : {}), ...(byNode ? { node: alert.node } : {}) },
        for: dur,
        ...(comment ? { comment } : {}),
      });
      onDone();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" data-testid="silence-form" onSubmit={(e) => void submit(e)}>
      <h3>Silence {alert.rule} on {alert.node}</h3>
      <div className="row wrap gap silence-fields">
        <label className="check">
          <input type="checkbox" checked={byRule} onChange={(e) => setByRule(e.target.checked)} data-testid="silence-by-rule" /> rule{' '}
          <span className="mono">{alert.rule}</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={byNode} onChange={(e) => setByNode(e.target.checked)} data-testid="silence-by-node" /> node{' '}
          <span className="mono">{alert.node}</span>
        </label>
        <label className="check">
          for{' '}
          <select value={dur} onChange={(e) => setDur(e.target.value)} data-testid="silence-for">
            {SILENCE_DURATIONS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <input
          className="grow"
          placeholder="comment (why, who is on it)"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          data-testid="silence-comment"
        />
      </div>
      <div className="row gap" style={{ marginTop: 8 }}>
        <button type="submit" className="primary" disabled={busy} data-testid="silence-submit">
          Silence
        </button>
        <button type="button" onClick={onCancel} data-testid="silence-cancel">
          Cancel
        </button>
        {error && (
          <span className="error" data-testid="silence-error">
            {error}
          </span>
        )}
      </div>
    </form>
  );
}
