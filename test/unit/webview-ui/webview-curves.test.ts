// The results view's learning-curve panel: which curves it shows, where they lie by elapsed fraction of the budget,
// what it says in words; and the protocol that carries the points there (the snapshot's curves, the live points of
// a progress message, the host's copy of a running node's curve for a panel that opens mid-run).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControllerEvent } from '../../../src/core/controller.js';
import type { SessionModel } from '../../../src/core/model.js';
import { LiveCurves } from '../../../src/extension/results/liveCurves.js';
import { appendLivePoint, isHostMessage, LIVE_CURVE_MAX } from '../../../src/shared/protocol.js';
import type { CurvePointDto, HostMessage } from '../../../src/shared/protocol.js';
import { curveLabel, nodeDto, sessionDto } from '../../../src/core/report/snapshot.js';
import { computeCurves, curveOf, curveValueAt, describeCurves, nextProgress, pickCurves } from '../../../webview-ui/src/curveModel.js';
import type { Progress } from '../../../webview-ui/src/describe.js';
import { inProcess, faultRepo, ScriptedProposer, withKeys } from '../helpers/faults.js';
import { fakeNode } from '../helpers/nodes.js';
import { dto, storeOf } from '../helpers/webview.js';

type ProgressMessage = Extract<HostMessage, { type: 'progress' }>;

const progressMsg = (nodeId: number, elapsedMs: number, point?: CurvePointDto): ProgressMessage =>
  ({ type: 'progress', nodeId, elapsedMs, budgetMs: 10_000, line: `step ${elapsedMs}`, ...(point ? { point } : {}) });

/** #0 baseline, #1 kept (the best), #2 running from #1; #0 and #1 have finished curves. */
function session() {
  return storeOf([
    dto({ id: 0, status: 'keep', metric: 2.5, curve: [[0.2, 4], [0.5, 3], [1, 2.5]] }),
    dto({ id: 1, status: 'keep', metric: 2.2, curve: [[0.2, 3.5], [0.5, 2.8], [1, 2.2]] }),
    dto({ id: 2, parentId: 1, status: 'running', metric: null, decidedBy: null, curve: [[0.2, 3.6]] }),
    dto({ id: 3, parentId: 0, status: 'crash', metric: null }),
  ], { bestId: 1 });
}

describe('webview learning curves: the points', () => {
  it('adds each progress message\'s point to the run\'s live curve, and a clock-only message keeps it', () => {
    let p = nextProgress(undefined, progressMsg(2, 3000, [0.3, 3.2]));
    p = nextProgress(p, progressMsg(2, 3500));
    p = nextProgress(p, progressMsg(2, 4000, [0.4, 3.0]));
    assert.deepEqual(p.points, [[0.3, 3.2], [0.4, 3.0]]);
    assert.equal(p.elapsedMs, 4000);
    assert.equal(p.line, 'step 4000');
  });

  it('continues the snapshot\'s curve with the live points, without counting a point twice', () => {
    const store = session();
    const progress = new Map<number, Progress>([[2, { elapsedMs: 4000, budgetMs: 10_000, line: '', points: [[0.3, 3.2], [0.4, 3.0]] }]]);
    assert.deepEqual(curveOf(store, progress, 2), [[0.2, 3.6], [0.3, 3.2], [0.4, 3.0]]);
    assert.deepEqual(curveOf(store, new Map(), 2), [[0.2, 3.6]]);
    assert.deepEqual(curveOf(store, progress, 3), []);
  });

  it('keeps a long live curve bounded: every other point goes, the latest stays', () => {
    const pts: CurvePointDto[] = [];
    for (let i = 0; i <= LIVE_CURVE_MAX; i++) appendLivePoint(pts, [i / 1000, i]);
    assert.ok(pts.length <= LIVE_CURVE_MAX / 2 + 2, `${pts.length} points`);
    assert.deepEqual(pts[0], [0, 0]);
    assert.deepEqual(pts.at(-1), [LIVE_CURVE_MAX / 1000, LIVE_CURVE_MAX]);
    for (let i = 1; i < pts.length; i++) assert.ok(pts[i]![0] > pts[i - 1]![0], 'still in order');
  });

  it('starts a live curve over when a point comes earlier than the last: a requeued cluster job runs again', () => {
    const pts: CurvePointDto[] = [];
    for (const p of [[0.1, 4], [0.3, 3.2], [0.5, 2.9]] as CurvePointDto[]) appendLivePoint(pts, p);
    appendLivePoint(pts, [0.05, 4.4]);
    assert.deepEqual(pts, [[0.05, 4.4]]);
    // Two points at the same share of the budget (a chunk read at once) are one run's.
    appendLivePoint(pts, [0.05, 4.3]);
    assert.deepEqual(pts, [[0.05, 4.4], [0.05, 4.3]]);
  });

  it('reads a curve at a fraction as the engine reads a parent\'s: between points, flat after the last, nothing before the first', () => {
    const c: CurvePointDto[] = [[0.2, 4], [0.6, 2], [0.8, null], [1, 1]];
    assert.equal(curveValueAt(c, 0.1), null);
    assert.equal(curveValueAt(c, 0.4), 3);
    assert.equal(curveValueAt(c, 0.6), 2);
    assert.equal(curveValueAt(c, 0.7), 2, 'no line into a value that was not a number');
    assert.equal(curveValueAt(c, 0.9), null, 'a diverged value has no number');
    assert.equal(curveValueAt(c, 1.2), 1);
  });
});

