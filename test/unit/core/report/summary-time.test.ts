// The summary's time is the session's own (running and paused apart), not "now minus the start".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalRecord } from '../../../../src/core/record/journal.js';
import { SessionModel } from '../../../../src/core/model.js';
import { buildSummary } from '../../../../src/core/report/summary.js';
import { fakeConfig } from '../../helpers/nodes.js';

const t0 = Date.parse('2026-12-06T10:00:00.000Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
let seq = 0;
const records: JournalRecord[] = [
  { seq: seq++, type: 'session', tag: 't1', config: fakeConfig(), baseCommit: 'a'.repeat(40), baseBranch: 'main', platform: null, startedAt: at(0) },
  { seq: seq++, type: 'state', state: 'running', at: at(0) },
  { seq: seq++, type: 'state', state: 'paused', at: at(120) },
  { seq: seq++, type: 'state', state: 'running', at: at(180) },
  { seq: seq++, type: 'state', state: 'stopping', at: at(300) },
  { seq: seq++, type: 'state', state: 'stopped', at: at(301) },
  // Resumed the next morning for ten minutes.
  { seq: seq++, type: 'resume', at: at(86_400), pid: 1, config: fakeConfig() },
  { seq: seq++, type: 'state', state: 'running', at: at(86_400) },
  { seq: seq++, type: 'state', state: 'done', at: at(87_000) },
];

describe('the summary\'s time', () => {
  it('counts the session\'s running and paused time, and stays the same when read later', () => {
    const m = SessionModel.fromRecords(records);
    assert.deepEqual(m.activeTime(t0 + 999_999_000), { runningMs: (120 + 120 + 600) * 1000, pausedMs: 60_000 });
    const today = buildSummary(m, new Date(t0 + 87_001_000));
    const nextWeek = buildSummary(m, new Date(t0 + 7 * 86_400_000));
    const line = /^- Time: .*$/m.exec(today)![0];
    assert.match(line, /^- Time: 14:00 running, 1:00 paused, /);
    assert.equal(/^- Time: .*$/m.exec(nextWeek)![0], line);
  });

  it('a session still running counts up to now', () => {
    const m = SessionModel.fromRecords(records.slice(0, 2));
    assert.equal(m.activeTime(t0 + 90_000).runningMs, 90_000);
  });
});
