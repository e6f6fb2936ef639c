// The merge operator: what one branch found, brought onto the best of another by a three-way merge. The policy's
// choice on hand-built trees, the file merge itself, a whole session in a real git repo where two changes found on
// different branches are combined into a node with two parents, and merges that conflict: reconciled by a model
// (a fake chat backend), or marked as tried when the model fails or the proposer is not a model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { JournalEntry } from '../../../../src/core/record/journal.js';
import { merge3 } from '../../../../src/core/git.js';
import { broughtChanges, mergeBase, mergeFiles, mergeLineByLine } from '../../../../src/core/search/merge.js';
import { SessionModel } from '../../../../src/core/model.js';
import { exhaustedKey, GreedyPolicy, mergeKey, TreePolicy, type ChoiceContext } from '../../../../src/core/search/policy.js';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import { ChatProposer, type ChatBackend, type ChatReply, type ChatRequest } from '../../../../src/core/proposers/llm.js';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import { PatchesProposer } from '../../../../src/core/proposers/patches.js';
import type { DecidedStatus, ExperimentNode, Operator } from '../../../../src/core/types.js';
import { faultRepo, inProcess, records, withKeys } from '../../helpers/faults.js';

function tree(spec: [id: number, parent: number | null, status: DecidedStatus, metric: number | null, mergedFrom?: number][]): SessionModel {
  const m = new SessionModel();
  let seq = 0;
  const apply = (e: JournalEntry) => m.apply({ ...e, seq: seq++ } as never);
  apply({ type: 'session', tag: 't', config: { metric: { name: 'loss', direction: 'minimize', pattern: '' } } as never, baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
  for (const [id, parentId, status, metric, mergedFrom] of spec) {
    apply({ type: 'node', node: { id, parentId, ...(mergedFrom === undefined ? {} : { mergedFrom }), operator: parentId === null ? 'baseline' : mergedFrom !== undefined ? 'merge' : 'improve', commit: `c${id}`, description: `n${id}`, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: '', proposer: { kind: 'x' }, hint: null, createdAt: 't' } });
    apply({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: status, decidedBy: 'rule' });
  }
  return m;
}

const ctx: ChoiceContext = { operators: new Set<Operator>(['improve']), exhausted: new Set(), busyParents: new Map() };
const opts = { drafts: 3, debugDepth: 2, patience: 2 };

describe('when the tree merges', () => {
  // #1 (the best) and #2 each kept a change from the baseline; both lines have stalled (two failures each).
  const spec: Parameters<typeof tree>[0] = [[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 0, 'keep', 0.95], [6, 2, 'discard', 0.97], [7, 2, 'discard', 0.96], [3, 1, 'discard', 0.92], [4, 1, 'discard', 0.91]];

  it('brings a kept node of another branch onto the stalled best, and says why', () => {
    const c = new TreePolicy(opts).choose(tree(spec), ctx)!;
    assert.equal(c.operator, 'merge');
    assert.equal(c.parent.id, 1);
    assert.equal(c.mergeFrom?.id, 2);
    assert.match(c.reason, /^merge \(the best, #1, stalled after 2 tries without a keep\): #2 \(0\.95\) kept a change on another branch; bring its line onto the best, #1 \(0\.9\)$/);
  });

  it('not while the best still pays, not under greedy, not twice, and not after a conflict', () => {
    assert.equal(new TreePolicy(opts).choose(tree(spec.slice(0, 6)), ctx)!.operator, 'improve', 'one failure: the best still pays');
    // #2's line still pays, and is merged first all the same: one experiment, and it grows after.
    const growing = new TreePolicy(opts).choose(tree(spec.filter(([id]) => id !== 7)), ctx)!;
    assert.equal(growing.operator, 'merge', 'a stalled best takes what another line kept before that line grows on');
    assert.equal(growing.mergeFrom?.id, 2);
    const after = new TreePolicy(opts).choose(tree(spec.filter(([id]) => id !== 7)), { ...ctx, exhausted: new Set([mergeKey(1, 2)]) })!;
    assert.equal(after.operator, 'improve', 'once the merge was tried, #2\'s line grows');
    assert.equal(after.parent.id, 2);
    assert.equal(new GreedyPolicy().choose(tree(spec), ctx)!.operator, 'improve');
    const merged = tree([...spec, [5, 1, 'discard', 0.93, 2]]);
    assert.notEqual(new TreePolicy(opts).choose(merged, ctx)!.operator, 'merge', '#2 was merged onto #1 already');
    const onLine = tree([...spec, [5, 1, 'keep', 0.85, 2]]);
    assert.notEqual(new TreePolicy(opts).choose(onLine, { ...ctx, exhausted: new Set([exhaustedKey(5, 'improve')]) })!.operator, 'merge', 'the best\'s line has #2 already');
    const conflict = new TreePolicy(opts).choose(tree(spec), { ...ctx, exhausted: new Set([mergeKey(1, 2)]) })!;
    assert.notEqual(conflict.operator, 'merge');
  });

  it('merges from where the other line left the best\'s', () => {
    const m = tree([[0, null, 'keep', 1], [1, 0, 'keep', 0.9], [2, 1, 'keep', 0.85], [3, 1, 'keep', 0.88], [4, 3, 'keep', 0.87]]);
    assert.equal(mergeBase(m, m.get(2)!, m.get(4)!).id, 1);
  });

  it('names what it brings: the other line\'s changes since the fork, less those the best made too', () => {
    // A noisy session on the bench's bowl: #2 kept ACT gelu on the best's line; a draft (#5, DROPOUT) then its own
    // ACT gelu (#6). Merging #6 brings DROPOUT only: naming #6's own change said "ACT relu → gelu", which #2 had.
    const m = new SessionModel();
    let seq = 0;
    const apply = (e: JournalEntry) => m.apply({ ...e, seq: seq++ } as never);
    apply({ type: 'session', tag: 't', config: { metric: { name: 'loss', direction: 'minimize', pattern: '' } } as never, baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
    const node = (id: number, parentId: number | null, description: string, editKey: string) => {
      apply({ type: 'node', node: { id, parentId, operator: parentId === null ? 'baseline' : editKey.startsWith('merge:') ? 'merge' : 'improve', commit: `c${id}`, description, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'x' }, hint: null, createdAt: 't' } });
      apply({ type: 'decide', id, status: 'keep', metric: 1 - id / 100, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
    };
    node(0, null, 'baseline', 'baseline');
    node(2, 0, 'ACT "relu" → "gelu"', 'train.py:ACT=gelu');
    node(3, 2, 'LR 0.05 → 0.025', 'train.py:LR=0.025');
    node(5, 0, 'DROPOUT 0.2 → 0.1', 'train.py:DROPOUT=0.1');
    node(6, 5, 'ACT "relu" → "gelu"', 'train.py:ACT=gelu');
    const [into, from] = [m.get(3)!, m.get(6)!];
    assert.equal(broughtChanges(m, into, from, mergeBase(m, into, from)), 'DROPOUT 0.2 → 0.1 (#5)');
    node(7, 6, 'merge #9 into #6: WIDTH 32 → 64 (#9)', 'merge:9');
    node(8, 7, 'WARMUP 250 → 125', 'train.py:WARMUP=125');
    node(10, 8, 'LR 0.05 → 0.1', 'train.py:LR=0.1');
    assert.equal(broughtChanges(m, into, m.get(10)!, m.get(0)!), 'DROPOUT 0.2 → 0.1 (#5), WIDTH 32 → 64 (#9), WARMUP 250 → 125 (#8) and 1 more');
  });
});

describe('the three-way file merge', () => {
  const base = 'A = 1\n\n# ---\n\nB = 1\n';
  it('applies the other line\'s change onto the best\'s, or names the conflict', () => {
    const r = mergeFiles({ 'train.py': { base, ours: base.replace('A = 1', 'A = 2'), theirs: base.replace('B = 1', 'B = 2') } });
    assert.deepEqual(r, { files: { 'train.py': 'A = 2\n\n# ---\n\nB = 2\n' } });
    assert.deepEqual(mergeFiles({ 'train.py': { base, ours: base.replace('A = 1', 'A = 2'), theirs: base.replace('A = 1', 'A = 3') } }), { conflict: 'both lines changed the same lines of train.py' });
    assert.deepEqual(mergeFiles({ 'new.py': { base: null, ours: null, theirs: 'x\n' }, 'train.py': { base, ours: base, theirs: base } }), { files: { 'new.py': 'x\n' } });
    // The other line made an edit the best's made too (and the best more): the merge brings nothing, not a copy of ours.
    const both = base.replace('B = 1', 'B = 2');
    assert.deepEqual(mergeFiles({ 'train.py': { base, ours: both.replace('A = 1', 'A = 2'), theirs: both } }), { files: {} });
  });

  it('merges edits to adjacent lines, settings one per line, which git\'s own merge calls a conflict', () => {
    const block = 'LR = 0.1\nWIDTH = 16\nACT = "relu"\n';
    const ours = block.replace('LR = 0.1', 'LR = 0.05').replace('"relu"', '"gelu"');
    const theirs = block.replace('WIDTH = 16', 'WIDTH = 32').replace('"relu"', '"gelu"');
    assert.equal(merge3(ours, block, theirs), null, 'git merge-file conflicts on adjacent lines');
    assert.deepEqual(mergeFiles({ 'train.py': { base: block, ours, theirs } }), { files: { 'train.py': 'LR = 0.05\nWIDTH = 32\nACT = "gelu"\n' } });
    assert.equal(mergeLineByLine(ours, block, block.replace('LR = 0.1', 'LR = 0.2')), null, 'the same line changed two ways');
    assert.equal(mergeLineByLine(ours, block, `${block}EPOCHS = 3\n`), null, 'a line added: git\'s merge decides');
  });
});

// Loss falls by 0.05 for B = 2 and by 0.03 for A = 2: found on two branches, they only add up in a merge.
const TRAIN = (a: number, b: number) => `A = ${a}

# the model
import os

B = ${b}
loss = 1.0 - (0.05 if B == 2 else 0.0) - (0.03 if A == 2 else 0.0)
print(f"val_loss: {loss:.6f}")
`;

/** Changes B from the baseline, has nothing for B's line, then changes A from the baseline. */
class TwoBranches implements Proposer {
  readonly kind = 'scripted';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['improve']);
  private fromBaseline = 0;
  dispose(): void {}
  async propose(req: ProposalRequest): Promise<Proposal | null> {
    if (req.parent.id !== 0) return null;
    this.fromBaseline++;
    if (this.fromBaseline === 1) return { description: 'B 1 -> 2', plan: 'p', editKey: 'B', files: { 'train.py': TRAIN(1, 2) }, proposer: { kind: this.kind } };
    if (this.fromBaseline === 2) return { description: 'A 1 -> 2', plan: 'p', editKey: 'A', files: { 'train.py': TRAIN(2, 1) }, proposer: { kind: this.kind } };
    return null;
  }
}

describe('a session that merges', () => {
  it('combines two changes kept on different branches into a node with two parents, in git and in the journal', async () => {
    const repo = faultRepo(withKeys({ maxExperiments: '3', policy: 'tree', 'search': '{drafts: 0, debugDepth: 0, patience: 1}' }), { 'train.py': TRAIN(1, 1) });
    const s = inProcess(repo, new TwoBranches());
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const [b, a, merged] = [1, 2, 3].map((id) => outcome.model.get(id)!) as [ExperimentNode, ExperimentNode, ExperimentNode];
    assert.deepEqual([b.parentId, b.status, a.parentId, a.status], [0, 'keep', 0, 'keep']);
    assert.equal(merged.operator, 'merge');
    assert.equal(merged.parentId, 1, 'onto the best');
    assert.equal(merged.mergedFrom, 2);
    assert.equal(merged.status, 'keep', merged.reason);
    assert.equal(merged.metric, 0.92);
    assert.equal(merged.description, 'merge #2 into #1: A 1 -> 2 (#2)');
    assert.match(merged.policyReason, /^merge \(the best, #1, has nothing new to try\): #2 \(0\.97\)/);
    assert.equal(repo.git('show', `${merged.commit}:train.py`), TRAIN(2, 2).trimEnd());
    assert.match(repo.git('log', '-1', '--format=%B', merged.commit!), /AutoResearch-Parent: 1\nAutoResearch-Merged: 2\n/);
    assert.equal(outcome.model.best?.id, 3);
  });
});

// Both lines set A and B on one line, so git's merge (and the line-by-line one) conflicts; the model reconciles.
const PAIR = (a: number, b: number, note = '') => `A, B = ${a}, ${b}

# the model${note}
import os

loss = 1.0 - (0.05 if B == 2 else 0.0) - (0.03 if A == 2 else 0.0)
print(f"val_loss: {loss:.6f}")
`;

const edit = (plan: string, search: string, replace: string) => `PLAN: ${plan}\nBecause.\n\ntrain.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;

/**
 * A chat model that knows the script: B from the baseline, A as the draft, a change of a comment (no effect) from any
 * other node, and for a merge `reconcile` (the reconciled edit, or garbage). Every request is kept.
 */
class FakeChat implements ChatBackend {
  readonly kind = 'fake-chat';
  readonly model = 'fake-model';
  readonly asked: ChatRequest[] = [];
  constructor(private readonly reconcile: string) {}
  async inputBudget(): Promise<number> {
    return 100_000;
  }
  async complete(req: ChatRequest): Promise<ChatReply> {
    this.asked.push(req);
    const task = /^# Your task: (.*)$/m.exec(req.messages[0]!.content)![1]!;
    const text = task.startsWith('merge ') ? this.reconcile
      : task === 'improve #0' ? edit('B 1 -> 2', 'A, B = 1, 1', 'A, B = 1, 2')
      : task.startsWith('draft') ? edit('A 1 -> 2', 'A, B = 1, 1', 'A, B = 2, 1')
      : edit('reword a comment', '# the model', `# the model (try ${this.asked.length})`);
    return { text, model: 'fake-model', tokensIn: 1200, tokensOut: 40, costUsd: 0.002, truncated: false };
  }
  dispose(): void {}
}

/** #1 B (kept, the best), #2 a comment from #1, #3 A drafted from the baseline (kept), then the merge of #3 onto #1. */
function conflictingSession(proposer: Proposer): { repo: ReturnType<typeof faultRepo>; s: ReturnType<typeof inProcess> } {
  const repo = faultRepo(withKeys({ maxExperiments: '5', policy: 'tree', search: '{drafts: 1, debugDepth: 0, patience: 1}' }), { 'train.py': PAIR(1, 1) });
  return { repo, s: inProcess(repo, proposer) };
}

const chatProposer = (backend: ChatBackend) => new ChatProposer({ kind: 'fake-chat', backend, settings: { maxTokens: 1000, temperature: 0, transcripts: false } });

describe('a merge that conflicts', () => {
  it('is reconciled by a model proposer: asked with both sides and the conflict, its edit is a merge node with two parents', async () => {
    const backend = new FakeChat(edit('A 1 -> 2 onto B = 2', 'A, B = 1, 2', 'A, B = 2, 2'));
    const { repo, s } = conflictingSession(chatProposer(backend));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.deepEqual(outcome.model.nodes.map((n) => `#${n.id}<${n.parentId} ${n.operator} ${n.status}`), [
      '#0<null baseline keep', '#1<0 improve keep', '#2<1 improve discard', '#3<0 draft keep', '#4<1 merge keep', '#5<4 improve discard',
    ], 'the draft\'s change is merged onto the stalled best at once, before its line grows');
    assert.equal(merge3(PAIR(1, 2), PAIR(1, 1), PAIR(2, 1)), null, 'git merge-file conflicts');

    const asked = backend.asked.filter((r) => /^# Your task: merge/m.test(r.messages[0]!.content));
    assert.equal(asked.length, 1, 'the model was asked once to reconcile');
    const prompt = asked[0]!.messages[0]!.content;
    assert.match(prompt, /^# Your task: merge #3 into #1, reconciling a conflict$/m);
    assert.match(prompt, /#1 \(ours, the best; its code is below\) and #3 \(theirs, kept on another branch\) both changed the code since #0/);
    assert.match(prompt, /git's three-way merge could not combine them: both lines changed the same lines of train\.py\./);
    assert.match(prompt, /Bring #3's changes \(the diff from #0 to #3 below\) onto #1's code[^\n]*Change nothing else/);
    const theirs = prompt.slice(prompt.indexOf('## Theirs:'), prompt.indexOf('## Ours:'));
    assert.match(theirs, /^-A, B = 1, 1\n\+A, B = 2, 1$/m, 'the diff to bring: base to theirs');
    const ours = prompt.slice(prompt.indexOf('## Ours:'), prompt.indexOf('# Current code of #1'));
    assert.match(ours, /^-A, B = 1, 1\n\+A, B = 1, 2$/m, 'what ours changed');
    assert.match(prompt.slice(prompt.indexOf('# Current code of #1')), /^A, B = 1, 2$/m, 'the code to edit is ours');
    assert.doesNotMatch(prompt, /# Already tried from #1/, 'a merge is not one more try from #1');

    const merged = outcome.model.get(4)!;
    assert.equal(merged.parentId, 1, 'onto the best');
    assert.equal(merged.mergedFrom, 3, 'its second parent');
    assert.equal(merged.metric, 0.92, 'both improvements hold');
    assert.equal(merged.editKey, 'merge:3');
    assert.match(merged.description, /^merge #3 into #1 \(reconciled by fake-chat fake-model\): n?/);
    assert.match(merged.plan, /the three-way merge onto the best, #1, conflicted \(both lines changed the same lines of train\.py\), so fake-chat fake-model reconciled it: A 1 -> 2 onto B = 2\./);
    assert.deepEqual(merged.proposer, { kind: 'fake-chat', model: 'fake-model', tokensIn: 1200, tokensOut: 40, costUsd: 0.002 }, 'the model\'s cost is on the node');
    assert.equal(repo.git('show', `${merged.commit}:train.py`), PAIR(2, 2).trimEnd());
    assert.match(repo.git('log', '-1', '--format=%B', merged.commit!), /AutoResearch-Parent: 1\nAutoResearch-Merged: 3\nAutoResearch-Operator: merge/);
    assert.equal(outcome.model.best?.id, 4);
  });

  it('is marked as tried when the model cannot reconcile it, and what the model cost is journaled', async () => {
    const backend = new FakeChat('PLAN: give up\nI cannot see how to merge these.\n');
    const { repo, s } = conflictingSession(chatProposer(backend));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.equal(backend.asked.filter((r) => /^# Your task: merge/m.test(r.messages[0]!.content)).length, 2, 'asked, then shown its mistake once');
    assert.ok(!outcome.model.nodes.some((n) => n.operator === 'merge' || n.status === 'invalid'), 'no merge node, no failed experiment');
    assert.ok(s.warnings().some((w) => /^no merge of #3 into #1: both lines changed the same lines of train\.py; the proposer failed to reconcile it: /.test(w)), s.warnings().join('\n'));
    const spend = records(repo).filter((r) => r.type === 'spend');
    assert.equal(spend.length, 1);
    assert.match(JSON.stringify(spend[0]), /"tokensIn":2400.*merge of #3 into #1 not reconciled/);
  });

  it('is reconciled by an agent-cli proposer too: it edits the best\'s worktree in place and its change is read back', async () => {
    // The agent (committed beside train.py, as the sandbox shows it the worktree only) reads the task from the prompt
    // file, edits train.py where it runs, and quotes the conflict it was given.
    const agent = `import os, re, sys
prompt = open(sys.argv[1]).read()
task = re.search(r"^# Your task: (.*)$", prompt, re.M).group(1)
code = open("train.py").read()
if task.startswith("merge "):
    said = re.search(r"could not combine them: (.*?)\\.$", prompt, re.M).group(1)
    code, plan = code.replace("A, B = 1, 2", "A, B = 2, 2"), "A onto B = 2 (conflict: " + said + ")"
elif task == "improve #0":
    code, plan = code.replace("A, B = 1, 1", "A, B = 1, 2"), "B 1 -> 2"
elif task.startswith("draft"):
    code, plan = code.replace("A, B = 1, 1", "A, B = 2, 1"), "A 1 -> 2"
else:
    code, plan = code.replace("# the model", "# the model (" + os.environ["AUTORESEARCH_PARENT"] + ")"), "reword a comment"
open("train.py", "w").write(code)
print("PLAN: " + plan)
`;
    const repo = faultRepo(withKeys({
      maxExperiments: '5', policy: 'tree', search: '{drafts: 1, debugDepth: 0, patience: 1}',
      proposer: '{kind: agent-cli, command: "python3 agent.py {promptFile}", transcripts: false}',
    }), { 'train.py': PAIR(1, 1), 'agent.py': agent });
    const outcome = await inProcess(repo).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const merged = outcome.model.get(4)!;
    assert.deepEqual([merged.operator, merged.parentId, merged.mergedFrom, merged.status, merged.metric], ['merge', 1, 3, 'keep', 0.92], merged.reason);
    assert.match(merged.description, /^merge #3 into #1 \(reconciled by agent-cli python3\): /);
    assert.match(merged.plan, /reconciled it: A onto B = 2 \(conflict: both lines changed the same lines of train\.py\)/);
    assert.equal(repo.git('show', `${merged.commit}:train.py`), PAIR(2, 2).trimEnd());
  });

  it('is marked as tried with mutate, patches or any proposer that does not reconcile: it is never asked', async () => {
    const declared = (p: Proposer) => p.reconcilesMerges === true;
    assert.ok(!declared(new MutateProposer({ seed: 1 })) && !declared(new PatchesProposer({ dir: '.' })), 'mutate and patches do not reconcile');
    assert.ok(declared(chatProposer(new FakeChat(''))), 'a model does');
    /** Plays the same session as the model above, with mutate's capabilities. */
    class LikeMutate implements Proposer {
      readonly kind = 'mutate';
      readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
      readonly reconcilesMerges = declared(new MutateProposer({ seed: 1 }));
      readonly asked: Operator[] = [];
      async propose(req: ProposalRequest): Promise<Proposal | null> {
        this.asked.push(req.operator);
        const n = this.asked.length;
        const [description, file] = req.operator === 'draft' ? ['A 1 -> 2', PAIR(2, 1)] : req.parent.id === 0 ? ['B 1 -> 2', PAIR(1, 2)] : [`comment ${n}`, readFileSync(join(req.worktree, 'train.py'), 'utf8').replace('# the model', `# the model (try ${n})`)];
        return { description, plan: 'p', editKey: description, files: { 'train.py': file }, proposer: { kind: this.kind } };
      }
      dispose(): void {}
    }
    const proposer = new LikeMutate();
    const { s } = conflictingSession(proposer);
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.ok(!proposer.asked.includes('merge'), 'the proposer was never asked to merge');
    assert.ok(!outcome.model.nodes.some((n) => n.operator === 'merge'));
    const logs = s.events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    assert.ok(logs.includes('no merge of #3 into #1: both lines changed the same lines of train.py, and the mutate proposer does not reconcile merges (a model proposer does)'), logs.join('\n'));
    assert.equal(outcome.model.get(5)?.parentId, 1, 'the search went on from the best');
  });
});
