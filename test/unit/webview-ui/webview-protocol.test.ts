// The message protocol and the DTOs the host builds from the engine's model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalRecord } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import { isHostMessage, isWebviewMessage } from '../../../src/shared/protocol.js';
import type { HostMessage } from '../../../src/shared/protocol.js';
import { nodeDto, sessionDto, sessionNodes } from '../../../src/core/report/snapshot.js';
import { ResultsStore } from '../../../webview-ui/src/store.js';
import { fakeConfig, fakeNode } from '../helpers/nodes.js';

function model(): SessionModel {
  const records: JournalRecord[] = [];
  let seq = 0;
  const add = (r: Record<string, unknown>) => records.push({ ...r, seq: seq++ } as unknown as JournalRecord);
  add({ type: 'session', tag: 'nov25', config: fakeConfig({ tag: 'nov25', budgetText: '5m', budgetSeconds: 300, maxExperiments: 12 }), baseCommit: 'b'.repeat(40), baseBranch: 'main', platform: null, startedAt: '2025-11-25T10:00:00.000Z' });
  const node = (id: number, parentId: number | null) => {
    const n = fakeNode({ id, parentId, description: `n${id}` });
    add({ type: 'node', node: { id, parentId, operator: n.operator, commit: `${id}`.repeat(7), description: n.description, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: n.createdAt } });
  };
  node(0, null);
  add({ type: 'start', id: 0, slot: 0, startedAt: '2025-11-25T10:00:01.000Z', logPath: '/l/0.log' });
  add({ type: 'finish', id: 0, run: { exitCode: 0, signal: null, timedOut: false, wallMs: 1200, logPath: '/l/0.log' }, finishedAt: '2025-11-25T10:00:02.200Z' });
  add({ type: 'decide', id: 0, status: 'keep', metric: 0.36, memoryGb: 0.1, secondary: {}, reason: 'baseline', decidedBy: 'rule' });
  node(1, 0);
  add({ type: 'decide', id: 1, status: 'crash', metric: NaN, memoryGb: null, secondary: {}, reason: 'val_loss is nan', decidedBy: 'rule' });
  node(2, 0);
  add({ type: 'decide', id: 2, status: 'keep', metric: 0.2, memoryGb: 0.1, secondary: {}, reason: 'improved', decidedBy: 'rule' });
  node(3, 2);
  add({ type: 'start', id: 3, slot: 0, startedAt: '2025-11-25T10:01:00.000Z', logPath: '/l/3.log' });
  add({ type: 'state', state: 'running', at: '2025-11-25T10:00:00.500Z' });
  return SessionModel.fromRecords(records);
}

describe('webview protocol', () => {
  it('accepts only well-formed intents from the webview (it is untrusted input)', () => {
    assert.equal(isWebviewMessage({ type: 'ready' }), true);
    assert.equal(isWebviewMessage({ type: 'open-diff', nodeId: 3 }), true);
    assert.equal(isWebviewMessage({ type: 'select', nodeId: null }), true);
    assert.equal(isWebviewMessage({ type: 'export', view: 'tree', format: 'png', data: 'data:image/png;base64,AA', fileName: 't.png' }), true);
    for (const bad of [null, 'ready', {}, { type: 'open-diff', nodeId: '3' }, { type: 'open-diff', nodeId: -1 }, { type: 'open-diff', nodeId: 1.5 },
      { type: 'export', view: 'table', format: 'svg', data: '', fileName: 'x' }, { type: 'export', view: 'chart', format: 'gif', data: '', fileName: 'x' },
      { type: 'run-command', command: 'rm -rf' }]) {
      assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
    }
    assert.equal(isHostMessage({ type: 'snapshot', rev: 0, session: null, nodes: [] }), true);
    assert.equal(isHostMessage({ type: 'other' }), false);
  });

  it('builds a snapshot from the engine model that survives JSON (postMessage) intact', () => {
    const m = model();
    const session = sessionDto(m, new Date('2025-11-25T10:02:00Z'));
    assert.deepEqual({ ...session, hostNow: undefined }, {
      source: { kind: 'session' }, title: 'nov25', metricName: 'val_loss', direction: 'minimize', directionKnown: true,
      budgetSeconds: 300, budgetText: '5m', maxExperiments: 12, parallel: 1, startedAt: '2025-11-25T10:00:00.000Z',
      state: 'running', stateReason: null, bestId: 2, errors: [], hostNow: undefined, curveLabel: 'val_loss', wins: session.wins,
    });
    assert.deepEqual(session.wins!.keeps.map((k) => [k.id, k.against, k.verdict]), [[2, 0, 'unknown']], 'no noise measured yet');
    const nodes = sessionNodes(m);
    assert.deepEqual(nodes.map((n) => [n.id, n.status, n.metric]), [[0, 'keep', 0.36], [1, 'crash', null], [2, 'keep', 0.2], [3, 'running', null]]);
    assert.equal(nodes[0]!.wallMs, 1200);
    const msg: HostMessage = { type: 'snapshot', rev: 1, session, nodes };
    const back = JSON.parse(JSON.stringify(msg)) as HostMessage;
    assert.deepEqual(back, msg, 'a NaN metric would have become null silently; the DTO makes it null on purpose');
    const store = new ResultsStore();
    assert.ok(back.type === 'snapshot');
    store.applySnapshot(back);
    assert.equal(store.bestId, 2);
    assert.deepEqual(store.pathTo(3), [0, 2, 3]);
  });

  it('keeps the DTO small: no plan, log tail or proposer details cross the wire', () => {
    const dto = nodeDto(fakeNode({ plan: 'x'.repeat(10_000), logTail: 'y'.repeat(10_000) }));
    assert.ok(JSON.stringify(dto).length < 500);
  });
});
