/**
 * Where the topology page draws each node, its name and each link's RTT.
 *
 * A pure function of the node ids and the links, so a test can check what the
 * page promises: no name or RTT label overlaps a node, another name or another
 * RTT label, at any mesh size.  Every drawn thing is a box (a rectangle, maybe
 * rotated); two boxes overlap when no separating axis exists between them.
 *
 * Nodes sit on a circle, this node first at the top.  A name sits outside the
 * circle on its node's ray: level text when every name fits that way, else
 * text along the ray (the chord between neighbours then only grows outward).
 * The ring's radius leaves room for the longest name, the font shrinks as the
 * ring fills, and a name that still cannot fit is left to the node's tooltip.
 * An RTT label is tried at a few points along its link and drawn only where
 * it is clear of everything placed before it; the link's tooltip has it too.
 */

/** A rectangle centred at (cx, cy), w wide and h high, turned by angle radians. */
export interface Box {
  cx: number;
  cy: number;
  w: number;
  h: number;
  angle: number;
}

export interface NodePlace {
  x: number;
  y: number;
  /** Radius of the node's circle. */
  r: number;
  /** Radius of the local node's ring around it. */
  ring: number;
  /** Angle of the node's ray from the centre (radians, 0 = right, clockwise). */
  a: number;
  /** The circle, the ring, their strokes and the alert dot (at 0.7 r, 0.7 r). */
  box: Box;
}

export interface LabelPlace {
  /** The lines drawn: the name (cut to fit the canvas), maybe a sub-line. */
  lines: string[];
  /** Anchor of the first line's centre line, relative to the node. */
  x: number;
  y: number;
  anchor: 'start' | 'middle' | 'end';
  /** Rotation about (x, y), in degrees: 0 for level text. */
  rotate: number;
  fontSize: number;
  box: Box;
}

export interface RttPlace {
  a: string;
  b: string;
  text: string;
  /** Centre of the text. */
  x: number;
  y: number;
  box: Box;
}

export interface NodeLayout {
  nodes: Record<string, NodePlace>;
  /** A node without a label here has its name only in its tooltip. */
  labels: Record<string, LabelPlace>;
  /** Text along the rays, for meshes too big for level names. */
  radial: boolean;
  fontSize: number;
  /** Centre of the ring. */
  centre: { x: number; y: number };
  /** The part of the plane worth showing (the SVG's viewBox). */
  view: { x: number; y: number; w: number; h: number };
}

export interface TopologyLayout extends NodeLayout {
  rtts: RttPlace[];
  rttFontSize: number;
}

export interface LayoutNodeInput {
  id: string;
  /** A second, smaller line under a level name (e.g. "relayed"). */
  sub?: string;
}

export interface LayoutLinkInput {
  a: string;
  b: string;
  /** The RTT as shown ("1.5 ms"); empty for none. */
  text: string;
}

/** Width of a character over the font size: monospace fonts are 0.6 em. */
export const CHAR_W = 0.62;
/** Height of a line over the font size. */
export const LINE_H = 1.2;
/**
 * Names longer than this are cut with "…" (the tooltip has them whole); on a
 * small canvas (a phone) sooner, so a name takes at most half the radius.
 */
export const MAX_CHARS = 20;
const MIN_CHARS = 8;
/**
 * Above this many links no RTT labels are drawn: a label clear of every
 * other still cannot be told apart from the lines around it (a full mesh of
 * 20 has 190).  The links' tooltips have the RTTs.
 */
export const MAX_RTT_LINKS = 120;
/** Room between a node's box and its name. */
const GAP = 4;
/** Margin around everything drawn. */
const PAD = 8;
/** The widest a node's box gets beyond its circle: ring gap and stroke. */
const RING = 5.5;
/** Smallest name font worth drawing; below it names live in tooltips. */
const MIN_FONT = 6;

export function shorten(id: string, max = MAX_CHARS): string {
  return id.length > max ? `${id.slice(0, max - 1)}…` : id;
}

/** Corners of a box, in order around it. */
export function boxCorners(b: Box): [number, number][] {
  const c = Math.cos(b.angle);
  const s = Math.sin(b.angle);
  const hw = b.w / 2;
  const hh = b.h / 2;
  return [
    [-hw, -hh],
    [hw, -hh],
    [hw, hh],
    [-hw, hh],
  ].map(([x, y]) => [b.cx + x * c - y * s, b.cy + x * s + y * c]);
}

function project(corners: [number, number][], ax: number, ay: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const [x, y] of corners) {
    const p = x * ax + y * ay;
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  return [lo, hi];
}

