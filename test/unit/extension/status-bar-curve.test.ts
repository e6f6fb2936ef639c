// What the status bar says while a run goes: its curve's latest value against the parent's at the same point
// (src/extension/statusBarCurve.ts, the words statusBar.ts puts in the ticker and its tooltip).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControllerEvent } from '../../../src/core/controller.js';
import { curveTickerText, curveTooltipText, nextReading } from '../../../src/extension/statusBarCurve.js';

type Progress = Extract<ControllerEvent, { type: 'run-progress' }>;
const ev = (partial: Partial<Progress>): Progress => ({ type: 'run-progress', nodeId: 12, elapsedMs: 3800, budgetMs: 10_000, line: '', ...partial });

describe('status bar: the running experiment\'s curve', () => {
  it('shows the latest value and the parent\'s at the same point: "val_loss 2.41 vs 2.38 (#7)"', () => {
    const r = nextReading(undefined, ev({ value: 2.41234, parentValue: 2.38, point: [0.38, 2.41234] }))!;
    assert.deepEqual(r, { fraction: 0.38, value: 2.41234, parentValue: 2.38 });
    assert.equal(curveTickerText(r, 'val_loss', 7), 'val_loss 2.412 vs 2.38 (#7)');
    assert.equal(curveTooltipText(r, 'val_loss', 12, 7, 'minimize'), '#12 at 38 % of the budget: val_loss 2.412; parent #7 at the same point: 2.38 (worse by 0.03234)');
    assert.equal(curveTooltipText(r, 'acc', 12, 7, 'maximize'), '#12 at 38 % of the budget: acc 2.412; parent #7 at the same point: 2.38 (better by 0.03234)');
  });

  it('shows the value alone for the baseline, or where the parent has no value at that point', () => {
    const r = nextReading(undefined, ev({ value: 3.1, parentValue: null, point: [0.1, 3.1] }))!;
    assert.equal(curveTickerText(r, 'val loss', 0), 'val loss 3.1');
    assert.equal(curveTickerText({ ...r, parentValue: 2 }, 'val loss', null), 'val loss 3.1');
    assert.equal(curveTooltipText(r, 'val loss', 3, 0, 'minimize'), '#3 at 10 % of the budget: val loss 3.1; parent #0 has no value at that point');
    assert.equal(curveTooltipText(r, 'val loss', 0, null, 'minimize'), '#0 at 10 % of the budget: val loss 3.1');
  });

  it('keeps the reading through clock-only events, and nothing before the first value', () => {
    assert.equal(nextReading(undefined, ev({})), undefined);
    const r = nextReading(undefined, ev({ value: 2.5, parentValue: 2.6, point: [0.3, 2.5] }));
    assert.equal(nextReading(r, ev({ elapsedMs: 9000 })), r);
    // A clock event after a point carries the same value; the point's fraction stays where it was read.
    assert.equal(nextReading(r, ev({ elapsedMs: 5000, value: 2.5, parentValue: 2.6 }))!.fraction, 0.3);
  });

  it('says a diverged run as it is', () => {
    const r = nextReading(undefined, ev({ value: NaN, parentValue: 2.4, point: [0.5, NaN] }))!;
    assert.equal(curveTickerText(r, 'loss', 7), 'loss NaN vs 2.4 (#7)');
    assert.equal(curveTooltipText(r, 'loss', 12, 7, 'minimize'), '#12 at 50 % of the budget: loss NaN; parent #7 at the same point: 2.4');
  });
});
