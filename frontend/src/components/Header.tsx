import { useState } from 'react';
import { describeError, postCommand } from '../lib/api';
import { useCanWrite, useFiringCount, useFrozen, useNow, useStore } from '../lib/hooks';
import type { Conn } from '../lib/store';
import { ConfirmDialog } from './ConfirmDialog';

export function connectionText(conn: Conn, now: number): string {
  switch (conn.state) {
    case 'open':
      return 'live';
    case 'connecting':
      return conn.attempt ? `reconnecting (attempt ${conn.attempt + 1})…` : 'connecting…';
    case 'reconnecting': {
      const s = conn.retryAt ? Math.max(0, Math.ceil((conn.retryAt - now) / 1000)) : 0;
      return `disconnected — reconnecting in ${s}s`;
    }
    case 'unauthorized':
      return 'token needed';
    default:
      return 'not connected';
  }
}

const pages = [
  ['topology', 'Topology'],
  ['nodes', 'Nodes'],
  ['tasks', 'Tasks'],
  ['jobs', 'Jobs'],
  ['workflows', 'Workflows'],
  ['services', 'Services'],
  ['artifacts', 'Artifacts'],
  ['alerts', 'Alerts'],
  ['timeline', 'Timeline'],
  ['audit', 'Audit'],
] as const;

interface Props {
  page: string;
  onSignOut: () => void;
}

export function Header({ page, onSignOut }: Props) {
  const conn = useStore((s) => s.conn);
  const hello = useStore((s) => s.hello);
  const canWrite = useCanWrite();
  const frozen = useFrozen();
  const firing = useFiringCount();
  const now = useNow(conn.state === 'reconnecting' ? 250 : 5000);
  const [confirm, setConfirm] = useState<null | 'freeze' | 'unfreeze'>(null);
  const [msg, setMsg] = useState<string | null>(null);
  // On a narrow screen the nav folds behind a menu button (CSS shows one or
  // the other); a page picked closes it again.
  const [menuOpen, setMenuOpen] = useState(false);
  const current = pages.find(([id]) => page === id || (id === 'nodes' && page === 'node'));

  const send = async (type: 'freeze' | 'unfreeze') => {
    setConfirm(null);
    setMsg(`${type}: sent…`);
    try {
      const rec = await postCommand({ target: 'all', type, args: {} });
      setMsg(`${type}: command ${rec.id} issued to ${rec.destinations?.length ?? '?'} node(s)`);
    } catch (e) {
      setMsg(`${type} failed — ${describeError(e)}`);
    }
  };

  return (
    <>
      <header className="top">
        <div className="brand">
          <strong>AgentFlow</strong>
          {hello && (
            <span className="muted" data-testid="local-node">
              {hello.node} · v{hello.version}
            </span>
          )}
        </div>
        <button
          type="button"
          className="nav-toggle"
          data-testid="nav-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          aria-label={`Menu${current ? ` (${current[1]})` : ''}`}
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span aria-hidden="true">{menuOpen ? '✕' : '☰'}</span> {current ? current[1] : 'Menu'}
          {firing > 0 && !menuOpen && <span className="badge st-firing">{firing}</span>}
        </button>
        <nav id="main-nav" className={menuOpen ? 'open' : ''} data-testid="nav" data-open={menuOpen}>
          {pages.map(([id, label]) => (
            <a
              key={id}
              href={`#/${id}`}
              className={page === id || (id === 'nodes' && page === 'node') ? 'active' : ''}
              data-testid={`nav-${id}`}
              onClick={() => setMenuOpen(false)}
            >
              {label}
              {id === 'alerts' && firing > 0 && (
                <span className="badge st-firing" data-testid="nav-firing-count">
                  {firing}
                </span>
              )}
            </a>
          ))}
        </nav>
        <div className="right">
          <span className={`conn conn-${conn.state}`} data-testid="connection-state" data-state={conn.state} title={conn.error ?? ''}>
            <span className="dot" /> {connectionText(conn, now)}
          </span>
          {hello && (
            <span className={`badge role-${hello.role}`} data-testid="role-badge" data-role={hello.role}>
              {hello.role === 'write' ? 'read-write' : 'read-only'}
            </span>
          )}
          {canWrite && (
            <>
              <button type="button" data-testid="freeze-button" className="danger" onClick={() => setConfirm('freeze')}>
                Freeze
              </button>
              <button type="button" data-testid="unfreeze-button" onClick={() => setConfirm('unfreeze')}>
                Unfreeze
              </button>
            </>
          )}
          <button type="button" className="link" data-testid="token-clear" onClick={onSignOut} title="Forget this token">
            Change token
          </button>
        </div>
      </header>
      {frozen && (
        <div className="banner frozen" data-testid="frozen-banner" role="status">
          FROZEN (read-only) — the mesh refuses task runs, acks and events until an unfreeze; cancels and pings still work.
        </div>
      )}
      {conn.state === 'reconnecting' && (
        <div className="banner warn" data-testid="reconnect-banner" role="status">
          {connectionText(conn, now)}
          {conn.error ? ` (${conn.error})` : ''} — showing the last known state.
        </div>
      )}
      {hello && hello.role === 'read' && (
        <div className="banner info" data-testid="readonly-note">
          Read-only token: you can watch the mesh; running, cancelling, acknowledging, silencing and freezing need a write token.
        </div>
      )}
      {msg && (
        <div className="banner info" data-testid="header-message" onClick={() => setMsg(null)}>
          {msg}
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          title={confirm === 'freeze' ? 'Freeze the whole mesh?' : 'Unfreeze the whole mesh?'}
          body={
            confirm === 'freeze'
              ? 'Every node goes read-only: no task starts, writes are refused (423) until an unfreeze. Running tasks keep running; cancels still work.'
              : 'Every node leaves read-only mode and accepts task runs and writes again.'
          }
          confirmLabel={confirm === 'freeze' ? 'Freeze all nodes' : 'Unfreeze all nodes'}
          danger={confirm === 'freeze'}
          onConfirm={() => send(confirm)}
          onCancel={() => setConfirm(null)}
        />
      )}
    </>
  );
}
