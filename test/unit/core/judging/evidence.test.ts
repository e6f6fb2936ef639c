// Sequential testing: a change is kept on the evidence of all its runs against all its parent's, run again only
// while that evidence is open, and never when its code is its parent's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pooledSpread, weigh, type Evidence } from '../../../../src/core/judging/evidence.js';
import { faultRepo, inProcess, ScriptedProposer, withKeys } from '../../helpers/faults.js';

const base: Evidence = { runs: [0.9], parent: { mean: 1, runs: 3 }, spread: 0.1, z: 2, minDelta: 0, direction: 'minimize', maxRuns: 6 };

describe('the pooled spread', () => {
  it('pools every code run more than once, weighting each by its degrees of freedom', () => {
    assert.deepEqual(pooledSpread([[1]]), { spread: null, samples: 0 });
    const one = pooledSpread([[1, 1.1, 0.9], [5]]);
    assert.ok(Math.abs(one.spread! - 0.1) < 1e-12);
    assert.equal(one.samples, 3);
    // (0.02 + 0.02) / (2 + 1): a second code moved by 0.2 between two runs widens the spread.
    const two = pooledSpread([[1, 1.1, 0.9], [0.95, 1.15]]);
    assert.ok(Math.abs(two.spread! - Math.sqrt(0.04 / 3)) < 1e-12);
    assert.equal(two.samples, 5);
  });
});

