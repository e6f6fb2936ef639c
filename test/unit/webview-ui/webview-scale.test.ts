// The chart's arithmetic: scales, ticks, the robust y range and zoom/pan limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoYDomain, linearScale, logScale, logTicks, niceTicks, panRange, quantile, zoomRange } from '../../../webview-ui/src/scale.js';

describe('webview scales', () => {
  it('maps a linear domain onto pixels and back, y growing upwards', () => {
    const y = linearScale([0, 10], [300, 0]);
    assert.equal(y(0), 300);
    assert.equal(y(10), 0);
    assert.equal(y(2.5), 225);
    assert.equal(y.invert(150), 5);
  });

  it('maps a log domain by decades', () => {
    const x = logScale([1, 1000], [0, 300]);
    assert.equal(x(10), 100);
    assert.ok(Math.abs(x.invert(200) - 100) < 1e-9);
  });

  it('puts ticks at 1, 2 and 5 times a power of ten inside the domain', () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.31, 0.37, 3), [0.32, 0.34, 0.36]);
    assert.deepEqual(niceTicks(-0.5, 9.5, 4), [0, 2, 4, 6, 8]);
    assert.deepEqual(niceTicks(3, 3, 5), [3]);
    for (const t of niceTicks(0.1, 0.3, 10)) assert.equal(String(t).length <= 4, true, `tick ${t} is not clean`);
    assert.deepEqual(logTicks(1, 100, 10), [1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(logTicks(1e-3, 1e6, 5), [1e-3, 0.1, 10, 1000, 1e5], "nine decades, about five ticks: every other power of ten");
  });

  it('fits y to the values, but leaves a diverged run out on the worse side and says so', () => {
    const values = [0.36, 0.35, 0.34, 0.37, 0.33, 0.36, 0.35, 0.34, 0.38, 42];
    const min = autoYDomain(values, 'minimize');
    assert.equal(min.clipped, true);
    assert.ok(min.domain[1] < 1, `upper bound ${min.domain[1]} should leave 42 out`);
    assert.ok(min.domain[0] < 0.33, 'the best value is always inside');
    // Maximizing, a collapse to near zero is the worse side; a great value stays.
    const acc = [0.8, 0.81, 0.82, 0.79, 0.8, 0.83, 0.81, 0.8, 0.001, 0.99];
    const max = autoYDomain(acc, 'maximize');
    assert.equal(max.clipped, true);
    assert.ok(max.domain[0] > 0.5);
    assert.ok(max.domain[1] >= 0.99);
  });

  it('never leaves out the values it must show (baseline, kept), nor clips a handful of points', () => {
    const d = autoYDomain([0.36, 0.35, 0.34, 0.37, 0.33, 0.36, 0.35, 0.34, 0.38, 42], 'minimize', [50]);
    assert.ok(d.domain[1] >= 50);
    assert.equal(autoYDomain([1, 100], 'minimize').clipped, false);
    assert.deepEqual(autoYDomain([], 'minimize').domain, [0, 1]);
    const flat = autoYDomain([2, 2, 2], 'minimize').domain;
    assert.ok(flat[0] < 2 && flat[1] > 2, 'a flat series still gets a visible range');
  });

  it('computes quantiles by linear interpolation', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([5], 0.25), 5);
  });

  it('zooms around the anchor, stays inside the limits, and reports "everything" as null', () => {
    const z = zoomRange([0, 100], 0.5, 50, [0, 100], 4)!;
    assert.deepEqual(z, [25, 75]);
    const left = zoomRange([0, 100], 0.5, 0, [0, 100], 4)!;
    assert.deepEqual(left, [0, 50], 'anchored at the left edge, the left edge stays');
    assert.deepEqual(zoomRange([0, 10], 0.01, 5, [0, 100], 4), [3, 7], 'never narrower than the minimum span');
    assert.equal(zoomRange([20, 80], 4, 50, [0, 100], 4), null);
    assert.deepEqual(panRange([10, 20], -50, [0, 100]), [0, 10]);
    assert.deepEqual(panRange([10, 20], 500, [0, 100]), [90, 100]);
  });
});
