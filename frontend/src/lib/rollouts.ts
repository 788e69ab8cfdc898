// What the rollout panel computes: progress, the order it shows rollouts
// in, the form's checks (before anything is sent) and what a refusal says.

import { ApiError, describeError } from './api';
import type { Rollout, RolloutStart, RolloutTarget } from './types';

/** The states in which a rollout still moves (or may move again). */
export const LIVE_ROLLOUT = new Set(['running', 'paused']);

/** The contract's bounds of the numbers (POST /api/rollouts). */
export const LIMITS = {
  max_parallel: { min: 1, max: 16, def: 1, what: 'max parallel' },
  deadline_s: { min: 1, max: 3600, def: 60, what: 'deadline (s)' },
  min_healthy_s: { min: 0, max: 600, def: 5, what: 'min healthy (s)' },
} as const;

export type Limit = keyof typeof LIMITS;

/** "k of n nodes healthy". */
export function progress(r: Pick<Rollout, 'nodes'>): { healthy: number; total: number; text: string } {
  const healthy = r.nodes.filter((n) => n.state === 'healthy').length;
  const total = r.nodes.length;
  return { healthy, total, text: `${healthy} of ${total} node${total === 1 ? '' : 's'} healthy` };
}

/** Newest first (the API's order, kept if it ever differs). */
export const newestFirst = (rs: Rollout[]) => [...rs].sort((a, b) => b.created_ms - a.created_ms);

/**
 * The target field as the API takes it: `all`, a node, `k=v,k2=v2`,
 * `{"labels": {...}}`, or a list of nodes `node-1, node-3` (commas and no
 * `=`), which goes as "nodes" instead of "target".
 */
export function parseTarget(text: string): { target: RolloutTarget } | { nodes: string[] } | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'target: say where (all, a node, k=v,k2=v2, or node-1,node-3)' };
  if (t.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      return { error: `target: not valid JSON — ${(e as Error).message}` };
    }
    const labels = (v as { labels?: unknown })?.labels;
    if (!labels || typeof labels !== 'object' || Array.isArray(labels) || Object.keys(v as object).length !== 1)
      return { error: 'target: a JSON target is {"labels": {"k": "v"}}' };
    return { target: { labels: labels as Record<string, string> } };
  }
  if (t.includes(',') && !t.includes('=')) {
    const nodes = t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return { nodes };
  }
  return { target: t };
}

export interface RolloutFormValues {
  definition: string;
  target: string;
  max_parallel: string;
  deadline_s: string;
  min_healthy_s: string;
}

/** The request the form's fields make, or what is wrong with them (nothing is sent then). */
export function buildRollout(service: string, f: RolloutFormValues): { body: RolloutStart } | { errors: string[] } {
  const errors: string[] = [];
  let definition: Record<string, unknown> | null = null;
  if (!f.definition.trim()) errors.push('definition: empty — paste the service definition (a JSON object)');
  else {
    try {
      const v: unknown = JSON.parse(f.definition);
      if (v && typeof v === 'object' && !Array.isArray(v)) definition = v as Record<string, unknown>;
      else errors.push('definition: must be a JSON object');
    } catch (e) {
      errors.push(`definition: not valid JSON — ${(e as Error).message}`);
    }
  }
  const where = parseTarget(f.target);
  if ('error' in where) errors.push(where.error);
  const nums: Partial<Record<Limit, number>> = {};
  for (const k of Object.keys(LIMITS) as Limit[]) {
    const l = LIMITS[k];
    const raw = f[k].trim();
    const n = raw === '' ? l.def : Number(raw);
    if (!Number.isInteger(n) || n < l.min || n > l.max) errors.push(`${l.what}: a whole number from ${l.min} to ${l.max}`);
    else nums[k] = n;
  }
  if (errors.length || !definition || 'error' in where) return { errors };
  return { body: { service, definition, ...where, ...nums } };
}

/**
 * What a refused rollout call tells the user: describeError's text, the
 * fields a 400 names, and for a 409 what it means here (`conflict` says
 * no more on its own).  An answer without a message gives its code, not
 * the raw JSON request() falls back to.
 */
export function describeRolloutError(e: unknown, conflict: string): string {
  if (!(e instanceof ApiError)) return describeError(e);
  const body = e.body && typeof e.body === 'object' ? (e.body as { message?: unknown; errors?: unknown }) : null;
  const message = typeof body?.message === 'string' && body.message ? body.message : null;
  if (e.status === 409) return message ? `${conflict} — ${message}` : conflict;
  let text = describeError(e);
  if (body && !message && e.status >= 400 && ![401, 403].includes(e.status)) text = e.code;
  const errs = Array.isArray(body?.errors) ? (body.errors as { path?: string; error?: string }[]) : [];
  if (errs.length) text += ` (${errs.map((x) => `${x.path || '(body)'}: ${x.error ?? '?'}`).join('; ')})`;
  return text;
}
