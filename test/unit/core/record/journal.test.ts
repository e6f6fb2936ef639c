// The journal survives a kill at any instant: torn tails are dropped and reported, numbers survive.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Journal } from '../../../../src/core/record/journal.js';
import { SessionModel } from '../../../../src/core/model.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('journal', () => {
  it('appends records with sequence numbers and reads them back, NaN and Infinity included', () => {
    const path = join(dir, 'a.jsonl');
    const j = Journal.open(path);
    j.append({ type: 'hint', hint: { id: 0, text: 'x', addedAt: 't', takenBy: null } });
    j.append({ type: 'decide', id: 1, status: 'crash', metric: NaN, memoryGb: Infinity, secondary: {}, reason: 'nan', decidedBy: 'rule' });
    j.close();
    const recs = Journal.read(path);
    assert.deepEqual(recs.map((r) => r.seq), [0, 1]);
    const d = recs[1]!;
    assert.ok(d.type === 'decide' && Number.isNaN(d.metric) && d.memoryGb === Infinity);
  });

  it('drops a torn last line left by a kill mid-write, reports it, and appends after the last whole record', () => {
    const path = join(dir, 'b.jsonl');
    const j = Journal.open(path);
    j.append({ type: 'state', state: 'running', at: 't' });
    j.close();
    appendFileSync(path, '{"seq":1,"type":"state","sta');
    const k = Journal.open(path);
    assert.equal(k.records.length, 1);
    assert.match(k.recovery.notes.join('\n'), /line 2: dropped a partial last record/);
    k.append({ type: 'state', state: 'done', at: 't' });
    k.close();
    const text = readFileSync(path, 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, 2);
    assert.deepEqual(Journal.read(path).map((r) => r.seq), [0, 1]);
  });

  it('notices a write by someone else and puts back what it wrote', () => {
    const path = join(dir, 'c.jsonl');
    const j = Journal.open(path);
    j.append({ type: 'state', state: 'running', at: 't' });
    assert.equal(j.tampered(), false);
    writeFileSync(path, 'forged\n');
    assert.equal(j.tampered(), true);
    j.restore();
    assert.equal(j.tampered(), false);
    assert.equal(Journal.read(path).length, 1);
    j.close();
  });

  it('a model replayed from records equals the live one, and human overrides keep the rule decision', () => {
    const path = join(dir, 'd.jsonl');
    const j = Journal.open(path);
    const live = new SessionModel();
    const add = (e: Parameters<Journal['append']>[0]) => live.apply(j.append(e));
    add({ type: 'session', tag: 't', config: { metric: { name: 'm', direction: 'minimize', pattern: '' } } as never, baseCommit: 'c0', baseBranch: 'main', platform: null, startedAt: 't' });
    const node = (id: number, parentId: number | null) => ({ id, parentId, operator: 'improve' as const, commit: `c${id}`, description: `n${id}`, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: 'r', proposer: { kind: 'x' }, hint: null, createdAt: 't' });
    add({ type: 'node', node: node(0, null) });
    add({ type: 'decide', id: 0, status: 'keep', metric: 1, memoryGb: null, secondary: {}, reason: 'baseline', decidedBy: 'rule' });
    add({ type: 'node', node: node(1, 0) });
    add({ type: 'decide', id: 1, status: 'discard', metric: 1.2, memoryGb: null, secondary: {}, reason: 'worse', decidedBy: 'rule' });
    add({ type: 'node', node: node(2, 0) });
    add({ type: 'decide', id: 2, status: 'keep', metric: 0.5, memoryGb: null, secondary: {}, reason: 'better', decidedBy: 'rule' });
    assert.equal(live.best?.id, 2);
    add({ type: 'decide', id: 2, status: 'discard', metric: null, memoryGb: null, secondary: {}, reason: 'looks like a leak', decidedBy: 'human' });
    assert.equal(live.best?.id, 0, 'demoting the best falls back to the next best');
    assert.equal(live.get(2)!.metric, 0.5, 'an override keeps the measurement');
    assert.equal(live.get(2)!.ruleStatus, 'keep');
    assert.equal(live.decidedCount, 2, 'an override is not a new experiment');
    j.close();
    const replayed = SessionModel.fromRecords(Journal.read(path));
    assert.deepEqual(replayed.nodes, live.nodes);
    assert.equal(replayed.best?.id, 0);
  });
});
