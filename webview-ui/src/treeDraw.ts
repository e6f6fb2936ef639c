// Paints the laid-out tree on a 2D canvas under a zoom transform; only what is on screen is drawn.
import type { NodeStatus } from '../../src/shared/protocol.js';
import type { Palette } from './palette.js';
import type { ResultsStore } from './store.js';
import { CHIP_TEXT_ROW, chipBox, chipText, placeLabels } from './treeLabels.js';
import type { PlacedLabel, Tone } from './treeLabels.js';
import { NODE_GAP } from './treeLayout.js';
import { nodeRadius } from './treeScreen.js';
import type { Transform } from './treeScreen.js';
import type { TreeItem, TreeLayout } from './treeLayout.js';

export interface TreeMarks {
  selected: number | null;
  /** Key of the hovered item (node id or group key). */
  hover: number | null;
  background?: string;
}

export function drawTree(ctx: CanvasRenderingContext2D, layout: TreeLayout, store: ResultsStore, p: Palette, t: Transform, width: number, height: number, marks: TreeMarks): PlacedLabel[] {
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

  const fontPx = Math.round(p.fontSize - 2);
  ctx.font = `${fontPx}px ${p.font}`;
  ctx.textBaseline = 'middle';
  const measure = (text: string) => ctx.measureText(text).width;
  const row = t.k * NODE_GAP;
  for (const g of groups) {
    const b = chipBox(g, t, r, measure);
    ctx.fillStyle = p.bg;
    ctx.strokeStyle = p.muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.roundRect(b.x, b.y, b.w, b.h, Math.min(7, b.h / 2));
    ctx.fill();
    ctx.stroke();
    if (row >= CHIP_TEXT_ROW) {
      ctx.fillStyle = p.muted;
      ctx.textAlign = 'center';
      ctx.fillText(chipText(g), b.x + b.w / 2, b.y + b.h / 2 + 0.5);
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

  // Every node says its number and its change against its parent where that covers nothing else; the best and the
  // selected one add their description on a patch of background (treeLabels.ts decides what goes where).
  const labels = row >= 7 ? placeLabels(layout, store, t, measure, { pinned: [marks.selected ?? -1, bestId ?? -1], r, lineHeight: fontPx + 3, width, height }) : [];
  const tones: Record<Tone, string> = { fg: p.fg, muted: p.muted, better: p.keep, keep: p.keep, crash: p.crash, invalid: p.invalid, running: p.running, best: p.best };
  ctx.textAlign = 'left';
  for (const l of labels) {
    if (l.boxed) {
      ctx.fillStyle = p.bg;
      ctx.globalAlpha = 0.92;
      ctx.fillRect(l.box.x, l.box.y, l.box.w, l.box.h);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = l.key === bestId ? p.best : p.focus;
      ctx.lineWidth = 1;
      ctx.strokeRect(l.box.x + 0.5, l.box.y + 0.5, l.box.w - 1, l.box.h - 1);
    }
    let x = l.x;
    for (const part of l.parts) {
      ctx.fillStyle = tones[part.tone];
      ctx.fillText(part.text, x, l.y + 0.5);
      x += measure(part.text);
    }
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
  return labels;
}
