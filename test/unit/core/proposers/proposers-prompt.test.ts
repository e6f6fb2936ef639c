// The research prompt (golden): rules, notes, the node and its code, the operator, the queued hypothesis
// first, and a history grouped by idea that shows failures, never lists an idea twice, and is trimmed to
// the budget with the most relevant experiments kept.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildResearchPrompt, estimateTokens, historyIdeas, readEditableFiles, type EditableFile } from '../../../../src/core/proposers/prompt.js';
import type { ExperimentNode, PlatformInfo } from '../../../../src/core/types.js';
import { fakeConfig, fakeNode, fakeRequest } from '../../helpers/nodes.js';
import { assertGolden } from '../../fixtures/proposers/golden.js';

const TRAIN = 'import torch\nLR = 0.1\nWIDTH = 4\nprint(f"val_loss: {0.5:.4f}")\n';
const FILES: EditableFile[] = [{ path: 'train.py', content: TRAIN }];
const PLATFORM: PlatformInfo = { os: 'linux', arch: 'x64', accelerator: 'cuda', gpus: [{ name: 'NVIDIA H100', memoryMb: 81559 }], python: '3.11.4', frameworks: { torch: '2.4.0' }, cpus: 16, memoryGb: 128 };

function node(id: number, parentId: number, p: Partial<ExperimentNode>): ExperimentNode {
  return fakeNode({ id, parentId, operator: 'improve', commit: `c${id}`.padEnd(40, '0'), editKey: `k${id}`, ...p });
}

/** A tree with every kind of outcome: keeps, discards, a repeated idea, a crash, a scope violation, a failed proposal, a running node. */
function tree(): ExperimentNode[] {
  return [
    fakeNode({ metric: 1.0 }),
    node(1, 0, { operator: 'draft', description: 'LR 0.1 -> 0.2', plan: 'A larger step size should converge faster within the budget. The loss is still falling.', status: 'keep', metric: 0.9 }),
    node(2, 0, { operator: 'draft', description: 'Use AdamW instead of SGD', status: 'discard', metric: 1.05 }),
    node(3, 0, { operator: 'draft', description: 'Enable bf16 autocast', status: 'crash', metric: null, reason: 'exit code 1: RuntimeError: CUDA error: no kernel image is available' }),
    node(4, 1, { description: 'WIDTH 4 -> 16', status: 'keep', metric: 0.8, plan: 'Four hidden units underfit. Sixteen should fit the curve.' }),
    node(5, 1, { description: 'Use AdamW instead of SGD.', status: 'discard', metric: 0.95 }),
    node(6, 1, { description: 'Change the validation split', status: 'invalid', metric: null, reason: 'the proposal touched files outside its scope: prepare.py (protected); it was not run' }),
    node(7, 4, { commit: null, description: 'failed proposal (improve #4)', status: 'invalid', metric: null, reason: 'the model\'s edit could not be used after 1 retry: block 1 for train.py: the SEARCH text was not found in the file' }),
    node(8, 4, { description: 'Cosine learning-rate schedule', status: 'discard', metric: 0.82 }),
    node(9, 4, { description: 'Add dropout 0.1', status: 'running', metric: null, decidedBy: null }),
    node(10, 2, { description: 'Weight decay 0.01', status: 'discard', metric: 1.07 }),
    node(11, 1, { commit: null, description: 'failed proposal (improve #1)', status: 'invalid', metric: null, reason: 'HTTP 500 from http://127.0.0.1:1/v1/chat/completions: overloaded' }),
  ];
}

function request(partial: Parameters<typeof fakeRequest>[1] = {}) {
  const history = tree();
  return fakeRequest('/nowhere', {
    parent: history[4]!, history, operator: 'improve', platform: PLATFORM,
    notes: '# Goal\nLower val_loss on the toy task. Prefer changes to the optimiser.\n',
    hint: { id: 0, text: 'try label smoothing', addedAt: '2025-01-01T00:00:00Z', takenBy: null },
    config: fakeConfig({ budgetSeconds: 300, budgetText: '5m', constraints: [{ metric: 'memory_gb', op: '<=', value: 40, source: 'memory_gb <= 40' }] }),
    triedFromParent: new Set(['k7', 'k8', 'k9']),
    ...partial,
  });
}

