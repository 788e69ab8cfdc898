import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Alerts } from '../src/pages/Alerts';
import { setToken } from '../src/lib/token';
import { alert, cluster, hello, snapshot } from './fixtures';
import { bodyOf, mockFetch, renderWith, storeWith } from './render';

const SIL = { id: 'sil-1', matchers: { rule: 'disk_full', node: 'a' }, starts_ms: 1, ends_ms: 7200001, comment: 'swap', created_by: 'ann', node: 'b' };
const ALERTS = [
  alert('a', 'x1', { rule: 'disk_full', severity: 'critical' }),
  alert('a', 'x2', { rule: 'cpu_high', state: 'acknowledged', acked_ms: 2000, acked_by: 'ann' }),
  alert('b', 'x3', { rule: 'disk_full', state: 'resolved', resolved_ms: 3000 }),
];

// node a serves the page; x1 is held by sil-1 (added on node b: silences
// are the mesh's) when `held`.
function api(held: boolean) {
  return mockFetch((url, init) => {
    if (url === '/api/silences' && (init.method ?? 'GET') === 'GET') return { body: { node: 'a', silences: held ? [SIL] : [] } };
    if (url === '/api/alerts')
      return { body: { alerts: [held ? { ...ALERTS[0], silenced: true, silence_id: 'sil-1' } : ALERTS[0], ...ALERTS.slice(1)] } };
    return undefined;
  });
}
const page = (role: 'read' | 'write', param: string | null = null) =>
  renderWith(storeWith(hello(role), snapshot(cluster(['a', 'b']), { alerts: ALERTS })), <Alerts param={param} />);

beforeEach(() => {
  setToken('tok-w');
  window.location.hash = '#/alerts';
});
afterEach(() => vi.unstubAllGlobals());

