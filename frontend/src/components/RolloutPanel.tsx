// A service's rollouts (GET /api/rollouts?service=NAME, polled about once
// a second): each one's state, who started it and when, how many of its
// nodes are healthy, and every node in rollout order with its version
// and the one it replaces.  A write token pauses, resumes and (after a
// confirmation) aborts a live rollout, and starts a new one from a
// definition, this node's current one to begin with.

import { useCallback, useEffect, useState } from 'react';
import { getRollouts, rolloutAction, startRollout, type RolloutAction } from '../lib/api';
import { fmtAgo, fmtDateTime, fmtDuration } from '../lib/format';
import { useCanWrite, useFrozen, useNow, usePoll } from '../lib/hooks';
import { buildRollout, describeRolloutError, LIMITS, LIVE_ROLLOUT, newestFirst, progress, type RolloutFormValues } from '../lib/rollouts';
import type { Rollout, RolloutNode } from '../lib/types';
import { StateBadge } from './Badges';
import { ConfirmDialog } from './ConfirmDialog';

/** How often the list is read (ms): a rollout moves node by node. */
export const ROLLOUT_POLL_MS = 1000;
/** Rollouts shown, newest first. */
export const ROLLOUTS_SHOWN = 5;

const pretty = (d: Record<string, unknown> | null | undefined) => (d ? JSON.stringify(d, null, 2) : '');

function took(from: number | null, to: number | null, now: number): string {
  if (!from) return '';
  return fmtDuration(((to ?? now) - from) / 1000);
}

/** `end`: when a node that never finished stopped counting (the rollout's end, or now while it is live). */
function NodeRow({ n, end }: { n: RolloutNode; end: number }) {
  return (
    <tr data-testid="rollout-node" data-node={n.node} data-state={n.state}>
      <td className="mono">{n.node}</td>
      <td>
        <StateBadge state={n.state} />
      </td>
      <td className="mono">{n.version ?? '–'}</td>
      <td className="mono">{n.previous_version ?? '–'}</td>
      <td className="small">{took(n.started_ms, n.finished_ms, end)}</td>
      <td className="small details">{n.reason ?? ''}</td>
    </tr>
  );
}

interface ItemProps {
  r: Rollout;
  now: number;
  canWrite: boolean;
  frozen: boolean;
  busy: boolean;
  onAct: (r: Rollout, a: RolloutAction) => void;
  onAbort: (r: Rollout) => void;
}

function RolloutItem({ r, now, canWrite, frozen, busy, onAct, onAbort }: ItemProps) {
  const p = progress(r);
  const live = LIVE_ROLLOUT.has(r.state);
  return (
    <div className={`card rollout${live ? ' live' : ''}`} data-testid="rollout" data-state={r.state} data-id={r.id}>
      <div className="row wrap gap">
        <StateBadge state={r.state} testId="rollout-state" />
        <span className="mono small">{r.id}</span>
        <span className="small" data-testid="rollout-who">
          by {r.principal || '?'} · {fmtDateTime(r.created_ms)} ({fmtAgo(r.created_ms, now)})
          {r.finished_ms ? ` · ended after ${took(r.created_ms, r.finished_ms, now)}` : ''}
        </span>
        <span className="small" data-testid="rollout-progress" data-healthy={p.healthy} data-total={p.total}>
          {p.text}
        </span>
        <span className="rollout-bar" aria-hidden="true">
          <i style={{ width: `${p.total ? (100 * p.healthy) / p.total : 0}%` }} />
        </span>
        {canWrite && live && (
          <span className="row gap-s">
            {r.state === 'running' && (
              <button type="button" disabled={busy} onClick={() => onAct(r, 'pause')} data-testid="rollout-pause" title="no further node is started until it is resumed">
                Pause
              </button>
            )}
            {r.state === 'paused' && (
              <button
                type="button"
                disabled={busy || frozen}
                onClick={() => onAct(r, 'resume')}
                data-testid="rollout-resume"
                title={frozen ? 'the mesh is frozen: nothing is rolled out' : 'go on with the next nodes'}
              >
                Resume
              </button>
            )}
            <button type="button" className="danger" disabled={busy} onClick={() => onAbort(r)} data-testid="rollout-abort">
              Abort…
            </button>
          </span>
        )}
      </div>
      {r.reason && (
        <p className={`small${r.state === 'failed' ? ' error' : ''}`} data-testid="rollout-reason">
          {r.reason}
        </p>
      )}
      <p className="muted small">
        at most {r.max_parallel} node{r.max_parallel === 1 ? '' : 's'} at a time · each healthy within {r.deadline_s} s and for {r.min_healthy_s} s
      </p>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>node</th>
              <th>state</th>
              <th>version</th>
              <th>previous version</th>
              <th>took</th>
              <th>reason</th>
            </tr>
          </thead>
          <tbody>
            {r.nodes.map((n) => (
              <NodeRow key={n.node} n={n} end={live ? now : (r.finished_ms ?? r.updated_ms)} />
            ))}
          </tbody>
        </table>
      </div>
      <details>
        <summary className="small muted">definition rolled out</summary>
        <pre className="mono small">{pretty(r.definition)}</pre>
      </details>
    </div>
  );
}