/** Whether two boxes share any area (touching edges do not count). */
export function boxesOverlap(p: Box, q: Box): boolean {
  const pc = boxCorners(p);
  const qc = boxCorners(q);
  for (const angle of [p.angle, p.angle + Math.PI / 2, q.angle, q.angle + Math.PI / 2]) {
    const ax = Math.cos(angle);
    const ay = Math.sin(angle);
    const [plo, phi] = project(pc, ax, ay);
    const [qlo, qhi] = project(qc, ax, ay);
    if (phi <= qlo + 1e-9 || qhi <= plo + 1e-9) return false;
  }
  return true;
}

function clear(b: Box, placed: Box[]): boolean {
  return placed.every((o) => !boxesOverlap(b, o));
}

/** Name font: smaller as the ring fills. */
function baseFont(n: number): number {
  return n <= 12 ? 12 : n <= 24 ? 11 : 9.5;
}

/** Level names: each box centred on its node's ray, its nearest edge GAP beyond the node. */
function levelLabels(ids: LayoutNodeInput[], nodes: Record<string, NodePlace>, f: number, max: number): Record<string, LabelPlace> {
  const out: Record<string, LabelPlace> = {};
  for (const { id, sub } of ids) {
    const p = nodes[id];
    const lines = sub ? [shorten(id, max), sub] : [shorten(id, max)];
    const w = Math.max(...lines.map((l) => l.length)) * CHAR_W * f;
    const h = lines.length * LINE_H * f;
    const ux = Math.cos(p.a);
    const uy = Math.sin(p.a);
    // The box's nearest point along the ray is GAP past the node's box.
    const d = p.box.w / 2 + GAP + (Math.abs(ux) * w) / 2 + (Math.abs(uy) * h) / 2;
    const cx = ux * d;
    const cy = uy * d;
    out[id] = {
      lines,
      x: cx,
      y: cy - h / 2 + (LINE_H * f) / 2,
      anchor: 'middle',
      rotate: 0,
      fontSize: f,
      box: { cx: p.x + cx, cy: p.y + cy, w, h, angle: 0 },
    };
  }
  return out;
}

/** Names along the rays, read left to right on both halves of the circle. */
function radialLabels(ids: LayoutNodeInput[], nodes: Record<string, NodePlace>, f: number, max: number): Record<string, LabelPlace> {
  const out: Record<string, LabelPlace> = {};
  for (const { id } of ids) {
    const p = nodes[id];
    const text = shorten(id, max);
    const w = text.length * CHAR_W * f;
    const start = p.box.w / 2 + GAP;
    const ux = Math.cos(p.a);
    const uy = Math.sin(p.a);
    const deg = (p.a * 180) / Math.PI;
    // On the left half the text would read upside down: turn it round and
    // anchor its end at the node instead.
    const flip = ux < -1e-9;
    out[id] = {
      lines: [text],
      x: ux * start,
      y: uy * start,
      anchor: flip ? 'end' : 'start',
      rotate: flip ? deg - 180 : deg,
      fontSize: f,
      box: { cx: p.x + ux * (start + w / 2), cy: p.y + uy * (start + w / 2), w, h: LINE_H * f, angle: p.a },
    };
  }
  return out;
}

function allClear(boxes: Box[]): boolean {
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) if (boxesOverlap(boxes[i], boxes[j])) return false;
  return true;
}

function viewOf(boxes: Box[], w: number, h: number): NodeLayout['view'] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const b of boxes)
    for (const [x, y] of boxCorners(b)) {
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  if (!boxes.length) return { x: 0, y: 0, w, h };
  // At least half the canvas, so one or two nodes are not drawn huge.
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const vw = Math.max(x1 - x0 + 2 * PAD, w / 2);
  const vh = Math.max(y1 - y0 + 2 * PAD, h / 2);
  return { x: cx - vw / 2, y: cy - vh / 2, w: vw, h: vh };
}

/**
 * Nodes and their names on a w × h canvas, in the order given (this node
 * first: it is drawn at the top).
 */
