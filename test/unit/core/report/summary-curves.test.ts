// The summary draws the learning curves of the kept chain (the path to the best), from the journaled curves.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import type { JournalRecord, NodeCreated } from '../../../../src/core/record/journal.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { SessionModel } from '../../../../src/core/model.js';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import { buildSummary, SUMMARY_FILE } from '../../../../src/core/report/summary.js';
import type { DecidedStatus, Operator } from '../../../../src/core/types.js';
import { fakeConfig } from '../../helpers/nodes.js';
import { tempRepo } from '../../helpers/repo.js';

const at = '2026-12-06T10:00:00.000Z';
let seq = 0;

function node(id: number, parentId: number | null, description: string): JournalRecord {
  const created: NodeCreated = {
    id, parentId, operator: id === 0 ? 'baseline' : 'improve', commit: String(id).repeat(40).slice(0, 40), description, plan: '', editKey: description,
    changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: at,
  };
  return { seq: seq++, type: 'node', node: created };
}

function decided(id: number, status: DecidedStatus, metric: number): JournalRecord {
  return { seq: seq++, type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: 'rule', decidedBy: 'rule' };
}

function curve(id: number, points: [number, number][]): JournalRecord {
  return { seq: seq++, type: 'curve', id, points };
}

/** A baseline, a faster learner kept from it, a discard, and a change kept from the faster one that finished at 60 %. */
function session(withCurves: boolean): SessionModel {
  const config = fakeConfig({ budgetText: '5m', budgetSeconds: 300 });
  const records: JournalRecord[] = [
    { seq: seq++, type: 'session', tag: 't1', config, baseCommit: 'a'.repeat(40), baseBranch: 'main', platform: null, startedAt: at },
    node(0, null, 'baseline'), decided(0, 'keep', 2.45),
    node(1, 0, 'lr 6e-4 -> 1e-3'), decided(1, 'keep', 2.3),
    node(2, 1, 'n_layer 6 -> 8'), decided(2, 'discard', 2.5),
    node(3, 1, 'warmup_iters 100 -> 50'), decided(3, 'keep', 2.2),
  ];
  if (withCurves) {
    records.push(
      curve(0, [[0.1, 3.2], [0.25, 2.9], [0.5, 2.6], [0.75, 2.5], [0.98, 2.45]]),
      curve(1, [[0.1, 3.0], [0.25, 2.6], [0.5, 2.4], [0.75, 2.33], [0.97, 2.3]]),
      curve(2, [[0.1, 3.1], [0.5, 2.8], [0.99, 2.5]]),
      curve(3, [[0.1, 2.9], [0.3, 2.5], [0.6, 2.2]]),
    );
  }
  return SessionModel.fromRecords(records);
}

function section(md: string): string {
  const m = /^## Learning curves on the path to the best\n[\s\S]*?(?=\n## )/m.exec(md);
  assert.ok(m, md);
  return m[0];
}