interface FormProps {
  service: string;
  definition: Record<string, unknown> | null;
  frozen: boolean;
  onStarted: (r: Rollout) => void;
}

function RolloutForm({ service, definition, frozen, onStarted }: FormProps) {
  const current = pretty(definition);
  const [f, setF] = useState<RolloutFormValues>(() => ({
    definition: current,
    target: 'all',
    max_parallel: String(LIMITS.max_parallel.def),
    deadline_s: String(LIMITS.deadline_s.def),
    min_healthy_s: String(LIMITS.min_healthy_s.def),
  }));
  const [errors, setErrors] = useState<string[]>([]);
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);
  const [sending, setSending] = useState(false);
  // Until the user edits it, the textarea follows this node's definition
  // (it changes when a rollout reaches this node).
  const [edited, setEdited] = useState(false);
  useEffect(() => {
    if (!edited) setF((was) => (was.definition === current ? was : { ...was, definition: current }));
  }, [current, edited]);

  const set = (k: keyof RolloutFormValues) => (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    const v = e.target.value;
    if (k === 'definition') setEdited(true);
    setF((was) => ({ ...was, [k]: v }));
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setMsg(null);
    const got = buildRollout(service, f);
    if ('errors' in got) {
      setErrors(got.errors);
      return;
    }
    setErrors([]);
    setSending(true);
    try {
      const r = await startRollout(got.body);
      setMsg({ text: `rollout ${r.id} started: ${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}`, error: false });
      onStarted(r);
    } catch (err) {
      setMsg({
        text: `not started — ${describeRolloutError(err, `${service} already has a rollout in progress: wait for it to end or abort it`)}`,
        error: true,
      });
    } finally {
      setSending(false);
    }
  };

  return (
    <details className="card">
      <summary>Roll out a new version</summary>
      <form className="rollout-form" onSubmit={(e) => void submit(e)} data-testid="rollout-form" noValidate>
        <label>
          definition (JSON){definition ? '' : ' — this node does not run it: paste one'}
          <textarea
            className="mono"
            rows={Math.min(24, Math.max(6, f.definition.split('\n').length + 1))}
            value={f.definition}
            onChange={set('definition')}
            spellCheck={false}
            data-testid="rollout-definition"
          />
        </label>
        <div className="row wrap gap">
          <label>
            target
            <input value={f.target} onChange={set('target')} placeholder="all, node-2, k=v,k2=v2 or node-1,node-3" data-testid="rollout-target" />
          </label>
          {(Object.keys(LIMITS) as (keyof typeof LIMITS)[]).map((k) => (
            <label key={k}>
              {LIMITS[k].what}
              <input
                type="number"
                min={LIMITS[k].min}
                max={LIMITS[k].max}
                value={f[k]}
                onChange={set(k)}
                data-testid={`rollout-${k.replace(/_/g, '-')}`}
              />
            </label>
          ))}
        </div>
        <p className="muted small">
          Target: <code>all</code>, a node, labels <code>k=v,k2=v2</code>, or nodes <code>node-1,node-3</code> (sent as their list).
          Nodes are updated at most max parallel at a time; each must be healthy within the deadline and stay so for min healthy
          seconds, or the rollout fails.
        </p>
        <div className="row wrap gap">
          <button type="submit" className="primary" disabled={sending || frozen} data-testid="rollout-submit" title={frozen ? 'the mesh is frozen: nothing is rolled out' : undefined}>
            {sending ? 'Starting…' : 'Start rollout'}
          </button>
          {definition && edited && (
            <button
              type="button"
              className="link"
              onClick={() => setEdited(false)}
              data-testid="rollout-reset"
            >
              back to this node's definition
            </button>
          )}
        </div>
        {errors.length > 0 && (
          <ul className="error small" data-testid="rollout-form-error" role="alert">
            {errors.map((x) => (
              <li key={x}>{x}</li>
            ))}
          </ul>
        )}
        {msg && (
          <p className={msg.error ? 'error small' : 'small'} data-testid="rollout-form-msg" role={msg.error ? 'alert' : undefined}>
            {msg.text}
          </p>
        )}
      </form>
    </details>
  );
}

