// Learning curves read from the log styles real runs print, and the rule that stops a run that cannot win.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compact, CurveReader, DEFAULT_PRUNE, heldBy, lateWins, pointNoise, pruneVerdict, sparkline, sparklines, stoppedReason, valueAt, type CurvePoint } from '../../../../src/core/judging/curves.js';

describe('curves: reading', () => {
  it('reads every eval line of a GPT trainer with the metric\'s own pattern, a line cut between chunks included', () => {
    const r = new CurveReader('^step\\b.*?,\\s*val loss\\s+(\\S+)', 10_000);
    r.feed('step 0: train loss 4.2000, val loss 4.2100\niter 0: loss 4.2, time 10ms\nstep 100: train loss 2.4', 2500);
    r.feed('000, val loss 2.5000\n', 5000);
    r.feed('step 200: train loss 2.1000, val loss nan\n', 7500);
    assert.deepEqual(r.points.slice(0, 2), [[0.25, 4.21], [0.5, 2.5]]);
    assert.ok(Number.isNaN(r.points[2]![1]), 'a diverged value stays');
  });

  it('takes the value from the last group of a progress pattern (step, value), tqdm and JSON lines', () => {
    const step = new CurveReader('step (\\d+).*loss ([\\d.]+)', 1000);
    step.feed('step 10 | loss 1.25\n', 500);
    assert.deepEqual(step.points, [[0.5, 1.25]]);
    const tqdm = new CurveReader('loss=([\\d.]+)', 1000);
    tqdm.feed('  3%|▎         | 30/1000 [00:01<00:40, 24.1it/s, loss=2.31]\r  6%|▌         | 60/1000 [00:02<00:39, 24.0it/s, loss=2.05]\r', 200);
    assert.deepEqual(tqdm.points.map((p) => p[1]), [2.31, 2.05]);
    const json = new CurveReader('"eval_loss":\\s*([-\\d.eE]+)', 1000);
    json.feed('{"eval_loss": 0.512, "epoch": 1.0}\n', 1000);
    assert.deepEqual(json.points, [[1, 0.512]]);
    const bpb = new CurveReader('^val_bpb:\\s*(\\S+)', 1000);
    bpb.feed('val_bpb: 0.99\n', 1000);
    assert.deepEqual(bpb.points, [[1, 0.99]]);
  });

  it('interpolates, compacts and draws', () => {
    const c: CurvePoint[] = [[0.1, 4], [0.5, 2], [1, 1]];
    assert.equal(valueAt(c, 0.05), null);
    assert.equal(valueAt(c, 0.3), 3);
    assert.equal(valueAt(c, 2), 1);
    const many = Array.from({ length: 1000 }, (_, i): CurvePoint => [i / 999, 1000 - i]);
    const small = compact(many, 50);
    assert.equal(small.length, 50);
    assert.deepEqual(small.at(-1), many.at(-1));
    assert.equal(sparkline([[0, 3], [0.5, 2], [1, 1]], 3), '█▅▁');
  });

  it('draws curves on one time axis and one scale, blank outside a curve and × where it was no number', () => {
    const scale = { span: [0, 1] as [number, number], range: [1, 3] as [number, number] };
    // Five cells at 0, 25, 50, 75 and 100 % of the budget.
    assert.equal(sparkline([[0.25, 3], [0.5, 2]], 5, scale), ' █▅', 'blank before its first point; nothing after its last');
    assert.equal(sparkline([[0, 2], [1, 2]], 5, scale), '▅▅▅▅▅', 'a flat curve sits at its height on the shared scale, not at the bottom');
    // NaN is kept by the reader; the journal writes it as null (JSON has no NaN).
    assert.equal(sparkline([[0, 3], [0.5, NaN], [1, Infinity]], 5, scale), '█××××', 'a diverged run');
    assert.equal(sparkline([[0, 3], [0.5, null as unknown as number], [1, 1]], 5, scale), '█××▁▁', 'a NaN read back from the journal');
  });

  it('draws a run beside its parent on one scale, so a curve that falls less does not look the same', () => {
    const parent: CurvePoint[] = [[0, 3], [1, 1]];
    const child: CurvePoint[] = [[0, 2], [1, 1.5]];
    assert.equal(sparkline(child, 5), '█▆▅▃▁', 'alone, on its own scale, it looks like its parent');
    assert.deepEqual(sparklines([parent, child], 5), ['█▆▅▃▁', '▅▄▄▃▃']);
  });
});

