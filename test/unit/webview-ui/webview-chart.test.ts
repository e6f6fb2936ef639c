// The progress chart's scene: where each experiment lands, the crash band, the best-so-far line, hits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bestLine, computeChart, Glyph, hitTest, positionOf, xLimits } from '../../../webview-ui/src/chartModel.js';
import { dto, storeOf } from '../helpers/webview.js';

const W = 600;
const H = 300;

function session() {
  return storeOf([
    dto({ id: 0, status: 'keep', metric: 1 }),
    dto({ id: 1, status: 'discard', metric: 1.2 }),
    dto({ id: 2, status: 'keep', metric: 0.8 }),
    dto({ id: 3, status: 'crash', metric: null }),
    dto({ id: 4, status: 'invalid', metric: null, commit: null }),
    dto({ id: 5, status: 'keep', metric: 0.6 }),
    dto({ id: 6, status: 'running', metric: null, decidedBy: null }),
  ]);
}

describe('webview progress chart', () => {
  it('places experiments in order, larger values higher, and those without a value on the band below', () => {
    const store = session();
    const s = computeChart(store, { x: null, y: null, log: false }, W, H);
    assert.equal(s.count, 7);
    assert.deepEqual([...s.ids], [0, 1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < s.count; i++) assert.ok(s.px[i]! > s.px[i - 1]!, 'x grows with the experiment number');
    const y = (id: number) => positionOf(s, id)!.y;
    assert.ok(y(1) < y(0) && y(0) < y(2) && y(2) < y(5), 'a larger metric is drawn higher');
    assert.equal(s.glyph[3], Glyph.Crash);
    assert.equal(y(3), s.band.crashY, 'a crash sits on the band: it has no value');
    assert.equal(y(4), s.band.otherY, 'so does an invalid proposal');
    assert.equal(y(6), s.band.otherY, 'and a running experiment');
    assert.ok(s.band.top > s.plot.bottom, 'the band is under the plot, not on the value axis');
    assert.equal(s.baselineY, s.y(1));
    assert.equal(s.yLabel, 'val_loss (lower is better)');
  });

  it('the best-so-far line steps down at each improvement and runs to the last experiment', () => {
    const store = session();
    const s = computeChart(store, { x: null, y: null, log: false }, W, H);
    const pts: [number, number][] = [];
    for (let i = 0; i < s.best.length; i += 2) pts.push([Math.round(s.x.invert(s.best[i]!) * 100) / 100 + 0, Math.round(s.y.invert(s.best[i + 1]!) * 100) / 100 + 0]);
    assert.deepEqual(pts, [[0, 1], [2, 1], [2, 0.8], [5, 0.8], [5, 0.6], [6, 0.6]]);
  });

  it('steps up for a maximized metric, and says "higher is better"', () => {
    const store = storeOf([dto({ id: 0, status: 'keep', metric: 0.5 }), dto({ id: 1, status: 'keep', metric: 0.7 }), dto({ id: 2, status: 'discard', metric: 0.9 })], { direction: 'maximize', metricName: 'acc' });
    const s = computeChart(store, { x: null, y: null, log: false }, W, H);
    const ys: number[] = [];
    for (let i = 1; i < s.best.length; i += 2) ys.push(Math.round(s.y.invert(s.best[i]!) * 100) / 100);
    assert.deepEqual(ys, [0.5, 0.5, 0.7, 0.7]);
    assert.equal(s.yLabel, 'acc (higher is better)');
  });

  it('clips the best line to a zoomed x range, starting from the best that held at its left edge', () => {
    const store = session();
    const x = computeChart(store, { x: [3, 6], y: null, log: false }, W, H);
    const line = bestLine(store, x.x, x.y, [3, 6], [Math.min(...x.y.domain), Math.max(...x.y.domain)], x.plot);
    assert.equal(Math.round(x.x.invert(line[0]!)), 3);
    assert.equal(Math.round(x.y.invert(line[1]!) * 100) / 100, 0.8);
    assert.deepEqual([...x.ids], [3, 4, 5, 6], 'only the experiments in range are drawn');
  });

  it('zoomed in, the y range fits the visible experiments; a fixed y range marks values beyond it', () => {
    const store = session();
    const all = computeChart(store, { x: null, y: null, log: false }, W, H);
    const zoomed = computeChart(store, { x: [4.5, 6.5], y: null, log: false }, W, H);
    assert.ok(Math.max(...zoomed.y.domain) < Math.max(...all.y.domain));
    const fixed = computeChart(store, { x: null, y: [0.7, 1.1], log: false }, W, H);
    const i1 = [...fixed.ids].indexOf(1);
    const i5 = [...fixed.ids].indexOf(5);
    assert.equal(fixed.off[i1], 1, '1.2 is above the range');
    assert.equal(fixed.off[i5], 2, '0.6 is below it');
  });

  it('hides filtered statuses, and refuses a log scale over values ≤ 0', () => {
    const store = session();
    const s = computeChart(store, { x: null, y: null, log: false }, W, H, new Set(['discard', 'crash']));
    assert.deepEqual([...s.ids], [0, 2, 4, 5, 6]);
    const neg = storeOf([dto({ id: 0, status: 'keep', metric: -1 }), dto({ id: 1, status: 'keep', metric: -2 })]);
    assert.equal(computeChart(neg, { x: null, y: null, log: true }, W, H).logRefused, true);
    const pos = computeChart(session(), { x: null, y: null, log: true }, W, H);
    assert.equal(pos.y.log, true);
  });

  it('finds the experiment under the pointer, or nothing', () => {
    const store = session();
    const s = computeChart(store, { x: null, y: null, log: false }, W, H);
    const p2 = positionOf(s, 2)!;
    assert.equal(hitTest(s, p2.x + 2, p2.y - 2), 2);
    const p3 = positionOf(s, 3)!;
    assert.equal(hitTest(s, p3.x, p3.y + 1), 3, 'a crash on the band can be hovered and clicked');
    assert.equal(hitTest(s, 1, 1), null);
  });

  it('keeps a short session readable: the x range covers at least ten experiments', () => {
    assert.deepEqual(xLimits(storeOf([dto({ id: 0, status: 'keep' })])), [-0.5, 9.5]);
  });

  // How fast is measured side by side in npm run bench:webview, not here.
  it('computes a 10,000-experiment scene with every experiment in it', () => {
    const nodes = Array.from({ length: 10_000 }, (_, id) => dto({ id, status: id % 7 === 0 ? 'keep' : id % 11 === 0 ? 'crash' : 'discard', metric: id % 11 === 0 ? null : 1 - id / 20_000 + (id % 5) / 100 }));
    const store = storeOf(nodes);
    const s = computeChart(store, { x: null, y: null, log: false }, 1200, 400);
    assert.equal(s.count, 10_000);
  });

  it('shades the noise band, baseline ± the keep threshold, when the session measures noise', () => {
    const nodes = [dto({ id: 0, status: 'keep', metric: 1 }), dto({ id: 1, status: 'keep', metric: 0.5 }), dto({ id: 2, status: 'discard', metric: 1.5 })];
    const plain = computeChart(storeOf(nodes), { x: null, y: null, log: false }, W, H);
    assert.equal(plain.noiseBand, null, 'no band without a noise estimate');
    const s = computeChart(storeOf(nodes, { noise: { spread: 0.05, threshold: 0.1, z: 2, samples: 3 } }), { x: null, y: null, log: false }, W, H);
    assert.ok(s.noiseBand);
    assert.equal(s.noiseBand.threshold, 0.1);
    assert.ok(Math.abs(s.noiseBand.top - s.y(1.1)) < 1e-6 && Math.abs(s.noiseBand.bottom - s.y(0.9)) < 1e-6, 'the band spans 0.9 to 1.1');
    // Zoomed onto values the band does not reach: nothing to shade.
    const away = computeChart(storeOf(nodes, { noise: { spread: 0.05, threshold: 0.1, z: 2, samples: 3 } }), { x: null, y: [0.4, 0.6], log: false }, W, H);
    assert.equal(away.noiseBand, null);
  });
});
