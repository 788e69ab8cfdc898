// Services of the whole mesh (docs/services.md): every service on every
// node from GET /api/services, polled every 2 s while the page is shown
// (the /ws feed does not carry services yet), with filters by name, node
// and state.  A write token gets each row's start/stop/restart and bulk
// actions on the selected rows, confirmed first; the node refuses a read
// token's command (403) whatever the page shows.  #/services/NAME is one
// service's page (ServiceDetail.tsx).

import { useCallback, useMemo, useState } from 'react';
import { everywhere, useServiceActions, ACTION_TEXT, type ServiceOrder } from '../components/ServiceActions';
import { ServiceTable } from '../components/ServiceTable';
import { describeError, getServices, type ServiceAction } from '../lib/api';
import { useCanWrite, useFrozen, useNow, usePoll } from '../lib/hooks';
import { cap, describeRows, filterServices, namesOf, SERVICE_STATES, serviceKey, TROUBLE, type ServiceFilter } from '../lib/services';
import type { Service } from '../lib/types';
import { ServiceDetail } from './ServiceDetail';

const BULK: ServiceAction[] = ['start', 'stop', 'restart'];

function ServiceList({ pollMs }: { pollMs: number }) {
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const now = useNow(1000);
  const [rows, setRows] = useState<Service[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState<ServiceFilter>({ name: '', node: '', state: '' });
  const [selected, setSelected] = useState<Set<string>>(() => new Set());

  const load = useCallback(async () => {
    try {
      setRows(await getServices());
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, []);
  usePoll(load, pollMs);
  const { act, ask, panel } = useServiceActions(() => void load());

  const all = useMemo(() => rows ?? [], [rows]);
  const shown = useMemo(() => filterServices(all, filter), [all, filter]);
  const nodes = useMemo(() => [...new Set(all.map((s) => s.node))].sort(), [all]);
  // Only rows still listed and shown count: a bulk action never touches
  // a row the user cannot see.
  const picked = shown.filter((s) => selected.has(serviceKey(s)));
  const trouble = all.filter((s) => TROUBLE.has(s.state)).length;

  const onSelect = useCallback((key: string, on: boolean) => {
    setSelected((cur) => {
      const next = new Set(cur);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });
  }, []);
  const bulk = (a: ServiceAction) => {
    const orders: ServiceOrder[] = picked.map((s) => ({ target: s.node, name: s.name, action: a }));
    ask({
      title: `${a} ${picked.length} service${picked.length === 1 ? '' : 's'}?`,
      body: `${cap(a)}s ${describeRows(picked)}. ${ACTION_TEXT[a]}`,
      label: `${cap(a)} ${picked.length}`,
      danger: a === 'stop',
      what: `${a} ${picked.length} selected`,
      orders,
    });
  };

  return (
    <section data-testid="services-page">
      <h2>Services</h2>
      <p className="muted small">
        Every service on every node, as the mesh told this node; refreshed every {pollMs / 1000} s. Define one with{' '}
        <code>agentflow service put NAME FILE</code> or <code>--services FILE</code>.
      </p>
      <div className="row wrap gap filters">
        <input placeholder="name" value={filter.name} onChange={(e) => setFilter({ ...filter, name: e.target.value })} data-testid="svc-filter-name" />
        <select value={filter.node} onChange={(e) => setFilter({ ...filter, node: e.target.value })} data-testid="svc-filter-node">
          <option value="">all nodes</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <select value={filter.state} onChange={(e) => setFilter({ ...filter, state: e.target.value })} data-testid="svc-filter-state">
          <option value="">any state</option>
          <option value="trouble">unhealthy, failed or backing-off</option>
          {SERVICE_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span className="muted small" data-testid="svc-count">
          {shown.length} of {all.length}
          {trouble > 0 && <span className="error"> · {trouble} in trouble</span>}
        </span>
        {error && (
          <span className="error" data-testid="svc-error" role="alert">
            {error}
          </span>
        )}
      </div>
      {canWrite && picked.length > 0 && (
        <div className="row wrap gap filters" data-testid="svc-bulk">
          <span className="small">{picked.length} selected:</span>
          {BULK.map((a) => (
            <button
              key={a}
              type="button"
              className={a === 'stop' ? 'danger' : ''}
              disabled={frozen && a !== 'stop'}
              onClick={() => bulk(a)}
              data-testid={`svc-bulk-${a}`}
            >
              {a}
            </button>
          ))}
          <button type="button" className="danger" onClick={() => ask(everywhere(namesOf(picked), 'stop'))} data-testid="svc-bulk-stop-all">
            stop {namesOf(picked).join(', ')} everywhere
          </button>
          <button type="button" className="link" onClick={() => setSelected(new Set())} data-testid="svc-bulk-clear">
            clear
          </button>
        </div>
      )}
      {panel}
      {rows === null && !error ? (
        <p className="muted">loading…</p>
      ) : all.length === 0 && !error ? (
        <p className="muted" data-testid="svc-empty">
          No services in the mesh yet.
        </p>
      ) : (
        <ServiceTable
          rows={shown}
          now={now}
          canWrite={canWrite}
          frozen={frozen}
          selected={selected}
          onSelect={onSelect}
          onSelectAll={(on) => setSelected(on ? new Set(shown.map(serviceKey)) : new Set())}
          onAct={act}
        />
      )}
    </section>
  );
}

export function Services({ param, pollMs = 2000 }: { param: string | null; pollMs?: number }) {
  return param ? <ServiceDetail name={param} pollMs={pollMs} /> : <ServiceList pollMs={pollMs} />;
}