describe('webview learning curves: what the panel shows', () => {
  it('a running experiment leads, over its parent\'s and the best\'s curve', () => {
    const store = storeOf([
      dto({ id: 0, status: 'keep', metric: 2.5, curve: [[0.2, 3.6], [0.6, 2.8], [1, 2.5]] }),
      dto({ id: 1, status: 'keep', metric: 2.2, curve: [[0.2, 3.2], [0.6, 2.88], [1, 2.2]] }),
      dto({ id: 2, parentId: 0, status: 'running', metric: null, decidedBy: null }),
    ], { bestId: 1 });
    const progress = new Map<number, Progress>([[2, { elapsedMs: 4000, budgetMs: 10_000, line: '', points: [[0.4, 3.1]] }]]);
    const pick = pickCurves(store, progress, null)!;
    assert.equal(pick.subject, 2);
    assert.equal(pick.running, true);
    assert.deepEqual(pick.lines.map((l) => [l.role, l.id]), [['run', 2], ['parent', 0], ['best', 1]]);
    assert.equal(pick.now, 0.4);
    assert.equal(describeCurves(pick, store), '#2 at 40 %: val_loss 3.1, parent #0 3.2 at the same point (#2 is better by 0.1), best #1 3.04 at the same point.');
  });

  it('the best is not drawn twice when it is the parent', () => {
    const store = session();
    const pick = pickCurves(store, new Map(), null)!;
    assert.equal(pick.subject, 2);
    assert.deepEqual(pick.lines.map((l) => [l.role, l.id]), [['run', 2], ['parent', 1]]);
    assert.match(describeCurves(pick, store), /^#2 at 20 %: val_loss 3\.6, parent #1 3\.5 at the same point \(#2 is worse by 0\.1\)\.$/);
  });

  it('a selected running experiment leads over another running one', () => {
    const store = storeOf([
      dto({ id: 0, status: 'keep', metric: 2.5, curve: [[1, 2.5]] }),
      dto({ id: 1, status: 'running', metric: null, decidedBy: null, curve: [[0.1, 3]] }),
      dto({ id: 2, status: 'running', metric: null, decidedBy: null, curve: [[0.1, 3]] }),
    ]);
    assert.equal(pickCurves(store, new Map(), null)!.subject, 2, 'the newest running one by default');
    assert.equal(pickCurves(store, new Map(), 1)!.subject, 1);
    assert.equal(pickCurves(store, new Map(), 0)!.subject, 2, 'a finished selection does not hide what runs');
  });

  it('a run that has printed nothing yet still leads, with its parent drawn and the words saying so', () => {
    const store = storeOf([
      dto({ id: 0, status: 'keep', metric: 2.5, curve: [[0.5, 3], [1, 2.5]] }),
      dto({ id: 1, status: 'running', metric: null, decidedBy: null }),
    ]);
    const progress = new Map<number, Progress>([[1, { elapsedMs: 1500, budgetMs: 10_000, line: 'loading data', points: [] }]]);
    const pick = pickCurves(store, progress, null)!;
    assert.deepEqual(pick.lines.map((l) => [l.role, l.id, l.points.length]), [['run', 1, 0], ['parent', 0, 2]]);
    assert.equal(describeCurves(pick, store), '#1 at 15 %: no val_loss yet; drawn: parent #0.');
  });

  it('with nothing running: the selected experiment against its parent, else the best; a crash without a curve says so', () => {
    const store = storeOf([
      dto({ id: 0, status: 'keep', metric: 2.5, curve: [[0.5, 3], [1, 2.5]] }),
      dto({ id: 1, status: 'keep', metric: 2.2, curve: [[0.5, 2.8], [1, 2.2]] }),
      dto({ id: 2, parentId: 1, status: 'discard', metric: 2.4, curve: [[0.5, 2.9], [1, 2.4]] }),
      dto({ id: 3, parentId: 1, status: 'crash', metric: null }),
    ], { bestId: 1, state: 'done' });
    const sel = pickCurves(store, new Map(), 2)!;
    assert.equal(sel.running, false);
    assert.deepEqual(sel.lines.map((l) => [l.role, l.id]), [['run', 2], ['parent', 1]]);
    assert.equal(sel.now, null);
    assert.equal(describeCurves(sel, store), '#2 at 100 %: val_loss 2.4, parent #1 2.2 at the same point (#2 is worse by 0.2).');
    const none = pickCurves(store, new Map(), null)!;
    assert.deepEqual(none.lines.map((l) => [l.role, l.id]), [['run', 1], ['parent', 0]], 'the best against its parent');
    const crash = pickCurves(store, new Map(), 3)!;
    assert.equal(describeCurves(crash, store), '#3: no curve (its run printed no val_loss on the way); drawn: parent #1.');
  });

  it('is hidden when no experiment has a curve, and for a bare results.tsv', () => {
    assert.equal(pickCurves(storeOf([dto({ id: 0, status: 'keep' }), dto({ id: 1, status: 'running', metric: null })]), new Map(), null), null);
    const file = storeOf([dto({ id: 0, status: 'keep', curve: [[1, 1]] })], { source: { kind: 'file', path: 'file:///r.tsv' } });
    assert.equal(pickCurves(file, new Map(), null), null);
  });

  it('lays the curves out by elapsed fraction of the budget: the leading one on top, a break where a value was not a number', () => {
    const store = storeOf([
      dto({ id: 0, status: 'keep', metric: 2.5, curve: [[0.25, 3], [0.5, 2.8], [1, 2.5]] }),
      dto({ id: 1, status: 'running', metric: null, decidedBy: null, curve: [[0.25, 3.1], [0.4, null], [0.5, 2.9]] }),
    ], { curveLabel: 'val loss' });
    const progress = new Map<number, Progress>([[1, { elapsedMs: 6000, budgetMs: 10_000, line: '' }]]);
    const s = computeCurves(pickCurves(store, progress, null)!, store, 600, 200);
    assert.deepEqual(s.paths.map((p) => [p.role, p.id]), [['parent', 0], ['run', 1]]);
    assert.equal(s.x(0), s.plot.left);
    assert.equal(s.x(1), s.plot.right, 'the whole budget spans the plot');
    assert.deepEqual(s.xTicks.map((t) => t.label), ['0 %', '25 %', '50 %', '75 %', '100 %']);
    const run = s.paths[1]!;
    assert.equal(run.segments.length, 2, 'NaN splits the line');
    assert.equal(run.segments[0]![0], s.x(0.25));
    assert.ok(Math.abs(run.last!.y - s.y(2.9)) < 1e-9);
    assert.ok(s.y(3.1) < s.y(2.5), 'a larger value is drawn higher (a smaller y on screen)');
    assert.equal(s.nowX, s.x(0.6));
    assert.equal(s.yLabel, 'val loss (lower is better)');
  });

  it('gives close values the digits to read apart, and the plot room for them beside the axis title', () => {
    // The e2e quickstart's best moved in the fifth digit: four digits read 0.2427, 0.2427, 0.2426.
    const store = storeOf([
      dto({ id: 0, status: 'keep', metric: 0.24349, curve: [[0.2, 0.24349]] }),
      dto({ id: 1, status: 'keep', metric: 0.24261, parentId: 0, curve: [[0.34, 0.24261]] }),
    ]);
    const s = computeCurves(pickCurves(store, new Map(), 1)!, store, 900, 160);
    const labels = s.yTicks.map((t) => t.label);
    assert.equal(new Set(labels).size, labels.length, labels.join(' '));
    const longest = Math.max(...labels.map((l) => l.length));
    assert.ok(longest >= 6, labels.join(' '));
    assert.ok(s.plot.left >= 26 + 6.6 * longest, `plot.left ${s.plot.left} for ${labels.join(' ')}`);
    assert.equal(s.x(0), s.plot.left);
  });

  it('a start far above the rest does not flatten the curves: it leaves through the top', () => {
    const pts: CurvePointDto[] = [[0.05, 40], ...Array.from({ length: 12 }, (_, i): CurvePointDto => [0.1 + i * 0.07, 3 - i * 0.05])];
    const store = storeOf([dto({ id: 0, status: 'running', metric: null, decidedBy: null, curve: pts })]);
    const s = computeCurves(pickCurves(store, new Map(), null)!, store, 600, 200);
    assert.equal(s.clipped, true);
    assert.ok(Math.max(...s.y.domain) < 10);
  });
});

describe('webview learning curves: the protocol', () => {
  it('a progress message carries its point through postMessage (JSON) intact', () => {
    const m: HostMessage = progressMsg(4, 3800, [0.38, 2.41]);
    const back = JSON.parse(JSON.stringify(m)) as HostMessage;
    assert.ok(isHostMessage(back));
    assert.deepEqual(back, m);
  });

  it('a node\'s journal curve goes into its DTO, a diverged value as null on purpose', () => {
    const d = nodeDto(fakeNode({ curve: [[0.1, 3], [0.2, NaN], [0.3, Infinity]] }));
    assert.deepEqual(d.curve, [[0.1, 3], [0.2, null], [0.3, null]]);
    assert.equal(nodeDto(fakeNode({})).curve, undefined, 'no curve, no key');
  });

  it('names the curve after the metric, or after the words before a progress pattern\'s value', () => {
    assert.equal(curveLabel('val_loss', null), 'val_loss');
    assert.equal(curveLabel('val_loss', 'step (\\d+).*val loss ([\\d.]+)'), 'val loss');
    assert.equal(curveLabel('val_loss', 'epoch \\d+/\\d+ loss (\\S+)'), 'loss');
    assert.equal(curveLabel('val_bpb', '"train_loss":\\s*(\\S+)'), 'train_loss');
    assert.equal(curveLabel('acc', "'eval_accuracy':\\s*([^,}]+)"), 'eval_accuracy');
    assert.equal(curveLabel('acc', '^(\\S+)$'), 'progress');
  });

  it('the host keeps a running node\'s points for a panel that opens mid-run, and forgets them when the run is decided', () => {
    const live = new LiveCurves();
    const ev = (nodeId: number, point?: [number, number]): Extract<ControllerEvent, { type: 'run-progress' }> =>
      ({ type: 'run-progress', nodeId, elapsedMs: 0, budgetMs: 1000, line: '', ...(point ? { point } : {}) });
    assert.equal(live.add(ev(1)), undefined, 'a clock-only event adds nothing');
    assert.deepEqual(live.add(ev(1, [0.1, 3])), [0.1, 3]);
    assert.deepEqual(live.add(ev(1, [0.2, NaN])), [0.2, null]);
    const running = fakeNode({ id: 1, status: 'running', curve: undefined });
    assert.deepEqual(live.dto(running).curve, [[0.1, 3], [0.2, null]]);
    const decided = fakeNode({ id: 1, status: 'keep', curve: [[0.1, 3], [1, 2]] });
    assert.deepEqual(live.dto(decided).curve, [[0.1, 3], [1, 2]], 'the journal\'s curve once it has one');
    live.prune({ get: () => decided } as unknown as SessionModel);
    assert.equal(live.get(1), undefined);
  });

  it('in a real session, the points the engine sends are the curve the journal keeps, and the session names it', { timeout: 60_000 }, async () => {
    const trainer = (final: number) => `import time
for i in range(8):
    print(f"step {i}: val loss {${final} + (8 - i) * 0.1:.4f}", flush=True)
    time.sleep(0.08)
print(f"val_loss: {${final}:.4f}")
`;
    const repo = faultRepo(withKeys({ budget: '3s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'" }), { 'train.py': trainer(1.0) });
    const s = inProcess(repo, new ScriptedProposer([trainer(0.9)]));
    const live = new LiveCurves();
    const sent = new Map<number, CurvePointDto[]>();
    s.controller.onEvent((e) => {
      if (e.type !== 'run-progress') return;
      const p = live.add(e);
      if (p) sent.set(e.nodeId, [...(sent.get(e.nodeId) ?? []), p]);
    });
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    for (const id of [0, 1]) {
      const n = outcome.model.get(id)!;
      assert.equal(n.curve?.length, 8, `#${id}: ${JSON.stringify(n.curve)}`);
      assert.deepEqual(sent.get(id), nodeDto(n).curve, `#${id}: the live points are the journal's curve`);
    }
    assert.equal(sessionDto(outcome.model).curveLabel, 'val loss');
  });
});
