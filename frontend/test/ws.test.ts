import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '../src/lib/types';
import { PROTOCOL, WsClient, backoffDelay, type WsStatus } from '../src/lib/ws';

class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  constructor(
    public url: string,
    public protocols: string[],
  ) {
    FakeWebSocket.instances.push(this);
  }
  send(d: string) {
    this.sent.push(d);
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  // test helpers
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  receive(m: object) {
    this.onmessage?.({ data: JSON.stringify(m) } as MessageEvent);
  }
  serverClose(code = 1006, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
  static last() {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
}

const helloMsg = { type: 'hello', node: 'a', role: 'write', version: '1', frozen: false };

function client(extra: Partial<ConstructorParameters<typeof WsClient>[0]> = {}) {
  const messages: ServerMessage[] = [];
  const statuses: WsStatus[] = [];
  const c = new WsClient({
    url: 'ws://node/ws',
    token: 'tok123',
    WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
    random: () => 0.5,
    onMessage: (m) => messages.push(m),
    onStatus: (s) => statuses.push(s),
    ...extra,
  });
  return { c, messages, statuses };
}

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('grows exponentially from the base, with jitter, capped at 10 s', () => {
    const lo = () => 0;
    const hi = () => 0.999999;
    expect(backoffDelay(0, lo)).toBe(250);
    expect(backoffDelay(0, hi)).toBe(500);
    expect(backoffDelay(1, hi)).toBe(1000);
    expect(backoffDelay(3, hi)).toBe(4000);
    expect(backoffDelay(10, hi)).toBe(10000);
    expect(backoffDelay(50, hi)).toBe(10000);
    expect(backoffDelay(50, lo)).toBe(5000); // jitter keeps at least half
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(i % 8);
      expect(d).toBeGreaterThanOrEqual(250);
      expect(d).toBeLessThanOrEqual(10000);
    }
  });
});

describe('WsClient', () => {
  it('connects with the agentflow.v1 and token.<T> subprotocols and passes messages on', () => {
    const { c, messages, statuses } = client();
    c.start();
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe('ws://node/ws');
    expect(ws.protocols).toEqual([PROTOCOL, 'token.tok123']);
    ws.open();
    ws.receive(helloMsg);
    ws.receive({ type: 'cluster', cluster: {} });
    ws.onmessage?.({ data: 'not json' } as MessageEvent); // ignored
    expect(messages.map((m) => m.type)).toEqual(['hello', 'cluster']);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'open']);
    c.stop();
  });

  it('reconnects with growing delays and resets the backoff after a hello', async () => {
    const probe = vi.fn().mockResolvedValue('unreachable');
    const { c, statuses } = client({ probeAuth: probe });
    c.start();
    // the node is down: every attempt closes before hello
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      FakeWebSocket.last().serverClose(1006);
      await vi.advanceTimersByTimeAsync(0); // the probe resolves
      const st = statuses[statuses.length - 1];
      expect(st.state).toBe('reconnecting');
      delays.push(st.retryInMs!);
      const before = FakeWebSocket.instances.length;
      await vi.advanceTimersByTimeAsync(st.retryInMs! - 1);
      expect(FakeWebSocket.instances.length).toBe(before); // not yet
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances.length).toBe(before + 1);
    }
    // random() = 0.5: 3/4 of min(10 s, 500·2^n)
    expect(delays).toEqual([375, 750, 1500, 3000, 6000, 7500]);
    expect(probe).toHaveBeenCalledTimes(6);
    // it comes back: the counter resets, a later drop starts from the base again
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receive(helloMsg);
    ws.serverClose(1001, 'shutting down');
    await vi.advanceTimersByTimeAsync(0);
    const st = statuses[statuses.length - 1];
    expect(st).toMatchObject({ state: 'reconnecting', retryInMs: 375, error: '1001 shutting down' });
    expect(probe).toHaveBeenCalledTimes(6); // no probe after a hello
    c.stop();
  });

  it('stops and reports auth failure when the node refuses the token', async () => {
    const onAuthFailed = vi.fn();
    const { c, statuses } = client({ probeAuth: () => Promise.resolve('unauthorized'), onAuthFailed });
    c.start();
    FakeWebSocket.last().serverClose(1006);
    await vi.advanceTimersByTimeAsync(0);
    expect(onAuthFailed).toHaveBeenCalledOnce();
    expect(statuses.at(-1)?.state).toBe('unauthorized');
    await vi.advanceTimersByTimeAsync(60000);
    expect(FakeWebSocket.instances).toHaveLength(1); // no retries
  });

  it('stop() cancels a pending reconnect', async () => {
    const { c } = client();
    c.start();
    FakeWebSocket.last().serverClose(1006);
    c.stop();
    await vi.advanceTimersByTimeAsync(60000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('pings a quiet connection and replaces a dead one', async () => {
    const { c, statuses } = client({ idleMs: 3000 });
    c.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receive(helloMsg);
    await vi.advanceTimersByTimeAsync(3100);
    expect(ws.sent).toContain('{"type":"ping"}');
    await vi.advanceTimersByTimeAsync(3100);
    expect(ws.closed?.code).toBe(4000);
    expect(statuses.at(-1)?.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeWebSocket.instances).toHaveLength(2);
    c.stop();
  });

  it('falls back to ?token= when the token is not a valid subprotocol', () => {
    let first = true;
    class Picky extends FakeWebSocket {
      constructor(url: string, protocols: string[]) {
        if (first) {
          first = false;
          throw new DOMException('bad protocol', 'SyntaxError');
        }
        super(url, protocols);
      }
    }
    const { c } = client({ WebSocketImpl: Picky as unknown as typeof WebSocket, token: 'a b' });
    c.start();
    expect(FakeWebSocket.last().url).toBe('ws://node/ws?token=a%20b');
    expect(FakeWebSocket.last().protocols).toEqual([PROTOCOL]);
    c.stop();
  });
});
