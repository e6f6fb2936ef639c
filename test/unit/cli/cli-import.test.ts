// `autoresearch summary` on other teams' results.tsv files, driven in-process through main(argv, io):
// exit codes, what it prints, the summary it writes, and agreement with the editor's reading of the same file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.js';
import { configuredMetric, parseResults } from '../../../src/core/record/results.js';
import { fileSnapshot } from '../../../src/core/report/snapshot.js';
import { ResultsStore } from '../../../webview-ui/src/store.js';
import { toyConfig } from '../helpers/repo.js';
import { CV_THIRD, FOUR, NINE, originalFile, tsv, UNREADABLE } from '../helpers/resultsFiles.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-import-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function cli(dir: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--cwd', dir], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n'), errLines: err.join('\n').split('\n').filter(Boolean) };
}

// A file's summary goes beside it as <name>-summary.md, never over a session's autoresearch-summary.md.
const summaryOf = (dir: string, file = 'results.tsv') => readFileSync(join(dir, file.replace(/\.tsv$/, '-summary.md')), 'utf8');

describe('autoresearch summary on any results.tsv', () => {
  it('9 columns: the metric by name, the other metrics secondary, val_pass another column, numbers as written', async () => {
    const dir = folder({ 'results.tsv': NINE });
    const r = await cli(dir, 'summary', '--from', 'results.tsv');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(r.out, [
      'Read results.tsv: 5 rows',
      '  metric: val_rmse (the first numeric column after commit); secondary: val_mae, val_r2, train_rmse, runtime_s; other columns: val_pass',
      '  direction: minimize, because the name val_rmse says lower is better',
      '  val_rmse: baseline 25169.987156 -> best 24500.0625 (line 6, commit e5f6a7b: target log transform)',
      '  Whether the 2 keeps are larger than the noise is unknown: no noise was given and the log has no seed-only or repeated runs to estimate it from; give a floor with --noise, e.g. --noise 0.0007 (how far val_rmse moves when only the seed changes)',
      `Wrote ${join(dir, 'results-summary.md')}`,
    ].join('\n'));
    const md = summaryOf(dir);
    assert.match(md, /\*\*val_rmse: 25169\.987156 → 24500\.0625\*\*/);
    assert.match(md, /\| 2 \| `b2c3d4e` \| 24890\.100000 \| 17880\.0 \| 0\.8761 \| 20512\.75 \| 43\.9 \| true \| add lag features \|/);
    assert.match(md, /- Rows: 5 \(3 kept, 1 discarded, 1 crashed\)/);
  });

  it('unreadable rows: each named on stderr with its line, the readable ones summarised, exit 0', async () => {
    const dir = folder({ 'old.tsv': UNREADABLE });
    const r = await cli(dir, 'summary', '--from', 'old.tsv');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.errLines, [
      'old.tsv:3: metric "fast" is not a number, in column val_bpb',
      'old.tsv:4: expected 5 tab-separated columns, found 3',
      'old.tsv:5: unknown status "maybe" (expected keep, discard, crash or invalid)',
      'old.tsv:7: memory_gb "lots" is not a number',
    ]);
    assert.equal(r.out.split('\n')[0], 'Read old.tsv: 2 rows; 4 unreadable (lines 3, 4, 5, 7), listed above');
    assert.match(r.out, /val_bpb: baseline 0\.997900 -> best 0\.990100 \(line 6, commit d4e5f6a: warmup 500 steps\)/);
    assert.match(summaryOf(dir, 'old.tsv'), /- 4 unreadable line\(s\) skipped: line 3: metric "fast" is not a number/);
  });

  it('the original 5 columns (126 rows), 4 columns without memory, and cv_rmse_log in third place', async () => {
    const dir = folder({ 'orig.tsv': originalFile(), 'four.tsv': FOUR, 'cv.tsv': CV_THIRD });
    const orig = await cli(dir, 'summary', 'orig.tsv');
    assert.equal(orig.code, 0, orig.err);
    assert.match(orig.out, /^Read orig\.tsv: 126 rows\n {2}metric: val_bpb \(the first numeric column after commit\); secondary: memory_gb\n/);
    assert.match(orig.out, /val_bpb: baseline 0\.997900 -> best 0\.979400/);
    const four = await cli(dir, 'summary', 'four.tsv');
    assert.equal(four.code, 0, four.err);
    assert.match(four.out, /^Read four\.tsv: 4 rows\n {2}metric: val_rmse \(the first numeric column after commit\)\n/);
    assert.match(four.out, /val_rmse: baseline 0\.5204 -> best 0\.4980 \(line 5, commit d4e5f6a: log target\)/);
    assert.doesNotMatch(summaryOf(dir, 'four.tsv'), /memory|No kept result/);
    const cv = await cli(dir, 'summary', 'cv.tsv');
    assert.equal(cv.code, 0, cv.err);
    assert.match(cv.out, /metric: val_rmse \(the first numeric column after commit\); secondary: cv_rmse_log\n/);
    assert.match(summaryOf(dir, 'cv.tsv'), /\| # \| commit \| val_rmse \| cv_rmse_log \| description \|/);
    assert.doesNotMatch(summaryOf(dir, 'cv.tsv'), /memory/);
    // --out chooses; a session's autoresearch-summary.md is never written over.
    assert.equal((await cli(dir, 'summary', 'cv.tsv', '--out', 'cv.md')).code, 0);
    assert.match(readFileSync(join(dir, 'cv.md'), 'utf8'), /cv_rmse_log/);
    writeFileSync(join(dir, 'autoresearch-summary.md'), 'the session\'s own\n');
    const over = await cli(dir, 'summary', 'cv.tsv', '--out', 'autoresearch-summary.md');
    assert.equal(over.code, 2);
    assert.match(over.err, /autoresearch-summary\.md is a session's summary; write this one elsewhere with --out FILE/);
    assert.equal(readFileSync(join(dir, 'autoresearch-summary.md'), 'utf8'), 'the session\'s own\n');
  });

  it('a file with no readable row exits 2 with one line saying what was expected, and writes nothing', async () => {
    const cases: [string, string, RegExp][] = [
      ['notes.tsv', 'hello world\n', /^Cannot summarise notes\.tsv: line 1: expected a tab-separated header naming commit, the metric, status and description \(like commit<TAB>val_bpb<TAB>memory_gb<TAB>status<TAB>description\); it has no "commit" and "status" columns$/],
      ['text.tsv', tsv(['commit', 'val_bpb', 'status', 'description'], ['a', 'x', 'keep', 'd'], ['b', 'y', 'discard', 'e']), /^Cannot summarise text\.tsv: none of its 2 rows can be read \(line 2: metric "x" is not a number, in column val_bpb; line 3: .*\); expected one tab-separated row per experiment under the header, with a number in val_bpb and a status of keep, discard, crash or invalid$/],
      ['headless.tsv', 'a1b2c3d\t0.99\t44.0\tkeep\tbaseline\n', /^Cannot summarise headless\.tsv: line 1: it is a row, not a header/],
      ['empty.tsv', 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n', /^Cannot summarise empty\.tsv: no rows; expected/],
    ];
    for (const [name, text, message] of cases) {
      const dir = folder({ [name]: text });
      const r = await cli(dir, 'summary', name);
      assert.equal(r.code, 2, name);
      assert.equal(r.out, '', name);
      assert.equal(r.errLines.length, 1, `${name}: ${r.err}`);
      assert.match(r.err, message);
      assert.ok(!existsSync(join(dir, 'autoresearch-summary.md')), name);
    }
  });

  it('`summary results.tsv` reads the file like --from; FILE names a column; --direction wins; bad ones exit 2', async () => {
    const dir = folder({ 'results.tsv': CV_THIRD });
    const positional = await cli(dir, 'summary', 'results.tsv');
    const mdPositional = summaryOf(dir);
    const from = await cli(dir, 'summary', '--from', 'results.tsv');
    assert.equal(positional.code, 0, positional.err);
    assert.equal(positional.out, from.out);
    assert.equal(mdPositional, summaryOf(dir));
    const metric = await cli(dir, 'summary', 'results.tsv', '--metric', 'cv_rmse_log');
    assert.match(metric.out, /metric: cv_rmse_log \(named with --metric\); secondary: val_rmse/);
    assert.match(metric.out, /cv_rmse_log: baseline 0\.997900 -> best 0\.981200/);
    const given = await cli(dir, 'summary', 'results.tsv', '--direction', 'maximize');
    assert.match(given.out, /direction: maximize, because it was given \(--direction maximize\)/);
    assert.match(given.out, /val_rmse: baseline 0\.152300 -> best 0\.152300 \(line 2, commit a1b2c3d: baseline\)/);
    assert.match(summaryOf(dir), /- Direction: maximize \(higher is better\), because it was given \(--direction maximize\)/);
    const missing = await cli(dir, 'summary', 'results.tsv', '--metric', 'val_loss');
    assert.equal(missing.code, 2);
    assert.deepEqual(missing.errLines, ['Cannot summarise results.tsv: line 1: no column "val_loss" to read as the metric; the columns are commit, val_rmse, cv_rmse_log, status, description']);
    const notTsv = await cli(dir, 'summary', 'results.csv');
    assert.equal(notTsv.code, 2);
    assert.match(notTsv.err, /use --from results\.csv/);
    const badDirection = await cli(dir, 'summary', 'results.tsv', '--direction', 'up');
    assert.equal(badDirection.code, 2);
    assert.match(badDirection.err, /--direction: expected minimize or maximize, got "up"/);
  });

  it('the metric named in the config is read from the file, with the config direction', async () => {
    const dir = folder({ 'autoresearch.config.yaml': toyConfig().replace('name: val_loss', 'name: cv_rmse_log'), 'results.tsv': CV_THIRD });
    const r = await cli(dir, 'summary', 'results.tsv');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /metric: cv_rmse_log \(named in the research config\); secondary: val_rmse/);
    assert.match(r.out, /direction: minimize, because the research config says minimize for cv_rmse_log/);
  });

  it('`summary` with no session beside a results.tsv exits 2 and points to `summary results.tsv`, without a stack trace', async () => {
    const dir = folder({ 'results.tsv': NINE });
    const r = await cli(dir, 'summary');
    assert.equal(r.code, 2);
    assert.match(r.err, /There is a results\.tsv here: `autoresearch summary results\.tsv` summarises it\./);
    // As a user runs it: a child process, whose stderr must hold no stack frames.
    const child = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), resolve('src/cli/main.ts'), 'summary'], { cwd: dir, encoding: 'utf8' });
    assert.equal(child.status, 2, child.stderr);
    assert.doesNotMatch(child.stderr, /^\s+at /m);
    assert.match(child.stderr, /autoresearch summary results\.tsv/);
  });
});

