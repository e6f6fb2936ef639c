// What the search tree writes on screen and where: each node's number and its change against its parent
// (`#12 -0.8%`), a leaf's description after it where there is room, the folded groups' "+3 more" chips, and a
// placement that never lets a label cover another label, a node or a chip. Plain arithmetic on a text-measuring
// function, so it is tested in Node; the canvas only paints what this returns.
import { DECIDING, fmtNum, fmtPct, fmtSigned, relativeChange } from '../../src/shared/format.js';
import type { NodeDto } from '../../src/shared/protocol.js';
import { nodeLabel } from './describe.js';
import type { ResultsStore } from './store.js';
import type { Transform } from './treeScreen.js';
import { NODE_GAP, roomToTheRight } from './treeLayout.js';
import type { TreeItem, TreeLayout } from './treeLayout.js';

/** The colour a piece of a label is painted in (a palette key, chosen by the drawing code). */
export type Tone = 'fg' | 'muted' | 'better' | 'keep' | 'crash' | 'invalid' | 'running' | 'best';

export interface LabelPart {
  text: string;
  tone: Tone;
}

export type Measure = (text: string) => number;

/**
 * A node's change against its parent as the tree writes it: the relative change in percent (`-0.8%`), or the
 * signed difference where the parent's value is 0; null when either has no value (the baseline, a crash).
 */
export function deltaToParent(store: ResultsStore, id: number): { text: string; better: boolean } | null {
  const n = store.nodes[id];
  if (!n || n.parentId === null || n.metric === null) return null;
  const ref = store.nodes[n.parentId]?.metric;
  if (ref === null || ref === undefined) return null;
  const pct = relativeChange(ref, n.metric);
  return { text: pct === null ? fmtSigned(n.metric - ref) : fmtPct(pct), better: store.better(n.metric, ref) };
}

/**
 * `#12 -0.8%`, `#11 ★ -8.9%`, `#4 running`, `#0 baseline`: what every node says on the tree, however small. A merge
 * says so (`#7 merge +1.2%`) unless its description follows, which names both parents.
 */
export function shortLabel(store: ResultsStore, id: number, withMerge = true): LabelPart[] {
  const n = store.nodes[id];
  if (!n) return [];
  const best = store.bestId === id;
  const parts: LabelPart[] = [{ text: `#${id}${best ? ' ★' : ''}`, tone: best ? 'best' : 'fg' }];
  if (withMerge && n.mergedFrom !== undefined) parts.push({ text: ' merge', tone: 'muted' });
  switch (n.status) {
    case 'running':
      parts.push({ text: n.finishedAt ? ` ${DECIDING}` : ' running', tone: 'running' });
      return parts;
    case 'pending':
      parts.push({ text: ' pending', tone: 'muted' });
      return parts;
    case 'crash':
    case 'invalid':
      parts.push({ text: ` ${n.status}`, tone: n.status });
      return parts;
  }
  if (n.parentId === null) {
    parts.push({ text: id === 0 ? ' baseline' : ` ${fmtNum(n.metric, '')}`.trimEnd(), tone: 'muted' });
    return parts.filter((p) => p.text);
  }
  const d = deltaToParent(store, id);
  if (d) parts.push({ text: ` ${d.text}`, tone: d.better ? 'better' : 'muted' });
  else if (n.metric !== null) parts.push({ text: ` ${fmtNum(n.metric)}`, tone: 'muted' });
  return parts;
}

