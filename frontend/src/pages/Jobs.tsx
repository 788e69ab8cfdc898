// Durable jobs of the whole mesh: a list with filters (this node's jobs and
// every other issuer's, moved live by the /ws job events, lib/jobsLive.ts,
// with a slow poll behind), a submit form (write tokens), and a job's page
// with its whole story (the history the issuer records: submitted,
// dispatched with node and epoch, fenced, finished...), refreshed while it
// is open; on a node that did not issue the job, its summary and where
// the story is.

import { useCallback, useMemo, useState } from 'react';
import { StateBadge } from '../components/Badges';
import { cancelJob, describeError, getJob, getJobs, replayJob, submitJob } from '../lib/api';
import { fmtDateTime } from '../lib/format';
import { useCanWrite, usePoll, useStore } from '../lib/hooks';
import { jobKey, mergeJobs } from '../lib/jobsLive';
import type { Job, JobHistoryEntry } from '../lib/types';

const STATES = ['', 'queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'expired', 'lost'];
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired', 'lost']);
/** The final states a job may be replayed from (the API's rule). */
const REPLAYABLE = new Set(['failed', 'cancelled', 'expired', 'lost']);

/** A link to another job's page. */
function JobLink({ id, testId }: { id: string; testId?: string }) {
  return (
    <a href={`#/jobs/${encodeURIComponent(id)}`} className="mono" data-testid={testId}>
      {id}
    </a>
  );
}
/** The list's poll when events move it: a fallback (ms). */
const LIST_POLL_MIN_MS = 10000;
/** The fields of a history entry shown in its own columns. */
const COLUMNS = new Set(['time_ms', 'event', 'by', 'node', 'epoch', 'reason']);

function what(j: Job): string {
  return j.task ?? (j.command ? j.command.join(' ') : '?');
}

/** A history entry's other fields, as "k=v" text. */
export function entryDetails(e: JobHistoryEntry): string {
  return Object.keys(e)
    .filter((k) => !COLUMNS.has(k) && e[k] !== null && e[k] !== undefined)
    .sort()
    .map((k) => `${k}=${typeof e[k] === 'object' ? JSON.stringify(e[k]) : String(e[k])}`)
    .join(' ');
}

function SubmitForm({ onDone }: { onDone: (id: string) => void }) {
  const [task, setTask] = useState('');
  const [to, setTo] = useState('any');
  const [payload, setPayload] = useState('');
  const [key, setKey] = useState('');
  const [atMostOnce, setAtMostOnce] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    let body: unknown;
    if (payload.trim()) {
      try {
        body = JSON.parse(payload);
      } catch {
        setMsg('payload: not JSON');
        return;
      }
    }
    try {
      const r = await submitJob({
        task: task.trim(),
        to: to.trim(),
        ...(body !== undefined ? { payload: body } : {}),
        ...(key.trim() ? { key: key.trim() } : {}),
        ...(atMostOnce ? { at_most_once: true } : {}),
      });
      setMsg(r.duplicate ? `job ${r.id} (this key's first job)` : `job ${r.id} queued`);
      onDone(r.id);
    } catch (err) {
      setMsg(`submit failed — ${describeError(err)}`);
    }
  };

  return (
    <form className="row wrap gap filters" onSubmit={(e) => void submit(e)} data-testid="job-form">
      <input placeholder="task" value={task} onChange={(e) => setTask(e.target.value)} data-testid="job-task" required />
      <input placeholder="node, any or any:k=v" value={to} onChange={(e) => setTo(e.target.value)} data-testid="job-to" required />
      <input placeholder='payload JSON, e.g. {"n": 1}' value={payload} onChange={(e) => setPayload(e.target.value)} data-testid="job-payload" />
      <input placeholder="idempotency key" value={key} onChange={(e) => setKey(e.target.value)} data-testid="job-key" />
      <label className="small">
        <input type="checkbox" checked={atMostOnce} onChange={(e) => setAtMostOnce(e.target.checked)} data-testid="job-at-most-once" /> at most once
      </label>
      <button type="submit" data-testid="job-submit">
        Submit
      </button>
      {msg && (
        <span className="small" data-testid="job-submit-msg">
          {msg}
        </span>
      )}
    </form>
  );
}

