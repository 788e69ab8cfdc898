import { useCallback, useEffect, useState } from 'react';
import { describeError, getAudit } from '../lib/api';
import { fmtDateTime } from '../lib/format';
import type { AuditRecord } from '../lib/types';

export function Audit({ pollMs = 5000 }: { pollMs?: number }) {
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState<number | null>(null);
  const [q, setQ] = useState('');

  const load = useCallback(async () => {
    try {
      const r = await getAudit(500);
      setRecords(r.slice().reverse()); // the node sends oldest first
      setError(null);
      setLoaded(Date.now());
    } catch (e) {
      setError(describeError(e));
    }
  }, []);

  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), pollMs);
    return () => clearInterval(t);
  }, [load, pollMs]);

  const text = q.trim().toLowerCase();
  const shown = text
    ? records.filter((r) => `${r.action} ${r.actor} ${r.result} ${r.node} ${JSON.stringify(r.details ?? '')}`.toLowerCase().includes(text))
    : records;

  return (
    <section data-testid="audit-page">
      <div className="row wrap gap filters">
        <button type="button" data-testid="audit-refresh" onClick={() => void load()}>
          Refresh
        </button>
        <input placeholder="filter" value={q} onChange={(e) => setQ(e.target.value)} data-testid="audit-filter" />
        <span className="muted small">
          {shown.length} records (newest first, the last 500; refreshed every {pollMs / 1000}s{loaded ? `, last ${fmtDateTime(loaded)}` : ''})
        </span>
        {error && (
          <span className="error" data-testid="audit-error">
            {error}
          </span>
        )}
      </div>
      <div className="table-wrap">
        <table className="table" data-testid="audit-table">
          <thead>
            <tr>
              <th>time</th>
              <th>node</th>
              <th>action</th>
              <th>actor</th>
              <th>result</th>
              <th>details</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              <tr key={`${r.time_ms}-${i}`} data-testid="audit-row" data-action={r.action} className={r.result !== 'ok' ? 'audit-bad' : ''}>
                <td className="small">{fmtDateTime(r.time_ms)}</td>
                <td className="mono">{r.node}</td>
                <td>{r.action}</td>
                <td className="small">{r.actor}</td>
                <td>{r.result}</td>
                <td className="small mono details">{r.details != null ? JSON.stringify(r.details) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
