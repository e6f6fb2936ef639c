// The less measured side runs again: a candidate whose parent was kept on one run is weighed against a parent that
// runs again (a `measure:` re-run of the parent's code, pooled into its samples, never its recorded metric) while it
// has fewer runs than the candidate, instead of the candidate alone running up to its limit against m = 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { Journal, type JournalRecord } from '../../../../src/core/record/journal.js';
import { isMeasurement, parentRunFor, parentRunKey, SessionModel } from '../../../../src/core/model.js';
import { PatchesProposer } from '../../../../src/core/proposers/patches.js';
import { parseResults } from '../../../../src/core/record/results.js';
import { fakeConfig } from '../../helpers/nodes.js';
import { CLI, TSX } from '../../helpers/cli.js';
import { TOY_PREPARE, tempRepo, type TempRepo } from '../../helpers/repo.js';

const cleanups: (() => void)[] = [];
after(() => { for (const c of cleanups) c(); });

const CONFIG = `tag: p1
editable: [train.py]
readonly: [prepare.py]
run: python3 train.py
budget: 20s
metric: {name: val_loss}
maxExperiments: 2
proposer: {kind: patches, dir: patches}
policy: greedy
pipeline: 0
noise: {repeats: 3, z: 2, confirm: false}
`;

/**
 * A repo whose train.py prints 1 + OFFSET + the next noise: the baseline's three runs 1, 1.1, 0.9 (spread 0.1), then
 * no noise at all, so a run killed after it counted its noise changes nothing. #3 (OFFSET -0.5) is kept on one run;
 * #4 (OFFSET -0.7) gains a real 0.2 over it, less than 2 × 0.1 × √(1/1 + 1/1) on one run each.
 */
function parentRepo(noise: (number | string)[] = [0, 0.1, -0.1], noiseConfig = '{repeats: 3, z: 2, confirm: false}'): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'ar-noise-parent-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const counter = join(dir, 'counter');
  writeFileSync(join(dir, 'noise'), [...noise, ...Array<number>(30).fill(0)].join(' '));
  const train = [
    'import os',
    'OFFSET = 0.0',
    `NOISE = [float(x) for x in open(${JSON.stringify(join(dir, 'noise'))}).read().split()]`,
    `n = int(open(${JSON.stringify(counter)}).read()) if os.path.exists(${JSON.stringify(counter)}) else 0`,
    `open(${JSON.stringify(counter)}, "w").write(str(n + 1))`,
    'print(f"val_loss: {1.0 + OFFSET + NOISE[n]:.6f}")',
    '',
  ].join('\n');
  const offset = (from: string, to: string, comment: string) => `# ${comment}\n--- a/train.py\n+++ b/train.py\n@@ -1,2 +1,2 @@\n import os\n-OFFSET = ${from}\n+OFFSET = ${to}\n`;
  const repo = tempRepo({
    'train.py': train, 'prepare.py': TOY_PREPARE,
    'patches/1-big.patch': offset('0.0', '-0.5', 'a real gain, kept on one run'),
    'patches/2-small.patch': offset('-0.5', '-0.7', 'a real gain of 0.2, within the noise of one run each'),
  });
  cleanups.push(() => repo.cleanup());
  repo.write('autoresearch.config.yaml', `${CONFIG.replace(/^noise: .*$/m, `noise: ${noiseConfig}`)}sandbox: {writable: [${JSON.stringify(dir)}]}\n`);
  repo.commit('config');
  return repo;
}

