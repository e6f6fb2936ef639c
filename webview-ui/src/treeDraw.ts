// Paints the laid-out tree on a 2D canvas under a zoom transform; only what is on screen is drawn.
import type { NodeStatus } from '../../src/shared/protocol.js';
import { nodeLabel } from './describe.js';
import type { Palette } from './palette.js';
import type { ResultsStore } from './store.js';
import { NODE_GAP, roomToTheRight } from './treeLayout.js';
import type { TreeItem, TreeLayout } from './treeLayout.js';

export interface Transform {
  k: number;
  x: number;
  y: number;
}

export interface TreeMarks {
  selected: number | null;
  /** Key of the hovered item (node id or group key). */
  hover: number | null;
  background?: string;
}

/** Room on the right of the deepest level for the leaves' labels. */
const LABEL_ROOM = 200;

/** The transform that fits the whole tree in width × height, never enlarging past 1.4×. */
export function fitTransform(layout: TreeLayout, width: number, height: number, margin = 24): Transform {
  const { x0, y0, x1, y1 } = layout.bounds;
  const bw = Math.max(1, x1 - x0);
  const bh = Math.max(1, y1 - y0);
  const k = Math.max(0.02, Math.min(1.4, (width - 2 * margin - LABEL_ROOM) / bw, (height - 2 * margin) / bh));
  return { k, x: margin + 8 - x0 * k + Math.max(0, (width - 2 * margin - LABEL_ROOM - bw * k) / 2), y: height / 2 - ((y0 + y1) / 2) * k };
}

