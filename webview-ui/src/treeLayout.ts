// The search tree as positions: which nodes are visible (dead branches folded into one group per parent),
// then a tidy tree from d3-hierarchy, root on the left and depth growing to the right.
import { hierarchy, tree } from 'd3-hierarchy';
import type { HierarchyPointNode } from 'd3-hierarchy';
import type { ResultsStore } from './store.js';

/** World units between siblings and between levels; the view scales them. */
export const NODE_GAP = 20;
export const LEVEL_GAP = 90;

export interface TreeOptions {
  /** Fold each parent's branches that hold no kept, running or pending node into one group. */
  collapseDead: boolean;
  /** Parents whose folded group the user opened. */
  expanded: ReadonlySet<number>;
  /** Nodes that must stay visible (the selection, the best), with their ancestors. */
  pinned: Iterable<number>;
  /** World units between levels (LEVEL_GAP unless the view fits a deep tree to its width). */
  levelGap?: number;
}

export interface TreeItem {
  /** Node id, or for a group −(parent id + 1). */
  key: number;
  kind: 'node' | 'group';
  /** The node's id; for a group, its parent's. */
  id: number;
  parentKey: number | null;
  depth: number;
  /** World position: x along depth, y across. */
  x: number;
  y: number;
  /** A group's folded nodes (all of them, not only the branch roots) and its branch roots. */
  members: number;
  roots: number[];
  counts: { discard: number; crash: number; invalid: number };
}

export interface TreeLayout {
  items: TreeItem[];
  byKey: Map<number, TreeItem>;
  /** Pairs of indexes into items: parent, child. */
  links: Int32Array;
  /**
   * Pairs of indexes into items: a merge's second parent (or the group it is folded into), the merge node.
   * Drawn apart from `links`: the tidy tree places each node under its first parent only.
   */
  merges: Int32Array;
  bounds: { x0: number; y0: number; x1: number; y1: number };
  /** Items per depth, sorted by y: for hit tests and arrow keys. */
  levels: TreeItem[][];
  /** Nodes folded into groups. */
  hidden: number;
  levelGap: number;
}

export const groupKey = (parentId: number): number => -(parentId + 1);

interface Datum {
  key: number;
  kind: 'node' | 'group';
  id: number;
  roots: number[];
  children: Datum[];
}

/** alive[id]: the branch at id holds something kept, running or pending (or pinned); dead branches can fold. */
export function aliveBranches(store: ResultsStore, pinned: Iterable<number>): Uint8Array {
  const alive = new Uint8Array(store.size);
  for (let id = store.size - 1; id >= 0; id--) {
    const n = store.nodes[id];
    if (!n) continue;
    if (n.status === 'keep' || n.status === 'running' || n.status === 'pending' || n.parentId === null) alive[id] = 1;
    if (alive[id] && n.parentId !== null && n.parentId < id) alive[n.parentId] = 1;
  }
  for (const p of pinned) for (const id of store.pathTo(p)) alive[id] = 1;
  return alive;
}

export function layoutTree(store: ResultsStore, options: TreeOptions): TreeLayout {
  const alive = aliveBranches(store, options.pinned);
  let hidden = 0;
  const counts = new Map<number, TreeItem['counts'] & { members: number }>();

  // Iterative, not recursive: a greedy session is one chain thousands of nodes deep.
  const build = (rootId: number): Datum => {
    const top: Datum = { key: rootId, kind: 'node', id: rootId, roots: [], children: [] };
    const stack: Datum[] = [top];
    while (stack.length) {
      const d = stack.pop()!;
      const dead: number[] = [];
      const open = (c: number) => {
        const cd: Datum = { key: c, kind: 'node', id: c, roots: [], children: [] };
        d.children.push(cd);
        stack.push(cd);
      };
      const kids = store.childrenOf(d.id);
      for (const c of kids) if (!alive[c]) dead.push(c);
      let size = 0;
      const tally = { discard: 0, crash: 0, invalid: 0, members: 0 };
      if (dead.length && options.collapseDead && !options.expanded.has(d.id)) for (const c of dead) size += countSubtree(store, c, tally);
      if (size >= 2) {
        for (const c of kids) if (alive[c]) open(c);
        hidden += size;
        tally.members = size;
        counts.set(groupKey(d.id), tally);
        d.children.push({ key: groupKey(d.id), kind: 'group', id: d.id, roots: dead, children: [] });
      } else {
        for (const c of kids) open(c);
      }
    }
    return top;
  };

  const roots: number[] = [];
  for (const id of store.ids()) if (store.nodes[id]!.parentId === null) roots.push(id);
  const top: Datum = roots.length === 1 ? build(roots[0]!) : { key: Number.MIN_SAFE_INTEGER, kind: 'group', id: -1, roots: [], children: roots.map(build) };
  const virtualRoot = roots.length !== 1;

  const h = hierarchy<Datum>(top, (d) => d.children);
  const laid = tree<Datum>().nodeSize([NODE_GAP, LEVEL_GAP]).separation((a, b) => (a.parent === b.parent ? 1 : 1.4))(h);

  const items: TreeItem[] = [];
  const byKey = new Map<number, TreeItem>();
  const index = new Map<HierarchyPointNode<Datum>, number>();
  const linkList: number[] = [];
  const levels: TreeItem[][] = [];
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const shift = virtualRoot ? 1 : 0;
  const gap = options.levelGap ?? LEVEL_GAP;
  laid.each((p) => {
    if (virtualRoot && p.depth === 0) return;
    const c = counts.get(p.data.key);
    const item: TreeItem = {
      key: p.data.key,
      kind: p.data.kind,
      id: p.data.id,
      parentKey: p.parent && !(virtualRoot && p.parent.depth === 0) ? p.parent.data.key : null,
      depth: p.depth - shift,
      x: (p.depth - shift) * gap,
      y: p.x,
      members: c?.members ?? 0,
      roots: p.data.roots,
      counts: c ? { discard: c.discard, crash: c.crash, invalid: c.invalid } : { discard: 0, crash: 0, invalid: 0 },
    };
    index.set(p, items.length);
    items.push(item);
    byKey.set(item.key, item);
    (levels[item.depth] ??= []).push(item);
    x0 = Math.min(x0, item.x); x1 = Math.max(x1, item.x);
    y0 = Math.min(y0, item.y); y1 = Math.max(y1, item.y);
    if (p.parent && index.has(p.parent)) linkList.push(index.get(p.parent)!, items.length - 1);
  });
  for (const level of levels) level?.sort((a, b) => a.y - b.y);
  if (!items.length) { x0 = y0 = x1 = y1 = 0; }
  const merges = mergeLinks(store, items);
  return { items, byKey, links: Int32Array.from(linkList), merges, bounds: { x0, y0, x1, y1 }, levels, hidden, levelGap: gap };
}

