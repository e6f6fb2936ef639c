// The tree's screen geometry, apart from the canvas so it is tested in Node: the zoom transform, the transform that
// fits the whole tree, and how big a node is drawn at a zoom.
import type { TreeLayout } from './treeLayout.js';

export interface Transform {
  k: number;
  x: number;
  y: number;
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

export function nodeRadius(k: number): number {
  return Math.max(1.5, Math.min(6, 4.5 * k));
}
