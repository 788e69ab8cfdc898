// Sending services' desired states: one signed `service` command per
// target through POST /api/commands, so a node's services are driven from
// any node.  Bulk and mesh-wide actions are confirmed first.  Each
// command's record goes to the store, where the /ws feed brings every
// node's answer; the panel shows them.

import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError, serviceCommand, type ServiceAction } from '../lib/api';
import { useStoreApi } from '../lib/hooks';
import { cap } from '../lib/services';
import type { Service } from '../lib/types';
import { CommandById } from './CommandResults';
import { ConfirmDialog } from './ConfirmDialog';

export interface ServiceOrder {
  /** A node id, or `all`. */
  target: string;
  name: string;
  action: ServiceAction;
}

export interface Confirm {
  title: string;
  body: string;
  label: string;
  danger: boolean;
  what: string;
  orders: ServiceOrder[];
}

/** What the user is told a desired state does, for a confirmation. */
export const ACTION_TEXT: Record<ServiceAction, string> = {
  start: 'Each node stores the desired state running and starts the process with a fresh restart budget.',
  stop: 'Each node stores the desired state stopped and stops the process (its stop signal, then SIGKILL after stop_grace_s). It stays stopped, also over a restart of the node, until someone starts it.',
  restart: 'Each node stops the process and starts it again with a fresh restart budget; the desired state becomes running.',
};

export function useServiceActions(after: () => void) {
  const store = useStoreApi();
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);
  const [ids, setIds] = useState<string[]>([]);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  // The latest `after`, so that send (and the rows' act) stay the same
  // function from one render to the next.
  const afterRef = useRef(after);
  useEffect(() => {
    afterRef.current = after;
  });

  const send = useCallback(
    async (what: string, orders: ServiceOrder[]) => {
      setConfirm(null);
      setMsg({ text: `${what}: sending…`, error: false });
      const got = await Promise.allSettled(orders.map((o) => serviceCommand(o.target, o.name, o.action)));
      const sent: string[] = [];
      const failed: string[] = [];
      got.forEach((r, i) => {
        const o = orders[i];
        if (r.status === 'fulfilled') {
          store.dispatch({ type: 'command', command: r.value });
          sent.push(r.value.id);
        } else failed.push(`${o.action} ${o.name} on ${o.target} failed — ${describeError(r.reason)}`);
      });
      setIds(sent);
      setMsg(
        failed.length
          ? { text: failed.join('; '), error: true }
          : { text: `${what}: ${sent.length} command${sent.length === 1 ? '' : 's'} sent; each node's answer is below`, error: false },
      );
      afterRef.current();
    },
    [store],
  );

  /** One row's action: no confirmation, the row says what it touches. */
  const act = useCallback(
    (s: Pick<Service, 'node' | 'name'>, a: ServiceAction) => void send(`${a} ${s.name} on ${s.node}`, [{ target: s.node, name: s.name, action: a }]),
    [send],
  );

  const panel = (
    <>
      {msg && (
        <p className={msg.error ? 'error' : 'small'} data-testid="svc-msg" role={msg.error ? 'alert' : undefined}>
          {msg.text}
        </p>
      )}
      {ids.length > 0 && (
        <div className="card" data-testid="svc-results">
          {ids.map((id) => (
            <CommandById key={id} id={id} />
          ))}
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          title={confirm.title}
          body={confirm.body}
          confirmLabel={confirm.label}
          danger={confirm.danger}
          onConfirm={() => void send(confirm.what, confirm.orders)}
          onCancel={() => setConfirm(null)}
        />
      )}
    </>
  );
  return { act, ask: setConfirm, panel };
}

/** The confirmation of one action for every node of the mesh (target all). */
export function everywhere(names: string[], action: ServiceAction): Confirm {
  const list = names.join(', ');
  return {
    title: `${action} ${list} on every node?`,
    body: `Sends ${action} for ${list} to every node of the mesh (target all). ${ACTION_TEXT[action]} Nodes that do not have ${names.length === 1 ? 'it' : 'one of them'} answer not_found.`,
    label: `${cap(action)} everywhere`,
    danger: action === 'stop',
    what: `${action} ${list} everywhere`,
    orders: names.map((name) => ({ target: 'all', name, action })),
  };
}