/** What follows the number and the change: the description, a merge's as "merge of #A and #B: …" (describe.ts). */
export function labelDescription(n: NodeDto): string {
  const desc = nodeLabel(n).replace(/^#\d+ /, '').trim();
  // The baseline's label already says so: not "#0 ★ baseline baseline".
  return n.id === 0 && n.parentId === null && desc.toLowerCase() === 'baseline' ? '' : desc;
}

/** The number, the change and the description as one line (the SVG export's leaves). */
export function longLabelText(store: ResultsStore, id: number): string {
  const n = store.nodes[id];
  if (!n) return '';
  const desc = labelDescription(n);
  return `${textOf(shortLabel(store, id, false))}${desc ? ` ${desc}` : ''}`;
}

/** The folded group's chip: what it holds, in words a person decodes at a glance. */
export function chipText(item: TreeItem): string {
  return `+${item.members} more`;
}

/** What the chip says to a screen reader and in its tooltip's title. */
export function chipDescription(item: TreeItem): string {
  const c = item.counts;
  const kinds = [c.discard && `${c.discard} discarded`, c.crash && `${c.crash} crashed`, c.invalid && `${c.invalid} invalid`].filter(Boolean).join(', ');
  const what = item.members === item.roots.length
    ? `${item.members} ${item.members === 1 ? 'child' : 'children'} of #${item.id} hidden`
    : `${item.members} experiments under #${item.id} hidden (${item.roots.length} ${item.roots.length === 1 ? 'branch' : 'branches'})`;
  return `${what}${kinds ? `: ${kinds}` : ''}. Click or press Enter to expand.`;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const intersects = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Below this spacing between rows (pixels) a chip is a bare pill, too small for words. */
export const CHIP_TEXT_ROW = 12;

/** Where a group's chip is drawn, in screen pixels. */
export function chipBox(item: TreeItem, t: Transform, r: number, measure: Measure): Box {
  const row = t.k * NODE_GAP;
  const w = row >= CHIP_TEXT_ROW ? measure(chipText(item)) + 10 : r * 2.5;
  const h = Math.max(r * 2, Math.min(15, row * 0.8));
  return { x: item.x * t.k + t.x - w / 2, y: item.y * t.k + t.y - h / 2, w, h };
}

export interface PlacedLabel {
  key: number;
  /** Left edge and vertical middle of the text, in screen pixels. */
  x: number;
  y: number;
  /** The box the text (and its patch) takes: nothing else is drawn over it. */
  box: Box;
  parts: LabelPart[];
  /** The best and the selected node's labels sit on a patch of background with a border. */
  boxed: boolean;
}

export interface LabelOptions {
  /** Nodes whose label comes first and carries the description (the selection, the best). */
  pinned: readonly number[];
  /** The node radius on screen. */
  r: number;
  /** Text height in pixels. */
  lineHeight: number;
  width: number;
  height: number;
  /** Most labels attempted (a fitted 10,000-node tree has no room for them anyway). */
  maxAttempts?: number;
}

/** The longest prefix of `text` (with an ellipsis) that fits `max` pixels; '' when not even two characters fit. */
export function ellipsize(text: string, max: number, measure: Measure): string {
  if (measure(text) <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (measure(`${text.slice(0, mid)}…`) <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo < 2 ? '' : `${text.slice(0, lo).trimEnd()}…`;
}

/** A grid of occupied boxes, so a check costs the few cells a box covers, not every label. */
class Occupied {
  private readonly cells = new Map<number, Box[]>();
  private static readonly SIZE = 48;

  private *keys(b: Box): Generator<number> {
    const s = Occupied.SIZE;
    for (let cx = Math.floor(b.x / s); cx <= Math.floor((b.x + b.w) / s); cx++) {
      for (let cy = Math.floor(b.y / s); cy <= Math.floor((b.y + b.h) / s); cy++) yield cx * 100_003 + cy;
    }
  }

  add(b: Box): void {
    for (const k of this.keys(b)) {
      let list = this.cells.get(k);
      if (!list) this.cells.set(k, (list = []));
      list.push(b);
    }
  }

  free(b: Box, except?: Box): boolean {
    for (const k of this.keys(b)) for (const o of this.cells.get(k) ?? []) if (o !== except && intersects(o, b)) return false;
    return true;
  }
}

const textOf = (parts: readonly LabelPart[]): string => parts.map((p) => p.text).join('');

/**
 * Places the labels of the items on screen. Each node says its number and its change (`#12 -0.8%`); a leaf adds its
 * description to the right as far as the next thing on its row; an inner node's label sits above it (else below),
 * clear of the links to its children. The pinned nodes come first and carry their description; then what is kept,
 * running, and the rest, each only where it covers no other label, node or chip and stays inside the canvas.
 */
export function placeLabels(layout: TreeLayout, store: ResultsStore, t: Transform, measure: Measure, o: LabelOptions): PlacedLabel[] {
  const { r, lineHeight: lh, width, height } = o;
  const sx = (it: TreeItem) => it.x * t.k + t.x;
  const sy = (it: TreeItem) => it.y * t.k + t.y;
  const onScreen: TreeItem[] = [];
  const taken = new Occupied();
  const discs = new Map<number, Box>();
  for (const it of layout.items) {
    const x = sx(it), y = sy(it);
    if (x < -r || y < -r || x > width + r || y > height + r) continue;
    onScreen.push(it);
    const b = it.kind === 'group' ? chipBox(it, t, r, measure) : { x: x - r - 1, y: y - r - 1, w: 2 * r + 2, h: 2 * r + 2 };
    discs.set(it.key, b);
    taken.add(b);
  }
  const pinned = o.pinned.filter((id, i) => o.pinned.indexOf(id) === i && layout.byKey.get(id)?.kind === 'node');
  const rank = (it: TreeItem): number => {
    const s = store.nodes[it.id]!.status;
    return s === 'keep' ? 0 : s === 'running' ? 1 : 2;
  };
  const nodes = onScreen.filter((it) => it.kind === 'node' && !pinned.includes(it.id)).sort((a, b) => rank(a) - rank(b) || a.depth - b.depth || a.id - b.id);
  const order = [...pinned.map((id) => layout.byKey.get(id)!).filter((it) => onScreen.includes(it)), ...nodes];
  const out: PlacedLabel[] = [];
  const maxAttempts = o.maxAttempts ?? 2000;
  const inside = (b: Box) => b.x >= 2 && b.y >= 0 && b.x + b.w <= width - 2 && b.y + b.h <= height;
  for (let i = 0; i < order.length && i < maxAttempts; i++) {
    const it = order[i]!;
    const n = store.nodes[it.id]!;
    const isPinned = i < pinned.length;
    const short = shortLabel(store, it.id);
    const shortW = measure(textOf(short));
    const lead = shortLabel(store, it.id, false);
    const leadW = measure(textOf(lead));
    const leaf = store.childrenOf(it.id).length === 0;
    const own = discs.get(it.key);
    const x = sx(it), y = sy(it);
    const pad = isPinned ? 3 : 1;
    // `tight`: the box of a number alone, whose glyphs (digits, #, ★) stand within the cap height, not the whole line.
    const tryBox = (left: number, mid: number, parts: LabelPart[], w: number, tight = false): boolean => {
      const h = tight ? lh - 4 : lh;
      const box = { x: left - pad, y: mid - h / 2 - (isPinned ? 1 : 0), w: w + 2 * pad, h: h + (isPinned ? 2 : 0) };
      if (!inside(box) || !taken.free(box, own)) return false;
      taken.add(box);
      out.push({ key: it.key, x: left, y: mid, box, parts, boxed: isPinned });
      return true;
    };
    // With the description: a leaf along its row, up to the next node there; a pinned node wherever it goes.
    const desc = labelDescription(n);
    if (desc && (leaf || isPinned)) {
      const left = x + r + 5;
      const room = Math.min(width - 4 - left, leaf ? layoutRoom(layout, it, t, r) : Infinity) - 2 * pad;
      const rest = ellipsize(desc, room - leadW - measure(' '), measure);
      if (leaf && rest !== '' && tryBox(left, y, [...lead, { text: ` ${rest}`, tone: 'muted' }], leadW + measure(` ${rest}`))) continue;
      if (isPinned && !leaf) {
        // Above an inner node, starting at it (moved left rather than cut by the canvas's right edge), else below; where
        // its children's column is in the way, ending at it instead, over the way in from its parent.
        const more = ellipsize(desc, width - 8 - 2 * pad - leadW - measure(' '), measure);
        const parts = more ? [...lead, { text: ` ${more}`, tone: 'muted' as Tone }] : lead;
        const w = measure(textOf(parts));
        const right = Math.max(4 + pad, Math.min(x - 4, width - 4 - pad - w));
        const left = Math.max(4 + pad, x + 4 - w);
        const up = y - r - lh / 2 - 3;
        const down = y + r + lh / 2 + 5;
        if (tryBox(right, up, parts, w) || tryBox(right, down, parts, w) || tryBox(left, up, parts, w) || tryBox(left, down, parts, w)) continue;
      }
    }
    if (shortW < 1) continue;
    // The number and the change alone, then the number alone (a crowded tree): right of a leaf, else centred above,
    // else below, and the number last of all left of the node, over the way in from its parent.
    const around = (parts: LabelPart[], w: number, tight = false): boolean => {
      if (leaf && tryBox(x + r + 5, y, parts, w, tight)) return true;
      // Centred on the node, but kept inside the canvas (the root sits near its left edge).
      const l = Math.max(2 + pad, Math.min(x - w / 2, width - 2 - pad - w));
      return tryBox(l, y - r - lh / 2 - 2, parts, w, tight) || tryBox(l, y + r + lh / 2 + 2, parts, w, tight);
    };
    if (around(short, shortW)) continue;
    const number = short.slice(0, 1);
    const numberW = measure(textOf(number));
    if (around(number, numberW, true)) continue;
    tryBox(x - r - 5 - numberW, y, number, numberW, true);
  }
  return out;
}

/** Pixels right of a leaf before the next item drawn on its row at a deeper level. */
function layoutRoom(layout: TreeLayout, it: TreeItem, t: Transform, r: number): number {
  const room = roomToTheRight(layout, it);
  return room === Infinity ? Infinity : room * t.k - 2 * r - 10;
}
