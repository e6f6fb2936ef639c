// The engine on a repository laid out like the ones people have (test/fixtures/charlm): git-ignored data prepared
// by a script, a .venv, lowercase settings in a config file, the metric inside step lines, a checkpoint written
// next to the code. Real git, real processes, the real CLI.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Journal } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import { probeSandbox } from '../../../src/core/protection/sandbox.js';
import { charlmConfig, charlmRepo } from '../helpers/charlm.js';
import { cli } from '../helpers/faults.js';
import type { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

function repo(config?: string): TempRepo {
  const r = charlmRepo(config);
  repos.push(r);
  return r;
}

function model(r: TempRepo): SessionModel {
  return SessionModel.fromRecords(Journal.read(join(r.root, '.autoresearch', 't1', 'journal.jsonl')));
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file under the session's worktrees that is not a link: what was copied there. */
function copiedData(r: TempRepo): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.isSymbolicLink() && /\.(bin|pkl)$/.test(e.name)) found.push(p);
    }
  };
  walk(join(r.root, '.autoresearch', 'worktrees'));
  return found;
}

describe('a repository laid out like the ones people have', () => {
  it('git-ignored data and the .venv reach every experiment as links, and the runs are decided by their metric', async () => {
    const r = repo(charlmConfig().replace('maxExperiments: 4', 'maxExperiments: 3') + 'parallel: 1\n');
    const run = await cli(r.root, ['run']).exit;
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out + run.err, /shared with every experiment as links to your checkout .*\.venv, .*data\/shakespeare_char\/train\.bin/);
    const m = model(r);
    assert.equal(m.baseline!.status, 'keep', m.baseline!.reason);
    const decided = m.nodes.filter((n) => n.id !== 0);
    assert.ok(decided.length >= 1);
    for (const n of decided) assert.ok(n.status === 'keep' || n.status === 'discard', `#${n.id} ${n.status}: ${n.reason}`);
    assert.ok(decided.some((n) => n.status === 'keep'), 'no change was kept');
    // The built-in proposer tuned the lowercase settings of the config file.
    assert.ok(decided.every((n) => n.changedFiles.join() === 'config/train_shakespeare_char.py'));
    assert.deepEqual(copiedData(r), [], 'data was copied into a worktree');
    // The checkpoint the baseline wrote stayed in its worktree, and the user's checkout is as it was.
    assert.equal(r.git('status', '--porcelain', '--', 'data', 'train.py', 'config'), '');
  });

  it('a run that misses a git-ignored input names the path and the key that shares it', async () => {
    const r = repo(charlmConfig('shared: []\n'));
    const run = await cli(r.root, ['run']).exit;
    assert.equal(run.code, 1);
    const base = model(r).baseline!;
    assert.equal(base.status, 'crash');
    assert.match(base.reason, /\.venv\/bin\/python is in your checkout but not in the experiment's worktree .*add `shared: \[\.venv\]`/);
  });

  it('a baseline that crashed, a fix committed, run again: a new attempt starts and proceeds; the first stays in the journal', async () => {
    const r = repo();
    const good = readFileSync(join(r.root, 'train.py'), 'utf8');
    r.write('train.py', good.replace('floor = math.log', 'flor = math.log'));
    r.commit('refactor the loss');
    const first = await cli(r.root, ['run']).exit;
    assert.equal(first.code, 1);
    assert.match(first.out + first.err, /the baseline crashed: exit code 1.*Fix the run command or the script/s);
    assert.doesNotMatch(first.out + first.err, /\.\.\s/);
    r.write('train.py', good);
    const fix = r.commit('fix the typo');
    const second = await cli(r.root, ['run']).exit;
    assert.equal(second.code, 0, second.out + second.err);
    assert.match(second.out + second.err, /attempt 2 starts on/);
    const m = model(r);
    assert.equal(m.attempt, 2);
    assert.equal(m.baseCommit, fix);
    assert.equal(m.baseline!.status, 'keep');
    assert.equal(m.attempts.length, 1);
    assert.equal(m.attempts[0]!.nodes[0]!.status, 'crash');
    assert.ok(existsSync(m.attempts[0]!.nodes[0]!.logPath!), 'the first attempt\'s log is still there');
    // The first attempt's commits stay reachable under its own refs.
    assert.notEqual(r.git('for-each-ref', 'refs/autoresearch/t1/attempts/1/'), '');
  });

  it('run as nanoGPT\'s README runs it: no experiment edits a setting the config file or a --key=value sets instead', async () => {
    const r = repo(charlmConfig()
      .replace('editable: [config/train_shakespeare_char.py]', 'editable: [train.py, config/train_shakespeare_char.py]')
      .replace(/^run: .*$/m, 'run: .venv/bin/python train.py config/train_shakespeare_char.py --max_iters=30 --dropout=0.1')
      .replace('maxExperiments: 4', 'maxExperiments: 3'));
    const run = await cli(r.root, ['run']).exit;
    assert.equal(run.code, 0, run.out + run.err);
    const decided = model(r).nodes.filter((n) => n.id !== 0);
    assert.equal(decided.length, 3);
    // train.py's own settings that reach the run are those the config file does not set.
    const reach = ['bias', 'weight_decay', 'beta1', 'grad_clip', 'decay_lr'].map((n) => `train.py:${n}=`);
    for (const n of decided) {
      assert.doesNotMatch(n.editKey, /:(max_iters|dropout)=/, `#${n.id} edits a setting the command line sets: ${n.description}`);
      if (n.editKey.startsWith('train.py:')) assert.ok(reach.some((k) => n.editKey.startsWith(k)), `#${n.id} edits what the config file sets: ${n.description}`);
    }
    assert.equal(decided.filter((n) => n.plan.includes('the run command sets them')).length, 1, 'said once');
    assert.match(decided.find((n) => n.plan.includes('the run command sets them'))!.plan, /max_iters \(--max_iters=30\)/);
  });

  it('run --restart begins a new attempt of a session that went well, losing nothing', async () => {
    const r = repo(charlmConfig().replace('maxExperiments: 4', 'maxExperiments: 2'));
    assert.equal((await cli(r.root, ['run']).exit).code, 0);
    const before = model(r);
    const again = await cli(r.root, ['run', '--restart', '--max-experiments', '1']).exit;
    assert.equal(again.code, 0, again.out + again.err);
    const m = model(r);
    assert.equal(m.attempt, 2);
    assert.equal(m.attempts[0]!.nodes.length, before.nodes.length);
    for (const n of before.nodes) assert.equal(r.git('rev-parse', `refs/autoresearch/t1/attempts/1/nodes/${n.id}`), n.commit);
  });

  const here = probeSandbox();
  for (const sandbox of ['on', 'off']) it(`a run that writes into shared protected data is invalid, and the data is as it was, byte for byte (sandbox ${sandbox})`, { skip: sandbox === 'on' && !here.ok ? `no sandbox here: ${here.ok ? '' : here.reason}` : false }, async () => {
    const tamper = `run: .venv/bin/python train.py config/train_shakespeare_char.py && .venv/bin/python -c "open('data/shakespeare_char/val.bin', 'ab').write(b'gotcha')"`;
    const r = repo(charlmConfig(`sandbox: ${sandbox}\n`).replace(/^run: .*$/m, tamper));
    const val = join(r.root, 'data/shakespeare_char/val.bin');
    const original = sha(val);
    const run = await cli(r.root, ['run']).exit;
    assert.equal(run.code, 1);
    const base = model(r).baseline!;
    assert.equal(base.status, 'invalid');
    assert.match(base.reason, sandbox === 'on'
      ? /the sandbox stopped a write outside the worktree: .*Read-only file system: 'data\/shakespeare_char\/val\.bin'/
      : /the run modified protected files: data\/shakespeare_char\/val\.bin \(restored\)/);
    assert.equal(sha(val), original, 'the user\'s val.bin changed');
    const snapshot = join(r.root, '.autoresearch/t1/shared/data/shakespeare_char/val.bin');
    assert.equal(sha(snapshot), original, 'the snapshot was not restored');
    assert.ok(!lstatSync(val).isSymbolicLink());
  });
});
