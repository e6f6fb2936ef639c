// `autoresearch tree` as text and as `--json`, on a hand-built session: what a reader sees of each node, and of a
// merge (a node with two parents) that the text cannot draw as a second edge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { showDocument, treeDocument } from '../../../src/cli/json.js';
import { renderTree } from '../../../src/cli/tree.js';
import type { JournalEntry } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import type { DecidedStatus } from '../../../src/core/types.js';

function session(spec: [id: number, parent: number | null, status: DecidedStatus, metric: number, description: string, mergedFrom?: number][]): SessionModel {
  const m = new SessionModel();
  let seq = 0;
  const apply = (e: JournalEntry) => m.apply({ ...e, seq: seq++ } as never);
  apply({ type: 'session', tag: 't', config: { metric: { name: 'loss', direction: 'minimize', pattern: '' } } as never, baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
  for (const [id, parentId, status, metric, description, mergedFrom] of spec) {
    apply({ type: 'node', node: { id, parentId, ...(mergedFrom === undefined ? {} : { mergedFrom }), operator: parentId === null ? 'baseline' : mergedFrom === undefined ? 'improve' : 'merge', commit: `c${id}`, description, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: '', proposer: { kind: 'x' }, hint: null, createdAt: 't' } });
    apply({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: status, decidedBy: 'rule' });
  }
  return m;
}

// #3 brings #2's line (wider) onto #1 (tanh).
const merged = () => session([
  [0, null, 'keep', 1, 'baseline'],
  [1, 0, 'keep', 0.9, 'tanh'],
  [2, 0, 'keep', 0.95, 'wider'],
  [3, 1, 'keep', 0.85, 'merge #2 into #1: wider', 2],
]);

describe('autoresearch tree', () => {
  it('marks a merge with ⑂ and names its second parent on its line, in plain text', () => {
    const text = renderTree(merged());
    const lines = text.split('\n');
    assert.equal(lines[0], '★ ✓ #0 baseline: 1 keep');
    const line = lines.find((l) => l.includes(' #3 '))!;
    assert.match(line, /^│ └─★ ✓ ⑂ #3 merge #2 into #1: wider: 0\.85 \(-0\.05\) keep \(\+#2\)$/, line);
    assert.doesNotMatch(lines.find((l) => /✓ #2 /.test(l))!, /⑂|\(\+#/, 'only the merge is marked');
    assert.match(lines.at(-1)!, /⑂ merge \(\+#n: its second parent\)/, 'the legend says what ⑂ and (+#n) mean');
    assert.doesNotMatch(renderTree(session([[0, null, 'keep', 1, 'baseline'], [1, 0, 'keep', 0.9, 'tanh']])), /⑂/, 'no merge, no merge legend');
  });

  it('--json gives each node its second parent, null for all but a merge', () => {
    const m = merged();
    const d = treeDocument('t', m) as { schema: string; nodes: { id: number; parentId: number | null; mergedFrom: number | null; children: number[]; operator: string }[] };
    assert.equal(d.schema, 'autoresearch/tree@1');
    assert.deepEqual(d.nodes.map((n) => [n.id, n.parentId, n.mergedFrom]), [[0, null, null], [1, 0, null], [2, 0, null], [3, 1, 2]]);
    assert.equal(d.nodes[3]!.operator, 'merge');
    assert.deepEqual(d.nodes[1]!.children, [3], 'children follow the first parent');
    assert.deepEqual(d.nodes[2]!.children, []);
    const show = JSON.parse(JSON.stringify(showDocument('t', m, m.get(3)!, null))) as { node: { mergedFrom: number | null }; parent: { id: number } };
    assert.equal(show.node.mergedFrom, 2);
    assert.equal(show.parent.id, 1);
    assert.equal((JSON.parse(JSON.stringify(showDocument('t', m, m.get(2)!, null))) as { node: { mergedFrom: unknown } }).node.mergedFrom, null);
  });
});
