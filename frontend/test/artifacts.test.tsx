import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Header } from '../src/components/Header';
import { ApiError } from '../src/lib/api';
import { CHUNK, fetchPercent, sha256Of, shortHash, uploadArtifact, type Artifact, type ArtifactList } from '../src/lib/artifacts';
import { parseHash } from '../src/lib/hooks';
import { setToken } from '../src/lib/token';
import { Artifacts } from '../src/pages/Artifacts';
import { hello } from './fixtures';
import { mockFetch, renderWith, storeWith } from './render';

const H1 = `sha256:${'ab12cd34ef56'.repeat(5)}7890`;
const H2 = `sha256:${'0f'.repeat(32)}`;
const H3 = `sha256:${'99'.repeat(32)}`;

const LIST: ArtifactList = {
  artifacts: [
    {
      artifact: H1,
      name: 'app-1.2.tar.gz',
      size: 1048576,
      nodes: [
        { node: 'a', added_ms: 1765000000000 },
        { node: 'node-3', added_ms: 1765000005000 },
      ],
    },
    { artifact: H2, name: 'tools.zip', size: 300, nodes: [{ node: 'node-3', added_ms: 1765000006000 }] },
  ],
  fetches: [
    { artifact: H2, node: 'a', from: 'node-3', bytes: 150, size: 300, started_ms: 1765000007000, error: null },
    { artifact: H3, node: 'a', from: 'node-1', bytes: 524288, size: 1048576, started_ms: 1765000001000, error: 'sha256 mismatch from node-1: refused' },
  ],
};

/** A node with LIST; DELETEs answered by del. */
function node(del: (url: string) => { status?: number; body: unknown } = (u) => ({ body: { artifact: u.split('/').pop(), deleted: true } })) {
  return mockFetch((url, init) => {
    if (init.method === 'DELETE' && url.startsWith('/api/artifacts/')) return del(decodeURIComponent(url));
    if (url === '/api/artifacts') return { body: LIST };
    return undefined;
  });
}

const rows = () => screen.getAllByTestId('art-row');