export function layoutNodes(ids: LayoutNodeInput[], w = 800, h = 640): NodeLayout {
  const n = ids.length;
  const outer = Math.min(w, h) / 2 - PAD;
  let f = baseFont(n);
  const max = Math.max(MIN_CHARS, Math.min(MAX_CHARS, Math.floor((outer * 0.5) / (CHAR_W * f))));
  const longest = Math.max(1, ...ids.map(({ id }) => shorten(id, max).length));
  const ringFor = (font: number) => Math.max(20, outer - longest * CHAR_W * font - GAP - 16 - RING);
  let R = ringFor(f);
  // Small enough that an RTT label fits between neighbours on a short link.
  const r = Math.max(1.5, Math.min(16, ((2 * Math.PI * R) / Math.max(1, n)) * 0.22));
  const ring = r + Math.min(4, r / 2);
  const half = ring + 1.5;
  const place = (radius: number): Record<string, NodePlace> => {
    const out: Record<string, NodePlace> = {};
    ids.forEach(({ id }, i) => {
      const a = n === 1 ? Math.PI / 2 : -Math.PI / 2 + (2 * Math.PI * i) / n;
      const x = n === 1 ? w / 2 : w / 2 + radius * Math.cos(a);
      const y = n === 1 ? h / 2 : h / 2 + radius * Math.sin(a);
      out[id] = { x, y, r, ring, a: (a + 2 * Math.PI) % (2 * Math.PI), box: { cx: x, cy: y, w: 2 * half, h: 2 * half, angle: a } };
    });
    return out;
  };
  let nodes = place(R);
  const nodeBoxes = () => Object.values(nodes).map((p) => p.box);

  let labels = levelLabels(ids, nodes, f, max);
  let radial = false;
  if (!allClear([...nodeBoxes(), ...Object.values(labels).map((l) => l.box)])) {
    // Text along the rays: neighbouring names part outward, so they are
    // clear of each other when a line fits the chord at the inner end
    // (h < 2 ρ tan(π/n), ρ where the names start).
    radial = true;
    const inner = R + r + RING + GAP;
    f = Math.min(f, (0.9 * 2 * inner * Math.tan(Math.PI / Math.max(3, n))) / LINE_H);
    R = Math.max(R, ringFor(f));
    nodes = place(R);
    labels = radialLabels(ids, nodes, f, max);
  }
  // Whatever still does not fit (names on a ring too crowded for a readable
  // font) is left to the tooltip: a name is never drawn over anything.
  const kept: Record<string, LabelPlace> = {};
  const placed = nodeBoxes();
  if (f >= MIN_FONT)
    for (const { id } of ids)
      if (clear(labels[id].box, placed)) {
        kept[id] = labels[id];
        placed.push(labels[id].box);
      }
  return { nodes, labels: kept, radial, fontSize: f, centre: { x: w / 2, y: h / 2 }, view: viewOf(placed, w, h) };
}

/** Where along a link its RTT label is tried, in order. */
const RTT_AT = [0.5, 0.38, 0.62, 0.28, 0.72];
const RTT_BESIDE = [0.5, 0.38, 0.62];

/** RTT labels that fit clear of the nodes, the names and each other. */
export function placeRtts(base: NodeLayout, links: LayoutLinkInput[], maxLinks = MAX_RTT_LINKS): { rtts: RttPlace[]; rttFontSize: number } {
  const rttFontSize = Math.max(7, Math.min(10, base.fontSize - 1));
  const rtts: RttPlace[] = [];
  if (links.length > maxLinks) return { rtts, rttFontSize };
  const placed = [...Object.values(base.nodes).map((p) => p.box), ...Object.values(base.labels).map((l) => l.box)];
  for (const { a, b, text } of links) {
    const p = base.nodes[a];
    const q = base.nodes[b];
    if (!text || !p || !q) continue;
    const w = text.length * CHAR_W * rttFontSize + 4;
    const h = LINE_H * rttFontSize;
    // On the line first; then just beside it on the side away from the
    // ring, where a short link between neighbours has its room.
    const len = Math.hypot(q.x - p.x, q.y - p.y) || 1;
    let nx = -(q.y - p.y) / len;
    let ny = (q.x - p.x) / len;
    const mx = (p.x + q.x) / 2;
    const my = (p.y + q.y) / 2;
    if (nx * (base.centre.x - mx) + ny * (base.centre.y - my) < 0) {
      nx = -nx;
      ny = -ny;
    }
    const off = (Math.abs(nx) * w) / 2 + (Math.abs(ny) * h) / 2 + 1;
    const spots = [...RTT_AT.map((t) => [t, 0]), ...RTT_BESIDE.map((t) => [t, off])];
    for (const [t, o] of spots) {
      const x = p.x + (q.x - p.x) * t + nx * o;
      const y = p.y + (q.y - p.y) * t + ny * o;
      const box = { cx: x, cy: y, w, h, angle: 0 };
      if (clear(box, placed)) {
        rtts.push({ a, b, text, x, y, box });
        placed.push(box);
        break;
      }
    }
  }
  return { rtts, rttFontSize };
}

/** The whole drawing: nodes, names, RTT labels. */
export function topologyLayout(ids: LayoutNodeInput[], links: LayoutLinkInput[], w = 800, h = 640): TopologyLayout {
  const base = layoutNodes(ids, w, h);
  return { ...base, ...placeRtts(base, links) };
}
