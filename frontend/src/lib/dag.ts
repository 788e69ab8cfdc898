// Where a workflow's steps sit in its drawing: one column per depth (the
// longest chain of needs before the step), steps in a column in definition
// order.  Pure, so the unit tests check it without a browser.

export interface DagStep {
  name: string;
  needs: string[];
}

export interface Placed {
  x: number;
  y: number;
  depth: number;
}

export const COL_W = 230;
export const ROW_H = 96;

/** Depth of every step; needs naming no step are ignored, a cycle stops at depth 0. */
export function depths(steps: DagStep[]): Record<string, number> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const out: Record<string, number> = {};
  const visiting = new Set<string>();
  const depth = (name: string): number => {
    if (name in out) return out[name];
    if (visiting.has(name)) return 0;
    visiting.add(name);
    let d = 0;
    for (const n of byName.get(name)?.needs ?? []) if (byName.has(n)) d = Math.max(d, depth(n) + 1);
    visiting.delete(name);
    out[name] = d;
    return d;
  };
  for (const s of steps) depth(s.name);
  return out;
}

export function layout(steps: DagStep[]): Record<string, Placed> {
  const d = depths(steps);
  const rows: number[] = [];
  const out: Record<string, Placed> = {};
  for (const s of steps) {
    const col = d[s.name];
    const row = rows[col] ?? 0;
    rows[col] = row + 1;
    out[s.name] = { x: col * COL_W, y: row * ROW_H, depth: col };
  }
  return out;
}
