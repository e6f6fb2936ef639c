// Learning curves read from the log styles real runs print, and the rule that stops a run that cannot win.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compact, CurveReader, DEFAULT_PRUNE, lateWins, pruneVerdict, sparkline, valueAt, type CurvePoint } from '../../src/core/curves.js';

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
    assert.deepEqual(read('step (\\d+).*val loss ([\\d.]+)', log), [4.21, 2.5]);
    assert.deepEqual(read('^step (\\d+): train loss ([\\d.]+)', log), [4.2, 2.4]);
    // The iter lines are not eval lines, and the step number is never the value.
    assert.deepEqual(read('^iter \\d+: loss ([\\d.]+)', log), [3.9]);
  });

  it('autoresearch: `val_bpb: 0.99` with the metric\'s default pattern, the final line a point of the curve like any other', async () => {
    const { defaultPattern } = await import('../../src/core/config.js');
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
  const parent: CurvePoint[] = [[0.1, 4], [0.3, 3], [0.5, 2.5], [1, 2]];

  it('stops a run worse than its parent at the same point by more than the margin, and says by how much', () => {
    const v = pruneVerdict({ fraction: 0.5, value: 3.1, parent, direction: 'minimize', late: [] });
    assert.ok(v);
    assert.equal(v.parentValue, 2.5);
    assert.ok(Math.abs(v.margin - 0.125) < 1e-9, 'the floor: 5 % of the parent there');
  });

  it('never before the minimum fraction, never without a parent curve, never when within the margin', () => {
    assert.equal(pruneVerdict({ fraction: DEFAULT_PRUNE.minFraction - 0.01, value: 99, parent, direction: 'minimize', late: [] }), null);
    assert.equal(pruneVerdict({ fraction: 0.5, value: 99, parent: null, direction: 'minimize', late: [] }), null);
    assert.equal(pruneVerdict({ fraction: 0.5, value: 99, parent: [], direction: 'minimize', late: [] }), null);
    assert.equal(pruneVerdict({ fraction: 0.5, value: 2.6, parent, direction: 'minimize', late: [] }), null);
  });

  it('learns the margin from late winners: a run as far behind as one that went on to win is not stopped', () => {
    // A child that was 0.8 behind its parent at 40 % of the budget and ended better.
    const late = lateWins([{ child: [[0.4, 3.8], [1, 1.9]], parent, childFinal: 1.9, parentFinal: 2 }], 'minimize');
    assert.ok(late.some((l) => l.fraction === 0.4 && Math.abs(l.gap - 1.05) < 1e-9));
    assert.equal(pruneVerdict({ fraction: 0.5, value: 3.6, parent, direction: 'minimize', late }), null, '1.1 behind: within 1.5 × 1.05');
    assert.ok(pruneVerdict({ fraction: 0.5, value: 4.2, parent, direction: 'minimize', late }), '1.7 behind: beyond it');
    // Losers teach nothing about late wins.
    assert.deepEqual(lateWins([{ child: [[0.4, 3.8]], parent, childFinal: 2.5, parentFinal: 2 }], 'minimize'), []);
  });

  it('the measured noise widens the margin, maximize is the mirror, and a diverged run stops', () => {
    assert.equal(pruneVerdict({ fraction: 0.5, value: 3.1, parent, direction: 'minimize', late: [], spread: 0.3 }), null);
    const acc: CurvePoint[] = [[0.5, 0.8], [1, 0.9]];
    assert.ok(pruneVerdict({ fraction: 0.5, value: 0.6, parent: acc, direction: 'maximize', late: [] }));
    assert.equal(pruneVerdict({ fraction: 0.5, value: 0.79, parent: acc, direction: 'maximize', late: [] }), null);
    assert.ok(pruneVerdict({ fraction: 0.5, value: NaN, parent, direction: 'minimize', late: [] }));
  });
});

describe('curves: the config', () => {
  const base = 'tag: t1\neditable: [train.py]\nrun: python3 train.py\nbudget: 5m\nmetric: {name: val_loss, direction: minimize}\n';
  it('prune is off by default, on gives the defaults, a mapping sets them; progress needs a group for the value', async () => {
    const { parseConfig } = await import('../../src/core/config.js');
    assert.equal(parseConfig(base).prune, null);
    assert.deepEqual(parseConfig(`${base}prune: on\n`).prune, DEFAULT_PRUNE);
    assert.deepEqual(parseConfig(`${base}prune: {minFraction: 0.4}\n`).prune, { ...DEFAULT_PRUNE, minFraction: 0.4 });
    assert.equal(parseConfig(`${base}progress: 'step (\\d+).*val loss ([\\d.]+)'\n`).progress, 'step (\\d+).*val loss ([\\d.]+)');
    assert.throws(() => parseConfig(`${base}progress: 'val loss'\nprune: {patience: 2}\n`), (e: unknown) => {
      const issues = (e as { issues: { path: string }[] }).issues.map((i) => i.path);
      return issues.includes('progress') && issues.includes('prune.patience');
    });
  });
});
