import { useCallback, useMemo, useState } from 'react';
import { AlertStory } from '../components/AlertStory';
import { AckShown, AlertTable, sortAlerts, type AlertRowExtras } from '../components/AlertTable';
import { SilenceForm, SilenceList } from '../components/Silences';
import {
  ALERT_STATES,
  alertFilterChoices,
  alertFilterQuery,
  alertStateCounts,
  filterAlerts,
  hashQuery,
  parseAlertFilter,
  type AlertFilter,
} from '../lib/alertFilters';
import { describeError, getSilencedAlerts, getSilences } from '../lib/api';
import { useCanWrite, useFrozen, useHash, usePoll, useStore } from '../lib/hooks';
import type { Alert, Silence } from '../lib/types';

const NO_LABELS: Record<string, string> = {};

/** The mesh's silences and which alerts they hold ("node/alert_id" → silence id), polled. */
function useSilences(node: string | null) {
  const [silences, setSilences] = useState<Silence[]>([]);
  const [held, setHeld] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    if (!node) return;
    try {
      const [s, h] = await Promise.all([getSilences(), getSilencedAlerts()]);
      setSilences(s);
      setHeld(h);
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [node]);
  usePoll(load, 10000);
  return { silences, held, error, reload: load };
}

/**
 * Every alert of the mesh, filtered by state, severity, node, rule and a
 * text (all in the hash's query, so a link reproduces the view);
 * `#/alerts/NODE/ID` opens an alert's story beside the list.  The mesh's
 * silences below (added on any node, they hold back every node's notices),
 * "Silence" on every open alert, and one button that acknowledges every
 * firing alert the filters show.
 */
export function Alerts({ param = null }: { param?: string | null }) {
  const alerts = useStore((s) => s.alerts);
  const self = useStore((s) => s.hello?.node ?? s.cluster?.local.node_id ?? null);
  const cluster = useStore((s) => s.cluster);
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const hash = useHash();
  const query = hashQuery(hash);
  const filter = useMemo(() => parseAlertFilter(query), [query]);
  const sil = useSilences(self);
  const [silencing, setSilencing] = useState<Alert | null>(null);

  const all = useMemo(() => sortAlerts(Object.values(alerts)), [alerts]);
  const counts = useMemo(() => alertStateCounts(all, filter), [all, filter]);
  const choices = useMemo(() => alertFilterChoices(all), [all]);
  const shown = useMemo(() => filterAlerts(all, filter), [all, filter]);

  const slash = param ? param.indexOf('/') : -1;
  const open = slash > 0 ? alerts[`${param!.slice(0, slash)}/${param!.slice(slash + 1)}`] : undefined;
  const labels = useMemo(() => {
    if (!open || !cluster) return NO_LABELS;
    if (open.node === cluster.local.node_id) return cluster.local.labels ?? NO_LABELS;
    return cluster.remote.find((r) => r.node_id === open.node)?.info?.labels ?? NO_LABELS;
  }, [open, cluster]);

  const set = (patch: Partial<AlertFilter>) => {
    const q = alertFilterQuery({ ...filter, ...patch });
    // Replaced, not pushed: typing a search is not a trail of history entries.
    window.history.replaceState(null, '', `#/alerts${param ? `/${param}` : ''}${q}`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  };
  const hrefOf = (a: Alert) => `#/alerts/${encodeURIComponent(a.node)}/${encodeURIComponent(a.alert_id)}${query}`;
  const extras = (a: Alert): AlertRowExtras => ({
    silenceId: sil.held[`${a.node}/${a.alert_id}`],
    storyHref: hrefOf(a),
    selected: a === open,
    onSilence: () => setSilencing(a),
  });
  const menu = (key: 'severity' | 'node' | 'rule', values: string[]) => (
    <label className="small">
      {key}{' '}
      <select value={filter[key]} onChange={(e) => set({ [key]: e.target.value })} data-testid={`alert-filter-${key}`}>
        <option value="">any</option>
        {[...new Set([...values, filter[key]].filter(Boolean))].map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section data-testid="alerts-page">
      <div className="tabs">
        {(['', ...ALERT_STATES] as const).map((t) => (
          <button
            key={t || 'all'}
            type="button"
            className={filter.state === t ? 'active' : ''}
            data-testid={`alert-tab-${t || 'all'}`}
            onClick={() => set({ state: t })}
          >
            {t || 'all'} <span className="muted" data-testid={`alert-tab-count-${t || 'all'}`}>{counts[t || 'all']}</span>
          </button>
        ))}
      </div>
      <div className="row wrap gap filters">
        {menu('severity', choices.severity)}
        {menu('node', choices.node)}
        {menu('rule', choices.rule)}
        <input placeholder="search" title="text in the rule, subject, message, node or id" value={filter.q} onChange={(e) => set({ q: e.target.value })} data-testid="alert-filter-q" />
        {alertFilterQuery(filter) && (
          <a href="#/alerts" data-testid="alert-filter-clear">
            clear filters
          </a>
        )}
        <span className="muted small" data-testid="alert-shown">
          {shown.length} of {all.length} alerts
        </span>
        {canWrite && <AckShown alerts={shown.slice(0, 1000)} frozen={frozen} />}
      </div>
      {silencing && (
        <SilenceForm
          alert={silencing}
          onCancel={() => setSilencing(null)}
          onDone={() => {
            setSilencing(null);
            void sil.reload();
          }}
        />
      )}
      {param && !open && (
        <p className="muted" data-testid="alert-story-missing">
          No alert {param} here (resolved long ago, or not known to this node).
        </p>
      )}
      {open && <AlertStory alert={open} self={self} labels={labels} closeHref={`#/alerts${query}`} reloadKey={sil.silences.map((x) => x.id).join(',')} />}
      <AlertTable alerts={shown.slice(0, 1000)} canWrite={canWrite} frozen={frozen} extras={extras} />
      {sil.error && (
        <p className="error" data-testid="silences-error">
          {sil.error}
        </p>
      )}
      {self && <SilenceList node={self} silences={sil.silences} canWrite={canWrite} onChanged={() => void sil.reload()} />}
    </section>
  );
}
