// The webview's copy of the study: snapshots, numbered deltas, depth and the best-so-far line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResultsStore } from '../../../webview-ui/src/store.js';
import { dto, sessionFixture, storeOf } from '../helpers/webview.js';

describe('webview store', () => {
  it('applies a snapshot in any order and derives children and depth', () => {
    const s = storeOf([dto({ id: 2, parentId: 1 }), dto({ id: 0, status: 'keep' }), dto({ id: 1, status: 'keep' })]);
    assert.equal(s.size, 3);
    assert.deepEqual(s.childrenOf(0), [1]);
    assert.deepEqual(s.depth, [0, 1, 2]);
    assert.deepEqual(s.pathTo(2), [0, 1, 2]);
  });

  it('applies numbered deltas: new nodes, changed nodes, the study; a gap is refused so the webview resyncs', () => {
    const s = storeOf([dto({ id: 0, status: 'keep', metric: 1 })]);
    const r1 = s.applyDelta({ rev: 1, nodes: [dto({ id: 1, status: 'running', metric: null })] });
    assert.deepEqual(r1, { reset: false, added: [1], changed: [], session: false });
    const r2 = s.applyDelta({ rev: 2, nodes: [dto({ id: 1, status: 'keep', metric: 0.5 })], session: sessionFixture({ bestId: 1 }) });
    assert.deepEqual(r2, { reset: false, added: [], changed: [1], session: true });
    assert.equal(s.get(1)!.status, 'keep');
    assert.deepEqual(s.childrenOf(0), [1], 'a changed node is not added twice to its parent');
    assert.equal(s.bestId, 1);
    const gap = s.applyDelta({ rev: 4, nodes: [dto({ id: 2 })] });
    assert.deepEqual(gap, { gap: true, expected: 3, got: 4 });
    assert.equal(s.get(2), undefined, 'nothing from a delta after a gap is applied');
  });

  it('steps the best-so-far down when minimizing, over kept nodes only', () => {
    const s = storeOf([
      dto({ id: 0, status: 'keep', metric: 1 }),
      dto({ id: 1, status: 'discard', metric: 0.1 }),
      dto({ id: 2, status: 'keep', metric: 0.8 }),
      dto({ id: 3, status: 'crash', metric: null }),
      dto({ id: 4, status: 'keep', metric: 0.9 }),
      dto({ id: 5, status: 'keep', metric: 0.5 }),
    ]);
    assert.deepEqual(s.steps.map((x) => [x.x, x.value]), [[0, 1], [2, 0.8], [5, 0.5]]);
  });

  it('steps up when maximizing, and a flipped direction (a guessed file) recomputes', () => {
    const s = storeOf([
      dto({ id: 0, status: 'keep', metric: 0.5 }),
      dto({ id: 1, status: 'keep', metric: 0.7 }),
      dto({ id: 2, status: 'keep', metric: 0.6 }),
      dto({ id: 3, status: 'keep', metric: 0.9 }),
    ], { direction: 'maximize', directionKnown: false });
    assert.deepEqual(s.steps.map((x) => x.value), [0.5, 0.7, 0.9]);
    assert.equal(s.bestId, 3);
    s.directionOverride = 'minimize';
    s.invalidate();
    assert.deepEqual(s.steps.map((x) => x.value), [0.5]);
    assert.equal(s.bestId, 0);
  });

  it("takes the engine's best when it knows the direction (a person may have overridden a decision)", () => {
    const s = storeOf([dto({ id: 0, status: 'keep', metric: 1 }), dto({ id: 1, status: 'keep', metric: 0.5 }), dto({ id: 2, status: 'keep', metric: 0.7 })], { bestId: 2 });
    assert.equal(s.bestId, 2);
  });

  it('measures a delta against the parent, or in a flat results.tsv against the best kept row before it', () => {
    const tree = storeOf([dto({ id: 0, status: 'keep', metric: 1 }), dto({ id: 1, status: 'keep', metric: 0.8 }), dto({ id: 2, parentId: 1, metric: 0.9 })]);
    assert.ok(Math.abs(tree.delta(2)! - 0.1) < 1e-12);
    assert.equal(tree.delta(0), null);
    const flat = storeOf([
      dto({ id: 0, parentId: null, status: 'keep', metric: 1 }),
      dto({ id: 1, parentId: null, status: 'keep', metric: 0.8 }),
      dto({ id: 2, parentId: null, status: 'discard', metric: 0.9 }),
    ], { source: { kind: 'file', path: 'file:///r/results.tsv' } });
    assert.ok(Math.abs(flat.delta(2)! - 0.1) < 1e-12);
    assert.ok(Math.abs(flat.delta(1)! + 0.2) < 1e-12);
  });

  it('an empty snapshot (no session yet) keeps its reason', () => {
    const s = new ResultsStore();
    s.applySnapshot({ rev: 3, session: null, nodes: [], emptyReason: 'No session yet' });
    assert.equal(s.emptyReason, 'No session yet');
    assert.equal(s.bestId, null);
    assert.equal(s.rev, 3);
  });
});