describe('weighing a change', () => {
  it('keeps a gain beyond z standard errors of the difference, and names the numbers', () => {
    const v = weigh({ ...base, runs: [0.7] });
    assert.equal(v.action, 'keep');
    // se = 0.1 × √(1/1 + 1/3) = 0.11547; threshold 0.23094.
    assert.match(v.text, /^0\.7 vs parent 1 \(mean of 3\): gain 0\.3, more than the threshold 0\.23094 = max\(minDelta 0, 2 × 0\.1 × √\(1\/1 \+ 1\/3\)\)$/);
  });

  it('runs again while the change measured better but not beyond the noise, and stops at the runs allowed', () => {
    assert.equal(weigh(base).action, 'rerun');
    assert.equal(weigh({ ...base, runs: [0.9, 0.92, 0.88, 0.9, 0.91] }).action, 'rerun');
    const last = weigh({ ...base, runs: [0.9, 0.92, 0.88, 0.9, 0.91, 0.9] });
    assert.equal(last.action, 'discard', 'six runs are the most a change gets');
    assert.match(last.text, /^mean 0\.901667 of 6 runs vs parent 1 \(mean of 3\): gain 0\.0983333, not more than the threshold 0\.141421 = max\(minDelta 0, 2 × 0\.1 × √\(1\/6 \+ 1\/3\)\)$/);
    // Enough runs make a small real gain visible: 0.1 over 6 runs against a parent of 30 (threshold 0.08944).
    assert.equal(weigh({ ...base, runs: [0.9, 0.9, 0.9, 0.9, 0.9, 0.9], parent: { mean: 1, runs: 30 } }).action, 'keep');
  });

  it('turns a change away at once when it measured no better than its parent', () => {
    assert.equal(weigh({ ...base, runs: [1.05] }).action, 'discard');
    assert.equal(weigh({ ...base, runs: [1] }).action, 'discard');
    assert.equal(weigh({ ...base, runs: [0.99], minDelta: 0.02 }).action, 'discard', 'not better by minDelta');
  });

  it('with noise.effect, a change measured no better runs again while it could still gain that many spreads', () => {
    // se = 0.1 × √(1/1 + 1/3) = 0.11547: measured 0.05 worse, it could still gain -0.05 + 0.23094 = 0.18094 > 0.1.
    const effect = { ...base, effect: 1 };
    assert.equal(weigh({ ...effect, runs: [1.05] }).action, 'rerun');
    assert.equal(weigh({ ...base, runs: [1.05] }).action, 'discard', 'unset, it is turned away at once');
    // Measured 0.15 worse: at most 0.08094, under 1 × spread 0.1. The reason says so.
    const futile = weigh({ ...effect, runs: [1.15] });
    assert.equal(futile.action, 'discard');
    assert.match(futile.text, /; at most it would gain 0\.0809401 \(gain \+ 2 standard errors\), not more than the smallest gain worth finding, 1 × spread = 0\.1$/);
    // More runs narrow the bound: four runs level with the parent (se 0.07638) could gain 0.15275; six runs are the most.
    assert.equal(weigh({ ...effect, runs: [1, 1, 1, 1] }).action, 'rerun');
    assert.equal(weigh({ ...effect, runs: [1.02, 1.02, 1.02, 1.02, 1.02, 1.02] }).action, 'discard', 'six runs are the most a change gets');
    assert.equal(weigh({ ...effect, runs: [1.05, 1.05, 1.05, 1.05, 1.05], parent: { mean: 1, runs: 30 } }).action, 'discard', '-0.05 + 2 × 0.04830 = 0.0466 < 0.1');
    // minDelta is the floor of what is worth finding.
    assert.equal(weigh({ ...effect, runs: [1.05], minDelta: 0.2 }).action, 'discard');
    // Without a measured spread nothing runs again.
    assert.equal(weigh({ ...effect, spread: null, runs: [1.05] }).action, 'discard');
  });

  it('writes minDelta as the session gave it: a share of the parent\'s value with what it comes to, a number rounded', () => {
    const share = weigh({ ...base, runs: [0.7], minDelta: 0.005, minDeltaText: '0.5 % = 0.005' });
    assert.match(share.text, /threshold 0\.23094 = max\(minDelta 0\.5 % = 0\.005, 2 × 0\.1/);
    // 0.5 % of 0.9 is 0.0045000000000000005 in floating point: the reason rounds it as it rounds the rest.
    const unproven = weigh({ ...base, spread: null, runs: [0.897], parent: { mean: 0.9, runs: 1 }, minDelta: 0.005 * 0.9 });
    assert.match(unproven.text, /not more than the minDelta 0\.0045$/);
  });

  it('a new best has a second run even when its first is beyond the noise', () => {
    assert.equal(weigh({ ...base, runs: [0.7], minRuns: 2 }).action, 'rerun');
    assert.equal(weigh({ ...base, runs: [0.7, 0.72], minRuns: 2 }).action, 'keep');
  });

  it('without a measured spread, minDelta alone decides and nothing runs again', () => {
    assert.equal(weigh({ ...base, spread: null }).action, 'keep');
    assert.equal(weigh({ ...base, spread: null, minDelta: 0.2 }).action, 'discard');
  });

  it('maximizes too', () => {
    assert.equal(weigh({ ...base, direction: 'maximize', runs: [1.3] }).action, 'keep');
    assert.equal(weigh({ ...base, direction: 'maximize', runs: [0.7] }).action, 'discard');
  });
});

describe('a change that leaves the code as it was', () => {
  it('is never run, so never kept, however its parent measured: it would be its parent run again', async () => {
    // The metric falls with every node: the unchanged code would measure better than its parent.
    const train = 'import os\nprint("val_loss: %.4f" % (1.0 - 0.01 * int(os.environ.get("AUTORESEARCH_NODE", "0"))))\n';
    const repo = faultRepo(withKeys({ maxExperiments: '2', policy: 'greedy' }), { 'train.py': train });
    const outcome = await inProcess(repo, new ScriptedProposer([train, train.replace('1.0 - 0.01', '1.0 - 0.02')])).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const same = outcome.model.get(1)!;
    assert.deepEqual([same.status, same.metric, same.reason], ['invalid', null, 'the proposal changed nothing']);
    assert.equal(outcome.model.get(2)!.status, 'keep', 'a real change is judged as usual');
  });
});