describe('curves: the log styles trainers print', () => {
  /** The values a reader takes from `chunks`, each fed at the next tenth of the budget. */
  function read(pattern: string, ...chunks: string[]): number[] {
    const r = new CurveReader(pattern, 1000);
    chunks.forEach((c, i) => r.feed(c, (i + 1) * 100));
    return r.points.map((p) => p[1]);
  }

  it('nanoGPT: `step 100: train loss 2.4, val loss 2.5` with the progress pattern of the config template, or the train loss', () => {
    const log = 'step 0: train loss 4.2000, val loss 4.2100\niter 10: loss 3.9000, time 41.2ms, mfu 12.1%\nstep 100: train loss 2.4000, val loss 2.5000\n';
    assert.deepEqual(read('step (\\d+).*val loss (\\S+)', log), [4.21, 2.5]);
    assert.deepEqual(read('^step (\\d+): train loss ([\\d.]+)', log), [4.2, 2.4]);
    // The iter lines are not eval lines, and the step number is never the value.
    assert.deepEqual(read('^iter \\d+: loss ([\\d.]+)', log), [3.9]);
  });

  it('autoresearch: `val_bpb: 0.99` with the metric\'s default pattern, the final line a point of the curve like any other', async () => {
    const { defaultPattern } = await import('../../../../src/core/config.js');
    assert.deepEqual(read(defaultPattern('val_bpb'), 'step 00100 | loss 3.2 | val_bpb: 1.2\nval_bpb: 1.05\n', '---\nval_bpb:          0.997900\npeak_vram_mb:     45060.2\n'), [1.05, 0.9979]);
  });

  it('tqdm: carriage-return updates in one chunk are one point each, the unfinished last one read when its line ends', () => {
    const bar = (pct: number, n: number, loss: string) => `  ${pct}%|████▌     | ${n}/1000 [00:12<00:15, 35.1it/s, loss=${loss}]`;
    const r = new CurveReader('loss=(\\S+)', 1000);
    const out = `${bar(45, 450, '2.31')}\r${bar(46, 460, '2.29')}\r${bar(47, 470, '2.27')}\r${bar(100, 1000, '1.98')}\n`;
    const cut = out.indexOf('2.27') + 3;
    r.feed(out.slice(0, cut), 400);
    assert.deepEqual(r.points, [[0.4, 2.31], [0.4, 2.29]], 'the closing bracket of the postfix is not part of the number');
    r.feed(out.slice(cut), 900);
    assert.deepEqual(r.points.map((p) => p[1]), [2.31, 2.29, 2.27, 1.98]);
    // Lightning's bar: several postfix values, the one named by the pattern taken, scientific notation whole.
    assert.deepEqual(read('val_loss=(\\S+)', 'Epoch 0:  45%|████▌     | 450/1000 [00:12<00:15, 35.10it/s, v_num=0, train_loss=2.310, val_loss=2.50e+00]\r'), [2.5]);
  });

  it('JSON lines: `{"step": 100, "val_loss": 2.5}`, NaN as Python\'s json writes it, a key with a longer name not taken', () => {
    assert.deepEqual(read('"val_loss":\\s*(\\S+)', '{"step": 100, "val_loss": 2.5}\n{"step": 200, "val_loss": 2.25, "lr": 6e-4}\n'), [2.5, 2.25]);
    const nan = read('"val_loss":\\s*(\\S+)', '{"step": 300, "val_loss": NaN}\n');
    assert.equal(nan.length, 1);
    assert.ok(Number.isNaN(nan[0]), 'a diverged run reads as NaN, and is stopped');
    assert.deepEqual(read('"loss":\\s*([^,}]+)', '{"step": 100, "eval_loss": 2.6, "loss": 2.4}\n'), [2.4]);
  });

  it('Hugging Face Trainer and Lightning dicts: `{\'loss\': 2.31, \'learning_rate\': 5e-05, \'epoch\': 0.5}`', () => {
    const log = "{'loss': 2.31, 'learning_rate': 5e-05, 'epoch': 0.5}\n{'eval_loss': 2.41, 'eval_runtime': 3.2, 'epoch': 0.5}\n{'loss': 2.05, 'learning_rate': 2.5e-05, 'epoch': 1.0}\n";
    assert.deepEqual(read("'loss':\\s*(\\S+)", log), [2.31, 2.05], 'the eval_loss line is not a loss line');
    assert.deepEqual(read("'eval_loss':\\s*(\\S+)", log), [2.41]);
    assert.deepEqual(read("'learning_rate':\\s*(\\S+)", log), [5e-5, 2.5e-5]);
  });

  it('a captured text that is no number adds no point: it is not a divergence that would stop the run', () => {
    assert.deepEqual(read('val loss:? (\\S+)', 'val loss: n/a\nval loss: information pending\nval loss: 2.5\n'), [2.5]);
    assert.deepEqual(read('val loss (\\S+)', 'val loss inf\nval loss -Infinity\n'), [Infinity, -Infinity]);
  });
});

