// The search tree's layout: a tidy tree from d3-hierarchy, dead branches folded, hits and arrow keys, a merge's second link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalEntry } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import { sessionNodes } from '../../../src/core/report/snapshot.js';
import { announceNode, describeNode, nodeLabel } from '../../../webview-ui/src/describe.js';
import { aliveBranches, groupKey, hitTestTree, layoutTree, LEVEL_GAP, moveInTree, NODE_GAP } from '../../../webview-ui/src/treeLayout.js';
import { dto, storeOf } from '../helpers/webview.js';

//        0 keep
//      / |  \
//     1  2   3 keep
//   disc crash  \  \
//                4   5 running
//              disc    \
//                       6 invalid (child of a running node: alive by its parent? no: its own branch is dead)
function tree() {
  return storeOf([
    dto({ id: 0, parentId: null, status: 'keep', metric: 1 }),
    dto({ id: 1, parentId: 0, status: 'discard', metric: 1.1 }),
    dto({ id: 2, parentId: 0, status: 'crash', metric: null }),
    dto({ id: 3, parentId: 0, status: 'keep', metric: 0.9 }),
    dto({ id: 4, parentId: 3, status: 'discard', metric: 0.95 }),
    dto({ id: 5, parentId: 3, status: 'running', metric: null }),
    dto({ id: 6, parentId: 1, status: 'invalid', metric: null }),
  ]);
}

