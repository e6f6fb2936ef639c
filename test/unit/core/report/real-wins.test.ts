// Which wins are real: every keep weighed against the noise (measured by the session, given with --noise, or
// estimated from a log's seed-only and repeated runs), a headline that says how many, and discards grouped by
// what they changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalRecord } from '../../../../src/core/record/journal.js';
import { SessionModel } from '../../../../src/core/model.js';
import { changeOf, logPairs, logWins, sessionWins } from '../../../../src/core/report/realWins.js';
import { parseResults } from '../../../../src/core/record/results.js';
import { buildSummary, summarizeResults } from '../../../../src/core/report/summary.js';
import type { NoiseConfig } from '../../../../src/core/types.js';
import { fakeConfig } from '../../helpers/nodes.js';
import { FOUR, originalFile, tsv } from '../../helpers/resultsFiles.js';

/** The original loop's 5 columns, with a seed-only change that moved val_bpb by 0.0007 (lines are 1-based, header 1). */
const SEEDED = tsv(
  ['commit', 'val_bpb', 'memory_gb', 'status', 'description'],
  ['a1b2c3d', '0.997900', '44.0', 'keep', 'baseline'], // line 2
  ['b2c3d4e', '0.993200', '44.2', 'keep', 'increase LR to 0.04'], // 3: gain 0.0047
  ['c3d4e5f', '0.993900', '44.2', 'discard', 'change seed 42 -> 1337'], // 4: same code as line 3, moved 0.0007
  ['d4e5f6a', '0.992800', '44.2', 'keep', 'warmup 500 steps'], // 5: gain 0.0004, within
  ['e5f6a7b', '0.000000', '0.0', 'crash', 'double model width (OOM)'],
  ['f6a7b8c', '0.993500', '44.3', 'discard', 'increase LR to 0.08'],
  ['a7b8c9d', '0.984100', '44.1', 'keep', 'switch to GeLU activation'], // 8: gain 0.0087
  ['b8c9d0e', '0.984600', '44.1', 'discard', 'decrease LR to 0.02'],
  ['c9d0e1f', '0.983900', '44.1', 'keep', 'weight_decay 0.1 -> 0.05'], // 10: gain 0.0002, within
  ['d0e1f2a', '0.984500', '44.1', 'discard', 'weight_decay 0.05 -> 0.2'],
);

