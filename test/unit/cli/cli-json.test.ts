// `--json`: status, tree, show, summary and summary of a file each print one JSON document with a versioned
// schema, as a script would read it from the real CLI's stdout; errors are a JSON object with the promised exit code.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliSync as cli } from '../helpers/cli.js';
import { TOY_PREPARE, TOY_TRAIN, tempFolder, tempRepo, toyConfig, type TempRepo } from '../helpers/repo.js';
import { tsv, UNREADABLE } from '../helpers/resultsFiles.js';

/** Exactly one JSON document and nothing else on stdout, nothing on stderr. */
// What a script gets from JSON.parse: its shape is what the assertions check.
function json(r: { code: number | null; out: string; err: string }) {
  assert.equal(r.err, '', 'nothing on stderr');
  assert.equal(r.out.trim().split('\n').length, 1, `one line of JSON, got:\n${r.out}`);
  return JSON.parse(r.out);
}

describe('--json on a session', () => {
  let repo: TempRepo;
  before(() => {
    repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': toyConfig('noise: {repeats: 2, z: 2, confirm: false}\n').replace('maxExperiments: 6', 'maxExperiments: 3') });
    const r = cli(repo.root, 'run');
    assert.equal(r.code, 0, r.err + r.out);
  });
  after(() => repo.cleanup());

  it('status: counts, baseline, best, the noise band', () => {
    const r = cli(repo.root, 'status', '--json');
    assert.equal(r.code, 0);
    const d = json(r);
    assert.equal(d.schema, 'autoresearch/status@1');
    assert.equal(d.tag, 't1');
    assert.equal(d.state, 'done');
    assert.deepEqual(d.metric, { name: 'val_loss', direction: 'minimize' });
    assert.equal(d.experiments.decided, 3);
    assert.equal(d.experiments.max, 3);
    assert.equal(d.experiments.keep + d.experiments.discard + d.experiments.crash + d.experiments.invalid, 4, '3 experiments and 1 baseline repeat');
    assert.equal(d.baseline.id, 0);
    assert.ok(Math.abs(d.baseline.metric - 1.55) < 1e-9, String(d.baseline.metric));
    assert.equal(typeof d.best.id, 'number');
    assert.match(d.best.commit, /^[0-9a-f]{40}$/);
    assert.deepEqual(d.noise, { spread: 0, samples: 2, repeats: 2, z: 2, alpha: null, minDelta: 0, threshold: 0 });
    assert.deepEqual(d.queuedHypotheses, []);
  });

  it('tree: every node with its parent and children, the best path from the baseline', () => {
    const d = json(cli(repo.root, 'tree', '--json'));
    assert.equal(d.schema, 'autoresearch/tree@1');
    assert.equal(d.nodes.length, 5);
    assert.deepEqual(d.nodes[0].parentId, null);
    assert.equal(d.bestPath[0], 0);
    assert.equal(d.bestPath.at(-1), d.bestId);
    for (const n of d.nodes) {
      for (const k of n.children) assert.equal(d.nodes.find((x: { id: number }) => x.id === k).parentId, n.id);
      assert.equal(n.onBestPath, d.bestPath.includes(n.id));
    }
    const repeat = d.nodes.find((n: { measurement: boolean }) => n.measurement);
    assert.equal(repeat.operator, 'rerun', 'the baseline repeat is marked as a measurement');
  });

  it('show: the node, its parent, the delta and the diff', () => {
    const tree = json(cli(repo.root, 'tree', '--json'));
    const child = tree.nodes.find((n: { parentId: number | null; measurement: boolean; commit: string | null }) => n.parentId === 0 && !n.measurement && n.commit);
    const d = json(cli(repo.root, 'show', String(child.id), '--json'));
    assert.equal(d.schema, 'autoresearch/show@1');
    assert.equal(d.node.id, child.id);
    assert.equal(d.parent.id, 0);
    assert.ok(Math.abs(d.node.delta - (d.node.metric - d.parent.metric)) < 1e-12);
    assert.match(d.diff, /^diff --git a\/train\.py b\/train\.py/m);
    assert.match(d.node.reason, /\S/);
    assert.equal(d.node.checks, null, 'no checks in this config');
    assert.equal(json(cli(repo.root, 'show', '0', '--json')).diff, null, 'the baseline has no parent to diff against');
  });

  it('summary: writes the summary and prints which wins are real and the discards by change', () => {
    const d = json(cli(repo.root, 'summary', '--json'));
    assert.equal(d.schema, 'autoresearch/summary@1');
    assert.deepEqual(d.source, { kind: 'session', tag: 't1' });
    assert.equal(d.wrote, join(repo.root, 'autoresearch-summary.md'));
    assert.ok(existsSync(d.wrote));
    assert.equal(d.noise.source, 'baseline-repeats');
    assert.equal(d.noise.known, true);
    assert.equal(d.realWins.keeps, d.keeps.length);
    assert.match(d.realWins.headline, new RegExp(`^${d.realWins.larger} of ${d.keeps.length} keeps? (are|is) larger than the noise \\(noise ±0, measured from 2 baseline runs`));
    for (const k of d.keeps) assert.equal(k.verdict, 'larger', 'a deterministic script has no noise: every real gain is larger');
    assert.equal(d.counts.keep + d.counts.discard + d.counts.crash + d.counts.invalid, 3);
    assert.equal(d.discards.reduce((s: number, g: { discarded: unknown[] }) => s + g.discarded.length, 0), d.counts.discard);
    assert.match(readFileSync(d.wrote, 'utf8'), /larger than the noise/);
  });
});

