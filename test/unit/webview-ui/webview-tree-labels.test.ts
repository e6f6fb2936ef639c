// What the search tree writes: every node its number and change against its parent, leaves their description where
// there is room, "+N more" chips that say what they hide, and no label over another label, a node or a chip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitTransform, nodeRadius } from '../../../webview-ui/src/treeScreen.js';
import type { Transform } from '../../../webview-ui/src/treeScreen.js';
import { chipBox, chipDescription, chipText, deltaToParent, ellipsize, placeLabels, shortLabel } from '../../../webview-ui/src/treeLabels.js';
import type { Box, PlacedLabel } from '../../../webview-ui/src/treeLabels.js';
import { describeNode } from '../../../webview-ui/src/describe.js';
import { groupKey, layoutTree } from '../../../webview-ui/src/treeLayout.js';
import type { TreeLayout } from '../../../webview-ui/src/treeLayout.js';
import type { ResultsStore } from '../../../webview-ui/src/store.js';
import { dto, storeOf } from '../helpers/webview.js';
import type { DecidedStatus } from '../../../src/core/types.js';

/** A monospace stand-in for the canvas: 6 px a character. */
const measure = (text: string) => text.length * 6;
const text = (l: PlacedLabel) => l.parts.map((p) => p.text).join('');
const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

//        0 keep 1.0
//      / |  \
//     1  2   3 keep 0.9 (best)
//   disc crash  \   \
//   1.1          4   5 running
//   |          disc
//   6 invalid  0.95
function tree(): ResultsStore {
  return storeOf([
    dto({ id: 0, parentId: null, status: 'keep', metric: 1, description: 'baseline' }),
    dto({ id: 1, parentId: 0, status: 'discard', metric: 1.1, description: 'LR 0.1 → 0.2' }),
    dto({ id: 2, parentId: 0, status: 'crash', metric: null, description: 'depth 12' }),
    dto({ id: 3, parentId: 0, status: 'keep', metric: 0.9, description: 'BATCH_SIZE 128 → 64' }),
    dto({ id: 4, parentId: 3, status: 'discard', metric: 0.95, description: 'EPOCHS 80 → 160 with a much longer description than fits' }),
    dto({ id: 5, parentId: 3, status: 'running', metric: null, description: 'MOMENTUM 0.5 → 0.25' }),
    dto({ id: 6, parentId: 1, status: 'invalid', metric: null, description: 'touched prepare.py' }),
  ], { bestId: 3 });
}

function place(store: ResultsStore, layout: TreeLayout, width: number, height: number, t: Transform = fitTransform(layout, width, height), pinned: number[] = []) {
  const r = nodeRadius(t.k);
  return { t, r, labels: placeLabels(layout, store, t, measure, { pinned, r, lineHeight: 14, width, height }) };
}

/** No label over another, over a node other than its own, or over a chip; all inside the canvas. */
function assertClear(layout: TreeLayout, labels: PlacedLabel[], t: Transform, r: number, width: number, height: number): void {
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i]!;
    assert.ok(a.box.x >= 0 && a.box.y >= 0 && a.box.x + a.box.w <= width && a.box.y + a.box.h <= height, `"${text(a)}" is cut by the canvas's edge`);
    for (let j = i + 1; j < labels.length; j++) assert.ok(!overlap(a.box, labels[j]!.box), `"${text(a)}" covers "${text(labels[j]!)}"`);
    for (const it of layout.items) {
      if (it.key === a.key) continue;
      const b = it.kind === 'group' ? chipBox(it, t, r, measure) : { x: it.x * t.k + t.x - r, y: it.y * t.k + t.y - r, w: 2 * r, h: 2 * r };
      assert.ok(!overlap(a.box, b), `"${text(a)}" covers ${it.kind === 'group' ? 'a chip' : `#${it.id}`}`);
    }
  }
}