/** For each visible merge node, the item that shows its second parent: the node, or the "+N" group it is folded into. */
function mergeLinks(store: ResultsStore, items: readonly TreeItem[]): Int32Array {
  const at = new Map<number, number>();
  items.forEach((it, i) => at.set(it.key, i));
  const shown = (id: number): number | undefined => {
    // Walk up until something is drawn: a hidden node sits in a group of the nearest drawn ancestor.
    for (let c: number | null = id; c !== null && store.nodes[c];) {
      const i = at.get(c);
      if (i !== undefined) return i;
      const p: number | null = store.nodes[c]!.parentId;
      if (p !== null && at.has(groupKey(p))) return at.get(groupKey(p));
      c = p;
    }
    return undefined;
  };
  const out: number[] = [];
  items.forEach((it, i) => {
    const from = it.kind === 'node' ? store.nodes[it.id]?.mergedFrom : undefined;
    if (from === undefined) return;
    const j = shown(from);
    if (j !== undefined && j !== i) out.push(j, i);
  });
  return Int32Array.from(out);
}

function countSubtree(store: ResultsStore, root: number, tally: { discard: number; crash: number; invalid: number }): number {
  let size = 0;
  const stack = [root];
  while (stack.length) {
    const id = stack.pop()!;
    const n = store.nodes[id];
    if (!n) continue;
    size++;
    if (n.status === 'discard' || n.status === 'crash' || n.status === 'invalid') tally[n.status]++;
    for (const c of store.childrenOf(id)) stack.push(c);
  }
  return size;
}

/**
 * How far right of an item its label may run (world units) before it would cross another item drawn on
 * the same row at a deeper level; Infinity when nothing is in the way.
 */
export function roomToTheRight(layout: TreeLayout, item: TreeItem): number {
  const band = NODE_GAP * 0.6;
  for (let d = item.depth + 1; d < layout.levels.length; d++) {
    const level = layout.levels[d];
    if (!level?.length) continue;
    let lo = 0;
    let hi = level.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (level[mid]!.y < item.y - band) lo = mid + 1;
      else hi = mid;
    }
    if (lo < level.length && level[lo]!.y <= item.y + band) return level[lo]!.x - item.x;
  }
  return Infinity;
}

/** The item nearest to a world point within `radius` world units. */
export function hitTestTree(layout: TreeLayout, wx: number, wy: number, radius: number): TreeItem | null {
  const depth = Math.round(wx / layout.levelGap);
  let best: TreeItem | null = null;
  let bestD = radius * radius;
  for (const d of [depth - 1, depth, depth + 1]) {
    const level = layout.levels[d];
    if (!level || level.length === 0) continue;
    let lo = 0;
    let hi = level.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (level[mid]!.y < wy - radius) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < level.length && level[i]!.y <= wy + radius; i++) {
      const it = level[i]!;
      const dx = it.x - wx;
      const dy = it.y - wy;
      const dd = dx * dx + dy * dy;
      if (dd <= bestD) { bestD = dd; best = it; }
    }
  }
  return best;
}

export type TreeMove = 'parent' | 'child' | 'prev' | 'next' | 'first' | 'last';

/** Arrow-key navigation over visible items: Left to the parent, Right to the first child, Up/Down within the level. */
export function moveInTree(layout: TreeLayout, fromKey: number | null, move: TreeMove): TreeItem | null {
  const from = fromKey === null ? undefined : layout.byKey.get(fromKey);
  if (!from) return layout.items[0] ?? null;
  switch (move) {
    case 'parent': return from.parentKey === null ? from : layout.byKey.get(from.parentKey) ?? from;
    case 'child': {
      let first: TreeItem | null = null;
      for (const it of layout.levels[from.depth + 1] ?? []) {
        if (it.parentKey === from.key && (!first || it.y < first.y)) first = it;
      }
      return first ?? from;
    }
    case 'prev':
    case 'next': {
      const level = layout.levels[from.depth] ?? [];
      const i = level.indexOf(from);
      return level[move === 'prev' ? Math.max(0, i - 1) : Math.min(level.length - 1, i + 1)] ?? from;
    }
    case 'first': return layout.items[0] ?? null;
    case 'last': {
      const deepest = layout.levels[layout.levels.length - 1];
      return deepest?.[0] ?? from;
    }
  }
}
