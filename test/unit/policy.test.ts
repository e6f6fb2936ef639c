// The search policies on hand-built trees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalEntry } from '../../src/core/journal.js';
import { SessionModel } from '../../src/core/model.js';
import { exhaustedKey, GreedyPolicy, TreePolicy, type ChoiceContext } from '../../src/core/policy.js';
import type { DecidedStatus, Operator } from '../../src/core/types.js';

function tree(spec: [id: number, parent: number | null, status: DecidedStatus, metric: number | null, op?: Operator][]): SessionModel {
  const m = new SessionModel();
  let seq = 0;
  const apply = (e: JournalEntry) => m.apply({ ...e, seq: seq++ } as never);
  apply({ type: 'session', tag: 't', config: { metric: { name: 'loss', direction: 'minimize', pattern: '' } } as never, baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
  for (const [id, parentId, status, metric, op] of spec) {
    apply({ type: 'node', node: { id, parentId, operator: op ?? (parentId === null ? 'baseline' : parentId === 0 ? 'draft' : 'improve'), commit: `c${id}`, description: `n${id}`, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: '', proposer: { kind: 'x' }, hint: null, createdAt: 't' } });
    apply({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: status, decidedBy: 'rule' });
  }
  return m;
}

const all: ChoiceContext = { operators: new Set<Operator>(['draft', 'improve', 'debug']), exhausted: new Set(), busyParents: new Map() };
const opts = { drafts: 3, debugDepth: 2, patience: 2 };

describe('tree policy', () => {
  it('drafts from the baseline first', () => {
    const c = new TreePolicy(opts).choose(tree([[0, null, 'keep', 1]]), all)!;
    assert.equal(c.parent.id, 0);
    assert.equal(c.operator, 'draft');
    assert.match(c.reason, /draft 1 of 3/);
  });

  it('debugs a crashed node when the proposer can, up to the depth limit', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 0, 'discard', 1.1], [3, 0, 'crash', null]]);
    const c = new TreePolicy(opts).choose(m, all)!;
    assert.equal(c.operator, 'debug');
    assert.equal(c.parent.id, 3);
    const noDebug = new TreePolicy(opts).choose(m, { ...all, operators: new Set<Operator>(['draft', 'improve']) })!;
    assert.equal(noDebug.operator, 'improve');
    const deep = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 0, 'discard', 1.1], [3, 0, 'discard', 1.2], [4, 1, 'crash', null], [5, 4, 'crash', null, 'debug'], [6, 5, 'crash', null, 'debug']]);
    assert.equal(new TreePolicy(opts).choose(deep, all)!.operator, 'improve', 'a chain of two failed fixes is given up');
  });

  it('improves the most promising open node, and backtracks when a line stops improving', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 0, 'keep', 0.9], [3, 0, 'discard', 1.1], [4, 1, 'discard', 0.85], [5, 1, 'discard', 0.81]]);
    const p = new TreePolicy(opts);
    const c = p.choose(m, all)!;
    assert.equal(c.parent.id, 2, '#1 had two failures in a row, so the best open branch is #2');
    assert.equal(c.operator, 'improve');
  });

  it('a human keep makes a discarded node expandable; a human discard removes a kept one', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 0, 'discard', 1.05], [3, 0, 'discard', 1.1]]);
    let seq = 100;
    m.apply({ seq: seq++, type: 'decide', id: 1, status: 'discard', metric: null, memoryGb: null, secondary: {}, reason: 'suspicious', decidedBy: 'human' });
    m.apply({ seq: seq++, type: 'decide', id: 2, status: 'keep', metric: null, memoryGb: null, secondary: {}, reason: 'promising', decidedBy: 'human' });
    const c = new TreePolicy(opts).choose(m, { ...all, exhausted: new Set([exhaustedKey(0, 'improve')]) })!;
    assert.equal(c.parent.id, 2);
  });

  it('prefers a branch no other slot is expanding', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 0, 'keep', 0.9], [3, 0, 'discard', 1.1]]);
    const c = new TreePolicy(opts).choose(m, { ...all, busyParents: new Map([[1, 1]]) })!;
    assert.equal(c.parent.id, 2);
  });

  it('returns null when the proposer has nothing new anywhere', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'discard', 1.1], [2, 0, 'discard', 1.2], [3, 0, 'discard', 1.3]]);
    assert.equal(new TreePolicy(opts).choose(m, { ...all, exhausted: new Set([exhaustedKey(0, 'improve'), exhaustedKey(0, 'draft')]) }), null);
  });
});

describe('greedy policy', () => {
  it('always extends the best so far, and honours a pinned parent', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8, 'improve'], [2, 1, 'discard', 0.9, 'improve']]);
    const g = new GreedyPolicy();
    assert.equal(g.choose(m, all)!.parent.id, 1);
    assert.equal(g.choose(m, { ...all, pinned: 0 })!.parent.id, 0);
  });
});

describe('the tree policy with slots and noise runs', () => {
  it('counts drafts and fixes other slots are preparing, so slots spread out', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 0, 'crash', null]]);
    // Two drafts journaled: a third is wanted, unless another slot is preparing it.
    assert.equal(new TreePolicy(opts).choose(m, all)!.operator, 'draft');
    const full = { ...all, busyOps: new Map([[exhaustedKey(0, 'draft'), 1]]) };
    const c = new TreePolicy(opts).choose(m, full)!;
    assert.equal(c.operator, 'debug', 'three drafts counting the one in flight: on to debugging');
    const fixing = { ...full, busyOps: new Map([...full.busyOps, [exhaustedKey(2, 'debug'), 1]]) };
    const d = new TreePolicy(opts).choose(m, fixing)!;
    assert.equal(d.operator, 'improve', 'the crash is being fixed by another slot');
    assert.equal(d.parent.id, 1);
    assert.equal(new TreePolicy(opts).choose(m, { ...fixing, busyParents: new Map([[1, 1]]) })!.parent.id, 0, 'a busy parent gives way to the next best open one');
  });

  it('re-runs measure noise: they do not count as failed tries of their parent', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'discard', 1.1, 'rerun'], [2, 0, 'discard', 0.9, 'rerun'], [3, 0, 'discard', 1.2, 'draft']]);
    const c = new TreePolicy({ ...opts, drafts: 1 }).choose(m, all)!;
    assert.equal(c.parent.id, 0);
    assert.doesNotMatch(c.reason, /stalled/, 'one failed try is fewer than patience 2; counting the two noise runs, the baseline would have stalled');
  });
});
