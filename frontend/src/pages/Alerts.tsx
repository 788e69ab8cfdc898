import { useMemo, useState } from 'react';
import { AlertTable, sortAlerts } from '../components/AlertTable';
import { useCanWrite, useFrozen, useStore } from '../lib/hooks';

const TABS = ['firing', 'acknowledged', 'resolved', 'all'] as const;

export function Alerts() {
  const alerts = useStore((s) => s.alerts);
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const [tab, setTab] = useState<(typeof TABS)[number]>('all');
  const all = useMemo(() => sortAlerts(Object.values(alerts)), [alerts]);
  const count = (t: string) => (t === 'all' ? all.length : all.filter((a) => a.state === t).length);
  const shown = tab === 'all' ? all : all.filter((a) => a.state === tab);
  return (
    <section data-testid="alerts-page">
      <div className="tabs">
        {TABS.map((t) => (
          <button key={t} type="button" className={tab === t ? 'active' : ''} data-testid={`alert-tab-${t}`} onClick={() => setTab(t)}>
            {t} <span className="muted">{count(t)}</span>
          </button>
        ))}
      </div>
      <AlertTable alerts={shown.slice(0, 1000)} canWrite={canWrite} frozen={frozen} />
    </section>
  );
}
