// Wires the token, the /ws client and the store together.

import { onUnauthorized, probeAuth } from './api';
import type { Store } from './store';
import { clearToken, getToken, setToken } from './token';
import { WsClient, defaultWsUrl, type WsClientOptions } from './ws';

export class Connection {
  private client: WsClient | null = null;

  constructor(
    private store: Store,
    private extra: Partial<WsClientOptions> = {},
  ) {
    onUnauthorized(() => this.refused());
  }

  /** Connects with the stored token, or shows the token form. */
  start(): void {
    const token = getToken();
    if (!token) {
      this.store.dispatch({ type: 'conn', conn: { state: 'unauthorized', error: null, retryAt: null } });
      return;
    }
    this.open(token);
  }

  /** A token typed into the form. */
  useToken(token: string): void {
    setToken(token);
    this.store.dispatch({ type: 'reset' });
    this.open(token);
  }

  /** Forget the token (header "change token"). */
  signOut(): void {
    this.client?.stop();
    this.client = null;
    clearToken();
    this.store.dispatch({ type: 'reset' });
    this.store.dispatch({ type: 'conn', conn: { state: 'unauthorized', error: null, retryAt: null } });
  }

  stop(): void {
    this.client?.stop();
    this.client = null;
  }

  private refused() {
    this.client?.stop();
    this.client = null;
    this.store.dispatch({
      type: 'conn',
      conn: { state: 'unauthorized', error: 'The node refused this token.', retryAt: null },
    });
  }

  private open(token: string) {
    this.client?.stop();
    const store = this.store;
    this.client = new WsClient({
      url: defaultWsUrl(),
      token,
      probeAuth,
      onMessage: store.enqueue,
      onStatus: (st) => {
        if (st.state === 'stopped') return;
        if (st.state === 'open') return; // set by `hello` in the same batch as the snapshot
        if (st.state === 'unauthorized') return; // onAuthFailed
        store.flush();
        store.dispatch({
          type: 'conn',
          conn: {
            state: st.state,
            attempt: st.attempt,
            error: st.error,
            retryAt: st.retryInMs != null ? Date.now() + st.retryInMs : null,
          },
        });
      },
      onAuthFailed: () => this.refused(),
      ...this.extra,
    });
    this.client.start();
  }
}
