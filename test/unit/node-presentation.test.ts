// How an experiment reads in the Experiments view when the session measures noise (the band in the tooltip,
// "within noise" on a move smaller than the keep threshold), and the model usage the results view totals.
// Plain data: no VS Code needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionModel } from '../../src/core/model.js';
import type { ResearchConfig } from '../../src/core/types.js';
import { presentNode, withinNoise } from '../../src/extension/tree/nodePresentation.js';
import { nodeDto, sessionDto } from '../../src/shared/snapshot.js';
import { fmtTokens } from '../../webview-ui/src/format.js';
import { fakeConfig } from './helpers/nodes.js';

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
