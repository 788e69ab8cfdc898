// Artifacts (.tar.gz/.zip files a node keeps by SHA-256, that services run
// from): the rows of GET /api/artifacts, DELETE of this node's copy, and an
// upload in PUTs of at most 1 MiB that resumes where the node is.

import { ApiError, describeError, request } from './api';

export interface ArtifactHolder {
  node: string;
  added_ms: number;
}

export interface Artifact {
  /** "sha256:<64 hex>" */
  artifact: string;
  name: string;
  size: number;
  nodes: ArtifactHolder[];
}

/** A fetch in progress on the node asked: node gets artifact from `from`. */
export interface ArtifactFetch {
  artifact: string;
  node: string;
  from: string;
  bytes: number;
  size: number;
  started_ms: number;
  /** Why the last attempt failed, or null. */
  error: string | null;
}

export interface ArtifactList {
  artifacts: Artifact[];
  fetches: ArtifactFetch[];
}

/** The largest body the node takes in one PUT. */
export const CHUNK = 1024 * 1024;

export const getArtifacts = () =>
  request<Partial<ArtifactList> | null>('GET', '/api/artifacts').then((r) => ({ artifacts: r?.artifacts ?? [], fetches: r?.fetches ?? [] }));

/** Deletes this node's copy; the node refuses (409) one a service uses. */
export const deleteArtifact = (artifact: string) =>
  request<{ artifact: string; deleted: boolean }>('DELETE', artifactPath(artifact));

/** /api/artifacts/sha256:<hex>, the colon as it is (the API's spelling). */
export const artifactPath = (artifact: string) => `/api/artifacts/${encodeURIComponent(artifact).replace(/%3A/gi, ':')}`;

/** The 64 hex digits of "sha256:<hex>". */
export const hexOf = (artifact: string) => artifact.replace(/^sha256:/, '');

/** The first 12 hex digits: enough to tell artifacts apart by eye. */
export const shortHash = (artifact: string) => hexOf(artifact).slice(0, 12);

/** Percent of a fetch done, 0 to 100 (0 for an unknown size). */
export const fetchPercent = (f: Pick<ArtifactFetch, 'bytes' | 'size'>) =>
  f.size > 0 ? Math.min(100, Math.max(0, (f.bytes / f.size) * 100)) : 0;

/**
 * What the node's refusal says.  The artifacts API answers
 * {"error": "<text>"}; other endpoints {"error": code, "message": text}.
 */
export function artifactError(e: unknown): string {
  if (e instanceof ApiError && e.status !== 401 && e.status !== 403 && e.status !== 423 && e.status !== 429) {
    const b = (e.body ?? {}) as { error?: unknown; message?: unknown };
    if (typeof b.message === 'string') return b.message;
    if (typeof b.error === 'string') return b.error;
  }
  return describeError(e);
}

/** The SHA-256 of a file as "sha256:<hex>", computed in the browser. */
export async function sha256Of(blob: Blob): Promise<string> {
  // A Uint8Array view: jsdom's Blob gives an ArrayBuffer of another realm,
  // which Node's digest refuses as such.
  const d = await crypto.subtle.digest('SHA-256', new Uint8Array(await blob.arrayBuffer()));
  return `sha256:${[...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export interface UploadProgress {
  phase: 'hashing' | 'uploading';
  /** Bytes the node has (uploading). */
  bytes: number;
  size: number;
  artifact?: string;
}

export interface UploadOptions {
  onProgress?: (p: UploadProgress) => void;
  /** The hasher (tests inject one); sha256Of by default. */
  hash?: (b: Blob) => Promise<string>;
  signal?: AbortSignal;
}

/** How many PUTs in a row may fail to move the node forward. */
const STUCK = 3;

/** How many 409s one upload takes before it gives up (a node losing data). */
const MAX_RESUMES = 16;

/**
 * Uploads a file: its SHA-256 first, then PUT /api/artifacts/sha256:<hex>
 * ?name&size&offset with at most CHUNK bytes each.  A 409 names the offset
 * the node is at (it has some of the file already, or lost some): the
 * upload goes on from there.  Returns the node's artifact row (the 201);
 * throws an ApiError on any other refusal (400: the hash did not match).
 */
export async function uploadArtifact(file: Blob & { name?: string }, opts: UploadOptions = {}): Promise<Artifact> {
  const size = file.size;
  const name = file.name || 'artifact';
  opts.onProgress?.({ phase: 'hashing', bytes: 0, size });
  const artifact = await (opts.hash ?? sha256Of)(file);
  let offset = 0;
  let stuck = 0;
  let resumes = 0;
  for (;;) {
    if (opts.signal?.aborted) throw new ApiError(0, 'aborted', 'upload cancelled');
    opts.onProgress?.({ phase: 'uploading', bytes: offset, size, artifact });
    const at = offset;
    const chunk = file.slice(offset, Math.min(size, offset + CHUNK));
    const url = `${artifactPath(artifact)}?name=${encodeURIComponent(name)}&size=${size}&offset=${offset}`;
    let r: Partial<Artifact> & { received?: number };
    try {
      r = (await request<Partial<Artifact> & { received?: number }>('PUT', url, chunk)) ?? {};
    } catch (e) {
      const n = (e instanceof ApiError && e.status === 409 ? (e.body as { offset?: unknown } | null)?.offset : undefined) as unknown;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > size) throw e;
      if (++resumes > MAX_RESUMES || (n === at && ++stuck >= STUCK)) throw e;
      offset = n;
      continue;
    }
    if (typeof r.artifact === 'string') {
      opts.onProgress?.({ phase: 'uploading', bytes: size, size, artifact });
      return r as Artifact;
    }
    // 200 {"received": n}: n is where the node now is; a count of this
    // PUT's bytes alone is taken as such too (offset + chunk).
    const received = r.received;
    offset = typeof received === 'number' && received > at && received <= size ? received : at + chunk.size;
    if (offset === at) {
      // An empty PUT at the end that did not complete the artifact.
      if (++stuck >= STUCK) throw new ApiError(0, 'stuck', `the node stays at byte ${at} of ${size}`);
    } else stuck = 0;
  }
}