describe('which wins of a results.tsv are real', () => {
  it('estimates the noise from a seed-only change, conservatively (the largest difference), and weighs every keep', () => {
    const p = parseResults(SEEDED);
    const wins = logWins(p.rows, 'minimize', null, 'val_bpb');
    assert.equal(wins.noise.source, 'log');
    assert.equal(wins.noise.value, 0.0007, 'to the places written, not 0.0007000000000000339');
    assert.deepEqual(wins.noise.pairs, [{ run: 'line 4', repeats: 'line 3', difference: 0.0007, why: 'a seed-only change' }]);
    assert.deepEqual(wins.keeps.map((k) => [k.keep.line, k.parent.line, k.gain, k.verdict]), [
      [3, 2, 0.0047, 'larger'], [5, 3, 0.0004, 'within'], [8, 5, 0.0087, 'larger'], [10, 8, 0.0002, 'within'],
    ]);
    assert.equal(wins.headline, '2 of 4 keeps are larger than the noise (noise ±0.0007, estimated from the log: the one difference between runs of the same code (line 4 against line 3: a seed-only change))');
    const md = summarizeResults(p, null, 'results.tsv');
    assert.match(md, /^\*\*2 of 4 keeps are larger than the noise \(noise ±0\.0007, estimated from the log/m);
    assert.match(md, /\| 1 \| `c9d0e1f` \| 0\.983900 \| 44\.1 \| weight_decay 0\.1 -> 0\.05 \| -0\.000200 \(-0\.0%\) \(line 8\) \| within noise \|/);
    assert.match(md, /\| 2 \| `a7b8c9d` \| 0\.984100 \| 44\.1 \| switch to GeLU activation \| -0\.008700 \(-0\.9%\) \(line 5\) \| larger than the noise \|/);
    assert.match(md, /## Runs of the same code \(the noise\)[\s\S]*- line 4 against line 3 \(a seed-only change\): val_bpb moved by 0\.0007/);
  });

  it('a keep exactly as large as the floor is not larger than it', () => {
    const p = parseResults(SEEDED);
    const wins = logWins(p.rows, 'minimize', 0.0047, 'val_bpb');
    assert.equal(wins.keeps[0]!.verdict, 'within', '0.0047 is not larger than 0.0047');
    assert.equal(wins.larger, 1);
  });

  it('a floor given with --noise wins over the estimate, in any layout (4 columns, no memory)', () => {
    const p = parseResults(FOUR);
    const md = summarizeResults(p, null, 'four.tsv', { noise: 0.01 });
    // 0.5204 -> 0.5110 gains 0.0094 (within 0.01); 0.5110 -> 0.4980 gains 0.0130 (larger).
    assert.match(md, /^\*\*1 of 2 keeps are larger than the noise \(noise ±0\.01, given with --noise\)\.\*\*$/m);
    assert.equal(logWins(parseResults(SEEDED).rows, 'minimize', 0.0003, 'val_bpb').noise.how, 'given with --noise');
  });

  it('with no noise given and nothing to estimate it from, says so and how to give it', () => {
    const p = parseResults(originalFile());
    const wins = logWins(p.rows, 'minimize', null, 'val_bpb');
    assert.equal(wins.noise.threshold, null);
    assert.ok(wins.keeps.every((k) => k.verdict === 'unknown'));
    const md = summarizeResults(p, null, 'results.tsv');
    assert.match(md, /\*\*Whether the 37 keeps are larger than the noise is unknown: no noise was given and the log has no seed-only or repeated runs to estimate it from\.\*\* To know: give a floor with --noise, e\.g\. --noise 0\.0007 \(how far val_bpb moves when only the seed changes\)\./);
    assert.match(md, /\| noise unknown \|/);
  });

  it('finds runs of the same code: a re-run of the parent, the same commit, the same description on the same parent; never across parents or with a crash', () => {
    const p = parseResults(tsv(
      ['commit', 'val_loss', 'status', 'description'],
      ['c0', '1.000', 'keep', 'baseline'], // line 2
      ['c1', '1.004', 'discard', 'baseline (re-run)'], // 3: re-run of line 2, 0.004
      ['c2', '0.990', 'discard', 'dropout 0.1'], // 4
      ['c3', '0.985', 'discard', 'dropout 0.1'], // 5: same description, same parent as line 4, 0.005
      ['c4', '0.950', 'keep', 'wider mlp'], // 6
      ['c5', '0.940', 'discard', 'dropout 0.1'], // 7: same description, another parent: not the same code
      ['c4', '0.958', 'discard', 'wider mlp, seed 7'], // 8: the same commit as line 6, 0.008
      ['c6', '0', 'crash', 'seed 8'], // 9: a crash measures nothing
      ['c7', '0.951', 'discard', 'rerun with seed 9'], // 10: seed-only change of line 6, 0.001
    ));
    assert.deepEqual(p.errors, []);
    assert.deepEqual(logPairs(p.rows).map((x) => [x.run, x.repeats, x.difference, x.why]), [
      ['line 3', 'line 2', 0.004, 'a re-run'],
      ['line 5', 'line 4', 0.005, 'the same description on the same parent'],
      ['line 8', 'line 6', 0.008, 'the same commit'],
      ['line 10', 'line 6', 0.001, 'a seed-only change'],
    ]);
    const wins = logWins(p.rows, 'minimize', null, 'val_loss');
    assert.equal(wins.noise.value, 0.008, 'the largest difference: conservative');
    assert.match(wins.headline, /^1 of 1 keep is larger than the noise \(noise ±0\.008, estimated from the log: the largest of 4 differences between runs of the same code \(line 8 against line 6: the same commit\)\)$/);
  });

  it('a description that names a change besides the seed is no seed-only run', () => {
    const p = parseResults(tsv(
      ['commit', 'val_bpb', 'memory_gb', 'status', 'description'],
      ['a', '0.9979', '44.0', 'keep', 'baseline'],
      ['b', '0.9900', '44.0', 'discard', 'seed 2 and LR 0.04'],
      ['c', '0.9950', '44.0', 'discard', 'depth 12 (seed 3)'],
    ));
    assert.deepEqual(logPairs(p.rows), []);
  });
});

describe('discards grouped by what they changed', () => {
  it('names the hyperparameter, the file, or else the leading words', () => {
    const cases: [string, string][] = [
      ['LR 0.1 -> 0.4', 'lr'],
      ['increase LR to 0.04', 'lr'],
      ['decrease lr from 0.04 to 0.02', 'lr'],
      ['lr=0.02', 'lr'],
      ['ACT "relu" -> "gelu"', 'act'],
      ['config.yaml: optimizer.lr 0.001 -> 0.002', 'config.yaml: optimizer.lr'],
      ['try a larger weight_decay', 'weight_decay'],
      ['rewrite model.py attention', 'model.py'],
      ['switch to GeLU activation', 'gelu activation'],
      ['add weight decay 0.1', 'weight decay'],
      ['idea 12', 'idea'],
      ['LR 0.1 -> 0.2 [discard by human; rule said keep]', 'lr'],
    ];
    for (const [description, change] of cases) assert.equal(changeOf(description), change, description);
  });

  it('the summary of a file lists each change with its discards and how many keeps changed the same', () => {
    const md = summarizeResults(parseResults(SEEDED), null, 'results.tsv');
    const section = md.slice(md.indexOf('## What did not work, by what it changed'), md.indexOf('## Runs of the same code'));
    assert.equal(section.trim(), [
      '## What did not work, by what it changed',
      '',
      '- **lr**: 2 discarded, 1 kept',
      '  - `f6a7b8c` 0.993500: increase LR to 0.08 (line 7)',
      '  - `b8c9d0e` 0.984600: decrease LR to 0.02 (line 9)',
      '- **seed**: 1 discarded',
      '  - `c3d4e5f` 0.993900: change seed 42 -> 1337 (line 4)',
      '- **weight_decay**: 1 discarded, 1 kept',
      '  - `d0e1f2a` 0.984500: weight_decay 0.05 -> 0.2 (line 11)',
    ].join('\n'));
  });
});

/** A session's model from journal records: a baseline and its repeats, experiments, re-runs. */
function session(noise: NoiseConfig | null, nodes: [id: number, parent: number | null, operator: string, editKey: string, description: string, status: string, metric: number | null][]): SessionModel {
  let seq = 0;
  const records: JournalRecord[] = [{ seq: seq++, type: 'session', tag: 's1', config: fakeConfig({ noise }), baseCommit: 'a'.repeat(40), baseBranch: 'main', platform: null, startedAt: '2026-01-01T00:00:00.000Z' } as JournalRecord];
  for (const [id, parentId, operator, editKey, description, status, metric] of nodes) {
    records.push({ seq: seq++, type: 'node', node: { id, parentId, operator, commit: `${id}`.padStart(40, 'c'), description, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: '2026-01-01T00:00:00.000Z' } } as JournalRecord);
    records.push({ seq: seq++, type: 'decide', id, status, metric, memoryGb: null, secondary: {}, reason: `${status} by rule`, decidedBy: 'rule' } as JournalRecord);
  }
  return SessionModel.fromRecords(records);
}

describe('which wins of a session are real', () => {
  it('measured from the baseline runs (noise: {repeats: 3}): the same band the judge used', () => {
    const m = session({ repeats: 3, z: 2, confirm: false }, [
      [0, null, 'baseline', 'baseline', 'baseline', 'keep', 1],
      [1, 0, 'rerun', 'noise:0:1', 'baseline run 2 of 3 (noise estimate)', 'discard', 1.1],
      [2, 0, 'rerun', 'noise:0:2', 'baseline run 3 of 3 (noise estimate)', 'discard', 0.9],
      [3, 0, 'improve', 'k3', 'LR 0.1 -> 0.4', 'keep', 0.5],
      [4, 3, 'improve', 'k4', 'WIDTH 4 -> 8', 'keep', 0.45], // a human keep within noise
      [5, 3, 'improve', 'k5', 'LR 0.4 -> 0.8', 'discard', 0.6],
      [6, 4, 'improve', 'k6', 'LR 0.4 -> 0.2', 'discard', 0.55],
      [7, 4, 'improve', 'k7', 'ACT relu -> gelu', 'discard', 0.47],
    ]);
    const wins = sessionWins(m);
    assert.equal(wins.noise.source, 'baseline-repeats');
    assert.deepEqual(wins.keeps.map((k) => [k.keep.id, k.verdict]), [[3, 'larger'], [4, 'within']]);
    assert.equal(wins.headline, '1 of 2 keeps are larger than the noise (noise ±0.1, measured from 3 baseline runs (their pooled standard deviation); a keep must beat its parent by more than 0.2 = max(minDelta 0, 2 × 0.1))');
    const md = buildSummary(m);
    assert.match(md, /^\*\*1 of 2 keeps are larger than the noise \(noise ±0\.1, measured from 3 baseline runs/m);
    assert.match(md, /\| #3 \(from #0\) \| .* \| -0\.5 \(-50\.0%\), larger than the noise \|/);
    assert.match(md, /\| #4 \(from #3\) \| .* \| -0\.05 \(-10\.0%\), within noise \|/);
    assert.match(md, /### lr: 2 discarded, 1 kept\n\n\| node \| val_loss \| change \| why \|\n\|---\|---\|---\|---\|\n\| #5 \(from #3\) .*\n\| #6 \(from #4\) /);
    assert.match(md, /### act: 1 discarded\n/);
    assert.doesNotMatch(md, /noise estimate/, 'the baseline repeats are not discards');
  });

  it('measured from re-runs of the same code when the session has no noise config', () => {
    const m = session(null, [
      [0, null, 'baseline', 'baseline', 'baseline', 'keep', 1],
      [1, 0, 'improve', 'k1', 'LR 0.1 -> 0.4', 'keep', 0.9],
      [2, 1, 'improve', 'k2', 'WIDTH 4 -> 8', 'keep', 0.88],
      [3, 1, 'rerun', 'rerun:3', 're-run of #1 (noise check)', 'discard', 0.93],
    ]);
    const wins = sessionWins(m);
    assert.equal(wins.noise.source, 'reruns');
    assert.ok(Math.abs(wins.noise.value! - 0.03) < 1e-12);
    assert.deepEqual(wins.keeps.map((k) => [k.keep.id, k.verdict]), [[1, 'larger'], [2, 'within']]);
    assert.match(wins.headline, /^1 of 2 keeps are larger than the noise \(noise ±0\.03, measured from 1 re-run of the same code: the largest difference, #3 against #1: a re-run\)$/);
  });

  it('says when the session measured no noise, and how to measure it', () => {
    const m = session(null, [
      [0, null, 'baseline', 'baseline', 'baseline', 'keep', 1],
      [1, 0, 'improve', 'k1', 'LR 0.1 -> 0.4', 'keep', 0.9],
    ]);
    const md = buildSummary(m);
    assert.match(md, /\*\*Whether the 1 keep is larger than the noise is unknown: this session measured no noise\.\*\* To know: add `noise: \{repeats: 3\}` to autoresearch\.config\.yaml/);
    assert.doesNotMatch(md, /within noise|larger than the noise \(/);
  });
});