describe('the CLI and the editor read a file the same way', () => {
  // The extension's panel reads a results.tsv with parseResults(text, { config: configuredMetric(workspace) })
  // and shows fileSnapshot of it; `summary --from` reads it with parseResults too. Both must name one best.
  const rising = tsv(['commit', 'objective', 'status', 'description'], ['a1', '3', 'keep', 'base'], ['b2', '5', 'keep', 'up'], ['c3', '8', 'keep', 'up again'], ['d4', '1', 'discard', 'down']);
  const files: [string, Record<string, string>][] = [
    ['original', { 'results.tsv': originalFile() }],
    ['four columns', { 'results.tsv': FOUR }],
    ['nine columns', { 'results.tsv': NINE }],
    ['cv_rmse_log third', { 'results.tsv': CV_THIRD }],
    ['unreadable rows', { 'results.tsv': UNREADABLE }],
    ['a name that does not say (rows rise)', { 'results.tsv': rising }],
    ['a config naming the metric', { 'results.tsv': rising, 'autoresearch.config.yaml': toyConfig().replace('name: val_loss', 'name: objective') }],
  ];
  for (const [what, contents] of files) {
    it(`agrees on direction and best: ${what}`, async () => {
      const dir = folder(contents);
      const r = await cli(dir, 'summary', 'results.tsv');
      assert.equal(r.code, 0, r.err);
      const cliDirection = /direction: (minimize|maximize), because/.exec(r.out)![1];
      const cliBest = / \(line (\d+), commit (\S+):/.exec(r.out)!;

      const text = readFileSync(join(dir, 'results.tsv'), 'utf8');
      const snap = fileSnapshot(parseResults(text, { config: configuredMetric(dir) }), `file://${dir}/results.tsv`, 'results.tsv');
      const store = new ResultsStore();
      store.applySnapshot({ rev: 0, session: snap.session, nodes: snap.nodes });
      assert.equal(store.direction, cliDirection);
      const best = snap.nodes[store.bestId!]!;
      assert.deepEqual([String(best.line), best.commit], [cliBest[1], cliBest[2]]);
    });
  }

  it('where the two used to disagree (a name that says nothing, keeps rising), both now say maximize', async () => {
    const dir = folder({ 'results.tsv': rising });
    const r = await cli(dir, 'summary', 'results.tsv');
    assert.match(r.out, /direction: maximize, because the name objective does not say, and the kept rows mostly go up \(2 of 2 steps\)/);
    assert.match(r.out, /objective: baseline 3 -> best 8 \(line 4, commit c3: up again\)/);
    const snap = fileSnapshot(parseResults(rising), 'file:///w/results.tsv', 'results.tsv');
    assert.equal(snap.session.direction, 'maximize');
    assert.equal(snap.nodes[snap.session.bestId!]!.commit, 'c3');
    assert.equal(snap.session.directionKnown, false, 'guessed, so the panel offers Flip');
    const configured = fileSnapshot(parseResults(rising, { config: { name: 'objective', direction: 'minimize' } }), 'file:///w/results.tsv', 'results.tsv');
    assert.equal(configured.session.directionKnown, true, 'the config said it');
  });
});
