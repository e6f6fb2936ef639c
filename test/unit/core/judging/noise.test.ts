// Noise-aware decisions: the baseline's repeats give the spread, a change must beat it, a new best must hold up on
// a second run, and a change as good within noise that removes lines is kept as a simplification.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../../src/cli/main.js';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import { Journal } from '../../../../src/core/record/journal.js';
import { judge } from '../../../../src/core/judging/judge.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { parentRunKey, sampleStdDev, SessionModel } from '../../../../src/core/model.js';
import { PatchesProposer } from '../../../../src/core/proposers/patches.js';
import { parseResults } from '../../../../src/core/record/results.js';
import type { NoiseBand, NoiseConfig, RunResult } from '../../../../src/core/types.js';
import { sessionDto } from '../../../../src/core/report/snapshot.js';
import { buildSummary, pooledRuns, rankedNote } from '../../../../src/core/report/summary.js';
import { fakeConfig } from '../../helpers/nodes.js';
import { CLI, TSX } from '../../helpers/cli.js';
import { TOY_PREPARE, tempRepo, type TempRepo } from '../../helpers/repo.js';

const cleanups: (() => void)[] = [];
after(() => { for (const c of cleanups) c(); });

const ok: RunResult = { exitCode: 0, signal: null, timedOut: false, wallMs: 1000, logPath: '/dev/null' };
const band: NoiseBand = { spread: 0.1, samples: 3, repeats: 3, z: 2, minDelta: 0, source: '3 baseline runs', threshold: 0.2 };

describe('the judge with a noise band', () => {
  const at = (value: number, extra: Partial<Parameters<typeof judge>[0]> = {}) =>
    judge({ log: `val_loss: ${value}\n`, run: ok, config: fakeConfig(), parentMetric: 1, isBaseline: false, band, ...extra });

  it('discards an improvement within z × spread and says what the threshold was', () => {
    const j = at(0.85);
    assert.equal(j.status, 'discard');
    assert.match(j.reason, /within noise: improved by 0\.15, not more than the threshold 0\.2 = max\(minDelta 0, 2 × spread 0\.1\)/);
    // Without the band the same run is a keep: the rule is what changed.
    assert.equal(at(0.85, { band: null }).status, 'keep');
  });

  it('keeps a change beyond the threshold, naming it', () => {
    const j = at(0.7);
    assert.equal(j.status, 'keep');
    assert.match(j.reason, /beyond the threshold 0\.2/);
  });

  it('minDelta wins when it is larger than z × spread', () => {
    const j = judge({ log: 'val_loss: 0.75\n', run: ok, config: fakeConfig({ minDelta: 0.3 }), parentMetric: 1, isBaseline: false, band: { ...band, minDelta: 0.3, threshold: 0.3 } });
    assert.equal(j.status, 'discard');
    assert.match(j.reason, /threshold 0\.3 = max\(minDelta 0\.3, 2 × spread 0\.1\)/);
  });

  it('keeps a change within noise that removes lines as a simplification, even a little worse', () => {
    const j = at(1.1, { netLines: -3 });
    assert.equal(j.status, 'keep');
    assert.equal(j.simplification, true);
    assert.match(j.reason, /^simplification: val_loss 1\.1 is within noise of parent 1 .*removes 3 lines/);
    assert.equal(at(1.1, { netLines: 2 }).status, 'discard', 'adding lines is no simplification');
    assert.equal(at(1.3, { netLines: -3 }).status, 'discard', 'worse by more than the noise');
    // Without noise, only an equal metric counts as "within noise".
    assert.equal(at(1, { band: null, netLines: -1 }).status, 'keep');
    assert.equal(at(1.01, { band: null, netLines: -1 }).status, 'discard');
  });
});