describe('webview search tree', () => {
  it('lays out every node when nothing is folded: depth to the right, siblings apart, no two nodes on one spot', () => {
    const layout = layoutTree(tree(), { collapseDead: false, expanded: new Set(), pinned: [] });
    assert.equal(layout.items.length, 7);
    assert.equal(layout.hidden, 0);
    for (const it of layout.items) assert.equal(it.x, it.depth * LEVEL_GAP);
    for (const level of layout.levels) {
      for (let i = 1; i < (level?.length ?? 0); i++) assert.ok(level![i]!.y - level![i - 1]!.y >= NODE_GAP - 1e-9, 'siblings overlap');
    }
    // Links go from each parent to each child.
    const pairs: string[] = [];
    for (let i = 0; i < layout.links.length; i += 2) pairs.push(`${layout.items[layout.links[i]!]!.id}-${layout.items[layout.links[i + 1]!]!.id}`);
    assert.deepEqual(pairs.sort(), ['0-1', '0-2', '0-3', '1-6', '3-4', '3-5']);
    // A parent sits between its children (the tidy layout centres it).
    const y = (id: number) => layout.byKey.get(id)!.y;
    assert.ok(y(3) > Math.min(y(4), y(5)) && y(3) < Math.max(y(4), y(5)));
  });

  it('marks branches alive when they hold a kept, running or pinned node', () => {
    const alive = aliveBranches(tree(), []);
    assert.deepEqual([...alive], [1, 0, 0, 1, 0, 1, 0]);
    assert.deepEqual([...aliveBranches(tree(), [6])], [1, 1, 0, 1, 0, 1, 1]);
  });

  it('folds a parent\'s dead branches into one "+N" group with what they hold', () => {
    const layout = layoutTree(tree(), { collapseDead: true, expanded: new Set(), pinned: [] });
    const group = layout.byKey.get(groupKey(0))!;
    assert.equal(group.kind, 'group');
    assert.equal(group.members, 3, '#1, its child #6 and #2');
    assert.deepEqual(group.roots, [1, 2]);
    assert.deepEqual(group.counts, { discard: 1, crash: 1, invalid: 1 });
    assert.equal(layout.byKey.has(1), false);
    assert.equal(layout.byKey.has(4), true, 'a single dead leaf is not worth a group');
    assert.equal(layout.hidden, 3);
  });

  it('unfolds a group the user opened, and never hides the selection', () => {
    const open = layoutTree(tree(), { collapseDead: true, expanded: new Set([0]), pinned: [] });
    assert.equal(open.byKey.has(1), true);
    assert.equal(open.byKey.has(6), true);
    const pinned = layoutTree(tree(), { collapseDead: true, expanded: new Set(), pinned: [6] });
    assert.equal(pinned.byKey.has(6), true, 'the selected node and its path stay visible');
    assert.equal(pinned.byKey.has(1), true);
  });

  it('finds the node under the pointer, and walks the tree with arrow keys', () => {
    const layout = layoutTree(tree(), { collapseDead: false, expanded: new Set(), pinned: [] });
    const n3 = layout.byKey.get(3)!;
    assert.equal(hitTestTree(layout, n3.x + 2, n3.y - 1, 6)?.id, 3);
    assert.equal(hitTestTree(layout, n3.x + 40, n3.y, 6), null);
    assert.equal(moveInTree(layout, 3, 'parent')!.id, 0);
    assert.equal(moveInTree(layout, 0, 'child')!.id, 1, 'Right goes to the first child (topmost)');
    assert.equal(moveInTree(layout, 4, 'next')!.id, 5);
    assert.equal(moveInTree(layout, 0, 'parent')!.id, 0, 'the root has no parent');
    assert.equal(moveInTree(layout, null, 'next')!.id, 0, 'with nothing selected, keys start at the root');
  });

  it('lays out a greedy session 10,000 nodes deep without recursion, and a wide 10,000-node tree', () => {
    const chain = storeOf(Array.from({ length: 10_000 }, (_, id) => dto({ id, parentId: id === 0 ? null : id - 1, status: 'keep', metric: 1 - id / 1e5 })));
    const deep = layoutTree(chain, { collapseDead: true, expanded: new Set(), pinned: [] });
    assert.equal(deep.items.length, 10_000);
    assert.equal(deep.levels.length, 10_000);
    const wide = storeOf(Array.from({ length: 10_000 }, (_, id) => dto({ id, parentId: id === 0 ? null : Math.floor((id - 1) / 3), status: id % 4 === 0 ? 'keep' : 'discard' })));
    const all = layoutTree(wide, { collapseDead: false, expanded: new Set(), pinned: [] });
    assert.equal(all.items.length, 10_000);
  });

  describe('a merge (a node with two parents)', () => {
    // #3 merges #2's line into #1: drawn under #1, with a second link from #2.
    const merged = () => storeOf([
      dto({ id: 0, parentId: null, status: 'keep', metric: 1 }),
      dto({ id: 1, parentId: 0, status: 'keep', metric: 0.9, description: 'tanh' }),
      dto({ id: 2, parentId: 0, status: 'keep', metric: 0.95, description: 'wider' }),
      dto({ id: 3, parentId: 1, status: 'keep', metric: 0.85, operator: 'merge', mergedFrom: 2, description: 'merge #2 into #1: wider' }),
    ], { bestId: 3 });

    it('the snapshot sent to the webview carries the second parent', () => {
      const m = new SessionModel();
      let seq = 0;
      const apply = (e: JournalEntry) => m.apply({ ...e, seq: seq++ } as never);
      apply({ type: 'session', tag: 't', config: { metric: { name: 'loss', direction: 'minimize', pattern: '' } } as never, baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
      for (const [id, parentId, mergedFrom] of [[0, null], [1, 0], [2, 0], [3, 1, 2]] as [number, number | null, number?][]) {
        apply({ type: 'node', node: { id, parentId, ...(mergedFrom === undefined ? {} : { mergedFrom }), operator: parentId === null ? 'baseline' : mergedFrom === undefined ? 'improve' : 'merge', commit: `c${id}`, description: `n${id}`, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: '', proposer: { kind: 'x' }, hint: null, createdAt: 't' } });
      }
      const nodes = sessionNodes(m);
      assert.equal(nodes[3]!.mergedFrom, 2);
      assert.equal('mergedFrom' in nodes[2]!, false, 'only a merge has one');
    });

    it('yields a second link from the merged node to the merge, besides the tree link from its first parent', () => {
      const layout = layoutTree(merged(), { collapseDead: false, expanded: new Set(), pinned: [] });
      const pairs = (links: Int32Array) => {
        const out: string[] = [];
        for (let i = 0; i < links.length; i += 2) out.push(`${layout.items[links[i]!]!.key}-${layout.items[links[i + 1]!]!.key}`);
        return out.sort();
      };
      assert.deepEqual(pairs(layout.links), ['0-1', '0-2', '1-3']);
      assert.deepEqual(pairs(layout.merges), ['2-3']);
      // With the merged node folded away, the second link comes from its "+N" group.
      const folded = storeOf([
        dto({ id: 0, parentId: null, status: 'keep', metric: 1 }),
        dto({ id: 1, parentId: 0, status: 'keep', metric: 0.9 }),
        dto({ id: 2, parentId: 0, status: 'discard', metric: 1.1 }),
        dto({ id: 3, parentId: 2, status: 'discard', metric: 1.2 }),
        dto({ id: 4, parentId: 1, status: 'keep', metric: 0.8, operator: 'merge', mergedFrom: 3 }),
      ]);
      const f = layoutTree(folded, { collapseDead: true, expanded: new Set(), pinned: [] });
      assert.equal(f.byKey.has(3), false);
      assert.deepEqual([...f.merges].map((i) => f.items[i]!.key), [groupKey(0), 4]);
    });

    it('labels, describes and announces the node as "merge of #1 and #2"', () => {
      const s = merged();
      assert.equal(nodeLabel(s.nodes[3]!, true), '#3 ★ merge of #1 and #2: wider', 'the engine\'s "merge #2 into #1: " is not said twice');
      assert.equal(nodeLabel(s.nodes[2]!), '#2 wider');
      const d = describeNode(s, 3)!;
      assert.ok(d.lines.includes('merge of #1 and #2'), d.lines.join(' | '));
      assert.match(announceNode(s, 3), /^Experiment #3, keep · best, merge of #1 and #2\./);
      assert.doesNotMatch(announceNode(s, 2), /merge/);
    });
  });
});