describe('curves: when a run may be stopped', () => {
  /**
   * A learning curve L(p) = floor + (10 − floor)·exp(−p/τ), p the share of training done, printed 20 times over 85 %
   * of the budget from `start` on; `bend(p, v)` changes a value (a divergence, a blip).
   */
  function expo(floor: number, tau: number, o: { start?: number; bend?: (p: number, v: number) => number } = {}): CurvePoint[] {
    return Array.from({ length: 20 }, (_, i): CurvePoint => {
      const p = (i + 1) / 20;
      const v = floor + (10 - floor) * Math.exp(-p / tau);
      return [Math.round(((o.start ?? 0) + 0.85 * p) * 1e4) / 1e4, o.bend ? o.bend(p, v) : v];
    });
  }
  /** The first verdict as the run's points arrive one by one, or null if it ran to the end. */
  function firstStop(curve: CurvePoint[], parent: CurvePoint[] | null, extra: Partial<Parameters<typeof pruneVerdict>[0]> = {}) {
    for (let k = 1; k <= curve.length; k++) {
      const v = pruneVerdict({ curve: curve.slice(0, k), parent, direction: 'minimize', late: [], ...extra });
      if (v) return v;
    }
    return null;
  }
  const parent = expo(3, 0.15);
  const gapAt = (child: CurvePoint[], f: number) => valueAt(child, f)! - valueAt(parent, f)!;

  it('a diverging run is stopped, and nan stops at once with its reason', () => {
    const diverging = expo(3, 0.15, { bend: (p, v) => (p > 0.3 ? v * Math.exp(4 * (p - 0.3)) : v) });
    const v = firstStop(diverging, parent);
    assert.ok(v, 'stopped');
    assert.ok(v.fraction < 0.6, `early: at ${v.fraction}`);
    assert.ok(v.previous && v.gap > v.previous.gap, 'its gap was clear at two points in a row, and growing');
    assert.equal(stoppedReason(v, 'val_loss', 7).match(/^stopped early at \d+ % of the budget: val_loss [\d.]+ vs [\d.]+ for #7 at the same point, worse by [\d.]+ \([\d.]+ at \d+ %\), more than the margin [\d.]+; improving by at most [\d.]+ per tenth of the budget, it would end [\d.]+ short of #7's [\d.]+$/)?.length, 1, stoppedReason(v, 'val_loss', 7));
    const nan = pruneVerdict({ curve: [[0.2, 5], [0.3, NaN]], parent, direction: 'minimize', late: [] });
    assert.ok(nan?.diverged);
    assert.equal(stoppedReason(nan, 'val_loss', 7), 'stopped early at 30 % of the budget: val_loss NaN vs 3.667 for #7 at the same point: the run diverged');
  });

  it('a slow starter that is behind but falling faster than its parent is not stopped: it ends better', () => {
    // τ × 1.6 and a floor 4 % lower: at 40 % of the budget it is 0.6 behind, 18 % of the parent's value there.
    const slowStart = expo(2.88, 0.24);
    assert.ok(slowStart.at(-1)![1] < parent.at(-1)![1], 'it wins in the end');
    assert.ok(gapAt(slowStart, 0.4) > 0.15 * valueAt(parent, 0.4)!, 'far behind part-way: the old margin stopped it');
    assert.equal(firstStop(slowStart, parent), null);
    // As far behind without falling faster: a curve level with the parent's, as far behind as the slow starter was
    // at 40 %, is stopped.
    const level = parent.map(([f, v]): CurvePoint => [f, v + gapAt(slowStart, 0.4)]);
    assert.ok(firstStop(level, parent));
  });

  it('a slow learner that cannot reach its parent\'s end by the end of the budget is stopped, while it still improves', () => {
    // τ × 3 and the same floor: it falls faster than its parent from a third of the budget on, never fast enough.
    const slow = expo(3.03, 0.45);
    const v = firstStop(slow, parent);
    assert.ok(v, 'stopped');
    assert.ok(v.fraction < 0.85, `before its end: at ${v.fraction}`);
    assert.ok(v.improving > 0 && v.endGap > 0, `improving by ${v.improving} per tenth, still ${v.endGap} short at the end`);
    assert.ok(v.gap > v.margin && v.previous!.gap > v.margin);
    assert.match(stoppedReason(v, 'val_loss', 3), /; improving by at most [\d.]+ per tenth of the budget, it would end [\d.]+ short of #3's 3\.0\d*$/);
  });

  it('no late winner whose curve flattens is stopped: learning slower, from higher or lower, by a hair or by far', () => {
    const end = parent.at(-1)![1];
    for (let tau = 0.16; tau <= 1; tau += 0.04) {
      for (const start of [6, 10, 14]) {
        for (const by of [0.001, 0.05]) {
          // The floor that makes it end `by` better than its parent.
          const e = Math.exp(-1 / tau);
          const floor = (end - by - start * e) / (1 - e);
          const winner = expo(floor, tau).map(([f], i): CurvePoint => [f, floor + (start - floor) * Math.exp(-(i + 1) / 20 / tau)]);
          assert.ok(winner.at(-1)![1] < end);
          const v = firstStop(winner, parent);
          assert.equal(v, null, `τ ${tau.toFixed(2)} from ${start} to ${floor.toFixed(3)}: ${v && stoppedReason(v, 'val_loss', 0)}`);
        }
      }
    }
  });

  it('one point beyond the margin is not enough: a blip in a run level with its parent is not stopped', () => {
    const blip = expo(3, 0.15, { bend: (p, v) => (p === 0.6 ? v + 2 : v) });
    assert.equal(firstStop(blip, parent), null);
  });

  it('the margin is wider the earlier the point: what the parent still improved from there', () => {
    // A run that stalled 1.0 behind its parent: at 30 % of the budget the parent still improved 1.4 × 0.6 from there.
    const stalledAt = (f: number): CurvePoint[] => [[f - 0.15, valueAt(parent, f)! + 1], [f - 0.05, valueAt(parent, f)! + 1], [f, valueAt(parent, f)! + 1]];
    assert.equal(pruneVerdict({ curve: stalledAt(0.3), parent, direction: 'minimize', late: [] }), null);
    const later = pruneVerdict({ curve: stalledAt(0.6), parent, direction: 'minimize', late: [] });
    assert.ok(later, 'stalled as far behind later on, it is stopped');
    assert.ok(later.margin < 1 && later.margin >= 1.5 * (valueAt(parent, 0.6)! - parent.at(-1)![1]) - 1e-9);
  });

  it('a run that started late is not stopped for it: the same curve 5 % of the budget late goes on', () => {
    const late = expo(3, 0.15, { start: 0.05 });
    assert.ok(gapAt(late, 0.25) > 0.4, 'read at the same elapsed time, it looks far behind');
    assert.equal(firstStop(late, parent), null);
  });

  it('noise read from the curves widens the margin: a noisy copy of the parent is never stopped', () => {
    // ±8 %, two points in a row on the same side: beyond the 5 % floor, within the scatter seen in the curve.
    const noisy = parent.map(([f, v], i): CurvePoint => [f, v * (1 + (i % 4 < 2 ? 0.08 : -0.08))]);
    assert.ok(pointNoise(noisy) > 0.15, `${pointNoise(noisy)}`);
    assert.ok(pointNoise(parent) < 0.01, `a smooth curve has no noise: ${pointNoise(parent)}`);
    assert.equal(firstStop(noisy, parent), null);
    assert.equal(firstStop(parent.map(([f, v]): CurvePoint => [f, v + 0.3]), parent, { spread: 0.2 }), null, '3 × a measured spread of 0.2');
    assert.ok(firstStop(parent.map(([f, v]): CurvePoint => [f, v + 0.3]), parent), 'without it, stopped');
  });

  it('never before the minimum fraction, never without a parent curve, never on one point', () => {
    const far = parent.map(([f, v]): CurvePoint => [f, v + 50]);
    const upTo = (f: number) => far.filter((p) => p[0] <= f);
    assert.equal(pruneVerdict({ curve: upTo(DEFAULT_PRUNE.minFraction - 0.01), parent, direction: 'minimize', late: [] }), null);
    assert.equal(pruneVerdict({ curve: [[0.2, NaN]], parent, direction: 'minimize', late: [] }), null, 'nan too');
    assert.ok(pruneVerdict({ curve: upTo(0.5), parent, direction: 'minimize', late: [] }));
    assert.equal(pruneVerdict({ curve: upTo(0.5), parent: null, direction: 'minimize', late: [] }), null);
    assert.equal(pruneVerdict({ curve: upTo(0.5), parent: [], direction: 'minimize', late: [] }), null);
    assert.equal(pruneVerdict({ curve: [[0.5, 99]], parent, direction: 'minimize', late: [] }), null);
  });

  it('learns from late winners how many times its parent\'s remaining progress a run can make up', () => {
    // A child 1.05 behind at 40 % that ended better; its parent still improved 0.5 from there: a ratio of 2.1.
    const p: CurvePoint[] = [[0.1, 4], [0.3, 3], [0.5, 2.5], [1, 2]];
    const late = lateWins([{ child: [[0.4, 3.8], [1, 1.9]], parent: p, childFinal: 1.9, parentFinal: 2 }], 'minimize');
    assert.equal(late.length, 1);
    assert.ok(Math.abs(late[0]!.gap - 1.05) < 1e-9 && Math.abs(late[0]!.ratio - 1.05 / 0.75) < 1e-9, JSON.stringify(late));
    assert.deepEqual(lateWins([{ child: [[0.4, 3.8]], parent: p, childFinal: 2.5, parentFinal: 2 }], 'minimize'), [], 'losers teach nothing');
    // A run level with its parent but 0.5 behind; a winner seen late in the budget that had made up 10 × its
    // parent's remaining progress makes the margin 1.5 × 10 × this parent's: the run is stopped later.
    const behind = parent.map(([f, v]): CurvePoint => [f, v + 0.5]);
    const alone = firstStop(behind, parent)!;
    const taught = firstStop(behind, parent, { late: [{ fraction: 0.9, gap: 0.01, ratio: 10 }] })!;
    assert.ok(taught.fraction > alone.fraction, `${alone.fraction} → ${taught.fraction}`);
    const restAt = (f: number) => valueAt(parent, f)! - parent.at(-1)![1];
    assert.ok(taught.margin >= 15 * restAt(taught.fraction) - 1e-9);
    assert.ok(15 * restAt(alone.fraction) > 0.5, 'where it was stopped alone, the taught margin is wider than its gap');
  });

  it('a winner level with its parent teaches no ratio where the parent\'s remaining progress is only noise', () => {
    // 0.4 % scatter on both curves; the child is its parent's curve and ends 0.01 better. Late on, the parent's
    // remaining progress is a few thousandths (its own noise): gap over that was a ratio of 30, and the margin of every
    // later run 45 times its parent's remaining progress, which held a slow learner back to its last point.
    const wobble = (c: CurvePoint[], k: number, phase = 0) => c.map(([f, v], i): CurvePoint => [f, v * (1 + 0.004 * Math.sin(i * k + phase))]);
    const noisyParent = wobble(parent, 2.3);
    const level = wobble(parent, 1.7, Math.PI / 2);
    level[19] = [level[19]![0], noisyParent[19]![1] - 0.01];
    const late = lateWins([{ child: level, parent: noisyParent, childFinal: level[19]![1], parentFinal: noisyParent[19]![1] }], 'minimize');
    assert.ok(late.length > 5, 'it was behind at many points');
    assert.ok(late.every((l) => l.ratio < 2), late.map((l) => `${l.fraction}: ${l.ratio.toFixed(1)}`).join(', '));
    const slow = wobble(expo(3.03, 0.45), 0.9);
    const alone = firstStop(slow, noisyParent);
    const taught = firstStop(slow, noisyParent, { late });
    assert.ok(alone && taught, 'stopped');
    assert.equal(taught.fraction, alone.fraction, 'the level winner does not hold it back');
  });

  it('says what holds a run back: level, within the margin, its pace, one point, too early; nothing where it stops', () => {
    const upTo = (c: CurvePoint[], f: number) => c.filter((p) => p[0] <= f + 1e-9);
    const held = (c: CurvePoint[], f: number) => heldBy({ curve: upTo(c, f), parent, direction: 'minimize', late: [] });
    assert.equal(held(parent, 0.6), 'level');
    assert.equal(held(parent.map(([f, v]): CurvePoint => [f, v + 0.1]), 0.6), 'margin and pace', 'behind by 0.1, under 5 % of the parent there, and falling as fast');
    const end = parent.at(-1)![1];
    const stalled = parent.map(([f, v]): CurvePoint => [f, Math.max(v, end + 0.12)]);
    assert.equal(held(stalled, 0.8), 'margin', 'stalled 0.12 above where its parent ends: within the 5 % floor alone');
    const slow = expo(3.03, 0.45);
    assert.equal(held(slow, 0.5), 'pace', 'far behind, but falling fast enough to reach 3.0 by the end at that pace');
    const stop = firstStop(slow, parent)!;
    assert.equal(held(slow, stop.fraction), null);
    const blip = parent.map(([f, v]): CurvePoint => [f, f > 0.55 && f < 0.6 ? v + 2 : v]);
    assert.equal(held(blip, 0.5525), 'once');
    assert.equal(held(parent.map(([f, v]): CurvePoint => [f, v + 50]), 0.2), 'early');
    assert.equal(heldBy({ curve: upTo(slow, 0.5), parent: null, direction: 'minimize', late: [] }), 'unread');
  });

  it('holds a run that prints its points more slowly than its parent, which ended by itself: a step count, not a time', () => {
    // The parent ran 40 steps, one point each, and ended by itself at 40 % of the budget, level at 1.0 from 10 %; the
    // child prints every other one of its points' times (twice slower per step) and stands at 2.0 when read.
    const parent: CurvePoint[] = Array.from({ length: 40 }, (_, i) => [(i + 1) / 100, i < 9 ? 4 - i / 3 : 1.0]);
    const child: CurvePoint[] = Array.from({ length: 20 }, (_, i) => [(2 * i + 2) / 100, 2.0]);
    const input = { curve: child, parent, direction: 'minimize' as const, late: [] };
    assert.ok(pruneVerdict(input), 'compared at the same share of the budget, it is stopped');
    assert.equal(heldBy({ ...input, parentPrinted: 40 }), 'slower');
    assert.equal(pruneVerdict({ ...input, parentPrinted: 40 }), null);
    // As fast as its parent, it is stopped as before: the same share of the budget is the same step.
    const asFast: CurvePoint[] = parent.map(([f]) => [f, 2.0]);
    assert.ok(pruneVerdict({ ...input, curve: asFast, parentPrinted: 40 }));
    // A parent journaled as 60 of its 400 points read counts as 400: a child as fast is not held.
    const dense: CurvePoint[] = Array.from({ length: 400 }, (_, i) => [(i + 1) / 1000, i < 90 ? 4 - i / 30 : 1.0]);
    const denseChild: CurvePoint[] = dense.filter((p) => p[0] <= 0.35).map(([f]) => [f, 2.0]);
    assert.notEqual(heldBy({ curve: denseChild, parent: compact(dense), parentPrinted: 400, direction: 'minimize', late: [] }), 'slower');
    assert.equal(heldBy({ curve: denseChild.filter((_, i) => i % 2 === 1), parent: compact(dense), parentPrinted: 400, direction: 'minimize', late: [] }), 'slower');
    // nan still stops it at once.
    assert.ok(pruneVerdict({ ...input, curve: [...child, [0.42, NaN]], parentPrinted: 40 })?.diverged);
  });

  it('maximize is the mirror', () => {
    const acc = expo(3, 0.15).map(([f, v]): CurvePoint => [f, 1 - v / 10]);
    const worse = acc.map(([f, v]): CurvePoint => [f, v - 0.2]);
    assert.ok(firstStop(worse, acc, { direction: 'maximize' }));
    assert.equal(firstStop(acc.map(([f, v]): CurvePoint => [f, v + 0.2]), acc, { direction: 'maximize' }), null);
    assert.ok(pruneVerdict({ curve: [[0.3, 0.5], [0.4, -Infinity]], parent: acc, direction: 'maximize', late: [] })?.diverged);
  });
});

describe('curves: the config', () => {
  const base = 'tag: t1\neditable: [train.py]\nrun: python3 train.py\nbudget: 5m\nmetric: {name: val_loss, direction: minimize}\n';
  it('prune is on by default, off turns it off, on gives the defaults, a mapping sets them; progress needs a group for the value', async () => {
    const { parseConfig } = await import('../../../../src/core/config.js');
    assert.deepEqual(parseConfig(base).prune, DEFAULT_PRUNE);
    assert.equal(parseConfig(`${base}prune: off\n`).prune, null);
    assert.equal(parseConfig(`${base}prune: false\n`).prune, null);
    assert.deepEqual(parseConfig(`${base}prune: on\n`).prune, DEFAULT_PRUNE);
    assert.deepEqual(parseConfig(`${base}prune: {minFraction: 0.4}\n`).prune, { ...DEFAULT_PRUNE, minFraction: 0.4 });
    assert.equal(parseConfig(`${base}progress: 'step (\\d+).*val loss ([\\d.]+)'\n`).progress, 'step (\\d+).*val loss ([\\d.]+)');
    assert.throws(() => parseConfig(`${base}progress: 'val loss'\nprune: {patience: 2}\n`), (e: unknown) => {
      const issues = (e as { issues: { path: string }[] }).issues.map((i) => i.path);
      return issues.includes('progress') && issues.includes('prune.patience');
    });
  });

  it('the template\'s progress pattern reads a value in scientific notation whole', async () => {
    const { parseConfig } = await import('../../../../src/core/config.js');
    const { configTemplate } = await import('../../../../src/core/configTemplate.js');
    const template = configTemplate({ tag: 't1', editable: ['train.py'], readonly: [], run: 'python3 train.py', budget: '5m', metricName: 'val_loss', direction: 'minimize', maxExperiments: 20, proposer: 'mutate' });
    const line = template.split('\n').find((l) => l.startsWith('# progress: '));
    assert.ok(line, template);
    const progress = parseConfig(`${base}${line.slice(2)}\n`).progress!;
    const r = new CurveReader(progress, 1000);
    r.feed('step 100: train loss 2.4000e-03, val loss 2.5000e-03\nstep 200: train loss 1.2, val loss 1.5E+00\nstep 300: val loss 7.5e-4\n', 500);
    assert.deepEqual(r.points.map((p) => p[1]), [0.0025, 1.5, 0.00075]);
  });
});
