// Opening a results.tsv no session wrote (the original autoresearch format): rows become a flat study,
// crash rows with 0.000000 land on the crash band, malformed lines are listed with their line numbers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseResults } from '../../../src/core/record/results.js';
import { fileSnapshot, inferDirection } from '../../../src/core/report/snapshot.js';
import { computeChart, positionOf } from '../../../webview-ui/src/chartModel.js';
import { computeHeadline } from '../../../webview-ui/src/headline.js';
import { ResultsStore } from '../../../webview-ui/src/store.js';
import { tableRows } from '../../../webview-ui/src/tableModel.js';

// As the original autoresearch writes it: greedy, keeps improve val_bpb, crashes carry 0.000000.
const ORIGINAL = [
  'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
  'a1b2c3d\t0.997900\t44.0\tkeep\tbaseline',
  'b2c3d4e\t0.993200\t44.2\tkeep\tincrease LR to 0.04',
  'c3d4e5f\t1.005000\t44.0\tdiscard\tswitch to GeLU activation',
  'd4e5f6g\t0.000000\t0.0\tcrash\tdouble model width (OOM)',
  'e5f6g7h\t0.990100\t44.1\tkeep\twarmup 500 steps',
  '',
].join('\n');

function load(text: string) {
  const snap = fileSnapshot(parseResults(text), 'file:///w/results.tsv', 'results.tsv', new Date('2025-01-01T00:00:00Z'));
  const store = new ResultsStore();
  store.applySnapshot({ rev: 0, session: snap.session, nodes: snap.nodes });
  return { snap, store };
}

describe('webview: a results.tsv on its own', () => {
  it('reads the original 5-column format as a flat study: rows in order, no tree, no timings', () => {
    const { snap, store } = load(ORIGINAL);
    assert.equal(snap.session.source.kind, 'file');
    assert.equal(snap.session.metricName, 'val_bpb');
    assert.deepEqual(snap.nodes.map((n) => [n.id, n.status, n.metric, n.parentId, n.line]), [
      [0, 'keep', 0.9979, null, 2],
      [1, 'keep', 0.9932, null, 3],
      [2, 'discard', 1.005, null, 4],
      [3, 'crash', null, null, 5],
      [4, 'keep', 0.9901, null, 6],
    ]);
    assert.equal(snap.session.direction, 'minimize', 'the kept rows go down');
    assert.equal(snap.session.directionKnown, false);
    assert.equal(snap.session.bestId, 4);
    assert.equal(store.bestId, 4);
    assert.deepEqual(snap.session.errors, []);
    const h = computeHeadline(store, 0);
    assert.deepEqual([h.experiments, h.kept, h.discarded, h.crashed, h.elapsedMs], [4, 2, 1, 1, null]);
    assert.ok(Math.abs(h.deltaPct! - ((0.9901 - 0.9979) / 0.9979) * 100) < 1e-9);
  });

  it('puts a crash row on the band, never at 0 on the value axis', () => {
    const { store } = load(ORIGINAL);
    const scene = computeChart(store, { x: null, y: null, log: false }, 600, 300);
    assert.equal(positionOf(scene, 3)!.y, scene.band.crashY);
    assert.ok(Math.min(...scene.y.domain) > 0.9, `the y axis does not stretch to 0: ${scene.y.domain}`);
  });

  it('reports malformed lines with their numbers and keeps the good rows', () => {
    const text = [
      'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
      'a1b2c3d\t0.99\t44.0\tkeep\tbaseline',
      'b2c3d4e\tfast\t44.0\tkeep\tmetric is not a number',
      'only\tthree\tcolumns',
      'c3d4e5f\t0.98\t44.0\tmaybe\tunknown status',
      'd4e5f6g\t0.97\t44.0\tkeep\tgood again',
    ].join('\n');
    const { snap, store } = load(text);
    assert.deepEqual(snap.session.errors.map((e) => e.line), [3, 4, 5]);
    assert.match(snap.session.errors[0]!.message, /not a number/);
    assert.equal(snap.session.errors[1]!.text, 'only\tthree\tcolumns');
    assert.deepEqual(snap.nodes.map((n) => n.line), [2, 6]);
    assert.deepEqual(tableRows(store, { sortKey: 'id', sortDesc: false, filter: '', hidden: new Set() }), [0, 1]);
  });

  it('reports a file that is not a results.tsv at line 1', () => {
    const { snap } = load('hello world\n');
    assert.equal(snap.session.errors[0]!.line, 1);
    assert.equal(snap.nodes.length, 0);
  });

  it("treats this extension's invalid rows (written with 0.000000) as having no value", () => {
    const { snap } = load('commit\tval_loss\tmemory_gb\tstatus\tdescription\na\t0.5\t1\tkeep\tbaseline\n-------\t0.000000\t0.0\tinvalid\ttouched prepare.py\n');
    assert.equal(snap.nodes[1]!.metric, null);
    assert.equal(snap.nodes[1]!.commit, null, 'the placeholder commit is not a commit');
  });

  it('takes the direction from the metric name, then from the kept rows (the core rule the CLI uses too)', () => {
    assert.equal(inferDirection('score', [{ status: 'keep', metric: 5 }, { status: 'keep', metric: 3 }]), 'maximize', 'a name that says which way wins over the rows');
    assert.equal(inferDirection('objective', [{ status: 'keep', metric: 5 }, { status: 'keep', metric: 3 }]), 'minimize', 'a name that says nothing: the kept rows decide');
    assert.equal(inferDirection('accuracy', [{ status: 'keep', metric: 0.5 }]), 'maximize');
    assert.equal(inferDirection('val_loss', []), 'minimize');
    assert.equal(inferDirection('reward', [{ status: 'keep', metric: 1 }, { status: 'keep', metric: 2 }]), 'maximize');
  });
});
