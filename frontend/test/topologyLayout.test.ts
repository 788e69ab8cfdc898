import { describe, expect, it } from 'vitest';
import {
  boxCorners,
  boxesOverlap,
  MAX_CHARS,
  MAX_RTT_LINKS,
  layoutNodes,
  placeRtts,
  topologyLayout,
  type Box,
  type LayoutLinkInput,
  type LayoutNodeInput,
  type TopologyLayout,
} from '../src/lib/topologyLayout';

// Names as a home mesh has them: short, numbered, and a few long ones side by side.
// (node-9 … node-20 fill the rest.)
const NAMES = ['node-1', 'raspberrypi-garage', 'nas', 'vps-fra-1', 'node-5', 'homeassistant-rpi4', 'laptop', 'media-server-basement'];

function meshIds(n: number): LayoutNodeInput[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i < NAMES.length ? NAMES[i] : `node-${i + 1}`,
    sub: i % 4 === 3 ? 'relayed' : undefined,
  }));
}

const rtt = (i: number, j: number) => ((i * 7 + j * 13) % 5 === 0 ? `${(1 + ((i + j) % 9) / 10).toFixed(1)} ms` : `${10 + ((i * j) % 190)} ms`);

function fullMesh(ids: LayoutNodeInput[]): LayoutLinkInput[] {
  const out: LayoutLinkInput[] = [];
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) out.push({ a: ids[i].id, b: ids[j].id, text: rtt(i, j) });
  return out;
}

/** At most six links a node: each to its three next neighbours round the ring. */
function maxLinks6(ids: LayoutNodeInput[]): LayoutLinkInput[] {
  const seen = new Set<string>();
  const out: LayoutLinkInput[] = [];
  for (let i = 0; i < ids.length; i++)
    for (let k = 1; k <= 3; k++) {
      const j = (i + k) % ids.length;
      const key = [Math.min(i, j), Math.max(i, j)].join('-');
      if (i === j || seen.has(key)) continue;
      seen.add(key);
      out.push({ a: ids[i].id, b: ids[j].id, text: rtt(i, j) });
    }
  return out;
}

function boxes(l: TopologyLayout): [string, Box][] {
  return [
    ...Object.entries(l.nodes).map(([id, p]): [string, Box] => [`node ${id}`, p.box]),
    ...Object.entries(l.labels).map(([id, p]): [string, Box] => [`label ${id}`, p.box]),
    ...l.rtts.map((p): [string, Box] => [`rtt ${p.a}-${p.b}`, p.box]),
  ];
}

function overlaps(l: TopologyLayout): string[] {
  const all = boxes(l);
  const bad: string[] = [];
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) if (boxesOverlap(all[i][1], all[j][1])) bad.push(`${all[i][0]} × ${all[j][0]}`);
  return bad;
}

function inView(l: TopologyLayout): boolean {
  const v = l.view;
  return boxes(l).every(([, b]) => boxCorners(b).every(([x, y]) => x >= v.x && x <= v.x + v.w && y >= v.y && y <= v.y + v.h));
}

describe('boxesOverlap', () => {
  const sq = (cx: number, cy: number, angle = 0): Box => ({ cx, cy, w: 10, h: 10, angle });
  it('sees level boxes that share area, not ones that only touch or stand apart', () => {
    expect(boxesOverlap(sq(0, 0), sq(9, 9))).toBe(true);
    expect(boxesOverlap(sq(0, 0), sq(10, 0))).toBe(false);
    expect(boxesOverlap(sq(0, 0), sq(0, 30))).toBe(false);
  });
  it('sees turned boxes by their edges, not their bounding boxes', () => {
    // A diamond beside a square: their bounding boxes overlap, they do not.
    expect(boxesOverlap(sq(0, 0), sq(12.5, 12.5, Math.PI / 4))).toBe(false);
    expect(boxesOverlap(sq(0, 0), sq(11, 0, Math.PI / 4))).toBe(true);
    // A long thin label crossing a node.
    expect(boxesOverlap({ cx: 0, cy: 0, w: 100, h: 4, angle: Math.PI / 3 }, sq(20, 35))).toBe(true);
  });
});