beforeEach(() => {
  setToken('tok-w');
  window.location.hash = '';
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('artifact helpers', () => {
  it('hashes like sha256sum', async () => {
    expect(await sha256Of(new Blob(['abc']))).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Of(new Blob([]))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('shortens hashes, measures fetches, routes #/artifacts', () => {
    expect(shortHash(H1)).toBe('ab12cd34ef56');
    expect(fetchPercent({ bytes: 524288, size: 1048576 })).toBe(50);
    expect(fetchPercent({ bytes: 5, size: 0 })).toBe(0);
    expect(parseHash('#/artifacts')).toEqual({ page: 'artifacts', param: null });
  });
});

describe('Artifacts page', () => {
  it('has a nav entry after Services', () => {
    renderWith(storeWith(hello('read')), <Header page="artifacts" onSignOut={() => {}} />);
    const links = screen.getAllByRole('link').map((l) => l.getAttribute('href'));
    expect(links.indexOf('#/artifacts')).toBe(links.indexOf('#/services') + 1);
    expect(screen.getByTestId('nav-artifacts')).toHaveClass('active');
    expect(screen.getByTestId('nav-artifacts')).toHaveTextContent('Artifacts');
  });

  it('shows every artifact with its hash, size and nodes, and the fetches in progress', async () => {
    node();
    renderWith(storeWith(hello('write')), <Artifacts pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => r.dataset.name)).toEqual(['app-1.2.tar.gz', 'tools.zip']);
    const hash = screen.getByTestId('art-hash-ab12cd34ef56');
    expect(hash).toHaveTextContent(/^ab12cd34ef56$/);
    expect(hash).toHaveAttribute('title', H1);
    expect(screen.getByTestId('art-size-ab12cd34ef56')).toHaveTextContent('1.0 MiB');
    expect(screen.getByTestId('art-size-0f0f0f0f0f0f')).toHaveTextContent('300 B');
    const holders = within(screen.getByTestId('art-nodes-ab12cd34ef56')).getAllByRole('link');
    expect(holders.map((l) => [l.textContent, l.getAttribute('href')])).toEqual([
      ['a', '#/nodes/a'],
      ['node-3', '#/nodes/node-3'],
    ]);

    const fetches = screen.getAllByTestId('art-fetch');
    expect(fetches).toHaveLength(2);
    expect(fetches[0]).toHaveTextContent('tools.zip');
    expect(fetches[0]).toHaveTextContent('node-3 → a');
    expect(screen.getByTestId('art-fetch-progress-0f0f0f0f0f0f')).toHaveTextContent('150 B / 300 B · 50%');
    expect(screen.getByTestId('art-fetch-bar-0f0f0f0f0f0f')).toHaveAttribute('value', '50');
    expect(screen.getByTestId('art-fetch-error-0f0f0f0f0f0f')).toHaveTextContent(/^$/);
    // An artifact the list does not name yet: its short hash.
    expect(fetches[1]).toHaveTextContent('999999999999');
    expect(screen.getByTestId('art-fetch-progress-999999999999')).toHaveTextContent('512 KiB / 1.0 MiB · 50%');
    const err = screen.getByTestId('art-fetch-error-999999999999');
    expect(err).toHaveTextContent('sha256 mismatch from node-1: refused');
    expect(err).toHaveClass('error');
  });

  it('says how to add one when there are none', async () => {
    mockFetch((url) => (url === '/api/artifacts' ? { body: { artifacts: [], fetches: [] } } : undefined));
    renderWith(storeWith(hello('read')), <Artifacts pollMs={60000} />);
    expect(await screen.findByTestId('art-empty')).toHaveTextContent('No artifacts yet — add one with agentflow artifact add FILE');
    expect(screen.getByTestId('art-fetches-none')).toBeInTheDocument();
    expect(screen.queryByTestId('art-table')).toBeNull();
  });

  it('a read token sees the artifacts and no delete, no add', async () => {
    node();
    renderWith(storeWith(hello('read')), <Artifacts pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(screen.queryByTestId('art-add-input')).toBeNull();
  });

  it('"delete here" only where this node holds it; asks first, then DELETEs this node\'s copy', async () => {
    const fetch = node();
    renderWith(storeWith(hello('write')), <Artifacts pollMs={60000} />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(screen.queryByTestId('art-delete-0f0f0f0f0f0f')).toBeNull();
    const deletes = () => fetch.mock.calls.filter(([, i]) => i?.method === 'DELETE').map(([u]) => u);

    fireEvent.click(screen.getByTestId('art-delete-ab12cd34ef56'));
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog).toHaveTextContent('Delete app-1.2.tar.gz from a?');
    expect(dialog).toHaveTextContent('node-3 keep theirs');
    fireEvent.click(screen.getByTestId('confirm-no'));
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(deletes()).toHaveLength(0);

    fireEvent.click(screen.getByTestId('art-delete-ab12cd34ef56'));
    fireEvent.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(deletes()).toEqual([`/api/artifacts/${H1}`]));
    expect(await screen.findByTestId('art-msg')).toHaveTextContent('deleted app-1.2.tar.gz (ab12cd34ef56) from a');
    expect(screen.getByTestId('art-msg')).not.toHaveClass('error');
    const auth = fetch.mock.calls.find(([, i]) => i?.method === 'DELETE')?.[1]?.headers as Record<string, string>;
    expect(auth.Authorization).toBe('Bearer tok-w');
  });

  it("shows the node's refusal of a delete (409 in use)", async () => {
    node(() => ({ status: 409, body: { error: 'in use by service web' } }));
    renderWith(storeWith(hello('write')), <Artifacts pollMs={60000} />);
    fireEvent.click(await screen.findByTestId('art-delete-ab12cd34ef56'));
    fireEvent.click(screen.getByTestId('confirm-yes'));
    const msg = await screen.findByText('delete app-1.2.tar.gz failed — in use by service web');
    expect(msg).toHaveClass('error');
    expect(msg).toHaveAttribute('role', 'alert');
  });

  it('says why the list could not be read, and keeps the last rows', async () => {
    let fail = false;
    mockFetch((url) => {
      if (url !== '/api/artifacts') return undefined;
      return fail ? { status: 500, body: { error: 'internal', message: 'database is locked' } } : { body: LIST };
    });
    renderWith(storeWith(hello('read')), <Artifacts pollMs={50} />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    fail = true;
    await waitFor(() => expect(screen.getByTestId('art-error')).toHaveTextContent('internal: database is locked'));
    expect(rows()).toHaveLength(2);
  });
});

/**
 * A node taking uploads as the API says: a PUT at the offset it is at
 * appends (200 {received} or, complete, 201 with the row after checking
 * the hash); a PUT elsewhere gets 409 {error, offset}.  `have` bytes are
 * there from an earlier, broken upload.
 */
function uploadNode(opts: { have?: Uint8Array<ArrayBuffer>; wrongHash?: boolean; gate?: (offset: number) => Promise<void> } = {}) {
  let have: Uint8Array<ArrayBuffer> = opts.have ?? new Uint8Array(0);
  const puts: { url: string; offset: number; size: number; type: string }[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    if (url === '/api/artifacts' && (init.method ?? 'GET') === 'GET') return json(200, { artifacts: [], fetches: [] });
    if (init.method !== 'PUT') return json(404, { error: 'not found' });
    const u = new URL(url, 'http://node');
    const offset = Number(u.searchParams.get('offset'));
    const size = Number(u.searchParams.get('size'));
    await opts.gate?.(offset);
    const body = new Uint8Array(await (init.body as Blob).arrayBuffer());
    puts.push({ url, offset, size: body.length, type: (init.headers as Record<string, string>)['Content-Type'] });
    if (body.length > CHUNK) return json(413, { error: 'body over 1 MiB' });
    if (offset !== have.length) return json(409, { error: `offset ${offset}, not ${have.length}`, offset: have.length });
    const next = new Uint8Array(have.length + body.length);
    next.set(have);
    next.set(body, have.length);
    have = next;
    if (have.length < size) return json(200, { received: have.length });
    const artifact = await sha(have);
    if (opts.wrongHash || decodeURIComponent(u.pathname.split('/').pop() ?? '') !== artifact) {
      have = new Uint8Array(0);
      return json(400, { error: `sha256 mismatch: got ${artifact}` });
    }
    const row: Artifact = { artifact, name: u.searchParams.get('name') ?? '', size, nodes: [{ node: 'a', added_ms: 1 }] };
    return json(201, row);
  });
  vi.stubGlobal('fetch', fn);
  return { fn, puts, bytes: () => have };
}

/** 2.5 MiB of varied bytes. */
function payload(n = CHUNK * 2 + CHUNK / 2): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  return b;
}

/** The SHA-256 the test computes itself (not through the page's sha256Of). */
async function sha(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', b));
  return `sha256:${Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

describe('artifact upload', () => {
  it('hashes the file, then PUTs 1 MiB pieces at their offsets with the sha256 in the URL', async () => {
    const data = payload();
    const node = uploadNode();
    const seen: string[] = [];
    const row = await uploadArtifact(new File([data], 'app 1.tar.gz'), { onProgress: (p) => seen.push(`${p.phase}:${p.bytes}`) });
    expect(row.artifact).toBe(await sha(data));
    expect(node.puts.map((p) => [p.offset, p.size])).toEqual([
      [0, CHUNK],
      [CHUNK, CHUNK],
      [2 * CHUNK, CHUNK / 2],
    ]);
    const hash = await sha(data);
    for (const p of node.puts) {
      expect(p.url.startsWith(`/api/artifacts/${hash}?name=app%201.tar.gz&size=${data.length}&offset=`)).toBe(true);
      expect(p.type).toBe('application/octet-stream');
    }
    expect(await sha(node.bytes())).toBe(await sha(data));
    expect(seen).toEqual(['hashing:0', 'uploading:0', `uploading:${CHUNK}`, `uploading:${2 * CHUNK}`, `uploading:${data.length}`]);
  });

  it('resumes from the offset a 409 names', async () => {
    const data = payload();
    // The node already has the first 1.5 MiB from a broken upload.
    const node = uploadNode({ have: data.slice(0, CHUNK + CHUNK / 2) });
    const row = await uploadArtifact(new File([data], 'app.tar.gz'));
    expect(row.artifact).toBe(await sha(data));
    expect(node.puts.map((p) => p.offset)).toEqual([0, CHUNK + CHUNK / 2]);
    expect(await sha(node.bytes())).toBe(await sha(data));
  });

  it('takes an injected hasher; a hash the node does not match is refused (400)', async () => {
    const data = payload(1000);
    uploadNode();
    const hash = vi.fn(async () => `sha256:${'00'.repeat(32)}`);
    const err = await uploadArtifact(new Blob([data]), { hash }).catch((e) => e);
    expect(hash).toHaveBeenCalledTimes(1);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
  });

  it('gives up when the node keeps refusing the same offset', async () => {
    mockFetch(() => ({ status: 409, body: { error: 'busy', offset: 0 } }));
    const err = await uploadArtifact(new Blob([payload(10)])).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect((fetch as unknown as ReturnType<typeof vi.fn>).mock.calls.length).toBe(3);
  });

  it('the page: a write token picks a file, sees it uploaded, and the list reloads', async () => {
    const data = payload();
    const hash = await sha(data);
    // The second piece waits until the test has seen the progress.
    let open = () => {};
    const held = new Promise<void>((r) => (open = r));
    const node = uploadNode({ gate: (offset) => (offset === CHUNK ? held : Promise.resolve()) });
    renderWith(storeWith(hello('write')), <Artifacts pollMs={60000} />);
    await screen.findByTestId('art-empty');
    const gets = () => node.fn.mock.calls.filter(([u]) => u === '/api/artifacts').length;
    const before = gets();
    fireEvent.change(screen.getByTestId('art-add-input'), { target: { files: [new File([data], 'app.tar.gz')] } });
    await waitFor(() => expect(screen.getByTestId('art-upload')).toHaveTextContent('uploading app.tar.gz 1.0 MiB / 2.5 MiB · 40%'));
    expect(screen.getByTestId('art-upload-bar')).toHaveAttribute('value', '40');
    expect(screen.getByTestId('art-add-input')).toBeDisabled();
    open();
    await waitFor(() => expect(screen.getByTestId('art-add-msg')).toHaveTextContent(`added app.tar.gz (${shortHash(hash)})`));
    expect(node.puts.map((p) => p.offset)).toEqual([0, CHUNK, 2 * CHUNK]);
    expect(gets()).toBeGreaterThan(before);
    expect(screen.queryByTestId('art-upload')).toBeNull();
  });

  it("the page shows the node's refusal of an upload", async () => {
    uploadNode({ wrongHash: true });
    renderWith(storeWith(hello('write')), <Artifacts pollMs={60000} />);
    await screen.findByTestId('art-empty');
    fireEvent.change(screen.getByTestId('art-add-input'), { target: { files: [new File([payload(2000)], 'bad.zip')] } });
    const msg = await screen.findByTestId('art-add-msg');
    await waitFor(() => expect(msg).toHaveTextContent(/^bad\.zip: the node refused it — sha256 mismatch: got sha256:[0-9a-f]{64}$/));
    expect(msg).toHaveClass('error');
  });
});
