// The `[EXP]` line of the contract, and the memory it shows: a readable unit, never 0.0 for a run under 50 MB.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { experimentLine } from '../../../../src/core/controller.js';
import { judge } from '../../../../src/core/judging/judge.js';
import { fmtMemory } from '../../../../src/shared/format.js';
import { fakeConfig, fakeNode } from '../../helpers/nodes.js';

const line = (memoryGb: number | null): string =>
  experimentLine('t1', 'val_loss', fakeNode({ id: 3, commit: 'abcdef0123456789', metric: 1.4697, memoryGb, status: 'discard', description: 'LR 0.01 -> 0.02' }));

describe('[EXP] line', () => {
  it('is the contract: tag, number, commit, metric, memory, status, description', () => {
    assert.equal(line(2), '[EXP] t1 3 | commit:abcdef0 | val_loss:1.4697 | mem:2.0GB | status:discard | LR 0.01 -> 0.02');
  });

  it('says where early stopping ended a run, whose metric is n/a', () => {
    const stopped = fakeNode({ id: 4, commit: 'abcdef0123456789', metric: null, status: 'discard', description: 'LR 0.01 -> 0.2', reason: 'stopped early at 38 % of the budget: val_loss 3.1 vs 2.41 for #3 at the same point, worse by 0.69' });
    assert.equal(experimentLine('t1', 'val_loss', stopped), '[EXP] t1 4 | commit:abcdef0 | val_loss:n/a | mem:0.0GB | status:discard | LR 0.01 -> 0.2 (stopped early at 38 % of the budget)');
  });

  it('shows memory under 1 GB in MB; unreported memory keeps the 0.0GB shape', () => {
    // What the judge stores for the demo's `peak_memory_mb: 15.3`.
    const demo = judge({ log: 'val_loss: 1\npeak_vram_mb: 15.3\n', run: { exitCode: 0, signal: null, timedOut: false, wallMs: 1, logPath: '' }, config: fakeConfig(), parentMetric: null, isBaseline: true });
    assert.match(line(demo.memoryGb), / \| mem:15\.3MB \| /);
    assert.match(line(0.5), / \| mem:512MB \| /);
    assert.match(line(null), / \| mem:0\.0GB \| /);
    assert.match(line(44.2), / \| mem:44\.2GB \| /);
  });

  it('fmtMemory: GB from 1 GB up, MB below, with a space for views', () => {
    assert.equal(fmtMemory(80), '80.0 GB');
    assert.equal(fmtMemory(1), '1.0 GB');
    assert.equal(fmtMemory(0.01494), '15.3 MB');
    assert.equal(fmtMemory(0.0005), '0.51 MB');
    assert.equal(fmtMemory(0.01494, false), '15.3MB');
  });
});