/** The longest prefix of `text` (with an ellipsis) that fits `max` pixels; '' when not even a number fits. */
function fitText(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (max < 18) return '';
  if (ctx.measureText(text).width <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}…`).width <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo < 2 ? '' : `${text.slice(0, lo)}…`;
}

export function nodeRadius(k: number): number {
  return Math.max(1.5, Math.min(6, 4.5 * k));
}

export function drawTree(ctx: CanvasRenderingContext2D, layout: TreeLayout, store: ResultsStore, p: Palette, t: Transform, width: number, height: number, marks: TreeMarks): void {
  ctx.save();
  ctx.clearRect(0, 0, width, height);
  if (marks.background) {
    ctx.fillStyle = marks.background;
    ctx.fillRect(0, 0, width, height);
  }
  const pad = 40;
  const wx0 = (-pad - t.x) / t.k;
  const wx1 = (width + pad - t.x) / t.k;
  const wy0 = (-pad - t.y) / t.k;
  const wy1 = (height + pad - t.y) / t.k;
  const inView = (it: TreeItem) => it.x >= wx0 && it.x <= wx1 && it.y >= wy0 && it.y <= wy1;
  const sx = (it: TreeItem) => it.x * t.k + t.x;
  const sy = (it: TreeItem) => it.y * t.k + t.y;

  const bestId = store.bestId;
  const bestPath = new Set(bestId === null ? [] : store.pathTo(bestId));
  const plain = new Path2D();
  const best = new Path2D();
  const merged = new Path2D();
  const curve = (links: Int32Array, pick: (a: TreeItem, b: TreeItem) => Path2D) => {
    for (let i = 0; i < links.length; i += 2) {
      const a = layout.items[links[i]!]!;
      const b = layout.items[links[i + 1]!]!;
      if (Math.max(a.x, b.x) < wx0 || Math.min(a.x, b.x) > wx1 || Math.max(a.y, b.y) < wy0 || Math.min(a.y, b.y) > wy1) continue;
      const path = pick(a, b);
      const ax = sx(a), ay = sy(a), bx = sx(b), by = sy(b);
      const mx = (ax + bx) / 2;
      path.moveTo(ax, ay);
      path.bezierCurveTo(mx, ay, mx, by, bx, by);
    }
  };
  curve(layout.links, (a, b) => (b.kind === 'node' && bestPath.has(b.id) && bestPath.has(a.id) ? best : plain));
  curve(layout.merges, () => merged);
  ctx.strokeStyle = p.muted;
  ctx.globalAlpha = 0.5;
  ctx.lineWidth = 1;
  ctx.stroke(plain);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = p.best;
  ctx.lineWidth = 2.5;
  ctx.stroke(best);
  // A merge's second parent: dashed, so it never reads as the tree's own parent link.
  ctx.strokeStyle = p.merge;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([4, 3]);
  ctx.stroke(merged);
  ctx.setLineDash([]);

  const r = nodeRadius(t.k);
  const byStatus = new Map<NodeStatus, Path2D>();
  const groups: TreeItem[] = [];
  const visible: TreeItem[] = [];
  for (const it of layout.items) {
    if (!inView(it)) continue;
    visible.push(it);
    if (it.kind === 'group') { groups.push(it); continue; }
    const n = store.nodes[it.id]!;
    let path = byStatus.get(n.status);
    if (!path) byStatus.set(n.status, (path = new Path2D()));
    const x = sx(it), y = sy(it);
    if (n.status === 'crash') {
      const s = r * 0.9;
      path.moveTo(x - s, y - s); path.lineTo(x + s, y + s); path.moveTo(x - s, y + s); path.lineTo(x + s, y - s);
    } else if (n.status === 'invalid') {
      path.moveTo(x, y - r); path.lineTo(x + r, y); path.lineTo(x, y + r); path.lineTo(x - r, y); path.closePath();
    } else {
      const rr = n.status === 'discard' ? r * 0.75 : r;
      path.moveTo(x + rr, y);
      path.arc(x, y, rr, 0, Math.PI * 2);
    }
  }
  for (const [status, path] of byStatus) {
    const color = p[status];
    if (status === 'keep' || status === 'discard') {
      ctx.fillStyle = color;
      ctx.fill(path);
    } else {
      ctx.strokeStyle = color;
      ctx.lineWidth = Math.max(1.2, r / 3);
      ctx.stroke(path);
    }
  }

  const font = `${Math.round(p.fontSize - 3)}px ${p.font}`;
  ctx.font = font;
  ctx.textBaseline = 'middle';
  for (const g of groups) {
    const x = sx(g), y = sy(g);
    const label = `+${g.members}`;
    const w = Math.max(r * 2.5, t.k * NODE_GAP >= 12 ? ctx.measureText(label).width + 8 : r * 2.5);
    const h = Math.max(r * 2, Math.min(14, t.k * NODE_GAP * 0.8));
    ctx.fillStyle = p.bg;
    ctx.strokeStyle = p.muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.roundRect(x - w / 2, y - h / 2, w, h, 3);
    ctx.fill();
    ctx.stroke();
    if (t.k * NODE_GAP >= 12) {
      ctx.fillStyle = p.muted;
      ctx.textAlign = 'center';
      ctx.fillText(label, x, y + 0.5);
    }
  }

  // The best node wears a ring in the best colour.
  const bestItem = bestId === null ? undefined : layout.byKey.get(bestId);
  if (bestItem && inView(bestItem)) {
    ctx.strokeStyle = p.best;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(sx(bestItem), sy(bestItem), r + 3.5, 0, Math.PI * 2);
    ctx.stroke();
  }

  // Labels only where rows are far enough apart to read them, and never across another node: a leaf's
  // description runs to the next node on its row; inner nodes get their number when there is room above.
  const row = t.k * NODE_GAP;
  const pinned = new Set<number>([marks.selected ?? -1, bestId ?? -1]);
  if (row >= 13) {
    ctx.textAlign = 'left';
    for (const it of visible) {
      if (it.kind !== 'node' || pinned.has(it.id)) continue;
      const n = store.nodes[it.id]!;
      const leaf = store.childrenOf(it.id).length === 0;
      if (leaf) {
        const room = Math.min(width - sx(it), roomToTheRight(layout, it) * t.k) - r - 10;
        const text = fitText(ctx, nodeLabel(n), room);
        if (text) { ctx.fillStyle = p.fg; ctx.fillText(text, sx(it) + r + 4, sy(it)); }
      } else if (row >= 24) {
        ctx.fillStyle = p.muted;
        ctx.fillText(`#${it.id}${n.mergedFrom !== undefined ? ' merge' : ''}`, sx(it) + r + 2, sy(it) - r - 5);
      }
    }
  }
  // The best and the selected node always say what they are, on a patch of background.
  for (const id of pinned) {
    const it = id < 0 ? undefined : layout.byKey.get(id);
    if (!it || !inView(it)) continue;
    const n = store.nodes[it.id]!;
    // A leaf's label runs along its row; an inner node's sits above it, clear of the links to its children.
    const leaf = store.childrenOf(it.id).length === 0;
    const x = sx(it) + r + (leaf ? 5 : 3);
    const y = leaf ? sy(it) : sy(it) - r - 10;
    const text = fitText(ctx, nodeLabel(n, it.id === bestId), Math.max(120, width - x - 8));
    if (!text) continue;
    const w = ctx.measureText(text).width;
    ctx.fillStyle = p.bg;
    ctx.globalAlpha = 0.9;
    ctx.fillRect(x - 3, y - 8, w + 6, 16);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = it.id === bestId ? p.best : p.focus;
    ctx.lineWidth = 1;
    ctx.strokeRect(x - 3 + 0.5, y - 8 + 0.5, w + 6, 16);
    ctx.fillStyle = p.fg;
    ctx.textAlign = 'left';
    ctx.fillText(text, x, y + 0.5);
  }

  for (const [key, color, width] of [[marks.hover, p.fg, 1.5], [marks.selected, p.focus, 2]] as const) {
    if (key === null) continue;
    const it = layout.byKey.get(key);
    if (!it || !inView(it)) continue;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.arc(sx(it), sy(it), r + (it.kind === 'group' ? 10 : 6), 0, Math.PI * 2);
    ctx.stroke();
  }
  ctx.restore();
}