describe('Alerts page', () => {
  it('shows what the hash filters to, with counts per state', () => {
    api(false);
    window.location.hash = '#/alerts?state=firing&severity=critical';
    page('write');
    expect(screen.getByTestId('alert-row-a-x1')).toBeInTheDocument();
    expect(screen.queryByTestId('alert-row-a-x2')).toBeNull();
    expect(screen.queryByTestId('alert-row-b-x3')).toBeNull();
    expect(screen.getByTestId('alert-tab-firing')).toHaveClass('active');
    expect(screen.getByTestId('alert-tab-count-firing')).toHaveTextContent('1');
    expect(screen.getByTestId('alert-tab-count-resolved')).toHaveTextContent('0');
    expect(screen.getByTestId('alert-filter-severity')).toHaveValue('critical');
  });

  it('writes a filter into the hash, so a link reproduces the view', async () => {
    api(false);
    page('write');
    fireEvent.change(screen.getByTestId('alert-filter-node'), { target: { value: 'b' } });
    expect(window.location.hash).toBe('#/alerts?node=b');
    await waitFor(() => expect(screen.queryByTestId('alert-row-a-x1')).toBeNull());
    fireEvent.change(screen.getByTestId('alert-filter-q'), { target: { value: 'disk' } });
    expect(window.location.hash).toBe('#/alerts?node=b&q=disk');
    expect(screen.getByTestId('alert-row-b-x3')).toBeInTheDocument();
  });

  it("marks the alert a silence holds, and lists the silence with Remove for a write token", async () => {
    const fetchMock = api(true);
    page('write');
    await waitFor(() => expect(screen.getByTestId('alert-silenced-a-x1')).toBeInTheDocument());
    expect(screen.getByTestId('alert-row-a-x1')).toHaveAttribute('data-silenced', 'true');
    expect(screen.getByTestId('silence-row-sil-1')).toHaveTextContent('rule=disk_full node=a');
    expect(screen.getByTestId('silence-node-sil-1')).toHaveTextContent('b');
    // every node's open alerts can be silenced from here; x1 already is,
    // x3 is resolved
    expect(screen.queryByTestId('silence-a-x1')).toBeNull();
    expect(screen.getByTestId('silence-a-x2')).toBeInTheDocument();
    expect(screen.queryByTestId('silence-b-x3')).toBeNull();
    fireEvent.click(screen.getByTestId('silence-remove-sil-1'));
    await waitFor(() => expect(fetchMock.mock.calls.some(([u, i]) => u === '/api/silences/sil-1' && i?.method === 'DELETE')).toBe(true));
  });

  it('a read token sees the silences but no silence buttons', async () => {
    api(true);
    page('read');
    await waitFor(() => expect(screen.getByTestId('silence-row-sil-1')).toBeInTheDocument());
    expect(screen.queryByTestId('silence-remove-sil-1')).toBeNull();
    expect(screen.queryAllByTestId(/^silence-a-/)).toHaveLength(0);
  });

  it("posts a silence with the row's rule and node, and shows the API's refusal as it words it", async () => {
    const fetchMock = mockFetch((url, init) => {
      if (url === '/api/silences' && init.method === 'POST')
        return { status: 400, body: { error: 'invalid_field', message: 'comment: at most 256 bytes of text' } };
      if (url === '/api/silences') return { body: { node: 'a', silences: [] } };
      if (url.startsWith('/api/alerts')) return { body: { alerts: [] } };
      return undefined;
    });
    page('write');
    fireEvent.click(screen.getByTestId('silence-a-x1'));
    fireEvent.change(screen.getByTestId('silence-for'), { target: { value: '1d' } });
    fireEvent.change(screen.getByTestId('silence-comment'), { target: { value: 'disk swap' } });
    fireEvent.click(screen.getByTestId('silence-submit'));
    await waitFor(() => expect(screen.getByTestId('silence-error')).toHaveTextContent('invalid_field: comment: at most 256 bytes of text'));
    const post = fetchMock.mock.calls.find(([u, i]) => u === '/api/silences' && i?.method === 'POST');
    expect(bodyOf(post![1])).toEqual({ matchers: { rule: 'disk_full', node: 'a' }, for: '1d', comment: 'disk swap' });
  });

  it('acknowledges every firing alert the filters show, each at its node, and says what was refused', async () => {
    const many = [
      ...ALERTS,
      alert('b', 'x4', { rule: 'disk_full', severity: 'critical' }),
      alert('b', 'x5', { rule: 'cpu_high' }),
    ];
    const fetchMock = mockFetch((url, init) => {
      if (url === '/api/commands' && init.method === 'POST') {
        const b = bodyOf(init);
        if (b.args.alert_id === 'x5') return { status: 409, body: { error: 'frozen', message: 'the mesh is frozen' } };
        return { status: 202, body: { id: `c-${b.args.alert_id}`, target: b.target, type: b.type, state: 'pending', destinations: [b.target], results: [] } };
      }
      if (url === '/api/silences') return { body: { node: 'a', silences: [] } };
      if (url.startsWith('/api/alerts')) return { body: { alerts: [] } };
      return undefined;
    });
    window.location.hash = '#/alerts?node=b';
    renderWith(storeWith(hello('write'), snapshot(cluster(['a', 'b']), { alerts: many })), <Alerts />);
    // b's two firing ones; its resolved x3 and a's firing x1 are not shown
    expect(screen.getByTestId('ack-shown')).toHaveTextContent('Acknowledge 2 firing');
    fireEvent.click(screen.getByTestId('ack-shown'));
    await waitFor(() => expect(screen.getByTestId('ack-shown-message')).toHaveTextContent('1 acks sent, 1 refused (b x5: frozen: the mesh is frozen)'));
    const posts = fetchMock.mock.calls.filter(([u, i]) => u === '/api/commands' && i?.method === 'POST').map(([, i]) => bodyOf(i));
    expect(posts.map((b) => [b.target, b.type, b.args.alert_id]).sort()).toEqual([
      ['b', 'ack_alert', 'x4'],
      ['b', 'ack_alert', 'x5'],
    ]);
  });

  it('has no bulk acknowledge for a read token', () => {
    api(false);
    page('read');
    expect(screen.queryByTestId('ack-shown')).toBeNull();
  });

  it("opens an alert's story from the route", async () => {
    mockFetch((url) => {
      if (url.startsWith('/api/events?kind=alert&node=a'))
        return { body: { events: [{ origin: 'a', incarnation: 1, seq: 1, kind: 'alert', time_ms: 1000, received_ms: 1000, body: { ...ALERTS[1], state: 'firing', acked_ms: null } }] } };
      if (url.startsWith('/api/audit')) return { body: { node: 'a', records: [] } };
      if (url === '/api/alerts/notices?alert_id=x2')
        return { body: { node: 'a', channels: true, notices: [{ time_ms: 1500, alert_id: 'x2', notice: 'firing', channel: 'phone', outcome: 'delivered', attempts: 1 }] } };
      if (url === '/api/silences') return { body: { node: 'a', silences: [] } };
      if (url.startsWith('/api/alerts')) return { body: { alerts: [] } };
      return undefined;
    });
    page('write', 'a/x2');
    await waitFor(() => expect(screen.getByTestId('story-acknowledged')).toHaveTextContent('acknowledged by ann'));
    expect(screen.getByTestId('story-fired')).toBeInTheDocument();
    expect(screen.getByTestId('story-notice')).toHaveTextContent('firing notice delivered to phone');
    expect(screen.getByTestId('alert-row-a-x2')).toHaveClass('selected');
  });
});
