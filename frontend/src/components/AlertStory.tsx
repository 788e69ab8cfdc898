import { useCallback, useState } from 'react';
import { describeError, getAlertEvents, getAlertNotices, getAuditOf } from '../lib/api';
import { alertStory, type StoryEntry } from '../lib/alertStory';
import { fmtDateTime } from '../lib/format';
import { usePoll } from '../lib/hooks';
import type { Alert } from '../lib/types';

// The audit actions that can concern an alert (alertStory.ts reads them).
const SILENCE_ACTIONS = ['silence.add', 'silence.delete'];
const ACTIONS = ['command.executed', 'command.refused', ...SILENCE_ACTIONS];

/**
 * One alert's story, from its node's alert events and audit records
 * (another node's audit comes over the mesh, so it can take a while or
 * fail; the events are here).  Reloaded every 10 s while open.
 */
export function AlertStory({
  alert,
  self,
  labels,
  closeHref,
  reloadKey = '',
}: {
  alert: Alert;
  /** The node serving the page: it tells of its own alerts' notices. */
  self: string | null;
  labels: Record<string, string>;
  closeHref: string;
  /** Changes when something the story tells may have changed (the silences here). */
  reloadKey?: string;
}) {
  const [story, setStory] = useState<StoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { node, alert_id: id } = alert;
  const load = useCallback(async () => {
    try {
      const since = (alert.fired_ms ?? 0) - 1000;
      const [events, notices, ...audits] = await Promise.all([
        getAlertEvents(node, since),
        node === self ? getAlertNotices(id) : Promise.resolve([]),
        ...ACTIONS.map((a) => getAuditOf(node, a)),
        // A silence is audited where it was added or removed: this node's too.
        ...(self && self !== node ? SILENCE_ACTIONS.map((a) => getAuditOf(self, a)) : []),
      ]);
      setStory(alertStory(alert, events, audits.flat(), labels, notices));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
    // A change of the alert (a new state) or of the silences reloads the story at once.
  }, [alert, self, labels, reloadKey]);
  usePoll(load, 10000);
  return (
    <div className="card" data-testid={`alert-story-${node}-${id}`}>
      <div className="row between">
        <h3>
          {alert.rule} on {node} <span className="muted small mono">{id}</span>
        </h3>
        <a href={closeHref} data-testid="alert-story-close">
          close
        </a>
      </div>
      {error && (
        <p className="error" data-testid="alert-story-error">
          {error}
        </p>
      )}
      {story === null ? (
        <p className="muted">loading…</p>
      ) : (
        <ol className="story" data-testid="alert-story">
          {story.map((e, i) => (
            <li key={i} className={`story-${e.kind}`} data-testid={`story-${e.kind}`}>
              <span className="muted small mono">{fmtDateTime(e.time_ms)}</span> <span className={`badge story-kind`}>{e.kind.replace('_', ' ')}</span>{' '}
              {e.text}
              {e.by && e.kind !== 'acknowledged' ? <span className="muted"> · by {e.by}</span> : null}
            </li>
          ))}
        </ol>
      )}
      {node !== self && <p className="muted small">What became of its notices is told by {node}'s own dashboard.</p>}
    </div>
  );
}
