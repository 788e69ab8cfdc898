// Artifacts of the mesh (.tar.gz/.zip files kept by SHA-256 that services
// run from): every artifact with the nodes that hold it, and this node's
// fetches in progress, from GET /api/artifacts polled every 2 s while the
// page is shown.  A write token may delete this node's copy (confirmed
// first; the node refuses one a service uses) and add a file: hashed in
// the browser, then uploaded in 1 MiB PUTs.  The node refuses a read
// token's writes (403) whatever the page shows.

import { memo, useCallback, useMemo, useRef, useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { describeError } from '../lib/api';
import {
  artifactError,
  deleteArtifact,
  fetchPercent,
  getArtifacts,
  shortHash,
  uploadArtifact,
  type Artifact,
  type ArtifactFetch,
  type ArtifactList,
  type UploadProgress,
} from '../lib/artifacts';
import { fmtBytes, fmtDateTime } from '../lib/format';
import { useCanWrite, usePoll, useStore } from '../lib/hooks';

const nodeHref = (id: string) => `#/nodes/${encodeURIComponent(id)}`;

interface RowProps {
  a: Artifact;
  /** This node's id: "delete here" only on the rows it holds. */
  here: string | null;
  canWrite: boolean;
  onDelete: (a: Artifact) => void;
}

const Row = memo(function Row({ a, here, canWrite, onDelete }: RowProps) {
  const held = here !== null && a.nodes.some((n) => n.node === here);
  const short = shortHash(a.artifact);
  return (
    <tr data-testid="art-row" data-artifact={a.artifact} data-name={a.name}>
      <td>{a.name}</td>
      <td className="mono" title={a.artifact} data-testid={`art-hash-${short}`}>
        {short}
      </td>
      <td data-testid={`art-size-${short}`} title={`${a.size} bytes`}>
        {fmtBytes(a.size)}
      </td>
      <td data-testid={`art-nodes-${short}`}>
        {a.nodes.map((n, i) => (
          <span key={n.node}>
            {i > 0 && ', '}
            <a href={nodeHref(n.node)} className="mono" title={`since ${fmtDateTime(n.added_ms)}`}>
              {n.node}
            </a>
          </span>
        ))}
      </td>
      {canWrite && (
        <td className="actions">
          {held && (
            <button type="button" className="danger" onClick={() => onDelete(a)} data-testid={`art-delete-${short}`} title={`delete ${a.name} from ${here}`}>
              delete here
            </button>
          )}
        </td>
      )}
    </tr>
  );
});

function FetchRow({ f, name }: { f: ArtifactFetch; name: string | undefined }) {
  const pct = fetchPercent(f);
  const short = shortHash(f.artifact);
  return (
    <tr data-testid="art-fetch" data-artifact={f.artifact}>
      <td title={f.artifact}>
        {name ?? ''} <span className="mono small">{short}</span>
      </td>
      <td className="mono">
        <a href={nodeHref(f.from)}>{f.from}</a> → <a href={nodeHref(f.node)}>{f.node}</a>
      </td>
      <td>
        <progress max={100} value={pct} data-testid={`art-fetch-bar-${short}`} aria-label={`fetch of ${name ?? short}`} />{' '}
        <span className="small" data-testid={`art-fetch-progress-${short}`}>
          {fmtBytes(f.bytes)} / {fmtBytes(f.size)} · {pct.toFixed(0)}%
        </span>
      </td>
      <td className="error small" data-testid={`art-fetch-error-${short}`}>
        {f.error ?? ''}
      </td>
    </tr>
  );
}

interface Upload {
  name: string;
  p: UploadProgress;
}

/** The file input and the progress of the upload it started. */
function AddArtifact({ after }: { after: () => void }) {
  const [up, setUp] = useState<Upload | null>(null);
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const add = async (file: File) => {
    setMsg(null);
    setUp({ name: file.name, p: { phase: 'hashing', bytes: 0, size: file.size } });
    try {
      const a = await uploadArtifact(file, { onProgress: (p) => setUp({ name: file.name, p }) });
      setMsg({ text: `added ${a.name ?? file.name} (${shortHash(a.artifact)})`, error: false });
      after();
    } catch (e) {
      setMsg({ text: `${file.name}: the node refused it — ${artifactError(e)}`, error: true });
    } finally {
      setUp(null);
      if (input.current) input.current.value = '';
    }
  };

  const p = up?.p;
  const pct = p && p.size > 0 ? (p.bytes / p.size) * 100 : 0;
  return (
    <div className="row wrap gap filters" data-testid="art-add">
      <label>
        Add artifact{' '}
        <input
          ref={input}
          type="file"
          accept=".tar.gz,.tgz,.zip,application/gzip,application/zip"
          disabled={up !== null}
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void add(f);
          }}
          data-testid="art-add-input"
        />
      </label>
      {up && p && (
        <span className="small" data-testid="art-upload" data-phase={p.phase}>
          {p.phase === 'hashing' ? (
            <>hashing {up.name}…</>
          ) : (
            <>
              uploading {up.name} <progress max={100} value={pct} data-testid="art-upload-bar" /> {fmtBytes(p.bytes)} / {fmtBytes(p.size)} · {pct.toFixed(0)}%
            </>
          )}
        </span>
      )}
      {msg && (
        <span className={msg.error ? 'error' : 'small'} data-testid="art-add-msg" role={msg.error ? 'alert' : undefined}>
          {msg.text}
        </span>
      )}
    </div>
  );
}

