// The headline's figures: baseline → best, counts, elapsed time on the host's clock, pace and budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeHeadline } from '../../../webview-ui/src/headline.js';
import { dto, storeOf } from '../helpers/webview.js';

describe('webview headline', () => {
  const nodes = [
    dto({ id: 0, status: 'keep', metric: 0.4, wallMs: 1000, finishedAt: '2025-01-01T00:01:00.000Z' }),
    dto({ id: 1, status: 'keep', metric: 0.3 }),
    dto({ id: 2, status: 'discard', metric: 0.5 }),
    dto({ id: 3, status: 'crash', metric: null }),
    dto({ id: 4, status: 'invalid', metric: null }),
    dto({ id: 5, status: 'running', metric: null, decidedBy: null, wallMs: null }),
  ];

  it('says how far the best is from the baseline, by the direction', () => {
    const h = computeHeadline(storeOf(nodes, { bestId: 1 }), 0);
    assert.equal(h.baseline, 0.4);
    assert.equal(h.best, 0.3);
    assert.ok(Math.abs(h.deltaAbs! + 0.1) < 1e-12);
    assert.ok(Math.abs(h.deltaPct! + 25) < 1e-9);
    assert.equal(h.improved, true);
    assert.deepEqual([h.experiments, h.kept, h.discarded, h.crashed, h.invalid, h.running], [4, 1, 1, 1, 1, 1]);
  });

  it('says where the session stands in the Experiments view\'s and the status bar\'s words (fmtProgress)', () => {
    assert.equal(computeHeadline(storeOf(nodes, { bestId: 1, maxExperiments: 10 }), 0).progress, '4 of 10 decided · #5 running');
    const deciding = nodes.map((n) => (n.id === 5 ? { ...n, finishedAt: '2025-01-01T00:02:00.000Z' } : n));
    assert.equal(computeHeadline(storeOf(deciding, { maxExperiments: 10 }), 0).progress, '4 of 10 decided · #5 deciding…');
    assert.equal(computeHeadline(storeOf(nodes, { maxExperiments: null }), 0).progress, '4 of unlimited decided · #5 running');
    assert.equal(computeHeadline(storeOf(nodes, { maxExperiments: 10, state: 'stopped' }), 0).progress, '4 of 10 decided', 'a stopped session runs nothing');
    assert.equal(computeHeadline(storeOf(nodes.slice(0, 5), { source: { kind: 'file', path: 'file:///r.tsv' }, maxExperiments: null, state: null }), 0).progress, '4 decided');
  });

  it('does not count the runs that measure noise as experiments', () => {
    const withNoise = [...nodes, dto({ id: 6, status: 'discard', metric: 0.41, operator: 'rerun', measurement: true }), dto({ id: 7, status: 'discard', metric: 0.39, operator: 'rerun', measurement: true })];
    const h = computeHeadline(storeOf(withNoise, { bestId: 1 }), 0);
    assert.deepEqual([h.experiments, h.kept, h.discarded], [4, 1, 1]);
  });

  it('counts elapsed time on the host clock while live, then to the last finish, and the pace per hour', () => {
    const live = storeOf(nodes, { startedAt: '2025-01-01T00:00:00.000Z', hostNow: '2025-01-01T00:30:00.000Z', state: 'running' });
    live.receivedAt = 1000;
    const h = computeHeadline(live, 61_000);
    assert.equal(h.elapsedMs, 31 * 60_000, 'host time at the snapshot plus the minute since it arrived');
    assert.ok(Math.abs(h.perHour! - 4 / (31 / 60)) < 1e-9);
    assert.equal(h.budgetText, '60s');
    assert.ok(h.remainingMs !== null && h.remainingMs > 0, 'the time left at this pace');
    const done = storeOf(nodes, { startedAt: '2025-01-01T00:00:00.000Z', hostNow: '2025-01-01T05:00:00.000Z', state: 'done' });
    assert.equal(computeHeadline(done, 0).elapsedMs, 60_000, 'a finished session stops its clock at the last finish');
  });

  it('a crashed baseline has no value to compare with', () => {
    const h = computeHeadline(storeOf([dto({ id: 0, status: 'crash', metric: null })]), 0);
    assert.equal(h.baseline, null);
    assert.equal(h.deltaAbs, null);
    assert.equal(h.improved, false);
  });
});