interface Props {
  service: string;
  /** This node's definition of the service (the form starts from it); null when it does not run it. */
  definition: Record<string, unknown> | null;
  pollMs?: number;
}

export function RolloutPanel({ service, definition, pollMs = ROLLOUT_POLL_MS }: Props) {
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const now = useNow(1000);
  const [rollouts, setRollouts] = useState<Rollout[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [abort, setAbort] = useState<Rollout | null>(null);

  const load = useCallback(async () => {
    try {
      const rs = await getRollouts(service);
      setRollouts(newestFirst(rs.filter((r) => r.service === service)));
      setError(null);
    } catch (e) {
      setError(describeRolloutError(e, 'conflict'));
    }
  }, [service]);
  usePoll(load, pollMs);

  /** An answer's rollout in place of the one the list had (or first, when new). */
  const put = useCallback((r: Rollout) => {
    setRollouts((rs) => newestFirst([r, ...(rs ?? []).filter((x) => x.id !== r.id)]));
  }, []);

  const act = useCallback(
    async (r: Rollout, a: RolloutAction) => {
      setAbort(null);
      setBusy(r.id);
      setMsg({ text: `${a} ${r.id}: sending…`, error: false });
      try {
        const got = await rolloutAction(r.id, a);
        put(got);
        // An abort ends the rollout once the nodes under way are back.
        const text =
          a === 'abort' && got.state !== 'aborted'
            ? `abort ${r.id}: taken — nodes under way are going back to their previous version`
            : `${a} ${r.id}: done, the rollout is ${got.state}`;
        setMsg({ text, error: false });
      } catch (e) {
        setMsg({ text: `${a} ${r.id} refused — ${describeRolloutError(e, `its state no longer allows ${a}`)}`, error: true });
      } finally {
        setBusy(null);
      }
      void load();
    },
    [load, put],
  );

  const cancelAbort = useCallback(() => setAbort(null), []);
  // The dialog tells the rollout's progress as the last poll read it.
  const aborting = abort && (rollouts?.find((x) => x.id === abort.id) ?? abort);

  const shown = (rollouts ?? []).slice(0, ROLLOUTS_SHOWN);
  const more = (rollouts?.length ?? 0) - shown.length;
  return (
    <section data-testid="rollout-panel" data-service={service}>
      <h3>Rollouts</h3>
      {error && (
        <p className="error small" data-testid="rollout-error" role="alert">
          rollouts: {error}
        </p>
      )}
      {canWrite && (
        <RolloutForm
          service={service}
          definition={definition}
          frozen={frozen}
          onStarted={(r) => {
            put(r);
            void load();
          }}
        />
      )}
      {msg && (
        <p className={msg.error ? 'error small' : 'small'} data-testid="rollout-msg" role={msg.error ? 'alert' : undefined}>
          {msg.text}
        </p>
      )}
      {rollouts === null ? (
        !error && <p className="muted small">loading…</p>
      ) : rollouts.length === 0 ? (
        <p className="muted small" data-testid="rollout-none">
          No rollout of {service} yet.
        </p>
      ) : (
        <>
          {shown.map((r) => (
            <RolloutItem
              key={r.id}
              r={r}
              now={now}
              canWrite={canWrite}
              frozen={frozen}
              busy={busy === r.id}
              onAct={(x, a) => void act(x, a)}
              onAbort={setAbort}
            />
          ))}
          {more > 0 && (
            <p className="muted small" data-testid="rollout-more">
              {more} older rollout{more === 1 ? '' : 's'} not shown.
            </p>
          )}
        </>
      )}
      {aborting && (
        <ConfirmDialog
          title={`Abort rollout ${aborting.id} of ${service}?`}
          body={`No further node is updated, and a node being updated now goes back to the version it had; nodes already healthy keep the new one. ${progress(aborting).text} now; each node's state stays listed below.`}
          confirmLabel="Abort rollout"
          danger
          onConfirm={() => void act(aborting, 'abort')}
          onCancel={cancelAbort}
        />
      )}
    </section>
  );
}
