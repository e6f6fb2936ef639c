// Which wins are real, in the results view (issue 17): the snapshot carries the core's verdict for every keep and
// the headline with how the noise was measured, for a live session and for an opened results.tsv; the webview's
// table marks each keep "real" or "≈ noise", explains it in a tooltip, sorts and filters by it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalRecord } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import { parseResults } from '../../../src/core/record/results.js';
import type { NoiseConfig } from '../../../src/core/types.js';
import type { WinsDto } from '../../../src/shared/protocol.js';
import { fileSnapshot, sessionDto, sessionNodes } from '../../../src/core/report/snapshot.js';
import { ResultsStore } from '../../../webview-ui/src/store.js';
import { cellText, tableRows, visibleColumns } from '../../../webview-ui/src/tableModel.js';
import type { TableQuery } from '../../../webview-ui/src/tableModel.js';
import { winDetail, winsHeadline } from '../../../webview-ui/src/wins.js';
import { chanceLine, powerLine } from '../../../src/core/report/summary.js';
import { fakeConfig } from '../helpers/nodes.js';
import { originalFile, tsv } from '../helpers/resultsFiles.js';
import { dto, storeOf } from '../helpers/webview.js';

type Row = [id: number, parent: number | null, operator: string, editKey: string, description: string, status: string, metric: number];

function session(noise: NoiseConfig | null, nodes: Row[]): SessionModel {
  let seq = 0;
  const records: JournalRecord[] = [{ seq: seq++, type: 'session', tag: 's1', config: fakeConfig({ noise }), baseCommit: 'a'.repeat(40), baseBranch: 'main', platform: null, startedAt: '2026-01-01T00:00:00.000Z' } as JournalRecord];
  for (const [id, parentId, operator, editKey, description, status, metric] of nodes) {
    records.push({ seq: seq++, type: 'node', node: { id, parentId, operator, commit: `${id}`.padStart(40, 'c'), description, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: '2026-01-01T00:00:00.000Z' } } as JournalRecord);
    records.push({ seq: seq++, type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: `${status} by rule`, decidedBy: 'rule' } as JournalRecord);
  }
  return SessionModel.fromRecords(records);
}

const REPEATS: Row[] = [
  [0, null, 'baseline', 'baseline', 'baseline', 'keep', 1],
  [1, 0, 'rerun', 'noise:0:1', 'baseline run 2 of 3 (noise estimate)', 'discard', 1.1],
  [2, 0, 'rerun', 'noise:0:2', 'baseline run 3 of 3 (noise estimate)', 'discard', 0.9],
  [3, 0, 'improve', 'k3', 'LR 0.1 -> 0.4', 'keep', 0.5],
  [4, 3, 'improve', 'k4', 'WIDTH 4 -> 8', 'keep', 0.45],
  [5, 3, 'improve', 'k5', 'LR 0.4 -> 0.8', 'discard', 0.6],
];

/** The original loop's 5 columns with a seed-only change (line 4) that moved val_bpb by 0.0007. */
const SEEDED = tsv(
  ['commit', 'val_bpb', 'memory_gb', 'status', 'description'],
  ['a1b2c3d', '0.997900', '44.0', 'keep', 'baseline'], // #0
  ['b2c3d4e', '0.993200', '44.2', 'keep', 'increase LR to 0.04'], // #1: gain 0.0047
  ['c3d4e5f', '0.993900', '44.2', 'discard', 'change seed 42 -> 1337'], // #2: same code as #1
  ['d4e5f6a', '0.992800', '44.2', 'keep', 'warmup 500 steps'], // #3: gain 0.0004
  ['e5f6a7b', '0.000000', '0.0', 'crash', 'double model width (OOM)'], // #4
  ['a7b8c9d', '0.984100', '44.1', 'keep', 'switch to GeLU activation'], // #5: gain 0.0087
);

function loaded(snap: { session: ReturnType<typeof sessionDto>; nodes: ReturnType<typeof sessionNodes> }): ResultsStore {
  const store = new ResultsStore();
  store.applySnapshot({ rev: 0, session: snap.session, nodes: snap.nodes });
  return store;
}

const q = (filter: string, sortKey: TableQuery['sortKey'] = 'id', sortDesc = false): TableQuery => ({ sortKey, sortDesc, filter, hidden: new Set() });
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

