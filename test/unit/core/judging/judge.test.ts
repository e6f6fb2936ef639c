// The judge decides by rule: every crash class, direction, minDelta, memory, constraints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bandRule, extractLast, judge, minDeltaText, parseNumber, thresholdText } from '../../../../src/core/judging/judge.js';
import type { RunResult } from '../../../../src/core/types.js';
import { fakeConfig } from '../../helpers/nodes.js';

const ok: RunResult = { exitCode: 0, signal: null, timedOut: false, wallMs: 1200, logPath: '/tmp/x.log' };
const cfg = fakeConfig({ minDelta: 0.001 });

function j(log: string, over: Partial<Parameters<typeof judge>[0]> = {}) {
  return judge({ log, run: ok, config: cfg, parentMetric: 0.5, isBaseline: false, ...over });
}

describe('judge', () => {
  it('the last match of the pattern wins', () => {
    assert.equal(extractLast('val_loss: 0.9\nstep\nval_loss: 0.4\n', '^val_loss:\\s*(\\S+)'), '0.4');
    assert.equal(extractLast('nothing here', '^val_loss:\\s*(\\S+)'), null);
    assert.equal(j('val_loss: 0.9\nval_loss: 0.45\n').metric, 0.45);
  });

  it('reads nan and inf the way Python prints them', () => {
    assert.ok(Number.isNaN(parseNumber('nan')));
    assert.equal(parseNumber('inf'), Infinity);
    assert.equal(parseNumber('-inf'), -Infinity);
    assert.equal(parseNumber('1e-3'), 0.001);
  });

  const crashes: [string, string, Partial<RunResult>, RegExp][] = [
    ['could not start', '', { exitCode: null, startError: 'spawn ENOENT' }, /could not start: spawn ENOENT/],
    ['timeout', 'val_loss: 0.1\n', { timedOut: true, exitCode: null, signal: 'SIGTERM' }, /timed out.*budget/],
    ['exit code', 'Traceback...\nValueError\n', { exitCode: 3 }, /exit code 3/],
    ['signal', '', { exitCode: null, signal: 'SIGSEGV' }, /killed by SIGSEGV/],
    ['missing metric', 'loss went down\n', {}, /no `val_loss:` line in the log/],
    ['NaN', 'val_loss: nan\n', {}, /val_loss is NaN/],
    ['inf', 'val_loss: inf\n', {}, /val_loss is inf/],
    ['-inf', 'val_loss: -inf\n', {}, /val_loss is -inf/],
    ['out of memory', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB\n', { exitCode: 1 }, /exit code 1 \(out of memory\)/],
  ];
  for (const [name, log, run, reason] of crashes) {
    it(`a run that ${name === 'NaN' || name === 'inf' || name === '-inf' ? `reports ${name}` : `has ${name}`} is a crash with the reason and the log tail`, () => {
      const r = j(log, { run: { ...ok, ...run } });
      assert.equal(r.status, 'crash');
      assert.match(r.reason, reason);
      assert.equal(typeof r.logTail, 'string');
    });
  }

  describe('a run the budget stopped (atBudget)', () => {
    // nanoGPT-style: the metric inside step lines, every eval_interval, and no final line: the budget ended it first.
    const pattern = 'val loss (\\S+)';
    const steps = 'step 0: train loss 4.2, val loss 4.3\nstep 250: train loss 2.1, val loss 2.2\nstep 500: train loss 1.7, val loss 1.8\niter 510: loss 1.69\n';
    const stopped: RunResult = { ...ok, timedOut: true, exitCode: null, signal: 'SIGTERM', wallMs: 300_400 };
    const at = (atBudget: 'crash' | 'last' | undefined, log = steps, run = stopped) => judge({ log, run, config: { ...fakeConfig({ minDelta: 0, metric: { name: 'val_loss', direction: 'minimize', pattern } }), budgetSeconds: 300, atBudget }, parentMetric: 1.9, isBaseline: false });

    it('is a crash by default (atBudget: crash, or a config from before it)', () => {
      for (const mode of ['crash', undefined] as const) {
        const r = at(mode);
        assert.equal(r.status, 'crash');
        assert.equal(r.reason, 'timed out: still running after the 300s budget (stopped at 5:00)');
      }
    });

    it('with atBudget: last is judged on the last value it printed, and says so', () => {
      const r = at('last');
      assert.equal(r.status, 'keep');
      assert.equal(r.metric, 1.8);
      assert.equal(r.reason, 'val_loss 1.8 < parent 1.9 (-0.1, -5.3%), its last value when the budget stopped it at 5:00');
      const worse = at('last', steps.replace('val loss 1.8', 'val loss 2.05'));
      assert.equal(worse.status, 'discard');
      assert.match(worse.reason, /^no improvement over parent 1\.9 .*, its last value when the budget stopped it at 5:00$/);
    });

    it('with atBudget: last but nothing printed yet is still a crash, which says why', () => {
      const r = at('last', 'compiling the model...\n');
      assert.equal(r.status, 'crash');
      assert.equal(r.reason, 'timed out: still running after the 300s budget (stopped at 5:00), with no `val_loss` value printed before it (atBudget: last judges a run on the last one)');
    });

    it('with atBudget: last, a NaN last value is a NaN crash, and a run that ended by itself is judged as ever', () => {
      assert.match(at('last', `${steps}step 750: train loss nan, val loss nan\n`).reason, /^val_loss is NaN$/);
      const failed = at('last', steps, { ...ok, exitCode: 1 });
      assert.equal(failed.status, 'crash');
      assert.match(failed.reason, /^exit code 1/);
    });
  });

  it('keeps only a real improvement over the parent, beyond minDelta, by direction', () => {
    assert.equal(j('val_loss: 0.4\n').status, 'keep');
    assert.match(j('val_loss: 0.4\n').reason, /0\.4 < parent 0\.5 \(-0\.1, -20\.0%\)/);
    assert.equal(j('val_loss: 0.6\n').status, 'discard');
    assert.match(j('val_loss: 0.6\n').reason, /no improvement over parent 0\.5/);
    assert.equal(j('val_loss: 0.4995\n').status, 'discard', 'within minDelta');
    assert.match(j('val_loss: 0.4995\n').reason, /not more than minDelta/);
    assert.equal(j('val_loss: 0.499\n').status, 'discard', 'exactly minDelta is not more than it');
    // minDelta: 0.5% is that share of the parent's value, whatever the parent is.
    const share = { ...fakeConfig({ minDelta: 0 }), minDeltaShare: 0.005 };
    assert.equal(j('val_loss: 0.498\n', { config: share }).status, 'discard', 'within 0.5 % of 0.5 (0.0025)');
    assert.match(j('val_loss: 0.498\n', { config: share }).reason, /not more than minDelta 0\.5 % = 0\.0025 /);
    assert.equal(j('val_loss: 0.497\n', { config: share }).status, 'keep');
    assert.equal(j('val_loss: 0.0497\n', { config: share, parentMetric: 0.05 }).status, 'keep', 'a tenth of the parent, a tenth of the margin');
    // With noise measured, the larger of the share and z × spread; the texts say both.
    const band = { spread: 0.001, samples: 3, source: '3 baseline runs', repeats: 3, z: 2, minDelta: 0, minDeltaShare: 0.005, threshold: 0.002 };
    assert.equal(j('val_loss: 0.498\n', { config: share, band }).status, 'discard');
    assert.match(j('val_loss: 0.498\n', { config: share, band }).reason, /within noise: improved by 0\.002, not more than the threshold 0\.0025 = max\(minDelta 0\.5 % = 0\.0025, 2 × spread 0\.001\)/);
    // Of no parent in particular, the share's margin is not a number: the rule says which is larger where.
    assert.equal(thresholdText(band, share), 'threshold max(minDelta 0.5 % of the parent\'s value, 2 × spread 0.001 = 0.002)');
    assert.equal(thresholdText({ ...band, minDeltaShare: undefined }, cfg), 'threshold 0.002 = max(minDelta 0.001, 2 × spread 0.001)');
    // A script that fixes its seed measures the same every run: no noise, and minDelta alone decides.
    assert.equal(bandRule({ ...band, spread: 0, threshold: 0 }, share), 'max(minDelta 0.5 % of the parent\'s value, 2 × spread = 0); every run of the same code measured the same (a script that fixes its seed gives no noise to measure): minDelta alone decides');
    assert.equal(minDeltaText(share), '0.5 %');
    assert.equal(minDeltaText(cfg, 0.5), '0.001');
    const max = fakeConfig({ metric: { name: 'acc', direction: 'maximize', pattern: '^acc:\\s*(\\S+)' } });
    assert.equal(judge({ log: 'acc: 0.9\n', run: ok, config: max, parentMetric: 0.8, isBaseline: false }).status, 'keep');
    assert.equal(judge({ log: 'acc: 0.7\n', run: ok, config: max, parentMetric: 0.8, isBaseline: false }).status, 'discard');
  });

  it('flags a change whose metric is exactly its parent\'s as one that may not reach the run; not a repeat of the same code', () => {
    const same = j('val_loss: 0.5\n');
    assert.equal(same.status, 'discard');
    assert.equal(same.reason, "no improvement over parent 0.5 (+0, +0.0%); no effect: the metric is exactly the parent's — the change may not reach the run (overridden on the command line? not read by the script?)");
    assert.doesNotMatch(j('val_loss: 0.5001\n').reason, /no effect/);
    assert.doesNotMatch(j('val_loss: 0.5\n', { repeat: true }).reason, /no effect/, 'a noise sample of the same code is expected to match');
    // As good with less code is a simplification, kept: the change did reach the run.
    assert.equal(j('val_loss: 0.5\n', { netLines: -2 }).status, 'keep');
  });

  it('keeps the baseline, and a fix of a crashed parent that has a metric', () => {
    assert.deepEqual([j('val_loss: 9\n', { isBaseline: true }).status, j('val_loss: 9\n', { isBaseline: true }).reason], ['keep', 'baseline']);
    assert.equal(j('val_loss: 9\n', { parentMetric: null }).status, 'keep');
  });

  it('reads memory (MB to GB) and secondary metrics; a violated or missing constraint discards', () => {
    const c = fakeConfig({ metrics: [{ name: 'tok_s', pattern: '^tok_s:\\s*(\\S+)' }], constraints: [{ metric: 'memory_gb', op: '<=', value: 40, source: 'memory_gb <= 40' }] });
    const good = judge({ log: 'val_loss: 0.4\npeak_vram_mb: 20480\ntok_s: 1234\n', run: ok, config: c, parentMetric: 0.5, isBaseline: false });
    assert.equal(good.memoryGb, 20);
    assert.deepEqual(good.secondary, { tok_s: 1234 });
    assert.equal(good.status, 'keep');
    const fat = judge({ log: 'val_loss: 0.4\npeak_vram_mb: 51200\n', run: ok, config: c, parentMetric: 0.5, isBaseline: false });
    assert.equal(fat.status, 'discard');
    assert.match(fat.reason, /violates memory_gb <= 40 \(got 50\)/);
    const unknown = judge({ log: 'val_loss: 0.4\n', run: ok, config: c, parentMetric: 0.5, isBaseline: false });
    assert.match(unknown.reason, /constraint metric memory_gb missing/);
    // A small run keeps its memory: 15.3 MB is not 0.0 GB.
    const small = judge({ log: 'val_loss: 0.4\npeak_vram_mb: 15.3\n', run: ok, config: cfg, parentMetric: 0.5, isBaseline: false });
    assert.equal(small.memoryGb, 0.01494);
  });

  it('uses a result a person recorded for a manual run', () => {
    const r = judge({ log: '', run: { ...ok, recorded: { metric: 0.3, memoryGb: 12 } }, config: cfg, parentMetric: 0.5, isBaseline: false });
    assert.deepEqual([r.status, r.metric, r.memoryGb], ['keep', 0.3, 12]);
  });
});
