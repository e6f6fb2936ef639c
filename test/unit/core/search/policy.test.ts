// The search policies on hand-built trees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalEntry } from '../../../../src/core/record/journal.js';
import { SessionModel } from '../../../../src/core/model.js';
import { exhaustedKey, GreedyPolicy, mergeKey, TreePolicy, type ChoiceContext } from '../../../../src/core/search/policy.js';
import type { DecidedStatus, Operator } from '../../../../src/core/types.js';

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
  it('exploits the best while its line pays, and says why', () => {
    const c = new TreePolicy(opts).choose(tree([[0, null, 'keep', 1]]), all)!;
    assert.equal(c.parent.id, 0);
    assert.equal(c.operator, 'improve');
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 1, 'discard', 0.85]]);
    const d = new TreePolicy(opts).choose(m, all)!;
    assert.equal(d.parent.id, 1);
    assert.match(d.reason, /^exploit the best, #1 \(0\.8\): 1 of its tries in a row failed, fewer than patience 2$/);
  });

  it('a draft from the baseline is how the tree explores from it', () => {
    // One experiment of the best going (the pipeline prepares the next while it runs): still the best.
    assert.equal(new TreePolicy(opts).choose(tree([[0, null, 'keep', 1]]), { ...all, busyParents: new Map([[0, 1]]) })!.operator, 'improve');
    const c = new TreePolicy(opts).choose(tree([[0, null, 'keep', 1]]), { ...all, busyParents: new Map([[0, 2]]) })!;
    assert.equal(c.parent.id, 0);
    assert.equal(c.operator, 'draft');
    assert.match(c.reason, /^start a new line \(the best, #0, has 2 experiments going, and no other line pays\): a draft from the baseline, draft 1 of 3$/);
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

  it('when the best stalls, another line that still pays goes on, by the best first, and says why', () => {
    // #1 is the best, with two failures in a row (patience 2); #2 and #6 are tips of other lines, untried.
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 0, 'keep', 0.81], [6, 0, 'keep', 0.9], [3, 0, 'discard', 1.1], [4, 1, 'discard', 0.85], [5, 1, 'discard', 0.81]]);
    // A merge of either tip comes first (merge.test.ts has it); tried and conflicting here, the lines go on.
    const c = new TreePolicy(opts).choose(m, { ...all, exhausted: new Set([mergeKey(1, 2), mergeKey(1, 6)]) })!;
    assert.equal(c.parent.id, 2);
    assert.equal(c.operator, 'improve');
    assert.match(c.reason, /^continue another line \(the best, #1, stalled after 2 tries without a keep\): #2 \(0\.81\), 0 of its tries in a row failed, fewer than patience 2$/);
  });

  it('when every line stalled: a new line from the baseline while drafts are left, then back to the best', () => {
    const spec: Parameters<typeof tree>[0] = [[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 1, 'discard', 0.85], [3, 1, 'discard', 0.81]];
    const c = new TreePolicy(opts).choose(tree(spec), all)!;
    assert.equal(c.operator, 'draft');
    assert.match(c.reason, /^start a new line \(the best, #1, stalled after 2 tries without a keep, and no other line pays\): a draft from the baseline, draft 2 of 3$/);
    const used = tree([...spec, [4, 0, 'keep', 0.9], [5, 4, 'discard', 0.95], [6, 4, 'discard', 0.92]]);
    const back = new TreePolicy({ ...opts, drafts: 1 }).choose(used, { ...all, exhausted: new Set([mergeKey(1, 4)]) })!;
    assert.equal(back.parent.id, 1);
    assert.match(back.reason, /^back to the best, #1 \(0\.8\): every line stalled and no drafts are left \(drafts: 1 spent; more only once the best fails 4 tries in a row\)$/);
  });

  it('waits for a running result before a choice that turns on it, where waiting costs only a quick proposal', () => {
    // #1 stalled (patience 2) with one more try of it running (#1 busy): that try may yet be kept.
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 1, 'discard', 0.85], [3, 1, 'discard', 0.81]]);
    const running = { ...all, busyParents: new Map([[1, 1]]) };
    assert.equal(new TreePolicy(opts).choose(m, { ...running, resultDue: true }), null);
    // A try of another line running: it may make a new tip, or a new best.
    assert.equal(new TreePolicy(opts).choose(m, { ...all, busyParents: new Map([[0, 1]]), resultDue: true }), null);
    // A slot is idle, or proposing is slow: the choice is made now, as before.
    assert.equal(new TreePolicy(opts).choose(m, running)!.operator, 'draft');
    // Two of the best going (parallel slots spread out): no wait either.
    assert.equal(new TreePolicy(opts).choose(m, { ...all, busyParents: new Map([[1, 2]]), resultDue: true })!.operator, 'draft');
    // While the best still pays, its next try is prepared beside the running one (the pipeline), wait or not.
    const paying = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8]]);
    assert.equal(new TreePolicy(opts).choose(paying, { ...running, resultDue: true })!.parent.id, 1);
  });

  it('spends drafts beyond the configured ones only once going back to the best failed too, two at most', () => {
    // #1 is the first line's best; #2 the one draft configured, stalled; merging it onto #1 was tried.
    const spec: Parameters<typeof tree>[0] = [[0, null, 'keep', 1], [1, 0, 'keep', 0.8, 'improve'], [2, 0, 'keep', 0.9], [3, 2, 'discard', 0.95], [4, 2, 'discard', 0.92]];
    const ctx = { ...all, exhausted: new Set([mergeKey(1, 2)]) };
    const policy = new TreePolicy({ ...opts, drafts: 1 });
    // The best failed 3 tries in a row (patience 2): it is taken back, as before.
    const round = (from: number, n: number, metric = 0.85): Parameters<typeof tree>[0] => Array.from({ length: n }, (_, i) => [from + i, 1, 'discard', metric + i / 1000, 'improve']);
    assert.equal(policy.choose(tree([...spec, ...round(10, 3)]), ctx)!.operator, 'improve');
    // A second round of patience failed too: a new line.
    const extra = policy.choose(tree([...spec, ...round(10, 4)]), ctx)!;
    assert.equal(extra.operator, 'draft');
    assert.match(extra.reason, /: a draft from the baseline, draft 2, beyond the 1 configured \(at most 2 more\): the best, #1, failed 4 tries in a row, twice patience 2$/);
    // The best with nothing new to try earns one as well.
    assert.equal(policy.choose(tree([...spec, ...round(10, 3)]), { ...ctx, exhausted: new Set([...ctx.exhausted, exhaustedKey(1, 'improve')]) })!.operator, 'draft');
    // Two extra drafts spent (stalled, merges tried): no third.
    const spent = tree([...spec, ...round(10, 4), [20, 0, 'keep', 0.95], [21, 20, 'discard', 0.96], [22, 20, 'discard', 0.97], [23, 0, 'discard', 1.1]]);
    const after = policy.choose(spent, { ...ctx, exhausted: new Set([...ctx.exhausted, mergeKey(1, 20)]) })!;
    assert.notEqual(after.operator, 'draft');
    // drafts: 0 turns drafting off, extra ones included.
    assert.notEqual(new TreePolicy({ ...opts, drafts: 0 }).choose(tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8, 'improve'], ...round(10, 4)]), all)!.operator, 'draft');
  });

  it('when the best has nothing new and every line stalled, chooses by value plus how little a node was tried, and names the numbers', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.8], [2, 0, 'keep', 0.81], [3, 0, 'discard', 1.1], [4, 2, 'discard', 0.85], [5, 2, 'discard', 0.82]]);
    const ctx = { ...all, exhausted: new Set([exhaustedKey(1, 'improve'), mergeKey(1, 2), exhaustedKey(0, 'draft')]) };
    assert.equal(new GreedyPolicy().choose(m, ctx), null, 'greedy stops here');
    const c = new TreePolicy(opts).choose(m, ctx)!;
    assert.equal(c.parent.id, 2);
    assert.match(c.reason, /^explore \(the best, #1, has nothing new to try\): #2 \(0\.81\) scores highest, -0\.05 for its value \+ 0\.23 for 2 tries of 5$/);
  });

  it('debugs a crash on the best\'s line, not one in a dead branch', () => {
    // #3 crashed from #2, a branch the best (#4, from #1) does not pass through.
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 0, 'keep', 0.95], [3, 2, 'crash', null], [4, 1, 'keep', 0.8]]);
    assert.equal(new TreePolicy(opts).choose(m, all)!.operator, 'improve');
    const near = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 0, 'keep', 0.95], [3, 1, 'crash', null], [4, 1, 'keep', 0.8]]);
    const c = new TreePolicy(opts).choose(near, all)!;
    assert.equal(c.operator, 'debug');
    assert.match(c.reason, /^debug #3, a crash on the best's line \(from #1\)/);
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
    // One experiment of #1 going is the pipeline; two are a crowd, and neither a merge nor more of #1 is added.
    assert.equal(new TreePolicy(opts).choose(m, { ...all, busyParents: new Map([[1, 1]]) })!.parent.id, 1);
    const c = new TreePolicy(opts).choose(m, { ...all, busyParents: new Map([[1, 2]]) })!;
    assert.equal(c.parent.id, 2);
    assert.equal(c.operator, 'improve');
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
    const c = new TreePolicy(opts).choose(m, all)!;
    assert.equal(c.operator, 'debug', 'a crash from the baseline, on the best\'s line');
    const fixing = { ...all, busyOps: new Map([[exhaustedKey(2, 'debug'), 1]]) };
    const d = new TreePolicy(opts).choose(m, fixing)!;
    assert.equal(d.operator, 'improve', 'the crash is being fixed by another slot');
    assert.equal(d.parent.id, 1);
    // The best is busy: the baseline, by a draft; two drafts journaled and one in flight are all three.
    const busy = { ...fixing, busyParents: new Map([[1, 2]]) };
    assert.equal(new TreePolicy(opts).choose(m, busy)!.operator, 'draft');
    const full = { ...busy, busyOps: new Map([...busy.busyOps, [exhaustedKey(0, 'draft'), 1]]) };
    const e = new TreePolicy(opts).choose(m, full)!;
    assert.equal(e.parent.id, 0);
    assert.equal(e.operator, 'improve', 'three drafts counting the one in flight: the baseline is improved instead');
  });

  it('re-runs measure noise: they do not count as failed tries of their parent', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'discard', 1.1, 'rerun'], [2, 0, 'discard', 0.9, 'rerun'], [3, 0, 'discard', 1.2, 'draft']]);
    const c = new TreePolicy({ ...opts, drafts: 1 }).choose(m, all)!;
    assert.equal(c.parent.id, 0);
    assert.doesNotMatch(c.reason, /stalled/, 'one failed try is fewer than patience 2; counting the two noise runs, the baseline would have stalled');
  });
});