describe('snapshot: which wins are real', () => {
  it('a session with noise repeats carries every keep\'s verdict against its parent and the headline with how the noise was measured', () => {
    const m = session({ repeats: 3, z: 2, confirm: false }, REPEATS);
    const w = sessionDto(m).wins!;
    assert.equal(w.source, 'baseline-repeats');
    assert.ok(near(w.noise!, 0.1) && near(w.threshold!, 0.2), `${w.noise} ${w.threshold}`);
    assert.equal(w.larger, 1);
    assert.equal(w.headline, '1 of 2 keeps are larger than the noise (noise ±0.1, measured from 3 baseline runs (their pooled standard deviation); a keep must beat its parent by more than 0.2 = max(minDelta 0, 2 × 0.1))');
    assert.equal(w.hint, null);
    assert.deepEqual(w.keeps.map((k) => [k.id, k.against, k.verdict]), [[3, 0, 'larger'], [4, 3, 'within']]);
    assert.ok(near(w.keeps[0]!.gain, 0.5) && near(w.keeps[1]!.gain, 0.05));
  });

  it('a session that measured no noise says so and how to measure it', () => {
    const w = sessionDto(session(null, [REPEATS[0]!, REPEATS[3]!])).wins!;
    assert.equal(w.source, 'none');
    assert.deepEqual(w.keeps.map((k) => [k.id, k.verdict]), [[3, 'unknown']]);
    assert.match(w.hint!, /noise: \{repeats: 3\}/);
  });

  it('a results.tsv with no floor given estimates the noise from its seed-only run, in both directions while the direction is a guess', () => {
    const { session: s } = fileSnapshot(parseResults(SEEDED), 'file:///w/results.tsv', 'results.tsv');
    const w = s.wins!;
    assert.equal(w.source, 'log');
    assert.equal(w.noise, 0.0007);
    assert.equal(w.headline, '2 of 3 keeps are larger than the noise (noise ±0.0007, estimated from the log: the one difference between runs of the same code (line 4 against line 3: a seed-only change))');
    assert.deepEqual(w.keeps.map((k) => [k.id, k.against, k.gain, k.verdict]), [[1, 0, 0.0047, 'larger'], [3, 1, 0.0004, 'within'], [5, 3, 0.0087, 'larger']]);
    assert.equal(s.directionKnown, false);
    const flipped = s.winsIfFlipped!;
    assert.equal(flipped.larger, 0, 'every keep got worse if higher were better');
    assert.deepEqual(flipped.keeps.map((k) => [k.id, k.gain, k.verdict]), [[1, -0.0047, 'within'], [3, -0.0004, 'within'], [5, -0.0087, 'within']]);
  });

  it('a results.tsv with a floor given weighs the keeps against it; a direction that was given brings no flipped verdicts', () => {
    const { session: s } = fileSnapshot(parseResults(SEEDED, { direction: 'minimize' }), 'file:///w/results.tsv', 'results.tsv', new Date(), { noise: 0.005 });
    assert.equal(s.wins!.source, 'given');
    assert.equal(s.wins!.headline, '1 of 3 keeps are larger than the noise (noise ±0.005, given with --noise)');
    assert.deepEqual(s.wins!.keeps.map((k) => k.verdict), ['within', 'within', 'larger']);
    assert.equal(s.winsIfFlipped, undefined);
  });

  it('a results.tsv with nothing to estimate the noise from names the command that takes a floor', () => {
    const { session: s } = fileSnapshot(parseResults(originalFile()), 'file:///w/results.tsv', 'results.tsv');
    assert.equal(s.wins!.threshold, null);
    assert.ok(s.wins!.keeps.length > 0 && s.wins!.keeps.every((k) => k.verdict === 'unknown'));
    assert.equal(s.wins!.hint, 'run `autoresearch summary --from results.tsv --noise 0.0007` with a floor you know: how far val_bpb moves when only the seed changes');
  });
});