function JobList({ pollMs }: { pollMs: number }) {
  const canWrite = useCanWrite();
  const [jobs, setJobs] = useState<Job[]>([]);
  const [state, setState] = useState('');
  const [q, setQ] = useState('');
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setJobs(await getJobs(state));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [state]);
  usePoll(load, Math.max(pollMs, LIST_POLL_MIN_MS));
  const timeline = useStore((s) => s.timeline);
  const self = useStore((s) => s.hello?.node ?? null);
  const live = useMemo(() => mergeJobs(jobs, timeline, self, state), [jobs, timeline, self, state]);

  const text = q.trim().toLowerCase();
  const shown = text
    ? live.filter((j) => `${j.id} ${what(j)} ${j.to} ${j.node ?? ''} ${j.principal} ${j.issuer}`.toLowerCase().includes(text))
    : live;

  return (
    <section data-testid="jobs-page">
      {canWrite && <SubmitForm onDone={() => void load()} />}
      <div className="row wrap gap filters">
        <select value={state} onChange={(e) => setState(e.target.value)} data-testid="jobs-state">
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s || 'every state'}
            </option>
          ))}
        </select>
        <input placeholder="filter" value={q} onChange={(e) => setQ(e.target.value)} data-testid="jobs-filter" />
        <span className="muted small">{shown.length} jobs of every issuer in the mesh, newest first</span>
        {error && (
          <span className="error" data-testid="jobs-error">
            {error}
          </span>
        )}
      </div>
      <div className="table-wrap">
        <table className="table" data-testid="jobs-table">
          <thead>
            <tr>
              <th>job</th>
              <th>task</th>
              <th>placement</th>
              <th>node</th>
              <th>epoch</th>
              <th>state</th>
              <th>submitted</th>
              <th>by</th>
              <th>issuer</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((j) => (
              <tr key={jobKey(j)} data-testid="job-row" data-job={j.id} data-state={j.state} data-issuer={j.issuer}>
                <td className="mono">
                  <a href={jobHref(j)}>{j.id}</a>
                </td>
                <td className="text">{what(j)}</td>
                <td className="mono small">{j.to}</td>
                <td className="mono">{j.node ?? '—'}</td>
                <td>{j.epoch}</td>
                <td>
                  <StateBadge state={j.state} />
                </td>
                <td className="small">{fmtDateTime(j.submitted_ms)}</td>
                <td className="small">{j.principal}</td>
                <td className="mono" data-testid="job-issuer">
                  {j.issuer}
                  {j.remote ? '' : ' (here)'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function JobPage({ id, issuer, pollMs }: { id: string; issuer?: string; pollMs: number }) {
  const canWrite = useCanWrite();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setJob(await getJob(id, issuer));
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [id, issuer]);
  usePoll(load, pollMs, job !== null && FINAL.has(job.state));

  const cancel = async () => {
    try {
      await cancelJob(id);
      setMsg('cancel sent');
      void load();
    } catch (e) {
      setMsg(`cancel failed — ${describeError(e)}`);
    }
  };

  const replay = async () => {
    try {
      const r = await replayJob(id);
      window.location.hash = `#/jobs/${encodeURIComponent(r.id)}`;
    } catch (e) {
      setMsg(`replay failed — ${describeError(e)}`);
    }
  };

  return (
    <section data-testid="job-page" data-job={id}>
      <p>
        <a href="#/jobs">← all jobs</a>
      </p>
      {error && (
        <p className="error" data-testid="job-error">
          {error}
        </p>
      )}
      {job && (
        <>
          <h2 className="row gap">
            <span className="mono">{job.id}</span> <StateBadge state={job.state} testId="job-state" />
          </h2>
          <dl className="facts" data-testid="job-facts">
            <dt>task</dt>
            <dd>{what(job)}</dd>
            <dt>placement</dt>
            <dd className="mono">{job.to}</dd>
            <dt>node, epoch</dt>
            <dd className="mono">
              {job.node ?? '—'}, {job.epoch}
            </dd>
            <dt>submitted</dt>
            <dd>
              {fmtDateTime(job.submitted_ms)} by {job.principal} on {job.issuer}
            </dd>
            {job.deadline_ms !== undefined && (
              <>
                <dt>deadline</dt>
                <dd>{fmtDateTime(job.deadline_ms)}</dd>
              </>
            )}
            {job.reason && (
              <>
                <dt>reason</dt>
                <dd>{job.reason}</dd>
              </>
            )}
            {job.callback && (
              <>
                <dt>callback</dt>
                <dd data-testid="job-callback" data-state={job.callback.state ?? ''}>
                  <span className="mono">{job.callback.url}</span> — {job.callback.state ?? 'registered'}
                  {job.callback.attempts ? `, ${job.callback.attempts} attempt(s)` : ''}
                </dd>
              </>
            )}
            {job.parent && (
              <>
                <dt>part of</dt>
                <dd>
                  <JobLink id={job.parent} testId="job-parent" />
                </dd>
              </>
            )}
            {job.replay_of && (
              <>
                <dt>replays</dt>
                <dd>
                  <JobLink id={job.replay_of} testId="job-replay-of" />
                </dd>
              </>
            )}
            {job.replayed_as && (
              <>
                <dt>replayed as</dt>
                <dd>
                  <JobLink id={job.replayed_as} testId="job-replayed-as" />
                </dd>
              </>
            )}
            {job.exit_code !== undefined && job.exit_code !== null && (
              <>
                <dt>exit</dt>
                <dd data-testid="job-exit">{job.term_signal ? `signal ${job.term_signal}` : job.exit_code}</dd>
              </>
            )}
          </dl>
          {job.result !== undefined && job.result !== null && (
            <pre className="mono small" data-testid="job-result">
              {JSON.stringify(job.result, null, 2)}
            </pre>
          )}
          {job.remote && (
            <p className="muted" data-testid="job-remote" data-issuer={job.issuer}>
              Issued by <span className="mono">{job.issuer}</span>: this node knows the mesh&apos;s summary. The full story (payload,
              result, history) is on {job.issuer}: its dashboard, or <span className="mono">agentflow trace {job.id}</span> there.
            </p>
          )}
          {canWrite && !job.remote && !FINAL.has(job.state) && (
            <button type="button" onClick={() => void cancel()} data-testid="job-cancel">
              Cancel
            </button>
          )}
          {canWrite && !job.remote && REPLAYABLE.has(job.state) && (
            <button type="button" onClick={() => void replay()} data-testid="job-replay">
              Replay
            </button>
          )}
          {msg && <span className="small">{msg}</span>}
          {job.children && job.children.length > 0 && (
            <>
              <h3>On each node</h3>
              <div className="table-wrap">
                <table className="table" data-testid="job-children">
                  <thead>
                    <tr>
                      <th>job</th>
                      <th>node</th>
                      <th>state</th>
                      <th>exit</th>
                      <th>reason</th>
                    </tr>
                  </thead>
                  <tbody>
                    {job.children.map((c) => (
                      <tr key={c.id} data-testid="job-child" data-node={c.node} data-state={c.state ?? ''}>
                        <td>
                          <JobLink id={c.id} />
                        </td>
                        <td className="mono">{c.node}</td>
                        <td>{c.state ? <StateBadge state={c.state} /> : '—'}</td>
                        <td>{c.exit_code ?? ''}</td>
                        <td className="small text">{c.reason ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {!job.remote && <h3>Story</h3>}
          {!job.remote && (
          <div className="table-wrap">
            <table className="table" data-testid="job-history">
              <thead>
                <tr>
                  <th>time</th>
                  <th>event</th>
                  <th>by</th>
                  <th>node</th>
                  <th>epoch</th>
                  <th>reason</th>
                  <th>details</th>
                </tr>
              </thead>
              <tbody>
                {(job.history ?? []).map((e, i) => (
                  <tr key={i} data-testid="job-history-row" data-event={e.event}>
                    <td className="small">{fmtDateTime(e.time_ms)}</td>
                    <td>{e.event}</td>
                    <td className="mono">{e.by}</td>
                    <td className="mono">{e.node ?? ''}</td>
                    <td>{e.epoch ?? ''}</td>
                    <td className="small text">{e.reason ?? ''}</td>
                    <td className="small mono details">{entryDetails(e)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          )}
        </>
      )}
    </section>
  );
}

/**
 * A job's page: another issuer's job names its issuer ("ID@ISSUER"), since
 * two members may use one id and the node then asks which is meant.
 */
export function jobHref(j: Pick<Job, 'id' | 'issuer' | 'remote'>): string {
  return `#/jobs/${encodeURIComponent(j.remote ? `${j.id}@${j.issuer}` : j.id)}`;
}

export function Jobs({ param, pollMs = 2000 }: { param: string | null; pollMs?: number }) {
  if (!param) return <JobList pollMs={pollMs} />;
  const [id, issuer] = param.split('@', 2);
  return <JobPage id={id} issuer={issuer} pollMs={pollMs} />;
}