describe('the summary\'s learning curves', () => {
  it('tables the kept chain\'s values at fixed shares of the budget, with sparklines on one scale', () => {
    const s = section(buildSummary(session(true)));
    assert.match(s, /^val_loss as each run went, by share of the 5m budget, .*lower is better.*one scale, 2\.2 to 3\.2, from 0 to 100 % of the budget\.$/m);
    const rows = s.split('\n').filter((l) => l.startsWith('| #'));
    assert.equal(rows.length, 3, 'baseline, #1 and #3: the discarded #2 is not on the path');
    const cells = rows.map((r) => r.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
    assert.deepEqual(cells.map((c) => c.slice(0, 6)), [
      ['#0 baseline', '3.2', '2.9', '2.6', '2.5', '2.45 at 98 %'],
      ['#1 lr 6e-4 -> 1e-3', '3', '2.6', '2.4', '2.33', '2.3 at 97 %'],
      // It finished at 60 % of the budget: nothing is read past its end.
      ['#3 warmup_iters 100 -> 50', '2.9', '2.6', '2.3', '—', '2.2 at 60 %'],
    ]);
    const lines = cells.map((c) => /^`([^`]*)`$/.exec(c[6]!)![1]!);
    // One time axis from 0: every curve starts blank before its first point at 10 %.
    for (const l of lines) assert.match(l, /^ {2}[▁▂▃▄▅▆▇█]/);
    // One scale: the baseline's start is the highest value of all, #3's end the lowest.
    assert.equal(lines[0]![2], '█');
    assert.equal(lines[2]!.at(-1), '▁');
    assert.ok(lines[2]!.length < lines[0]!.length, '#3 stops where its curve does');
  });

  it('has no such section when no run printed a curve, or nothing beat the baseline', () => {
    assert.doesNotMatch(buildSummary(session(false)), /Learning curves/);
  });
});

// A real session: an argparse script that prints nanoGPT-style step lines while it trains.
const TRAIN = `import argparse, time
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
args = p.parse_args()
final = abs(args.lr - 0.4) + 1.0
for step in range(1, 7):
    time.sleep(0.12)
    print(f"step {step * 100}: train loss {final + 1.2 / step:.4f}, val loss {final + 1.0 / step:.4f}", flush=True)
print(f"val_loss: {final:.6f}")
`;

class Lr implements Proposer {
  readonly kind = 'lr';
  readonly operators = new Set<Operator>(['draft', 'improve']);
  private readonly values = ['0.2', '0.05', '0.3'];
  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const v = this.values.shift();
    if (v === undefined) return null;
    const text = readFileSync(join(req.worktree, 'train.py'), 'utf8').replace(/default=[\d.]+/, `default=${v}`);
    return { description: `lr -> ${v}`, plan: 'try it', editKey: `lr=${v}`, files: { 'train.py': text }, proposer: { kind: 'lr' } };
  }
  dispose(): void {}
}

describe('the summary a session writes', () => {
  it('draws the curves of its kept chain in autoresearch-summary.md', async () => {
    const repo = tempRepo({ 'train.py': TRAIN });
    try {
      const config = parseConfig(`tag: curves\neditable: [train.py]\nrun: python3 train.py\nbudget: 4s\nmetric: {name: val_loss, direction: minimize}\nprogress: 'step (\\d+).*val loss (\\S+)'\nmaxExperiments: 3\nsandbox: off\npipeline: 0\npolicy: greedy\n`);
      const c = new Controller({ root: repo.root, config, proposer: new Lr(), executor: new LocalExecutor(), platform: null });
      const outcome = await c.run();
      c.dispose();
      assert.equal(outcome.state, 'done', outcome.reason);
      assert.equal(outcome.best?.description, 'lr -> 0.3');
      const file = join(repo.root, SUMMARY_FILE);
      assert.ok(existsSync(file));
      const s = section(readFileSync(file, 'utf8'));
      assert.match(s, /^The value `progress` reads \(`step \(\\d\+\)\.\*val loss \(\\S\+\)`\) as each run went, by share of the 4s budget/m);
      const rows = s.split('\n').filter((l) => l.startsWith('| #'));
      assert.deepEqual(rows.map((r) => /^\| (#\d+)/.exec(r)![1]), ['#0', '#1', '#3'], s);
      for (const r of rows) {
        assert.match(r, /\| [\d.]+ at \d+ % \| `[ ▁▂▃▄▅▆▇█]+` \|$/, r);
        // Its last printed value is the val loss of step 600: the final metric plus 1/6.
        const last = Number(/\| ([\d.]+) at \d+ % \|/.exec(r)![1]);
        const n = outcome.model.get(Number(/^\| #(\d+)/.exec(r)![1]))!;
        assert.ok(Math.abs(last - (n.metric! + 1 / 6)) < 1e-3, `${r}: ${n.metric}`);
      }
    } finally {
      repo.cleanup();
    }
  });
});