// #4's first run and its confirmation measure 0.3 against #3's one run of 0.5: still open at n = 2, m = 1 (threshold
// 2 × 0.1 × √(1/2 + 1) = 0.245). #3 has fewer runs: #6 runs #3's code again (0.5), and at m = 2 the spread pooled
// with #3's two runs, 0.0816, makes the threshold 0.163: #4 is kept, on three runs in all instead of six.
const EXPECTED = [
  '#0<null baseline keep 1', '#1<0 rerun discard 1.1', '#2<0 rerun discard 0.9',
  '#3<0 improve keep 0.5',
  '#4<3 improve keep 0.3', '#5<4 rerun discard 0.3', '#6<3 rerun discard 0.5',
];
const REASON = /^confirmed: val_loss mean 0\.3 of 2 runs vs parent 0\.5 \(mean of 2\): gain 0\.2, more than the threshold 0\.163299 = max\(minDelta 0, 2 × 0\.0816497 × √\(1\/2 \+ 1\/2\)\) \(#4, #5; #3 run again as #6\); val_loss recorded as the mean$/;

function shape(m: SessionModel): string[] {
  return m.nodes.map((n) => `#${n.id}<${n.parentId} ${n.operator} ${n.status} ${n.metric === null ? null : Number(n.metric.toFixed(6))}`);
}

/** The repo's session run to its end in this process: its model. */
async function session(repo: TempRepo): Promise<SessionModel> {
  const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
  const c = new Controller({ root: repo.root, config, proposer: new PatchesProposer({ dir: join(repo.root, 'patches') }), executor: new LocalExecutor(), platform: null });
  const outcome = await c.run();
  c.dispose();
  assert.equal(outcome.state, 'done', outcome.reason);
  return outcome.model;
}

function journal(repo: TempRepo): JournalRecord[] {
  return Journal.read(join(repo.root, '.autoresearch/p1/journal.jsonl'));
}

describe('a parent run again for its child\'s evidence', () => {
  it('is pooled into the parent\'s samples as a re-run, not into its recorded metric, and is no experiment', () => {
    const m = new SessionModel();
    let seq = 0;
    const rec = (e: object) => m.apply({ seq: seq++, ...e } as never);
    rec({ type: 'session', tag: 't', config: fakeConfig({ noise: { repeats: 3, z: 2, confirm: true } }), baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
    const node = (id: number, parentId: number | null, operator: string, editKey: string) => rec({ type: 'node', node: { id, parentId, operator, commit: 'c', description: '', plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'none' }, hint: null, createdAt: 't' } });
    const decide = (id: number, status: string, metric: number) => rec({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
    node(0, null, 'baseline', 'baseline');
    decide(0, 'keep', 1);
    // #1 kept on its first run and one confirmation: it records their mean, 0.6.
    node(1, 0, 'improve', 'a');
    node(2, 1, 'rerun', 'confirm:1');
    decide(2, 'discard', 0.7);
    decide(1, 'keep', 0.6);
    node(3, 1, 'improve', 'b');
    node(4, 1, 'rerun', parentRunKey(1, 3, 1));
    decide(4, 'discard', 0.8);
    assert.equal(parentRunFor(m.get(4)!), 3);
    assert.equal(parentRunFor(m.get(2)!), null);
    assert.equal(isMeasurement(m.get(4)!), true);
    assert.deepEqual(m.samples(1).map((v) => Number(v.toFixed(6))), [0.5, 0.7, 0.8], 'the first run is what the mean of 2 leaves; the re-run joins as itself');
    assert.equal(m.get(1)!.metric, 0.6, 'the recorded metric stays the one the parent was decided on');
    assert.equal(m.decidedCount, 1, 'only #1 is an experiment');
    assert.equal(m.noiseBand()!.source, '1 baseline run and 3 runs of 1 experiment run more than once');
  });

  it('runs when the parent has fewer runs than the candidate, and the verdict weighs the parent\'s mean of 2', async () => {
    const repo = parentRepo();
    const m = await session(repo);
    assert.deepEqual(shape(m), EXPECTED);
    const again = m.get(6)!;
    assert.equal(again.editKey, 'measure:3:for:4:1');
    assert.equal(again.commit, m.get(3)!.commit, 'the parent\'s exact code');
    assert.equal(again.description, 'run 2 of #3 for #4\'s evidence');
    assert.match(again.reason, /^run 2 of #3 for #4's evidence: val_loss 0\.5$/);
    assert.match(m.get(4)!.reason, REASON);
    assert.deepEqual(m.estimate(3), { mean: 0.5, runs: 2 });
    assert.equal(m.get(3)!.metric, 0.5);
    assert.equal(m.decidedCount, 2, 'the parent\'s re-run is a measurement, not an experiment');
    assert.equal(m.best!.id, 4);
    assert.equal(parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.length, 7);
  });

  it('that crashes is not run again: the candidate runs instead, up to its limit', async () => {
    // The parent's re-run (the seventh run) prints NaN.
    const repo = parentRepo([0, 0.1, -0.1, 0, 0, 0, 'nan']);
    const m = await session(repo);
    assert.deepEqual(shape(m), [
      ...EXPECTED.slice(0, 4),
      '#4<3 improve discard 0.3', '#5<4 rerun discard 0.3', '#6<3 rerun crash null',
      '#7<4 rerun discard 0.3', '#8<4 rerun discard 0.3', '#9<4 rerun discard 0.3', '#10<4 rerun discard 0.3',
    ]);
    // Six runs of #4 against the one run of #3 that has a metric: 2 × 0.1 × √(1/6 + 1/1) = 0.216.
    assert.match(m.get(4)!.reason, /^did not hold up: val_loss mean 0\.3 of 6 runs vs parent 0\.5: gain 0\.2, not more than the threshold 0\.216025 .*\(#4, #5, #7, #8, #9, #10\)$/);
    assert.equal(m.decidedCount, 2);
  });

  it('gives the candidate no more runs than noise.maxRuns', async () => {
    // As above, the parent's re-run crashes; with maxRuns: 3 the candidate stops at its third run, not its sixth.
    const repo = parentRepo([0, 0.1, -0.1, 0, 0, 0, 'nan'], '{repeats: 3, z: 2, confirm: false, maxRuns: 3}');
    const m = await session(repo);
    assert.deepEqual(shape(m), [...EXPECTED.slice(0, 4), '#4<3 improve discard 0.3', '#5<4 rerun discard 0.3', '#6<3 rerun crash null', '#7<4 rerun discard 0.3']);
    assert.match(m.get(4)!.reason, /^did not hold up: val_loss mean 0\.3 of 3 runs vs parent 0\.5: gain 0\.2, not more than the threshold 0\.23094 .*\(#4, #5, #7\)$/);
  });

  it('with noise.effect, a change unlucky on its first run runs again instead of being turned away', async () => {
    // #4's first run draws +0.25: 0.55, worse than #3's 0.5. Unset, it is turned away on that run; with effect: 1 it
    // could still gain 2 × 0.1 × √2 − 0.05 = 0.233 > 0.1, so it runs again and its real gain of 0.2 shows.
    const unlucky = [0, 0.1, -0.1, 0, 0.25];
    const without = await session(parentRepo(unlucky));
    assert.deepEqual(shape(without), [...EXPECTED.slice(0, 4), '#4<3 improve discard 0.55']);
    const m = await session(parentRepo(unlucky, '{repeats: 3, z: 2, confirm: false, effect: 1}'));
    assert.deepEqual(shape(m), [
      ...EXPECTED.slice(0, 4),
      '#4<3 improve keep 0.383333', '#5<4 rerun discard 0.3', '#6<3 rerun discard 0.5', '#7<4 rerun discard 0.3', '#8<3 rerun discard 0.5',
    ]);
    assert.match(m.get(4)!.reason, /^confirmed: val_loss mean 0\.383333 of 3 runs vs parent 0\.5 \(mean of 3\): gain 0\.116667, more than the threshold 0\.11547 .*\(#4, #5, #7; #3 run again as #6, #8\)/);
    assert.equal(m.best!.id, 4);
    // Drawn +0.45 (0.75), it could gain at most 2 × 0.1 × √2 − 0.25 = 0.033: turned away at once, and the reason says why.
    const hopeless = await session(parentRepo([0, 0.1, -0.1, 0, 0.45], '{repeats: 3, z: 2, confirm: false, effect: 1}'));
    assert.deepEqual(shape(hopeless), [...EXPECTED.slice(0, 4), '#4<3 improve discard 0.75']);
    assert.match(hopeless.get(4)!.reason, /; at most it would gain 0\.0328427 \(gain \+ 2 standard errors\), not more than the smallest gain worth finding, 1 × spread = 0\.1$/);
  });

  for (const fault of ['committing:6', 'running:6', 'judging:6', 'writing:6']) {
    it(`a controller killed at ${fault} (the parent's re-run) resumes to the same tree, nothing run twice`, () => {
      const repo = parentRepo();
      const run = (env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', TSX, CLI, 'run'], { cwd: repo.root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', ...env } });
      const killed = run({ AUTORESEARCH_FAULT: fault });
      assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
      const resumed = run();
      assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
      const records = journal(repo);
      const m = SessionModel.fromRecords(records);
      assert.deepEqual(shape(m), EXPECTED);
      assert.equal(m.get(6)!.editKey, 'measure:3:for:4:1');
      assert.match(m.get(4)!.reason, REASON);
      const ids = (type: string) => records.filter((r) => r.type === type).map((r) => (r as { id: number }).id);
      assert.deepEqual(ids('decide'), [...new Set(ids('decide'))], 'one decision per node');
      assert.deepEqual(ids('finish'), [...new Set(ids('finish'))], 'one finished run per node');
      assert.equal(records.filter((r) => r.type === 'node' && r.node.editKey.startsWith('measure:')).length, 1, 'one re-run of the parent');
      assert.equal(parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.length, 7);
    });
  }
});