export function Artifacts({ pollMs = 2000 }: { pollMs?: number }) {
  const canWrite = useCanWrite();
  const here = useStore((s) => s.hello?.node ?? null);
  const [data, setData] = useState<ArtifactList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Artifact | null>(null);
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);

  const load = useCallback(async () => {
    try {
      setData(await getArtifacts());
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, []);
  usePoll(load, pollMs);

  const names = useMemo(() => new Map((data?.artifacts ?? []).map((a) => [a.artifact, a.name])), [data]);

  const remove = async (a: Artifact) => {
    setConfirm(null);
    setMsg({ text: `delete ${a.name}: sending…`, error: false });
    try {
      await deleteArtifact(a.artifact);
      setMsg({ text: `deleted ${a.name} (${shortHash(a.artifact)}) from ${here}`, error: false });
    } catch (e) {
      setMsg({ text: `delete ${a.name} failed — ${artifactError(e)}`, error: true });
    }
    void load();
  };
  const onDelete = useCallback((a: Artifact) => setConfirm(a), []);

  const artifacts = data?.artifacts ?? [];
  const fetches = data?.fetches ?? [];
  return (
    <section data-testid="artifacts-page">
      <h2>Artifacts</h2>
      <p className="muted small">
        Files services run from, kept by SHA-256; a node that needs one fetches it from a peer. Refreshed every {pollMs / 1000} s.
      </p>
      {error && (
        <p className="error" data-testid="art-error" role="alert">
          {error}
        </p>
      )}
      {canWrite && <AddArtifact after={() => void load()} />}
      {msg && (
        <p className={msg.error ? 'error' : 'small'} data-testid="art-msg" role={msg.error ? 'alert' : undefined}>
          {msg.text}
        </p>
      )}
      {data === null && !error ? (
        <p className="muted">loading…</p>
      ) : artifacts.length === 0 && !error ? (
        <p className="muted" data-testid="art-empty">
          No artifacts yet — add one with <code>agentflow artifact add FILE</code>
        </p>
      ) : (
        <div className="scroll-x">
          <div className="table-wrap">
            <table className="table" data-testid="art-table">
              <thead>
                <tr>
                  <th>name</th>
                  <th>sha256</th>
                  <th>size</th>
                  <th>nodes</th>
                  {canWrite && <th />}
                </tr>
              </thead>
              <tbody>
                {artifacts.map((a) => (
                  <Row key={a.artifact} a={a} here={here} canWrite={canWrite} onDelete={onDelete} />
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      <h3>Fetches in progress</h3>
      {fetches.length === 0 ? (
        <p className="muted small" data-testid="art-fetches-none">
          none on this node
        </p>
      ) : (
        <div className="scroll-x">
          <div className="table-wrap">
            <table className="table" data-testid="art-fetches">
              <thead>
                <tr>
                  <th>artifact</th>
                  <th>from → node</th>
                  <th>progress</th>
                  <th>error</th>
                </tr>
              </thead>
              <tbody>
                {fetches.map((f) => (
                  <FetchRow key={`${f.node}/${f.artifact}`} f={f} name={names.get(f.artifact)} />
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          title={`Delete ${confirm.name} from ${here}?`}
          body={`Removes ${here}'s copy of ${confirm.name} (${confirm.artifact}). ${
            confirm.nodes.filter((n) => n.node !== here).length
              ? `${confirm.nodes
                  .filter((n) => n.node !== here)
                  .map((n) => n.node)
                  .join(', ')} keep theirs.`
              : 'No other node holds it: it is gone from the mesh.'
          } The node refuses while a service uses it.`}
          confirmLabel="Delete here"
          danger
          onConfirm={() => void remove(confirm)}
          onCancel={() => setConfirm(null)}
        />
      )}
    </section>
  );
}
