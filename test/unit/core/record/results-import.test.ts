// Any team's results.tsv: columns found by header name, secondary metrics kept, numbers shown as written,
// unreadable rows named by line, and one direction rule (given, config, name, kept rows, default).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseDirection, formatResults, parseResults, resultsHeader, whyUnreadable } from '../../../../src/core/record/results.js';
import { summarizeResults } from '../../../../src/core/report/summary.js';
import { fileSnapshot } from '../../../../src/core/report/snapshot.js';
import { fakeNode } from '../../helpers/nodes.js';
import { CV_THIRD, FOUR, NINE, originalFile, tsv, UNREADABLE } from '../../helpers/resultsFiles.js';

describe('results.tsv from any team: columns by header name', () => {
  it('reads the original 5 columns (126 rows): val_bpb is the metric, memory_gb is memory, numbers keep their text', () => {
    const p = parseResults(originalFile());
    assert.deepEqual(p.errors, []);
    assert.equal(p.rows.length, 126);
    assert.deepEqual(p.columns, { header: ['commit', 'val_bpb', 'memory_gb', 'status', 'description'], metric: 'val_bpb', metricWhy: 'the first numeric column after commit', secondary: ['memory_gb'], other: [] });
    assert.equal(p.rows[0]!.metricText, '0.997900');
    assert.equal(p.rows[0]!.memoryGb, 44);
    assert.equal(p.rows[7]!.status, 'crash');
    assert.equal(p.rows[7]!.metric, null, 'a crash has no metric, not 0');
    assert.deepEqual([p.direction.direction, p.direction.basis], ['minimize', 'name']);
    const kept = p.rows.filter((r) => r.status === 'keep');
    assert.equal(p.best, p.rows.indexOf(kept.at(-1)!), 'the last keep of a greedy loop is the best');
    const md = summarizeResults(p, null, 'results.tsv');
    assert.match(md, new RegExp(`\\*\\*val_bpb: 0\\.997900 → ${kept.at(-1)!.metricText.replace('.', '\\.')}\\*\\*`));
    assert.match(md, /- Rows: 126 \(38 kept, 76 discarded, 12 crashed\)/);
    assert.match(md, /\| # \| commit \| val_bpb \| memory_gb \| description \|/);
  });

  it("still reads the engine's own file, whose 5-column header is unchanged", () => {
    assert.equal(resultsHeader('val_loss'), 'commit\tval_loss\tmemory_gb\tstatus\tdescription\n');
    const text = formatResults('val_loss', [
      fakeNode({ id: 0, commit: 'a'.repeat(40), metric: 1.25, memoryGb: 2, status: 'keep', description: 'baseline', decidedBy: 'rule' }),
      fakeNode({ id: 1, commit: null, metric: null, memoryGb: null, status: 'invalid', description: 'touched prepare.py', decidedBy: 'rule' }),
      fakeNode({ id: 2, commit: 'c'.repeat(40), metric: 1.2, memoryGb: 2.5, status: 'keep', description: 'wider', decidedBy: 'rule' }),
    ]);
    const p = parseResults(text);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.rows.map((r) => [r.commit, r.metricText, r.memoryGb, r.status]), [['aaaaaaa', '1.250000', 2, 'keep'], ['-------', '0.000000', 0, 'invalid'], ['ccccccc', '1.200000', 2.5, 'keep']]);
    assert.equal(p.best, 2);
  });

  it('reads 4 columns with no memory column: no memory, no secondary metric', () => {
    const p = parseResults(FOUR);
    assert.deepEqual(p.errors, []);
    assert.equal(p.rows.length, 4);
    assert.equal(p.metricName, 'val_rmse');
    assert.deepEqual(p.columns!.secondary, []);
    assert.ok(p.rows.every((r) => r.memoryGb === null && Object.keys(r.secondary).length === 0));
    assert.equal(p.rows[p.best!]!.commit, 'd4e5f6a');
    const md = summarizeResults(p, null, 'four.tsv');
    assert.match(md, /\*\*val_rmse: 0\.5204 → 0\.4980\*\* \(-0\.0224 \(-4\.3%\), lower is better\)/);
    assert.doesNotMatch(md, /memory/);
  });

  it('reads 9 columns: several metrics are secondary, the val_pass flag is another column, status found by name', () => {
    const p = parseResults(NINE);
    assert.deepEqual(p.errors, []);
    assert.equal(p.rows.length, 5);
    assert.deepEqual(p.columns!.secondary, ['val_mae', 'val_r2', 'train_rmse', 'runtime_s']);
    assert.deepEqual(p.columns!.other, ['val_pass']);
    assert.deepEqual(p.rows.map((r) => r.status), ['keep', 'keep', 'discard', 'crash', 'keep']);
    assert.deepEqual(p.rows[0]!.secondary, { val_mae: 18034.5, val_r2: 0.8712, train_rmse: 21000.25, runtime_s: 41.3 });
    assert.equal(p.rows[0]!.cells.val_pass, 'true');
    assert.equal(p.rows[3]!.secondary.val_mae, null, "a crash's empty cells are missing values");
    assert.equal(p.rows[0]!.memoryGb, null);
    assert.equal(p.rows[p.best!]!.commit, 'e5f6a7b');
    const md = summarizeResults(p, null, 'nine.tsv');
    assert.match(md, /\*\*val_rmse: 25169\.987156 → 24500\.0625\*\* \(-669\.924656 \(-2\.7%\)/);
    assert.match(md, /\| 1 \| `e5f6a7b` \| 24500\.0625 \| 17700\.25 \| 0\.8802 \| 20100\.5 \| 44\.0 \| true \| target log transform \|/);
    assert.match(md, /\| 2 \| `b2c3d4e` \| 24890\.100000 \|/, 'numbers are printed as written');
    assert.doesNotMatch(md, /25170\b/, 'never rounded to 6 significant digits');
    assert.match(md, /- Metric: `val_rmse` \(the first numeric column after commit\); secondary metrics: `val_mae`, `val_r2`, `train_rmse`, `runtime_s`; other columns: `val_pass`/);
  });

  it('a second metric in third place is a secondary metric, not memory', () => {
    const p = parseResults(CV_THIRD);
    assert.equal(p.metricName, 'val_rmse');
    assert.deepEqual(p.columns!.secondary, ['cv_rmse_log']);
    assert.deepEqual(p.rows.map((r) => [r.memoryGb, r.secondary.cv_rmse_log, r.cells.cv_rmse_log]), [[null, 0.9979, '0.997900'], [null, 0.9812, '0.981200'], [null, 1.02, '1.020000']]);
    const md = summarizeResults(p, null, 'cv.tsv');
    assert.match(md, /\| # \| commit \| val_rmse \| cv_rmse_log \| description \|/);
    assert.match(md, /\| 1 \| `b2c3d4e` \| 0\.149800 \| 0\.981200 \| more trees \|/);
    assert.doesNotMatch(md, /memory/);
    const snap = fileSnapshot(p, 'file:///w/cv.tsv', 'cv.tsv');
    assert.deepEqual(snap.nodes.map((n) => n.memoryGb), [null, null, null], 'the editor does not draw cv_rmse_log as memory either');
  });

  it('takes the metric named in the config or asked for, wherever its column is', () => {
    const config = parseResults(CV_THIRD, { config: { name: 'cv_rmse_log', direction: 'minimize' } });
    assert.equal(config.metricName, 'cv_rmse_log');
    assert.equal(config.columns!.metricWhy, 'named in the research config');
    assert.deepEqual(config.columns!.secondary, ['val_rmse']);
    assert.deepEqual([config.direction.basis, config.direction.direction], ['config', 'minimize']);
    const elsewhere = parseResults(CV_THIRD, { config: { name: 'val_loss', direction: 'maximize' } });
    assert.equal(elsewhere.metricName, 'val_rmse', "the config's metric is not in this file");
    assert.match(elsewhere.columns!.metricWhy, /the config's val_loss is not a column here/);
    assert.equal(elsewhere.direction.basis, 'name', "the config's direction goes with its own metric only");
    const asked = parseResults(NINE, { metric: 'val_r2' });
    assert.equal(asked.metricName, 'val_r2');
    assert.deepEqual([asked.direction.direction, asked.direction.basis], ['maximize', 'name']);
    assert.equal(asked.rows[asked.best!]!.commit, 'e5f6a7b');
    const missing = parseResults(NINE, { metric: 'val_loss' });
    assert.equal(missing.rows.length, 0);
    assert.equal(whyUnreadable(missing), 'line 1: no column "val_loss" to read as the metric; the columns are commit, val_rmse, val_mae, val_r2, train_rmse, runtime_s, val_pass, status, description');
  });

  it('names every unreadable row with its line number and keeps the readable ones', () => {
    const p = parseResults(UNREADABLE);
    assert.deepEqual(p.rows.map((r) => r.line), [2, 6]);
    assert.deepEqual(p.errors.map((e) => [e.line, e.message]), [
      [3, 'metric "fast" is not a number, in column val_bpb'],
      [4, 'expected 5 tab-separated columns, found 3'],
      [5, 'unknown status "maybe" (expected keep, discard, crash or invalid)'],
      [7, 'memory_gb "lots" is not a number'],
    ]);
    assert.equal(p.errors[1]!.text, 'only\tthree\tcolumns');
    assert.equal(whyUnreadable(p), null);
    const md = summarizeResults(p, null, 'bad.tsv');
    assert.match(md, /- 4 unreadable line\(s\) skipped: line 3: metric "fast" is not a number, in column val_bpb; line 4: expected 5 tab-separated columns, found 3; line 5: unknown status "maybe"/);
  });

  it('a file with no readable row says in one line what was expected', () => {
    const none = parseResults(tsv(['commit', 'val_bpb', 'status', 'description'], ['a', 'x', 'keep', 'd'], ['b', 'y', 'discard', 'e']));
    assert.equal(none.rows.length, 0);
    assert.equal(whyUnreadable(none), 'none of its 2 rows can be read (line 2: metric "x" is not a number, in column val_bpb; line 3: metric "y" is not a number, in column val_bpb); expected one tab-separated row per experiment under the header, with a number in val_bpb and a status of keep, discard, crash or invalid');
    assert.match(whyUnreadable(parseResults('hello world\n'))!, /^line 1: expected a tab-separated header naming commit, the metric, status and description \(like commit<TAB>val_bpb<TAB>memory_gb<TAB>status<TAB>description\); it has no "commit" and "status" columns$/);
    assert.match(whyUnreadable(parseResults('a1b2c3d\t0.99\t44.0\tkeep\tbaseline\n'))!, /^line 1: it is a row, not a header: a results.tsv starts with its column names/);
    assert.match(whyUnreadable(parseResults('commit\tval_bpb\tmemory_gb\tstatus\tdescription\n'))!, /^no rows; expected one tab-separated row/);
    for (const text of ['hello world\n', 'commit\tval_bpb\tstatus\n']) assert.doesNotMatch(whyUnreadable(parseResults(text)) ?? '', /\n/);
  });
});

describe('one direction rule', () => {
  const rising = [{ status: 'keep', metric: 1 }, { status: 'keep', metric: 2 }, { status: 'keep', metric: 3 }];
  it('given, else the config for its metric, else the name, else the kept rows, else minimize, saying why', () => {
    assert.deepEqual(chooseDirection('val_loss', rising, { direction: 'maximize' }), { direction: 'maximize', basis: 'given', why: 'it was given (--direction maximize)' });
    assert.deepEqual(chooseDirection('objective', rising, { config: { name: 'objective', direction: 'minimize' } }), { direction: 'minimize', basis: 'config', why: 'the research config says minimize for objective' });
    for (const n of ['val_loss', 'val_bpb', 'top1_error', 'val_rmse', 'perplexity']) assert.equal(chooseDirection(n, rising).direction, 'minimize', n);
    for (const n of ['acc', 'val_accuracy', 'macro_f1', 'auc', 'score']) assert.equal(chooseDirection(n, []).direction, 'maximize', n);
    assert.deepEqual(chooseDirection('val_bpb', rising), { direction: 'minimize', basis: 'name', why: 'the name val_bpb says lower is better' });
    assert.deepEqual(chooseDirection('objective', rising), { direction: 'maximize', basis: 'rows', why: 'the name objective does not say, and the kept rows mostly go up (2 of 2 steps)' });
    const silent = chooseDirection('objective', [{ status: 'keep', metric: 1 }]);
    assert.deepEqual([silent.direction, silent.basis], ['minimize', 'default']);
    assert.match(silent.why, /--direction maximize if higher is better/);
  });

  it('the summary says which direction it used and why, and a given one changes the best', () => {
    const text = tsv(['commit', 'objective', 'status', 'description'], ['a', '3', 'keep', 'base'], ['b', '5', 'keep', 'up'], ['c', '8', 'keep', 'up again'], ['d', '1', 'discard', 'down']);
    const p = parseResults(text);
    assert.equal(p.rows[p.best!]!.commit, 'c');
    assert.match(summarizeResults(p, null, 'f.tsv'), /- Direction: maximize \(higher is better\), because the name objective does not say, and the kept rows mostly go up/);
    const given = parseResults(text, { direction: 'minimize' });
    assert.equal(given.rows[given.best!]!.commit, 'a');
    assert.match(summarizeResults(given, null, 'f.tsv'), /- Direction: minimize \(lower is better\), because it was given \(--direction minimize\)/);
  });
});
