// The /ws client: connects with the token as a subprotocol, hands every
// message to onMessage, and reconnects with exponential backoff and jitter.
//
// A close before `hello` is ambiguous in a browser (an HTTP 401 on the
// upgrade and a node that is down both look like close 1006), so the client
// asks probeAuth: "unauthorized" stops it and reports onAuthFailed; anything
// else is retried.

import type { ServerMessage } from './types';

export const PROTOCOL = 'agentflow.v1';

export interface WsStatus {
  state: 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'stopped';
  attempt: number;
  /** ms until the next attempt (state "reconnecting"). */
  retryInMs: number | null;
  error: string | null;
}

export type AuthProbe = () => Promise<'ok' | 'unauthorized' | 'unreachable'>;

export interface WsClientOptions {
  url: string;
  token: string;
  onMessage: (m: ServerMessage) => void;
  onStatus?: (s: WsStatus) => void;
  onAuthFailed?: () => void;
  probeAuth?: AuthProbe;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** With no message for this long, send {"type":"ping"}; twice as long: reconnect. */
  idleMs?: number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from
 * base, capped, with "equal jitter" (half fixed, half random) so a mesh
 * of dashboards does not reconnect in lockstep after a node restarts.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random, baseMs = 500, capMs = 10000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** ws:// or wss:// URL of /ws next to the page. */
export function defaultWsUrl(loc: Location = window.location): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/ws`;
}

export class WsClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private gotHello = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  private lastMessage = 0;
  private opts: Required<Omit<WsClientOptions, 'onStatus' | 'onAuthFailed' | 'probeAuth'>> &
    Pick<WsClientOptions, 'onStatus' | 'onAuthFailed' | 'probeAuth'>;

  constructor(opts: WsClientOptions) {
    this.opts = {
      WebSocketImpl: globalThis.WebSocket,
      random: Math.random,
      baseDelayMs: 500,
      maxDelayMs: 10000,
      idleMs: 15000,
      ...opts,
    };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.status('stopped', null, null);
  }

  /** Closes the current socket and reconnects at once (attempt counter kept). */
  reconnectNow(): void {
    this.stop();
    this.stopped = false;
    this.connect();
  }

  private status(state: WsStatus['state'], retryInMs: number | null, error: string | null) {
    this.opts.onStatus?.({ state, attempt: this.attempt, retryInMs, error });
  }

  private clearTimers() {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    this.retryTimer = this.idleTimer = null;
  }

  private connect() {
    if (this.stopped) return;
    this.clearTimers();
    this.gotHello = false;
    this.status('connecting', null, null);
    const { WebSocketImpl, url, token } = this.opts;
    let ws: WebSocket;
    try {
      ws = new WebSocketImpl(url, [PROTOCOL, `token.${token}`]);
    } catch {
      // A token that is not a valid subprotocol name: the query form.
      try {
        const sep = url.includes('?') ? '&' : '?';
        ws = new WebSocketImpl(`${url}${sep}token=${encodeURIComponent(token)}`, [PROTOCOL]);
      } catch (e) {
        this.scheduleReconnect(String(e));
        return;
      }
    }
    this.ws = ws;
    this.lastMessage = Date.now();
    ws.onmessage = (ev: MessageEvent) => {
      this.lastMessage = Date.now();
      let msg: ServerMessage;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') return;
      if (msg.type === 'hello') {
        this.gotHello = true;
        this.attempt = 0;
        this.status('open', null, null);
      }
      this.opts.onMessage(msg);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onClosed(ev.code, ev.reason);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    const idle = this.opts.idleMs;
    this.idleTimer = setInterval(() => {
      const quiet = Date.now() - this.lastMessage;
      if (this.ws !== ws) return;
      if (quiet >= 2 * idle) {
        // A half-open connection: nothing (not even the status events sent
        // every second) for a long time.
        this.ws = null;
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        try {
          ws.close(4000, 'idle');
        } catch {
          /* ignore */
        }
        this.onClosed(4000, 'no message from the node');
      } else if (quiet >= idle && ws.readyState === 1) {
        try {
          ws.send('{"type":"ping"}');
        } catch {
          /* ignore */
        }
      }
    }, Math.max(250, Math.floor(idle / 3)));
  }

  private onClosed(code: number, reason: string) {
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    this.idleTimer = null;
    if (this.stopped) return;
    const why = reason ? `${code} ${reason}` : `closed (${code})`;
    if (!this.gotHello && this.opts.probeAuth) {
      const probe = this.opts.probeAuth;
      probe().then(
        (r) => {
          if (this.stopped) return;
          if (r === 'unauthorized') {
            this.stopped = true;
            this.status('unauthorized', null, 'the node refused the token');
            this.opts.onAuthFailed?.();
          } else {
            this.scheduleReconnect(r === 'unreachable' ? 'node unreachable' : why);
          }
        },
        () => this.scheduleReconnect(why),
      );
      return;
    }
    this.scheduleReconnect(why);
  }

  private scheduleReconnect(error: string) {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.opts.random, this.opts.baseDelayMs, this.opts.maxDelayMs);
    this.attempt++;
    this.status('reconnecting', delay, error);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }
}