describe('buildResearchPrompt', () => {
  it('matches the golden prompt for improving a kept node, with a queued hypothesis', () => {
    const p = buildResearchPrompt({ request: request(), files: FILES, budgetTokens: 20_000, mode: 'reply' });
    assert.equal(p.overBudget, null);
    assertGolden('prompt-improve.md', `${p.system}\n\n=====\n\n${p.user}\n`);
    // The hypothesis is the first thing the model reads, and the task names it.
    assert.match(p.user, /^# Hypothesis to test \(queued by a person\)\n"try label smoothing"/);
    assert.match(p.user, /must test the queued hypothesis/);
    // Failures are shown with their reasons.
    assert.match(p.user, /#3 crashed from #0: exit code 1: RuntimeError: CUDA error/);
    assert.match(p.user, /#6 invalid from #1: the proposal touched files outside its scope: prepare\.py/);
    assert.match(p.user, /Proposals that failed before running\n1 \(the latest, #11: HTTP 500 from/);
    // One idea tried twice is listed once, with both outcomes.
    assert.equal(p.user.match(/Use AdamW instead of SGD/g)?.length, 1);
    assert.match(p.user, /Use AdamW instead of SGD \[tried 2×\] — #2 discarded 1\.05 \(\+0\.05 vs #0\) from #0; #5 discarded 0\.95 \(\+0\.05 vs #1\) from #1/);
    // What was tried from this very node, including the one running now, is its own list.
    assert.match(p.user, /# Already tried from #4 \(3; do not repeat any of these\)\n- \(failed proposal\)[^\n]*\n- "Cosine learning-rate schedule" — #8 discarded 0\.82[^\n]*\n- "Add dropout 0\.1" — #9 running now/);
    // The node, its lineage and its code.
    assert.match(p.user, /Path from the baseline: #0 baseline \(1\) → #1 "LR 0\.1 -> 0\.2" \(0\.9\) → #4 "WIDTH 4 -> 16" \(0\.8\)\./);
    assert.ok(p.user.includes(`## train.py\n\`\`\`python\n${TRAIN}\`\`\``));
    assert.match(p.system, /Edit only the editable files: train\.py\. Never touch the protected files \(prepare\.py\)\./);
    assert.match(p.user, /Platform: linux\/x64; CUDA: 1× NVIDIA H100 \(80 GB\); Python 3\.11\.4; torch 2\.4\.0; 16 CPUs; 128 GB RAM\./);
  });

  it('draft and debug tasks: a new approach from the baseline; a crash with the head and tail of its log', () => {
    const history = tree();
    const draft = buildResearchPrompt({ request: request({ parent: history[0]!, operator: 'draft', hint: null }), files: FILES, budgetTokens: 20_000, mode: 'reply' });
    assert.match(draft.user, /# Your task: draft a new approach from the baseline \(#0\)[\s\S]*different approach from the other drafts listed above/);
    assert.match(draft.user, /# Already tried from #0 \(3; do not repeat any of these\)/);
    const crashed = { ...history[3]!, logTail: 'Traceback (most recent call last):\n  File "train.py", line 3\nRuntimeError: CUDA error: no kernel image is available' };
    history[3] = crashed;
    const debug = buildResearchPrompt({ request: request({ parent: crashed, history, operator: 'debug', hint: null }), files: FILES, budgetTokens: 20_000, mode: 'reply', logHead: '$ python train.py\nusing device cuda:0' });
    assertGolden('prompt-debug-tail.md', debug.user.slice(debug.user.indexOf('# Your task')));
  });

  it('trims the history to the budget, keeping the most relevant experiments and saying how many were left out', () => {
    const history = tree();
    // Forty more discarded experiments far from the node being expanded.
    for (let i = 12; i < 52; i++) history.push(node(i, 2, { description: `Unrelated idea number ${i}`, status: 'discard', metric: 1.1 }));
    const full = buildResearchPrompt({ request: request({ history }), files: FILES, budgetTokens: 50_000, mode: 'reply' });
    const tight = buildResearchPrompt({ request: request({ history }), files: FILES, budgetTokens: full.tokens - 600, mode: 'reply' });
    assert.ok(tight.tokens <= full.tokens - 600, `${tight.tokens} tokens`);
    assert.equal(full.historyOmitted, 0);
    assert.ok(tight.historyOmitted > 0);
    assert.match(tight.user, new RegExp(`\\(${tight.historyOmitted} less relevant experiments left out to fit the context\\.\\)`));
    // Kept nodes, the crash and the ideas tried from the lineage survive; the far-away discards go first.
    for (const kept of ['LR 0.1 -> 0.2', 'WIDTH 4 -> 16', 'Enable bf16 autocast', 'Use AdamW instead of SGD']) assert.ok(tight.user.includes(kept), kept);
    assert.ok((tight.user.match(/Unrelated idea number/g)?.length ?? 0) < 40);
    assert.ok(tight.user.includes('Unrelated idea number 51'), 'the most recent of them stays longest');
  });

  it('refuses, with what to change, when the code alone does not fit', () => {
    const big: EditableFile[] = [{ path: 'train.py', content: 'x = 1\n'.repeat(20_000) }];
    const p = buildResearchPrompt({ request: request(), files: big, budgetTokens: 8000, mode: 'reply' });
    assert.match(p.overBudget ?? '', /need about \d+ tokens, more than the 8000 the model allows; raise `proposer.contextTokens`/);
  });

  it('a merge to reconcile names both sides, the conflict and the two diffs, in either mode, and nothing tried from the node', () => {
    const from = node(12, 0, { description: 'Momentum 0.9', status: 'keep', metric: 0.95 });
    const history = [...tree(), from];
    const merge = {
      from, base: history[0]!, conflict: 'both lines changed the same lines of train.py',
      files: { 'train.py': { base: TRAIN, ours: TRAIN.replace('WIDTH = 4', 'WIDTH = 16'), theirs: TRAIN.replace('WIDTH = 4', 'WIDTH = 4; MOMENTUM = 0.9') } },
      theirs: '--- a/train.py\n+++ b/train.py\n-WIDTH = 4\n+WIDTH = 4; MOMENTUM = 0.9\n', ours: '--- a/train.py\n+++ b/train.py\n-WIDTH = 4\n+WIDTH = 16\n',
    };
    for (const mode of ['reply', 'agent'] as const) {
      const p = buildResearchPrompt({ request: request({ parent: history[4]!, history, operator: 'merge', hint: null, merge }), files: FILES, budgetTokens: 20_000, mode });
      assert.match(p.user, /^# Your task: merge #12 into #4, reconciling a conflict\nThis is not a new idea/m);
      assert.match(p.user, mode === 'reply' ? /#4 \(ours, the best; its code is below\)/ : /#4 \(ours, the best; its code is in the worktree\)/);
      assert.match(p.user, /and #12 \(theirs, kept on another branch\) both changed the code since #0, where their lines parted\. git's three-way merge could not combine them: both lines changed the same lines of train\.py\./);
      assert.match(p.user, /Theirs: #12 "Momentum 0\.9": val_loss 0\.95, kept\./);
      assert.match(p.user, /## Theirs: what #12's line changed since #0 \(bring this onto #4\)\n```diff\n--- a\/train\.py\n\+\+\+ b\/train\.py\n-WIDTH = 4\n\+WIDTH = 4; MOMENTUM = 0\.9\n```/);
      assert.match(p.user, /## Ours: what #4's line changed in the same files since #0 \(already in #4's code\)\n```diff\n[^`]*\+WIDTH = 16\n```/);
      assert.match(p.user, mode === 'reply' ? /Now reply with the PLAN line, how you resolved the conflict, and the edit of #4's code that brings #12's changes\.$/ : /Now bring #12's changes onto the code in the worktree\.$/);
      assert.doesNotMatch(p.user, /# Already tried from #4/);
    }
  });

  it('agent mode tells the agent to edit in place and leaves the code out', () => {
    const p = buildResearchPrompt({ request: request(), files: FILES, budgetTokens: 20_000, mode: 'agent' });
    assert.match(p.system, /Edit the files in place/);
    assert.match(p.system, /end your final message with one line `PLAN: /);
    assert.ok(!p.user.includes('# Current code'));
  });
});

describe('historyIdeas', () => {
  it('groups by idea, ranks kept and lineage-near experiments first, and leaves out the baseline, re-runs and the node\'s own children', () => {
    const ideas = historyIdeas(request());
    const names = ideas.sort((a, b) => b.score - a.score).map((i) => i.description);
    assert.deepEqual(names.slice(0, 2), ['WIDTH 4 -> 16', 'LR 0.1 -> 0.2']);
    assert.ok(!names.includes('Cosine learning-rate schedule'), 'children of the expanded node are listed separately');
    assert.equal(ideas.find((i) => i.description === 'Use AdamW instead of SGD')?.nodes.length, 2);
  });
});

describe('readEditableFiles and estimateTokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ar-prompt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('reads editable text files, skipping protected and binary ones', () => {
    writeFileSync(join(dir, 'train.py'), TRAIN);
    writeFileSync(join(dir, 'prepare.py'), 'SPLIT = 0.9\n');
    writeFileSync(join(dir, 'weights.py'), Buffer.from([0, 1, 2, 3]));
    assert.deepEqual(readEditableFiles(dir, ['*.py'], ['prepare.py']).map((f) => f.path), ['train.py']);
    assert.equal(estimateTokens('abcdef'), 2);
  });
});