describe('the noise band in the model', () => {
  it('is the sample standard deviation of the baseline and its repeats', () => {
    assert.equal(sampleStdDev([1]), null);
    assert.ok(Math.abs(sampleStdDev([1, 1.1, 0.9])! - 0.1) < 1e-12);
    const m = new SessionModel();
    let seq = 0;
    const rec = (e: object) => m.apply({ seq: seq++, ...e } as never);
    rec({ type: 'session', tag: 't', config: fakeConfig({ noise: { repeats: 3, z: 3, confirm: true }, minDelta: 0.01 }), baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
    const node = (id: number, parentId: number | null, editKey: string) => rec({ type: 'node', node: { id, parentId, operator: id === 0 ? 'baseline' : 'rerun', commit: 'c', description: '', plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'none' }, hint: null, createdAt: 't' } });
    const decide = (id: number, metric: number) => rec({ type: 'decide', id, status: id === 0 ? 'keep' : 'discard', metric, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
    node(0, null, 'baseline');
    decide(0, 1);
    assert.deepEqual(m.noiseBand(), { spread: null, samples: 1, source: '1 baseline run', repeats: 3, z: 3, minDelta: 0.01, threshold: 0.01 });
    node(1, 0, 'noise:0:1');
    decide(1, 1.1);
    node(2, 0, 'noise:0:2');
    decide(2, 0.9);
    const b = m.noiseBand()!;
    assert.ok(Math.abs(b.spread! - 0.1) < 1e-12 && Math.abs(b.threshold - 0.3) < 1e-12);
    assert.equal(m.decidedCount, 0, 'repeats are measurements, not experiments');
    assert.deepEqual(sessionDto(m).noise, { spread: b.spread, threshold: b.threshold, z: 3, samples: 3 });
  });
});

describe('the best, ranked by every run of its code', () => {
  function session(minDelta = 0, change = true, noise: NoiseConfig = { repeats: 3, z: 2, confirm: false }) {
    const m = new SessionModel();
    let seq = 0;
    const rec = (e: object) => m.apply({ seq: seq++, ...e } as never);
    rec({ type: 'session', tag: 't', config: fakeConfig({ noise, minDelta }), baseCommit: 'c', baseBranch: null, platform: null, startedAt: 't' });
    const node = (id: number, parentId: number | null, operator: string, editKey: string) => rec({ type: 'node', node: { id, parentId, operator, commit: 'c', description: '', plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'none' }, hint: null, createdAt: 't' } });
    const decide = (id: number, status: string, metric: number) => rec({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
    node(0, null, 'baseline', 'baseline');
    decide(0, 'keep', 1.2);
    // #1 is kept on one lucky run of 1.00; its code, run again for #2's evidence, measures 1.10 and 1.12.
    if (change) {
      node(1, 0, 'improve', 'train.py:LR=0.1');
      decide(1, 'keep', 1.0);
    }
    return { m, node, decide };
  }

  it('is a child proven better than a parent whose re-runs measured it worse than its first run', () => {
    const { m, node, decide } = session();
    node(2, 1, 'improve', 'train.py:WIDTH=64');
    node(3, 1, 'rerun', parentRunKey(1, 2, 1));
    decide(3, 'discard', 1.1);
    node(4, 1, 'rerun', parentRunKey(1, 2, 2));
    decide(4, 'discard', 1.12);
    assert.equal(m.best!.id, 1, 'before #2 is decided, #1 is the best');
    assert.ok(Math.abs(m.rankValue(1)! - 1.0733333) < 1e-6, 'ranked by the mean of its three runs');
    // #2's 1.05 is worse than #1's recorded 1.00, better than the mean of #1's runs.
    decide(2, 'keep', 1.05);
    assert.equal(m.best!.id, 2);
    assert.equal(m.get(1)!.metric, 1.0, 'the recorded metric is its own run\'s');
    // #2 ran once: the summary has no runs to speak of.
    assert.doesNotMatch(buildSummary(m), /Its code ran/);
  });

  it('the summary gives the gain against the mean of the baseline\'s runs, where its first run is not that mean', () => {
    const { m, node, decide } = session();
    assert.doesNotMatch(buildSummary(m), /The baseline's/, 'one baseline run: the headline says it all');
    // The baseline's first run, 1.2, was unlucky: its repeats measure 1.0 and 1.1 (mean 1.1).
    node(2, 0, 'rerun', 'noise:0:1');
    decide(2, 'discard', 1.0);
    node(3, 0, 'rerun', 'noise:0:2');
    decide(3, 'discard', 1.1);
    const summary = buildSummary(m);
    assert.match(summary, /\*\*val_loss: 1\.2 → 1\*\* \(-0\.2 \(-16\.7%\)/);
    assert.match(summary, /Best is #1, .*\. The baseline's 3 runs average 1\.1: against that, the best is -0\.1 \(-9\.1%\)\./);
  });

  it('the summary says how many keeps chance alone would give, once the spread is measured', () => {
    const { m, node, decide } = session();
    assert.doesNotMatch(buildSummary(m), /By chance/, 'no spread yet: no rate to give');
    node(2, 0, 'rerun', 'noise:0:1');
    decide(2, 'discard', 1.0);
    node(3, 0, 'rerun', 'noise:0:2');
    decide(3, 'discard', 1.1);
    // #1, kept before the spread was measured, is the one change decided so far.
    assert.match(buildSummary(m), /of the time \(z 2 holds at each look, 2\.3 % for one, and every run again is one more look\): had none of the 1 change decided here done anything, about 0\.\d would have been kept; 1 was\n/);
    node(4, 1, 'improve', 'train.py:WIDTH=64');
    decide(4, 'discard', 1.3);
    const line = /By chance: at these settings a change that does nothing is kept about (\d\.\d) % of the time \(z 2 holds at each look, 2\.3 % for one, and every run again is one more look\): had none of the 2 changes decided here done anything, about (0\.\d) would have been kept; 1 was/.exec(buildSummary(m));
    assert.ok(line, buildSummary(m));
    // {repeats: 3, confirm: false}: up to 6 runs a change, so more than the 2.3 % of one look.
    const rate = Number(line[1]) / 100;
    assert.ok(rate > 0.03 && rate < 0.08, line[1]);
    assert.equal(line[2], (2 * rate).toFixed(1));
    // Power: what the rule finds of a real gain of one spread; no suggestion while no change that measured better was
    // turned away.
    const power = /- Power: at these settings a real gain of one spread \(0\.1\) is kept about (\d+) % of the time, of two (\d+) %\n/.exec(buildSummary(m));
    assert.ok(power, buildSummary(m));
    assert.ok(Number(power[1]) > 25 && Number(power[1]) < 60 && Number(power[2]) > 80, power[0]);
    // #5 measured better than the baseline's mean (1.1) and was turned away: the summary says what finer settings
    // would find at the same rate by chance, and what they cost.
    node(5, 0, 'improve', 'train.py:DEPTH=4');
    decide(5, 'discard', 1.05);
    const finer = /- Power: .* of two \d+ %; 1 change turned away here measured better than its parent\. With `noise: \{repeats: 3, effect: 1, maxRuns: 24, alpha: (\d\.\d)%\}` \(the same rate by chance\) a gain of one spread would be kept about (\d+) % of the time, at about (\d+\.\d) runs for a change that does nothing where these settings take (\d\.\d)\n/.exec(buildSummary(m));
    assert.ok(finer, buildSummary(m));
    assert.equal(finer[1], (100 * rate).toFixed(1), 'alpha: the rate by chance now');
    assert.ok(Number(finer[2]) > Number(power[1]) + 20 && Number(finer[3]) > 2 * Number(finer[4]), finer[0]);
    // At z 3 chance keeps under 1 %, below what alpha may be: no setting to offer at the same rate.
    const strict = session(0, true, { repeats: 3, z: 3, confirm: false });
    for (const [id, value] of [[2, 1.0], [3, 1.1]] as const) {
      strict.node(id, 0, 'rerun', `noise:0:${id - 1}`);
      strict.decide(id, 'discard', value);
    }
    strict.node(4, 0, 'improve', 'train.py:DEPTH=4');
    strict.decide(4, 'discard', 1.05);
    assert.match(buildSummary(strict.m), /- Power: at these settings a real gain of one spread \(0\.1\) is kept about \d+ % of the time, of two \d+ %\n/);
    // A minDelta of many spreads keeps none by chance (ng-video-lecture's bigram.py: minDelta 0.5 % was 6.5 spreads).
    const wide = session(0.5);
    wide.node(2, 0, 'rerun', 'noise:0:1');
    wide.decide(2, 'discard', 1.0);
    wide.node(3, 0, 'rerun', 'noise:0:2');
    wide.decide(3, 'discard', 1.1);
    assert.match(buildSummary(wide.m), /By chance: at these settings a change that does nothing is almost never kept \(minDelta 0\.5 is 5\.0 spreads\)\n/);
    assert.match(buildSummary(wide.m), /- Power: at these settings a real gain of one spread \(0\.1\) is kept about 0\.1 % of the time, of two 0\.4 % \(minDelta 0\.5 is 5\.0 spreads: it decides what is found more than the runs do\)\n/);
    // With no change decided yet (the baseline's repeats measured the spread), the rate alone.
    const early = session(0, false);
    early.node(1, 0, 'rerun', 'noise:0:1');
    early.decide(1, 'discard', 1.0);
    early.node(2, 0, 'rerun', 'noise:0:2');
    early.decide(2, 'discard', 1.1);
    assert.match(buildSummary(early.m), /of the time \(z 2 holds at each look, 2\.3 % for one, and every run again is one more look\)\n/);
    // With alpha, the z chosen for it; at a minDelta above 0 the rate is below alpha, and the line says why.
    for (const [minDelta, said] of [[0, 'chosen for alpha 2.0 %,'], [0.2, 'chosen for alpha 2.0 % at minDelta 0,']] as const) {
      const a = session(minDelta, false, { repeats: 3, z: 2.41, confirm: true, alpha: 0.02 });
      a.node(1, 0, 'rerun', 'noise:0:1');
      a.decide(1, 'discard', 1.0);
      a.node(2, 0, 'rerun', 'noise:0:2');
      a.decide(2, 'discard', 1.1);
      const rate = /kept about (\d\.\d) % of the time \(z 2\.41, (.*?) holds at each look, 0\.8 % for one/.exec(buildSummary(a.m));
      assert.ok(rate, buildSummary(a.m));
      assert.equal(rate[2], said);
      assert.ok(minDelta ? Number(rate[1]) < 1.5 : Math.abs(Number(rate[1]) - 2) <= 0.3, rate[1]);
    }
  });

  it('re-runs are no edits: what a proposer is told was tried from a node leaves them out', () => {
    // The first proposal is prepared while the baseline's repeats are journaled: counted as tried, they changed the
    // seeded draw, and the same seed gave greedy a session of 19 experiments on one run and 30 on the next.
    const { m, node, decide } = session();
    assert.deepEqual([...m.editsFrom(0)], ['train.py:LR=0.1']);
    node(2, 0, 'rerun', 'noise:0:1');
    node(3, 1, 'rerun', 'confirm:1:0');
    decide(3, 'discard', 1.01);
    node(4, 1, 'improve', 'train.py:WIDTH=64');
    assert.deepEqual([...m.editsFrom(0)], ['train.py:LR=0.1']);
    assert.deepEqual([...m.editsFrom(1)], ['train.py:WIDTH=64']);
  });

  it('moves when a re-run arrives after the child was kept', () => {
    const { m, node, decide } = session();
    node(2, 1, 'improve', 'train.py:WIDTH=64');
    decide(2, 'keep', 1.05);
    assert.equal(m.best!.id, 1, 'one run each: #1 (1.00) is the better');
    node(3, 1, 'rerun', parentRunKey(1, 9, 1));
    decide(3, 'discard', 1.2);
    assert.equal(m.best!.id, 2, 'the mean of #1\'s two runs, 1.10, is worse than #2');
    assert.equal(m.rankValue(2), 1.05, 'a node that ran once is ranked by its recorded metric');
    // Run again once more and measured much better, #1 (mean 0.9 of three runs) is the best again.
    node(4, 1, 'rerun', parentRunKey(1, 9, 2));
    decide(4, 'discard', 0.5);
    assert.equal(m.best!.id, 1);
    assert.match(buildSummary(m), /Best is #1, commit `c`, on branch `autoresearch\/t`: \. Its code ran 3 times \(its own run, confirmations and re-runs for its children's evidence\), mean 0\.9: the best is ranked by that mean\./);
    assert.deepEqual(pooledRuns(m, 1), { mean: 0.9, runs: 3 });
    // What `autoresearch status` and the status bar's tooltip add after the best's recorded metric.
    assert.equal(rankedNote(m, 1), '; ranked by the mean of its 3 runs, 0.9');
    assert.equal(rankedNote(m, 2), '', 'ranked by the metric it shows');
  });
});

/** A repo whose train.py prints 1 + OFFSET + the next of a fixed sequence of noises, and four patches to try. */
function noisyRepo(): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'ar-noise-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const counter = join(dir, 'counter');
  // The noise of each run in order: 3 baseline runs, then the experiments and their confirmation runs.
  writeFileSync(join(dir, 'noise'), [0, 0.1, -0.1, 0, 0.2, 0, 0.1, -0.4, 0.6, 0.1].join(' '));
  const noiseLine = `NOISE = [float(x) for x in open(${JSON.stringify(join(dir, 'noise'))}).read().split()]`;
  const train = [
    'import os',
    'OFFSET = 0.0',
    '# a line the simplification removes',
    noiseLine,
    `n = int(open(${JSON.stringify(counter)}).read()) if os.path.exists(${JSON.stringify(counter)}) else 0`,
    `open(${JSON.stringify(counter)}, "w").write(str(n + 1))`,
    'print(f"val_loss: {1.0 + OFFSET + NOISE[n]:.6f}")',
    '',
  ].join('\n');
  const offset = (from: string, to: string, comment: string) => `# ${comment}\n--- a/train.py\n+++ b/train.py\n@@ -1,3 +1,3 @@\n import os\n-OFFSET = ${from}\n+OFFSET = ${to}\n # a line the simplification removes\n`;
  const repo: TempRepo = tempRepo({
    'train.py': train, 'prepare.py': TOY_PREPARE,
    'patches/1-small.patch': offset('0.0', '-0.05', 'a small gain, within noise'),
    'patches/2-big.patch': offset('0.0', '-0.5', 'a real gain'),
    // The same value written another way: no real gain, one lucky run.
    'patches/3-lucky.patch': `# a lucky run\n--- a/train.py\n+++ b/train.py\n@@ -1,3 +1,3 @@\n import os\n-OFFSET = -0.5\n+OFFSET = -0.50\n # a line the simplification removes\n`,
    'patches/4-simpler.patch': `# remove a line\n--- a/train.py\n+++ b/train.py\n@@ -2,3 +2,2 @@\n OFFSET = -0.5\n-# a line the simplification removes\n ${noiseLine}\n`,
  });
  cleanups.push(() => repo.cleanup());
  // The script keeps its run counter outside the worktree: a path the sandbox must be told about.
  repo.write('autoresearch.config.yaml', `${NOISY_CONFIG}sandbox: {writable: [${JSON.stringify(dir)}]}\n`);
  repo.commit('config');
  return repo;
}

const NOISY_CONFIG = `tag: n1
editable: [train.py]
readonly: [prepare.py]
run: python3 train.py
budget: 20s
metric: {name: val_loss}
maxExperiments: 4
proposer: {kind: patches, dir: patches}
policy: greedy
pipeline: 0
noise: {repeats: 3, z: 2}
`;

// Runs measure 1 + OFFSET + the next noise: the baseline 1, 1.1, 0.9 (mean 1, spread 0.1); #3 0.95, then its
// confirmation 1.15 (mean 1.05: turned away); #5 0.5 and 0.6 (mean 0.55: kept); #7 0.1, then 1.1 (mean 0.6: turned
// away); #9 the simplification, 0.6.
const EXPECTED = [
  '#0<null baseline keep 1', '#1<0 rerun discard 1.1', '#2<0 rerun discard 0.9',
  '#3<0 improve discard 1.05', '#4<3 rerun discard 1.15',
  '#5<0 improve keep 0.55', '#6<5 rerun discard 0.6',
  '#7<5 improve discard 0.6', '#8<7 rerun discard 1.1',
  '#9<5 improve keep 0.6',
];

function shape(m: SessionModel): string[] {
  return m.nodes.map((n) => `#${n.id}<${n.parentId} ${n.operator} ${n.status} ${n.metric === null ? null : Number(n.metric.toFixed(6))}`);
}



describe('a session with noise: {repeats: 3, z: 2}', () => {
  it('runs the baseline three times, discards a change within noise, confirms a new best, drops one that does not hold up, and keeps a simplification', async () => {
    const repo = noisyRepo();
    const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
    const c = new Controller({ root: repo.root, config, proposer: new PatchesProposer({ dir: join(repo.root, 'patches') }), executor: new LocalExecutor(), platform: null });
    const logs: string[] = [];
    c.onEvent((e) => { if (e.type === 'log') logs.push(e.message); });
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    assert.deepEqual(shape(m), EXPECTED);
    assert.equal(m.decidedCount, 4, 'repeats and confirmations do not count as experiments');
    // The spread is re-estimated as codes run again: the baseline's three runs, then #3, #5 and #7 with their confirmations.
    const band = m.noiseBand()!;
    assert.ok(Math.abs(band.spread! - 0.330151) < 1e-6, String(band.spread));
    assert.equal(band.source, '3 baseline runs and 6 runs of 3 experiments run more than once');
    assert.ok(logs.some((l) => /noise: 3 baseline runs, spread ±0\.1/.test(l)), logs.join('\n'));
    // #3 measured better than the baseline's mean, not beyond the noise: it ran again, and did not hold up.
    assert.match(m.get(3)!.reason, /^did not hold up: val_loss mean 1\.05 of 2 runs vs parent 1 \(mean of 3\): gain -0\.05, not more than the threshold 0\.182574 = max\(minDelta 0, 2 × 0\.1 × √\(1\/2 \+ 1\/3\)\) \(#3, #4\)$/);
    // #5 is a new best: confirmed on two runs, against a spread that #3's runs have moved to 0.11547.
    assert.match(m.get(5)!.reason, /^confirmed: val_loss mean 0\.55 of 2 runs vs parent 1 \(mean of 3\): gain 0\.45, more than the threshold 0\.210819 = max\(minDelta 0, 2 × 0\.11547 × √\(1\/2 \+ 1\/3\)\) \(#5, #6\); val_loss recorded as the mean$/);
    assert.match(m.get(7)!.reason, /^did not hold up: val_loss mean 0\.6 of 2 runs vs parent 0\.55 \(mean of 2\): gain -0\.05, not more than the threshold 0\.212132 = max\(minDelta 0, 2 × 0\.106066 × √\(1\/2 \+ 1\/2\)\) \(#7, #8\)$/);
    assert.match(m.get(9)!.reason, /^simplification: .*within noise of parent 0\.55.*removes 1 line$/);
    assert.equal(m.best!.id, 5);
    assert.equal(pooledRuns(m, 5), null, 'recorded as the mean of its runs: the summary has nothing more to say');
    assert.equal(repo.git('rev-parse', 'autoresearch/n1'), m.get(5)!.commit);
    // Every run is journaled and has its results.tsv row.
    assert.equal(parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.length, 10);
    const summary = readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8');
    assert.match(summary, /Noise: spread ±0\.330151 \(pooled standard deviation of 3 baseline runs and 6 runs of 3 experiments run more than once\); a change must beat its parent by more than 0\.660303/);
    assert.match(summary, /\| #9 \(from #5\) .*within noise/);
    // The CLI's status shows the band too.
    const out: string[] = [];
    assert.equal(await main(['status', '--cwd', repo.root], { out: (t) => out.push(t), err: (t) => out.push(t), isTTY: false }), 0, out.join('\n'));
    // The five runs that measure noise are no experiments there either (they were counted as discards).
    assert.match(out.join('\n'), /experiments: 4 of 4 decided: 2 kept, 2 discarded, 0 crashed, 0 invalid\n[\s\S]*Noise: spread ±0\.330151 \(pooled standard deviation of 3 baseline runs and 6 runs of 3 experiments run more than once\); a change must beat its parent by more than 0\.660303/);
    // Both say what chance alone would have kept of the 4 changes (the baseline's repeats and confirmations are none).
    const chance = /By chance: at these settings a change that does nothing is kept about 5\.\d % of the time \(z 2 holds at each look, 2\.3 % for one, and every run again is one more look\): had none of the 4 changes decided here done anything, about 0\.2 would have been kept; 2 were/;
    assert.match(summary, chance);
    assert.match(out.join('\n'), chance);
  });

  it('with noise: {repeats: 3, alpha: 0.05} in place of z, chooses z for alpha with every look counted, and says so', async () => {
    const repo = noisyRepo();
    repo.write('autoresearch.config.yaml', readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('z: 2', 'alpha: 5%'));
    repo.commit('alpha');
    const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
    assert.equal(config.noise!.alpha, 0.05);
    const c = new Controller({ root: repo.root, config, proposer: new PatchesProposer({ dir: join(repo.root, 'patches') }), executor: new LocalExecutor(), platform: null });
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    // One look at 1.64 keeps 5 %; up to 6 runs a change, with a confirmation, need about 2.0 for the same.
    const z = outcome.model.config!.noise!.z;
    assert.ok(z > 1.9 && z < 2.15, String(z));
    const recorded = Journal.read(join(repo.root, '.autoresearch/n1/journal.jsonl')).find((r) => r.type === 'session') as { config: { noise: { z: number; alpha: number } } };
    assert.deepEqual([recorded.config.noise.z, recorded.config.noise.alpha], [z, 0.05], 'journaled as the z the session used');
    assert.deepEqual(shape(outcome.model), EXPECTED);
    assert.match(outcome.model.get(3)!.reason, new RegExp(`max\\(minDelta 0, ${z} × 0\\.1 × `));
    const summary = readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8');
    const line = new RegExp(`By chance: at these settings a change that does nothing is kept about (\\d\\.\\d) % of the time \\(z ${z}, chosen for alpha 5\\.0 %, holds at each look`).exec(summary);
    assert.ok(line, summary);
    assert.ok(Math.abs(Number(line[1]) - 5) <= 0.6, line[1]);
  });

  for (const fault of ['judging:4', 'judging:5', 'writing:6', 'judging:7', 'writing:8']) {
    it(`a controller killed at ${fault} (a candidate and its confirmation) resumes to the same tree, nothing run twice`, () => {
      const repo = noisyRepo();
      const run = (env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', TSX, CLI, 'run'], { cwd: repo.root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', ...env } });
      const killed = run({ AUTORESEARCH_FAULT: fault });
      assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
      const resumed = run();
      assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
      const m = SessionModel.fromRecords(Journal.read(join(repo.root, '.autoresearch/n1/journal.jsonl')));
      assert.deepEqual(shape(m), EXPECTED);
      const decisions = Journal.read(join(repo.root, '.autoresearch/n1/journal.jsonl')).filter((r) => r.type === 'decide').map((r) => (r as { id: number }).id);
      assert.deepEqual(decisions, [...new Set(decisions)], 'one decision per node');
      assert.equal(parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.length, 10);
    });
  }
});
