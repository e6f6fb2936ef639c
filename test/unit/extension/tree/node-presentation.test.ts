// How an experiment reads in the Experiments view when the session measures noise (the band in the tooltip,
// "within noise" on a move smaller than the keep threshold), and the model usage the results view totals.
// Plain data: no VS Code needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionModel } from '../../../../src/core/model.js';
import type { ResearchConfig } from '../../../../src/core/types.js';
import { expandedByDefault, presentNode, runLogHeader, withinNoise } from '../../../../src/extension/tree/nodePresentation.js';
import { nodeDto, sessionDto } from '../../../../src/core/report/snapshot.js';
import { fmtTokens } from '../../../../src/shared/format.js';
import { fakeConfig } from '../../helpers/nodes.js';

function session(config: ResearchConfig): SessionModel {
  const m = new SessionModel();
  let seq = 0;
  const rec = (e: object) => m.apply({ seq: seq++, ...e } as never);
  rec({ type: 'session', tag: 't', config, baseCommit: 'c', baseBranch: null, platform: null, startedAt: '2026-11-30T12:00:00Z' });
  const node = (id: number, parentId: number | null, operator: string, editKey: string, description: string) => rec({ type: 'node', node: {
    id, parentId, operator, commit: 'c0ffee0', description, plan: '', editKey, changedFiles: ['train.py'], policyReason: 'why', proposer: { kind: 'mutate' }, hint: null, createdAt: 't',
  } });
  const decide = (id: number, status: string, metric: number) => rec({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: 'because', decidedBy: 'rule' });
  node(0, null, 'baseline', 'baseline', 'baseline');
  decide(0, 'keep', 1);
  node(1, 0, 'rerun', 'noise:0:1', 'noise run');
  decide(1, 'discard', 1.1);
  node(2, 0, 'rerun', 'noise:0:2', 'noise run');
  decide(2, 'discard', 0.9);
  node(3, 0, 'improve', 'a', 'LR 0.1 -> 0.2');
  decide(3, 'discard', 0.85);
  node(4, 0, 'improve', 'b', 'LR 0.1 -> 0.4');
  decide(4, 'keep', 0.5);
  return m;
}

describe('the Experiments view with a noise band', () => {
  const noisy = session(fakeConfig({ noise: { repeats: 3, z: 2, confirm: false }, minDelta: 0 }));
  const ctx = { model: noisy, active: false, now: Date.now() };

  it('marks a move inside the band as within noise, and one beyond it not', () => {
    assert.equal(withinNoise(noisy.get(3)!, noisy.get(0), noisy), true);
    assert.equal(withinNoise(noisy.get(4)!, noisy.get(0), noisy), false);
    assert.match(presentNode(noisy.get(3)!, ctx).description, /within noise/);
    assert.doesNotMatch(presentNode(noisy.get(4)!, ctx).description, /within noise/);
  });

  it('states the band, how it was measured and where the change falls in the tooltip', () => {
    // The tooltip is Markdown: read it without its escapes.
    const tip = presentNode(noisy.get(3)!, ctx).tooltip.replace(/\\(.)/g, '$1');
    assert.match(tip, /\| noise band \| ±0\.2 \(2 × spread 0\.1 from 3 baseline runs\) · this change is within noise \|/);
    assert.match(presentNode(noisy.get(4)!, ctx).tooltip, /this change is beyond noise/);
    // With noise.alpha, the z it chose and why: the session journals z 2.41 for alpha 2.5 %.
    const alpha = session(fakeConfig({ noise: { repeats: 3, z: 2.41, alpha: 0.025, confirm: false }, minDelta: 0 }));
    const tipAlpha = presentNode(alpha.get(3)!, { model: alpha, active: false, now: Date.now() }).tooltip.replace(/\\(.)/g, '$1');
    assert.match(tipAlpha, /\| noise band \| ±0\.241 \(2\.41, chosen for alpha 2\.5 %, × spread 0\.1 from 3 baseline runs\)/);
  });

  it('tells the results view which runs only measured noise, so its headline does not count them', () => {
    assert.equal(nodeDto(noisy.get(1)!).measurement, true);
    assert.equal(nodeDto(noisy.get(3)!).measurement, undefined);
  });

  it('says nothing about noise in a session that does not measure it', () => {
    const plain = session(fakeConfig({ noise: null }));
    const p = presentNode(plain.get(3)!, { model: plain, active: false, now: Date.now() });
    assert.equal(withinNoise(plain.get(3)!, plain.get(0), plain), null);
    assert.doesNotMatch(p.description, /noise/);
    assert.doesNotMatch(p.tooltip, /noise band/);
  });
});

describe('model usage in the results view', () => {
  it('totals the tokens and cost of the proposals, and says nothing when no model was used', () => {
    const m = session(fakeConfig({ noise: null }));
    assert.equal(sessionDto(m).usage, undefined, 'mutate reports no tokens');
    m.get(3)!.proposer = { kind: 'openai-compatible', model: 'm', tokensIn: 1200, tokensOut: 300, costUsd: 0.01 };
    m.get(4)!.proposer = { kind: 'openai-compatible', model: 'm', tokensIn: 2000, tokensOut: 500 };
    assert.deepEqual(sessionDto(m).usage, { tokensIn: 3200, tokensOut: 800, costUsd: 0.01 });
    assert.deepEqual([fmtTokens(800), fmtTokens(3200), fmtTokens(2_500_000)], ['800', '3.2k', '2.5M']);
  });
});