describe('webview search tree labels', () => {
  it('writes each node\'s number and its change against its parent, in percent, coloured when it is better', () => {
    const s = tree();
    assert.deepEqual(shortLabel(s, 3), [{ text: '#3 ★', tone: 'best' }, { text: ' -10.0%', tone: 'better' }]);
    assert.deepEqual(shortLabel(s, 4), [{ text: '#4', tone: 'fg' }, { text: ' +5.6%', tone: 'muted' }]);
    assert.deepEqual(deltaToParent(s, 1), { text: '+10.0%', better: false });
    const said = (id: number) => shortLabel(s, id).map((p) => p.text).join('');
    assert.equal(said(0), '#0 baseline');
    assert.equal(said(2), '#2 crash');
    assert.equal(said(5), '#5 running');
    assert.equal(said(6), '#6 invalid');
    // From a parent at 0, the signed difference; a run that ended waits for its decision.
    const zero = storeOf([dto({ id: 0, parentId: null, status: 'keep', metric: 0 }), dto({ id: 1, status: 'discard', metric: 0.25 }), dto({ id: 2, status: 'running', metric: null, finishedAt: '2025-01-01T00:00:00Z' })]);
    assert.equal(shortLabel(zero, 1).map((p) => p.text).join(''), '#1 +0.25');
    assert.equal(shortLabel(zero, 2).map((p) => p.text).join(''), '#2 deciding…');
  });

  it('leaves the rest to the hover card: description, metric, change in percent, status, why the policy chose it', () => {
    const s = storeOf([
      dto({ id: 0, parentId: null, status: 'keep', metric: 1 }),
      dto({ id: 1, status: 'keep', metric: 0.9, description: 'LR 0.1 → 0.05', policyReason: 'best so far; improve', reason: 'better than #0 by 0.1' }),
    ], { bestId: 1 });
    const d = describeNode(s, 1)!;
    assert.equal(d.status, 'keep · best');
    assert.equal(d.lines[0], 'LR 0.1 → 0.05');
    assert.match(d.lines[1]!, /^val_loss 0\.9 · Δ -0\.1 \(-10\.0%\) vs parent #0/);
    assert.ok(d.lines.includes('why chosen: best so far; improve'), d.lines.join('\n'));
  });

  it('says what a folded chip holds, in words, for the eye and for a screen reader', () => {
    const layout = layoutTree(tree(), { collapseDead: true, expanded: new Set(), pinned: [] });
    const group = layout.byKey.get(groupKey(0))!;
    assert.equal(chipText(group), '+3 more');
    assert.equal(chipDescription(group), '3 experiments under #0 hidden (2 branches): 1 discarded, 1 crashed, 1 invalid. Click or press Enter to expand.');
    const flat = storeOf([dto({ id: 0, parentId: null, status: 'keep' }), dto({ id: 1, status: 'discard' }), dto({ id: 2, status: 'discard' }), dto({ id: 3, status: 'keep' })]);
    const g = layoutTree(flat, { collapseDead: true, expanded: new Set(), pinned: [] }).byKey.get(groupKey(0))!;
    assert.equal(chipDescription(g), '2 children of #0 hidden: 2 discarded. Click or press Enter to expand.');
  });

  it('labels every node at the fitted zoom, inner nodes too, and none covers another label, a node or a chip', () => {
    for (const collapseDead of [false, true]) {
      const s = tree();
      const layout = layoutTree(s, { collapseDead, expanded: new Set(), pinned: [] });
      const { t, r, labels } = place(s, layout, 520, 300);
      const said = new Map(labels.map((l) => [l.key, text(l)]));
      for (const it of layout.items) if (it.kind === 'node') assert.match(said.get(it.id) ?? '', new RegExp(`^#${it.id}\\b`), `#${it.id} has no label (collapseDead ${collapseDead})`);
      assert.equal(said.get(0), '#0 baseline', 'the root, an inner node, is labelled');
    // Pinned, the baseline does not say "baseline" twice.
    const lone = storeOf([dto({ id: 0, parentId: null, status: 'keep', metric: 1, description: 'baseline' }), dto({ id: 1, status: 'running', metric: null })], { bestId: 0 });
    const two = layoutTree(lone, { collapseDead: true, expanded: new Set(), pinned: [] });
    assert.equal(text(place(lone, two, 520, 300, undefined, [0]).labels.find((l) => l.key === 0)!), '#0 ★ baseline');
      assert.match(said.get(3)!, /^#3 ★ -10\.0%/, 'an inner node says its change');
      assertClear(layout, labels, t, r, 520, 300);
    }
  });

  it('in a crowded tree, names a node by its number alone where its change has no room', () => {
    // The e2e session's tree once mutate stepped coarse to fine (screenshot results-dark-done): #7's children #8 and #9
    // and #9's #10 and #11 (the best, its label below it) crowd one another; #8 was drawn without a label.
    const spec: [number | null, DecidedStatus, number, string][] = [
      [null, 'keep', 0.357536, 'baseline'], [0, 'keep', 0.243492, 'LEARNING_RATE 0.2 → 0.4'], [1, 'keep', 0.242735, 'EPOCHS 80 → 160'],
      [2, 'discard', 0.8, 'LEARNING_RATE 0.4 → 0.8'], [2, 'discard', 0.246, 'EPOCHS 160 → 320'], [2, 'discard', 0.25, 'MOMENTUM 0.5 → 0.75'],
      [2, 'discard', 0.245, 'LEARNING_RATE 0.4 → 0.5'], [2, 'keep', 0.2418, 'MOMENTUM 0.5 → 0.375'], [7, 'discard', 0.29, 'EPOCHS 160 → 200'],
      [7, 'keep', 0.208, 'WEIGHT_DECAY 0.01 → 0.005'], [9, 'discard', 0.66, 'USE_BIAS True → False'], [9, 'keep', 0.192371, 'WEIGHT_DECAY 0.005 → 0.0025'],
      [11, 'discard', 0.2054, 'MOMENTUM 0.375 → 0.1875'],
    ];
    const s = storeOf(spec.map(([parentId, status, metric, description], id) => dto({ id, parentId, status, metric, description })), { bestId: 11 });
    const layout = layoutTree(s, { collapseDead: true, expanded: new Set(), pinned: [11] });
    const wide = (t: string) => t.length * 6.2;
    for (const [width, height] of [[525, 300], [500, 300], [480, 280]] as const) {
      const t = fitTransform(layout, width, height);
      const r = nodeRadius(t.k);
      const labels = placeLabels(layout, s, t, wide, { pinned: [11], r, lineHeight: 14, width, height });
      const said = new Map(labels.map((l) => [l.key, text(l)]));
      for (const it of layout.items) if (it.kind === 'node') assert.match(said.get(it.id) ?? '', new RegExp(`^#${it.id}\\b`), `#${it.id} has no label at ${width} × ${height}: ${JSON.stringify([...said.values()])}`);
      assert.ok([...said.values()].some((l) => /^#\d+$/.test(l)), 'one is named by its number alone');
    }
  });

  it('gives a leaf its description up to the next thing on its row, shortened with an ellipsis, never past the edge', () => {
    const s = tree();
    const layout = layoutTree(s, { collapseDead: false, expanded: new Set(), pinned: [] });
    const { labels } = place(s, layout, 420, 300);
    const four = labels.find((l) => l.key === 4)!;
    assert.match(text(four), /^#4 \+5\.6% EPOCHS 80 → 160.*…$/);
    assert.ok(four.box.x + four.box.w <= 420);
    assert.equal(ellipsize('abcdef', 30, measure), 'abcd…');
    assert.equal(ellipsize('abcdef', 36, measure), 'abcdef');
  });

  it('writes the pinned nodes first, with their description, on a patch, moved left rather than cut at the edge', () => {
    const s = tree();
    const layout = layoutTree(s, { collapseDead: false, expanded: new Set(), pinned: [] });
    // Zoomed in, the tree's right part off the canvas: #3's description would run past its edge.
    const width = 260;
    const { t, r, labels } = place(s, layout, width, 300, { k: 1.4, x: 60, y: 150 }, [3]);
    const three = labels.find((l) => l.key === 3)!;
    assert.equal(labels[0], three, 'placed first');
    assert.ok(three.boxed);
    assert.match(text(three), /^#3 ★ -10\.0% BATCH_SIZE/);
    assert.ok(three.box.x + three.box.w <= width - 2, 'inside the canvas');
    assertClear(layout, labels, t, r, width, 300);
  });

  it('puts the best\'s description below it when the row above is taken, clear of the "+N more" chip beside it', () => {
    // 0 → 1 → {2, 3}; 3 → {4, 5 best}; 5's six discarded children fold into a chip on its row.
    const parents = [null, 0, 1, 1, 3, 3, 5, 5, 5, 5, 5, 5];
    const s = storeOf(parents.map((parentId, id) => dto({ id, parentId, status: id <= 3 || id === 5 ? 'keep' : 'discard', metric: 1 - id / 100, description: id === 5 ? 'EPOCHS 80 → 100' : `change ${id}` })), { bestId: 5 });
    const layout = layoutTree(s, { collapseDead: true, expanded: new Set(), pinned: [5], levelGap: 90 });
    const { t, r, labels } = place(s, layout, 605, 300, { k: 1, x: 32, y: 150 }, [5]);
    const best = labels.find((l) => l.key === 5)!;
    assert.equal(text(best), '#5 ★ -2.1% EPOCHS 80 → 100');
    assert.ok(best.box.y > layout.byKey.get(5)!.y * t.k + t.y, 'below the node');
    assertClear(layout, labels, t, r, 605, 300);
  });

  it('ends the best\'s label at the node, over the way in, when its children\'s column is in the way on both sides', () => {
    // 0 → 1 → 2 (best) → six kept children in a column beside it, unfolded.
    const parents = [null, 0, 1, 2, 2, 2, 2, 2, 2];
    const s = storeOf(parents.map((parentId, id) => dto({ id, parentId, status: 'keep', metric: 1 - id / 100, description: id === 2 ? 'EPOCHS 80 → 100' : `change ${id}` })), { bestId: 2 });
    const layout = layoutTree(s, { collapseDead: false, expanded: new Set(), pinned: [], levelGap: 40 });
    const t = { k: 0.9, x: 200, y: 150 };
    const { r, labels } = place(s, layout, 600, 300, t, [2]);
    const best = labels.find((l) => l.key === 2)!;
    assert.equal(text(best), '#2 ★ -1.0% EPOCHS 80 → 100');
    assert.ok(best.box.x + best.box.w <= layout.byKey.get(2)!.x * t.k + t.x + 8, 'ends at the node');
    assertClear(layout, labels, t, r, 600, 300);
  });

  it('writes more as the user zooms in, and a 200-node chain fitted to a narrow panel still names each node it has room for', () => {
    const wide = storeOf(Array.from({ length: 121 }, (_, id) => dto({ id, parentId: id === 0 ? null : Math.floor((id - 1) / 3), status: id % 4 === 0 ? 'keep' : 'discard', metric: 1 - id / 1000 })));
    const layout = layoutTree(wide, { collapseDead: false, expanded: new Set(), pinned: [] });
    const fit = fitTransform(layout, 500, 320);
    const few = place(wide, layout, 500, 320, fit).labels.length;
    const zoomed = place(wide, layout, 500, 320, { k: fit.k * 3, x: fit.x, y: 160 - (160 - fit.y) * 3 });
    assert.ok(zoomed.labels.length > few, `zoomed in: ${zoomed.labels.length} labels, fitted: ${few}`);
    assertClear(layout, zoomed.labels, zoomed.t, zoomed.r, 500, 320);
    const chain = storeOf(Array.from({ length: 200 }, (_, id) => dto({ id, parentId: id === 0 ? null : id - 1, status: 'keep', metric: 1 - id / 1000 })));
    const deep = layoutTree(chain, { collapseDead: false, expanded: new Set(), pinned: [], levelGap: 60 });
    const t0 = { k: 1, x: 20, y: 160 };
    const seen = place(chain, deep, 500, 320, t0);
    const onScreen = deep.items.filter((it) => it.x * t0.k + t0.x < 500 - 40);
    for (const it of onScreen) assert.ok(seen.labels.some((l) => l.key === it.id), `#${it.id} on screen without a label`);
  });
});
