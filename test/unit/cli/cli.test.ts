// The CLI as a user runs it: real processes, exit codes, and a controller killed with SIGKILL mid-run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../src/core/config.js';
import { Journal } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import { parseResults } from '../../../src/core/record/results.js';
import { CLI, cliSync as cli, TSX } from '../helpers/cli.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

function toyRepo(config = toyConfig()): TempRepo {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': config });
  repos.push(repo);
  return repo;
}

function model(repo: TempRepo, tag = 't1'): SessionModel {
  return SessionModel.fromRecords(Journal.read(join(repo.root, '.autoresearch', tag, 'journal.jsonl')));
}

describe('autoresearch CLI', () => {
  it('resuming says what moved since the session last ran: its config\'s settings, and the checkout it does not build on', () => {
    const repo = toyRepo(toyConfig().replace('maxExperiments: 6', 'maxExperiments: 1'));
    assert.equal(cli(repo.root, 'run').code, 0);
    const base = repo.git('rev-parse', '--short=7', 'HEAD');
    // As on makemore: out/ ignored in a new commit, and a longer budget.
    writeFileSync(join(repo.root, '.gitignore'), 'out/\n');
    writeFileSync(join(repo.root, 'autoresearch.config.yaml'), toyConfig().replace('maxExperiments: 6', 'maxExperiments: 1').replace('budget: 20s', 'budget: 30s'));
    repo.git('add', '-A');
    repo.git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'ignore out/, budget 30s');
    const head = repo.git('rev-parse', '--short=7', 'HEAD');
    const again = cli(repo.root, 'run', '--max-experiments', '2');
    assert.equal(again.code, 0, again.err + again.out);
    const said = `${again.out}\n${again.err}`;
    assert.match(said, /resuming session t1: 2 nodes, 1 decided; the config changed since it last ran \(budget 20s → 30s, maxExperiments 1 → 2\): it applies from now on; the experiments before keep what they ran with/);
    assert.match(said, new RegExp(`; your checkout is at ${head}, not at the session's base ${base}: its experiments go on from the base, without the commits since; a new \`tag\` starts a session on ${head}`));
    // Nothing moved: nothing said.
    const third = cli(repo.root, 'run', '--max-experiments', '2');
    assert.doesNotMatch(`${third.out}\n${third.err}`, /the config changed/);
  });

  it('run prints one [EXP] line per experiment, then status, tree, show, compare and summary work', () => {
    const repo = toyRepo(toyConfig().replace('maxExperiments: 6', 'maxExperiments: 4'));
    const r = cli(repo.root, 'run');
    assert.equal(r.code, 0, r.err + r.out);
    const exp = r.out.split('\n').filter((l) => l.startsWith('[EXP] '));
    assert.equal(exp.length, 5);
    // The session changed nothing git status reports: results.tsv and the summary are excluded in .git/info/exclude.
    assert.equal(repo.git('status', '--porcelain'), '');
    assert.ok(existsSync(join(repo.root, 'results.tsv')));
    assert.match(r.out, /results: .*results\.tsv/);
    const status = cli(repo.root, 'status');
    assert.match(status.out, /4 of 4 decided/);
    const tree = cli(repo.root, 'tree');
    assert.match(tree.out, /★ ✓ #0 baseline/);
    const show = cli(repo.root, 'show', '1');
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /diff --git a\/train\.py b\/train\.py/);
    const cmp = cli(repo.root, 'compare', '1', '2');
    assert.equal(cmp.code, 0, cmp.err);
    const sum = cli(repo.root, 'summary');
    assert.equal(sum.code, 0, sum.err);
    assert.ok(existsSync(join(repo.root, 'autoresearch-summary.md')));
    assert.equal(repo.git('status', '--porcelain'), '', 'the summary shows in git status');
    // Once, however many sessions.
    assert.equal(readFileSync(join(repo.root, '.git/info/exclude'), 'utf8').split('\n').filter((l) => l === '/results.tsv').length, 1);
    const bad = cli(repo.root, 'show', 'x');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Expected an experiment number/);
    // A number past the last says which there are.
    const none = cli(repo.root, 'show', '99');
    assert.equal(none.code, 2);
    assert.match(none.err, /^There is no experiment #99: session t1 has #0 to #4 \(`autoresearch tree` lists them\)\.$/m);
  });

  it('a bad config exits 2 naming the key, and creates no branch and no file', () => {
    const repo = toyRepo(toyConfig().replace('direction: minimize', 'direction: lower').replace('budget: 20s', 'budget: soon'));
    const r = cli(repo.root, 'run');
    assert.equal(r.code, 2);
    assert.match(r.err, /metric\.direction/);
    assert.match(r.err, /budget/);
    assert.equal(repo.git('branch', '--list', 'autoresearch/*'), '');
    assert.ok(!existsSync(join(repo.root, '.autoresearch')));
    assert.ok(!existsSync(join(repo.root, 'results.tsv')));
  });

  it('summary --from reads a results.tsv written by another tool and reports malformed lines with their number', () => {
    const repo = toyRepo();
    const tsv = 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n'
      + 'a1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n'
      + 'b2c3d4e\t0.993200\t44.2\tkeep\tincrease LR to 0.04\n'
      + 'c3d4e5f\t1.005000\t44.0\tdiscard\tswitch to GeLU activation\n'
      + 'd4e5f6g\t0.000000\t0.0\tcrash\tdouble model width (OOM)\n'
      + 'this line is broken\n';
    repo.write('old-results.tsv', tsv);
    const r = cli(repo.root, 'summary', '--from', 'old-results.tsv');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /old-results\.tsv:6: expected 5 tab-separated columns/);
    // Beside the file, not over a session's autoresearch-summary.md.
    assert.ok(!existsSync(join(repo.root, 'autoresearch-summary.md')));
    const md = readFileSync(join(repo.root, 'old-results-summary.md'), 'utf8');
    // Numbers as the file writes them.
    assert.match(md, /0\.997900 → 0\.993200/);
    assert.match(md, /b2c3d4e/);
    assert.match(md, /double model width \(OOM\)/);
  });

  it('a controller killed with SIGKILL mid-run resumes with nothing lost or doubled, and the same tree', async () => {
    // Each proposal chosen after the last result (pipeline: 0), so the resumed tree can be held against an uninterrupted
    // one node for node: with the pipeline, what a proposal prepared ahead is depends on which runs ended before it was
    // asked, and a killed controller's prepared proposal is lost by design (it was never journaled).
    const config = toyConfig('pipeline: 0\n').replace('run: python3 train.py', 'run: sleep 0.5 && python3 train.py').replace('maxExperiments: 6', 'maxExperiments: 5');
    const killed = toyRepo(config);
    const clean = toyRepo(config);

    const child = spawn(process.execPath, ['--import', TSX, CLI, 'run'], { cwd: killed.root, stdio: 'ignore' });
    const journal = join(killed.root, '.autoresearch/t1/journal.jsonl');
    // Wait until experiment #3 is running, then kill the controller without warning.
    const deadline = Date.now() + 60_000;
    for (;;) {
      assert.ok(Date.now() < deadline, 'experiment #3 never started');
      if (existsSync(journal) && Journal.read(journal).some((r) => r.type === 'start' && r.id === 3)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(model(killed).get(3)!.decidedBy, null, 'killed before #3 was decided');

    const resumed = cli(killed.root, 'run');
    assert.equal(resumed.code, 0, resumed.err + resumed.out);
    assert.match(resumed.out, /recovering 1 interrupted experiment\(s\): #3|resuming session/);
    const reference = cli(clean.root, 'run');
    assert.equal(reference.code, 0, reference.err);

    const a = model(killed);
    const b = model(clean);
    assert.equal(a.decidedCount, 5);
    const shape = (m: SessionModel) => m.nodes.map((n) => `${n.id}<${n.parentId} ${n.description} ${n.status} ${n.metric}`);
    assert.deepEqual(shape(a), shape(b));
    // One rule decision per node, one results row per node.
    const decisions = Journal.read(journal).filter((r) => r.type === 'decide' && r.decidedBy === 'rule').map((r) => (r as { id: number }).id);
    assert.deepEqual(decisions, [...new Set(decisions)]);
    const rows = parseResults(readFileSync(join(killed.root, 'results.tsv'), 'utf8')).rows;
    assert.equal(rows.length, 6);
    assert.equal(new Set(rows.map((r) => r.commit)).size, 6);
    // The orphaned run of the dead controller was ended, and no worktree is left behind.
    assert.deepEqual(readdirSync(join(killed.root, '.autoresearch/worktrees/t1')), []);
  });
});

describe('manual executor through the CLI', () => {
  it('waits for `autoresearch record` from another terminal', async () => {
    const repo = toyRepo(toyConfig().replace('maxExperiments: 6', 'maxExperiments: 1') + 'executor: manual\n');
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'run'], { cwd: repo.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const journal = join(repo.root, '.autoresearch/t1/journal.jsonl');
    const waitFor = async (pred: () => boolean, what: string) => {
      const end = Date.now() + 30_000;
      while (!pred()) {
        assert.ok(Date.now() < end, `timed out waiting for ${what}\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor(() => existsSync(journal) && Journal.read(journal).some((r) => r.type === 'start' && r.id === 0), 'the baseline to wait');
    assert.match(readFileSync(join(repo.root, '.autoresearch/t1/logs/0.log'), 'utf8'), /autoresearch record 0 <value>/);
    const r0 = cli(repo.root, 'record', '0', '0.9', '--memory-gb', '1.5');
    assert.equal(r0.code, 0, r0.err);
    assert.match(r0.out, /Sent to the running session/);
    await waitFor(() => Journal.read(journal).some((r) => r.type === 'start' && r.id === 1), 'experiment #1 to wait');
    assert.equal(cli(repo.root, 'record', '1', '0.5').code, 0);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, out);
    const rows = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows;
    assert.deepEqual(rows.map((x) => [x.metric, x.status]), [[0.9, 'keep'], [0.5, 'keep']]);
    assert.equal(rows[0]!.memoryGb, 1.5);
  });
});

describe('autoresearch init', () => {
  it('writes a commented config that loads, detecting the script and the protected file', () => {
    const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE });
    repos.push(repo);
    const r = cli(repo.root, 'init');
    assert.equal(r.code, 0, r.err);
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8');
    const config = parseConfig(text);
    assert.deepEqual(config.editable, ['train.py']);
    assert.deepEqual(config.readonly, ['prepare.py']);
    assert.match(config.run, /python3? train\.py/);
    assert.equal(cli(repo.root, 'init').code, 2, 'refuses to overwrite without --force');
  });
});