describe('webview: which wins are real', () => {
  it('marks each keep of a session "real" or "≈ noise" and says gain against noise in its tooltip', () => {
    const m = session({ repeats: 3, z: 2, confirm: false }, REPEATS);
    const store = loaded({ session: sessionDto(m), nodes: sessionNodes(m) });
    assert.ok(visibleColumns(false).some((c) => c.key === 'win'));
    assert.deepEqual([0, 1, 3, 4, 5].map((id) => cellText(store, id, 'win')), ['', '', 'real', '≈ noise', '']);
    assert.equal(winDetail(store, 3), 'larger than the noise: gains 0.5 over #0; a keep must gain more than 0.2 (noise ±0.1)');
    assert.equal(winDetail(store, 4), 'within the noise: gains 0.05 over #3; a keep must gain more than 0.2 (noise ±0.1)');
    assert.equal(winDetail(store, 5), null, 'a discard is not weighed');
    // With the spread measured, what chance alone would have kept and the rule's power, as the summary says them.
    const head = winsHeadline(store)!;
    assert.deepEqual({ ...head, more: [] }, { text: `${sessionDto(m).wins!.headline}.`, hint: null, more: [] });
    assert.deepEqual(head.more, [`${chanceLine(m)}.`, `${powerLine(m)}.`]);
    assert.match(head.more[0]!, /^By chance: at these settings a change that does nothing is kept about \d\.\d % of the time .*: had none of the 3 changes decided here done anything, about 0\.2 would have been kept; 2 were\.$/);
    assert.match(head.more[1]!, /^Power: at these settings a real gain of one spread \(0\.1\) is kept about \d+ % of the time, of two \d+ %\.$/);
  });

  it('filters with is:real and is:noise and sorts by how far a gain clears the noise', () => {
    const m = session({ repeats: 3, z: 2, confirm: false }, REPEATS);
    const store = loaded({ session: sessionDto(m), nodes: sessionNodes(m) });
    assert.deepEqual(tableRows(store, q('is:real')), [3]);
    assert.deepEqual(tableRows(store, q('is:noise')), [4]);
    assert.deepEqual(tableRows(store, q('is:real lr')), [3]);
    assert.deepEqual(tableRows(store, q('', 'win', true)).slice(0, 2), [3, 4], 'clearest first, unweighed rows last');
  });

  it('a results.tsv: the tooltip names the line weighed against, and flipping a guessed direction shows the flipped verdicts', () => {
    const store = loaded(fileSnapshot(parseResults(SEEDED), 'file:///w/results.tsv', 'results.tsv'));
    assert.ok(visibleColumns(true).some((c) => c.key === 'win'), 'a file has the column too');
    assert.deepEqual([1, 3, 5].map((id) => cellText(store, id, 'win')), ['real', '≈ noise', 'real']);
    assert.equal(winDetail(store, 3), 'within the noise: gains 0.0004 over #1 (line 3); a keep must gain more than 0.0007');
    store.directionOverride = 'maximize';
    store.invalidate();
    assert.deepEqual([1, 3, 5].map((id) => cellText(store, id, 'win')), ['≈ noise', '≈ noise', '≈ noise']);
    assert.equal(winDetail(store, 1), 'within the noise: is 0.0047 worse than #0 (line 2); a keep must gain more than 0.0007');
    assert.match(winsHeadline(store)!.text, /^0 of 3 keeps are larger than the noise/);
  });

  it('with no noise known the keeps carry no marker, the headline says how to know, and nothing is said before a keep', () => {
    const store = loaded(fileSnapshot(parseResults(originalFile()), 'file:///w/results.tsv', 'results.tsv'));
    assert.equal(cellText(store, 3, 'win'), '');
    assert.equal(winDetail(store, 3), 'gains 0.0005 over #0 (line 2); the noise is unknown');
    assert.deepEqual(tableRows(store, q('is:real')), []);
    assert.match(winsHeadline(store)!.hint!, /^To know: run `autoresearch summary --from results\.tsv --noise 0\.0007`/);
    const none: WinsDto = { headline: 'No keeps after the baseline; this session measured no noise', larger: 0, source: 'none', noise: null, threshold: null, how: '', hint: 'x', keeps: [] };
    assert.equal(winsHeadline(storeOf([dto({ id: 0, status: 'keep' })], { wins: none })), null);
    assert.equal(winsHeadline(storeOf([dto({ id: 0, status: 'keep' })])), null, 'an older host sends no verdicts');
  });
});