const SEEDED = tsv(
  ['commit', 'val_bpb', 'memory_gb', 'status', 'description'],
  ['a1b2c3d', '0.997900', '44.0', 'keep', 'baseline'],
  ['b2c3d4e', '0.993200', '44.2', 'keep', 'increase LR to 0.04'],
  ['c3d4e5f', '0.993900', '44.2', 'discard', 'change seed 42 -> 1337'],
  ['d4e5f6a', '0.992800', '44.2', 'keep', 'warmup 500 steps'],
  ['e5f6a7b', '0.000000', '0.0', 'crash', 'double model width (OOM)'],
  ['f6a7b8c', '0.993500', '44.3', 'discard', 'increase LR to 0.08'],
);

describe('--json on a results file', () => {
  it('summary --from: columns, direction and why, noise estimated from the seed-only row, keeps with verdicts, discards by change', () => {
    const dir = tempFolder({ 'results.tsv': SEEDED });
    const r = cli(dir, 'summary', '--from', 'results.tsv', '--json');
    assert.equal(r.code, 0);
    const d = json(r);
    assert.equal(d.schema, 'autoresearch/summary@1');
    assert.deepEqual(d.source, { kind: 'file', path: 'results.tsv' });
    assert.equal(d.wrote, join(dir, 'results-summary.md'));
    assert.deepEqual(d.metric, { name: 'val_bpb', direction: 'minimize', directionBasis: 'name', directionWhy: 'the name val_bpb says lower is better' });
    assert.deepEqual(d.counts, { rows: 6, keep: 3, discard: 2, crash: 1, invalid: 0 });
    assert.deepEqual(d.best, { line: 5, commit: 'd4e5f6a', metric: 0.9928, metricText: '0.992800', description: 'warmup 500 steps', secondary: { memory_gb: 44.2 } });
    assert.deepEqual([d.noise.known, d.noise.source, d.noise.value], [true, 'log', 0.0007]);
    assert.deepEqual(d.noise.pairs, [{ run: 'line 4', repeats: 'line 3', difference: 0.0007, why: 'a seed-only change' }]);
    assert.deepEqual([d.realWins.larger, d.realWins.keeps], [1, 2]);
    assert.deepEqual(d.keeps.map((k: { line: number; parentLine: number | null; gain: number | null; verdict: string | null }) => [k.line, k.parentLine, k.gain, k.verdict]), [[2, null, null, null], [3, 2, 0.0047, 'larger'], [5, 3, 0.0004, 'within']]);
    assert.deepEqual(d.discards.map((g: { change: string; kept: number; discarded: { line: number }[] }) => [g.change, g.kept, g.discarded.map((x) => x.line)]), [['seed', 0, [4]], ['lr', 1, [7]]]);
    assert.deepEqual(d.crashes.map((c: { line: number; status: string; metric: number | null }) => [c.line, c.status, c.metric]), [[6, 'crash', null]]);
  });

  it('summary FILE.tsv --noise: the floor given; unreadable rows are in the document, not on stderr', () => {
    const dir = tempFolder({ 'old.tsv': UNREADABLE });
    const d = json(cli(dir, 'summary', 'old.tsv', '--noise', '0.005', '--json'));
    assert.deepEqual([d.noise.source, d.noise.value, d.noise.how], ['given', 0.005, 'given with --noise']);
    assert.deepEqual(d.unreadable.map((u: { line: number }) => u.line), [3, 4, 5, 7]);
    assert.match(d.realWins.headline, /^1 of 1 keep is larger than the noise \(noise ±0\.005, given with --noise\)$/);
  });

  it('with no noise to go on, the document says so and how to give it', () => {
    const dir = tempFolder({ 'r.tsv': tsv(['commit', 'acc', 'status', 'description'], ['a', '0.80', 'keep', 'baseline'], ['b', '0.85', 'keep', 'wider']) });
    const d = json(cli(dir, 'summary', 'r.tsv', '--json'));
    assert.deepEqual([d.noise.known, d.noise.value, d.noise.threshold], [false, null, null]);
    assert.match(d.noise.hint, /--noise/);
    assert.equal(d.keeps[1].verdict, 'unknown');
    assert.equal(d.keeps[1].gain, 0.05, 'higher is better for acc: the gain is positive');
  });
});

