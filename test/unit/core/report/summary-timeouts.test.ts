// The summary's next steps tell a run stopped at the budget from a crash (issue 10, nanoGPT on CPU): a kept
// `gradient_accumulation_steps 1 → 2` took 1:26 of the 90s budget, its three children were stopped at it, and the
// summary said to read their logs "before trying nearby values", as if their values had failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalRecord, NodeCreated } from '../../../../src/core/record/journal.js';
import { SessionModel } from '../../../../src/core/model.js';
import { buildSummary } from '../../../../src/core/report/summary.js';
import type { DecidedStatus, RunResult } from '../../../../src/core/types.js';
import { fakeConfig } from '../../helpers/nodes.js';

const at = '2026-12-06T21:15:00.000Z';
let seq = 0;

function node(id: number, parentId: number | null, description: string): JournalRecord {
  const created: NodeCreated = {
    id, parentId, operator: id === 0 ? 'baseline' : 'improve', commit: String(id).repeat(40).slice(0, 40), description, plan: '', editKey: description,
    changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: at,
  };
  return { seq: seq++, type: 'node', node: created };
}

function ran(id: number, seconds: number, timedOut: boolean): JournalRecord {
  const run = { exitCode: timedOut ? null : 0, signal: timedOut ? 'SIGTERM' : null, timedOut, wallMs: seconds * 1000 } as RunResult;
  return { seq: seq++, type: 'finish', id, run, finishedAt: at };
}

function decided(id: number, status: DecidedStatus, metric: number | null, reason: string): JournalRecord {
  return { seq: seq++, type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason, decidedBy: 'rule' };
}

function nextSteps(md: string): string {
  const m = /^## Next steps\n[\s\S]*$/m.exec(md);
  assert.ok(m, md);
  return m[0];
}

describe('the summary on runs stopped at the budget', () => {
  it('says they timed out, which kept run was slowest, and what to change; other crashes keep their advice', () => {
    const timeout = 'timed out: still running after the 90s budget (stopped at 1:30)';
    const config = fakeConfig({ budgetText: '90s', budgetSeconds: 90 });
    const records: JournalRecord[] = [
      { seq: seq++, type: 'session', tag: 'dec6', config, baseCommit: 'a'.repeat(40), baseBranch: 'master', platform: null, startedAt: at },
      node(0, null, 'baseline'), ran(0, 41, false), decided(0, 'keep', 2.8805, 'baseline'),
      node(1, 0, 'gradient_accumulation_steps 1 → 2'), ran(1, 86, false), decided(1, 'keep', 2.8608, 'rule'),
      node(2, 1, 'min_lr 1e-4 → 2e-4'), ran(2, 84, false), decided(2, 'keep', 2.851, 'rule'),
      node(3, 1, 'beta2 0.99 → 0.792'), ran(3, 90, true), decided(3, 'crash', null, timeout),
      node(4, 2, 'weight_decay 1e-1 → 1.25e-1'), ran(4, 90, true), decided(4, 'crash', null, timeout),
      node(5, 2, 'grad_clip 1.0 → 2.0'), ran(5, 3, false), decided(5, 'crash', null, 'exit code 1 (NameError: name \'floor\' is not defined)'),
    ];
    const steps = nextSteps(buildSummary(SessionModel.fromRecords(records)));
    assert.match(steps, /^- 2 experiment\(s\) timed out at the 90s budget \(#3, #4\) \(the slowest kept run, #1, took 1:26 of 90s\): stopped before they printed a result, they say nothing about their changes' values\. Raise `budget` \(`budget: 3m` is about twice that run's time\), make the script stop once AUTORESEARCH_BUDGET_SECONDS have passed, or set `atBudget: last` to judge each run on the last value it printed by then\.$/m);
    assert.match(steps, /^- 1 experiment\(s\) crashed or were invalid; read their logs/m);
  });
});

describe('the summary of a session whose budget changed on a resume', () => {
  it('gives each budget with the experiments that had it (makemore: 40s, then 60s)', () => {
    const before = fakeConfig({ budgetText: '40s', budgetSeconds: 40 });
    const after = fakeConfig({ budgetText: '60s', budgetSeconds: 60 });
    const resume = (config: typeof before): JournalRecord => ({ seq: seq++, type: 'resume', at, pid: 1, config });
    const records: JournalRecord[] = [
      { seq: seq++, type: 'session', tag: 'dec7', config: before, baseCommit: 'a'.repeat(40), baseBranch: 'master', platform: null, startedAt: at },
      node(0, null, 'baseline'), ran(0, 31, false), decided(0, 'keep', 2.2451, 'baseline'),
      node(1, 0, 'n_embd2 64 → 128'), ran(1, 40, true), decided(1, 'crash', null, 'timed out'),
      // Changed and changed back before an experiment had it: never applied.
      resume(after), resume(before), resume(after),
      node(2, 0, 'batch_size 32 → 40'), ran(2, 33, false), decided(2, 'keep', 2.2303, 'rule'),
    ];
    const model = SessionModel.fromRecords(records);
    assert.deepEqual(model.budgets, [{ from: 0, text: '40s' }, { from: 2, text: '60s' }]);
    assert.match(buildSummary(model), /; budget 60s per experiment from #2 \(40s for #0–#1\)/);
    // One budget throughout: nothing more said.
    const plain = SessionModel.fromRecords(records.filter((r) => r.type !== 'resume'));
    assert.match(buildSummary(plain), /; budget 40s per experiment\n/);
  });
});