describe('topologyLayout', () => {
  for (const n of [3, 10, 20])
    for (const [edges, make] of [
      ['full mesh', fullMesh],
      ['at most 6 links a node', maxLinks6],
    ] as const)
      it(`at ${n} nodes (${edges}) no node, name or RTT overlaps another, and all are in view`, () => {
        const ids = meshIds(n);
        const links = make(ids);
        const l = topologyLayout(ids, links);
        expect(overlaps(l)).toEqual([]);
        expect(inView(l)).toBe(true);
        // Every node keeps its name on the drawing, readable.
        expect(Object.keys(l.labels).sort()).toEqual(ids.map((x) => x.id).sort());
        expect(l.fontSize).toBeGreaterThanOrEqual(9);
        // RTTs are drawn where they fit: every one on a small mesh, some on a
        // bigger one, none once the links are too many to tell apart.
        if (n === 3) expect(l.rtts).toHaveLength(3);
        else if (links.length <= MAX_RTT_LINKS) expect(l.rtts.length).toBeGreaterThan(links.length / 4);
        else expect(l.rtts).toEqual([]);
        for (const r of l.rtts) expect(links.some((x) => x.a === r.a && x.b === r.b && x.text === r.text)).toBe(true);
      });

  it('on a phone-wide canvas 20 long names are cut shorter and still clear of everything', () => {
    for (const make of [fullMesh, maxLinks6]) {
      const ids = meshIds(20);
      const l = topologyLayout(ids, make(ids), 366, 366);
      expect(overlaps(l)).toEqual([]);
      expect(inView(l)).toBe(true);
      expect(Object.keys(l.labels)).toHaveLength(20);
      expect(l.labels['raspberrypi-garage'].lines[0]).toMatch(/^raspberry.*…$/);
      expect(l.fontSize).toBeGreaterThanOrEqual(8);
    }
  });

  it('places RTT labels clear of everything even on a full mesh of 20 when asked to', () => {
    const ids = meshIds(20);
    const base = layoutNodes(ids);
    const l = { ...base, ...placeRtts(base, fullMesh(ids), Infinity) };
    expect(l.rtts.length).toBeGreaterThan(20);
    expect(overlaps(l)).toEqual([]);
  });

  it('writes a few names level and 20 along the rays; a relayed node keeps its sub-line when level', () => {
    const small = topologyLayout(meshIds(4), []);
    expect(small.radial).toBe(false);
    expect(small.labels['nas'].lines).toEqual(['nas']);
    expect(small.labels[meshIds(4)[3].id].lines).toEqual([meshIds(4)[3].id, 'relayed']);
    const big = topologyLayout(meshIds(20), []);
    expect(big.radial).toBe(true);
    // Text on the left half is turned round so it never reads upside down.
    for (const lb of Object.values(big.labels)) expect(Math.abs(((((lb.rotate % 360) + 540) % 360) - 180))).toBeLessThanOrEqual(90 + 1e-6);
  });

  it('cuts a very long name, keeps huge meshes clear (names dropped to tooltips before they overlap)', () => {
    const long = 'a-very-long-hostname-of-a-machine-in-the-attic';
    const l = topologyLayout([{ id: 'x' }, { id: long }, { id: 'y' }], []);
    expect(l.labels[long].lines[0]).toHaveLength(MAX_CHARS);
    expect(l.labels[long].lines[0].endsWith('…')).toBe(true);
    for (const n of [1, 2, 40, 100]) {
      const ids = meshIds(n);
      const m = topologyLayout(ids, maxLinks6(ids));
      expect(overlaps(m)).toEqual([]);
      expect(inView(m)).toBe(true);
    }
  });
});