describe('--json errors: a JSON object on stdout, the same exit codes', () => {
  const error = (r: { code: number | null; out: string; err: string }, kind: string, code: number): string => {
    assert.equal(r.code, code, r.out + r.err);
    const d = json(r);
    assert.equal(d.schema, 'autoresearch/error@1');
    assert.equal(d.error.kind, kind);
    assert.equal(d.error.exitCode, code);
    return d.error.message;
  };

  it('bad usage exits 2: an unknown node, an unknown option, a command without --json, a bad --noise, --noise on a session', () => {
    const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': toyConfig() });
    try {
      assert.match(error(cli(repo.root, 'show', 'x', '--json'), 'usage', 2), /Expected an experiment number/);
      assert.match(error(cli(repo.root, 'status', '--json', '--frobnicate'), 'usage', 2), /frobnicate/);
      assert.match(error(cli(repo.root, 'run', '--json'), 'usage', 2), /--json is for status, tree, show, summary/);
      assert.match(error(cli(repo.root, 'summary', '--json', '--noise', '1'), 'usage', 2), /--noise are for a results file/);
      // No session yet in this repo: a user error, exit 2.
      assert.match(error(cli(repo.root, 'status', '--json'), 'session', 2), /\S/);
    } finally {
      repo.cleanup();
    }
    const dir = tempFolder({ 'r.tsv': SEEDED });
    assert.match(error(cli(dir, 'summary', 'r.tsv', '--noise', 'lots', '--json'), 'usage', 2), /--noise: expected a number/);
    assert.match(error(cli(dir, 'summary', 'missing.tsv', '--json'), 'usage', 2), /No file missing\.tsv/);
  });

  it('a file with no readable row exits 2, in JSON, and writes nothing', () => {
    const dir = tempFolder({ 'r.tsv': 'hello world\n' });
    assert.match(error(cli(dir, 'summary', 'r.tsv', '--json'), 'usage', 2), /^Cannot summarise r\.tsv: line 1: expected a tab-separated header/);
    assert.ok(!existsSync(join(dir, 'r-summary.md')));
  });

  it('a bad config exits 2 with kind config', () => {
    const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': toyConfig().replace('direction: minimize', 'direction: lower') });
    try {
      assert.match(error(cli(repo.root, 'status', '--json'), 'config', 2), /metric\.direction/);
    } finally {
      repo.cleanup();
    }
  });
});