describe('the Experiments view finds the best', () => {
  /** #0 → #1 (discard) → #3 (discard), #0 → #2 (keep) → #4 (keep, the best) → #5 (running), #2 → #6 (discard) → #7. */
  function tree(): SessionModel {
    const m = new SessionModel();
    let seq = 0;
    const rec = (e: object) => m.apply({ seq: seq++, ...e } as never);
    rec({ type: 'session', tag: 't', config: fakeConfig({ noise: null }), baseCommit: 'c', baseBranch: null, platform: null, startedAt: '2026-11-30T12:00:00Z' });
    const node = (id: number, parentId: number | null, description: string) => rec({ type: 'node', node: {
      id, parentId, operator: 'improve', commit: 'c0ffee0', description, plan: '', editKey: `k${id}`, changedFiles: ['train.py'], policyReason: 'why', proposer: { kind: 'mutate' }, hint: null, createdAt: 't',
    } });
    const decide = (id: number, status: string, metric: number) => rec({ type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: `${status} by the rule`, decidedBy: 'rule' });
    node(0, null, 'baseline'); decide(0, 'keep', 1);
    node(1, 0, 'LR 0.1 → 0.2'); decide(1, 'discard', 1.2);
    node(2, 0, 'LR 0.1 → 0.05'); decide(2, 'keep', 0.8);
    node(3, 1, 'WD 0 → 0.1'); decide(3, 'discard', 1.3);
    node(4, 2, 'DEPTH 4 → 6'); decide(4, 'keep', 0.6);
    node(6, 2, 'DROPOUT 0 → 0.1'); decide(6, 'discard', 0.9);
    node(7, 6, 'DROPOUT 0.1 → 0.2'); decide(7, 'discard', 0.95);
    node(5, 4, ''); rec({ type: 'start', id: 5, slot: 0, startedAt: '2026-11-30T12:01:00Z', logPath: '/logs/5.log' });
    return m;
  }

  it('numbers every row: the label starts with the experiment number', () => {
    const m = tree();
    const ctx = { model: m, active: true, now: Date.now() };
    assert.equal(presentNode(m.get(2)!, ctx).label, '#2 LR 0.1 → 0.05');
    assert.equal(presentNode(m.get(0)!, ctx).label, '#0 baseline');
    assert.equal(presentNode(m.get(5)!, ctx).label, '#5', 'a node without a description yet is its number');
    assert.match(presentNode(m.get(4)!, ctx).accessibilityLabel, /^#4 DEPTH 4 → 6, keep, val_loss 0\.6, best so far$/);
  });

  it('opens the way to the best and to the running experiment, and leaves dead branches closed', () => {
    const m = tree();
    assert.equal(m.best!.id, 4);
    const open = expandedByDefault(m);
    for (const id of [0, 2, 4]) assert.ok(open.has(id), `#${id} leads to the best or the running #5`);
    for (const id of [1, 6]) assert.ok(!open.has(id), `#${id} is a branch without the best`);
  });

  it('heads a run log with whose it is, how it was decided and where the file is', () => {
    const m = tree();
    const header = runLogHeader({ ...m.get(4)!, logPath: '/logs/4.log', wallMs: 12_300, exitCode: 0 }, m, Date.now());
    assert.deepEqual(header.slice(0, 4), [
      '# Run log of #4 DEPTH 4 → 6 · session t',
      '# keep, decided by the rule: keep by the rule',
      '# val_loss 0.6  Δ -0.2 (-25.0%) · 0:12 of a 60s budget · exit 0',
      '# file: /logs/4.log',
    ]);
    assert.match(runLogHeader(m.get(5)!, m, Date.parse('2026-11-30T12:01:07Z'))[1]!, /^# running 0:07 of a 60s budget/);
  });

  it('shows a running clock as the status bar writes it, and stops saying "running" once the run has ended', () => {
    const m = tree();
    const now = Date.parse('2026-11-30T12:01:04.9Z');
    const running = presentNode(m.get(5)!, { model: m, active: true, now });
    assert.equal(running.description, 'running 0:04 / 1:00');
    assert.match(running.accessibilityLabel, /^#5, running$/);
    // The finish is journaled before the decision: in between, the node is read, checked and judged.
    m.apply({ seq: 100, type: 'finish', id: 5, run: { exitCode: 0, signal: null, timedOut: false, wallMs: 4200, startError: null }, finishedAt: '2026-11-30T12:01:04.2Z' } as never);
    const deciding = presentNode(m.get(5)!, { model: m, active: true, now: now + 3000 });
    assert.equal(deciding.description, 'ran 4.2 s · deciding…');
    assert.match(deciding.accessibilityLabel, /^#5, deciding$/);
    assert.match(deciding.tooltip, /\*\*deciding\*\*/);
    assert.equal(runLogHeader(m.get(5)!, m, now + 3000)[1], '# ran 4.2 s of a 60s budget; deciding…');
  });
});
