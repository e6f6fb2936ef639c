// Which untracked inputs reach a worktree, how, and what a crash on a missing one says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { explainCrash, lastError, metricSuggestion } from '../../../../src/core/crashHints.js';
import { extractLast } from '../../../../src/core/judging/judge.js';
import { Lab } from '../../../../src/core/git.js';
import { planShared, SharedInputs } from '../../../../src/core/protection/sharedInputs.js';
import { tempRepo, type TempRepo } from '../../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

/** A checkout with tracked code, prepared (ignored) data, a .venv, outputs and an untracked, unignored folder. */
function layout(): TempRepo {
  const r = tempRepo({
    '.gitignore': '*.bin\n*.pt\n.venv/\nout/\nwandb/\n__pycache__/\ncache/\n',
    'train.py': 'learning_rate = 1e-3\n',
    'data/owt/prepare.py': '# writes train.bin and val.bin\n',
  });
  repos.push(r);
  // out-shakespeare-char/ and exp1/ hold only a previous run's checkpoint (nanoGPT's config names its out_dir so).
  for (const f of ['out-shakespeare-char/ckpt.pt', 'exp1/ckpt.pt', 'data/owt/train.bin', 'data/owt/val.bin', 'out/ckpt.pt', 'wandb/run-1/log', 'cache/tok.json', 'model.pt', 'notes/extra.txt']) r.write(f, f);
  mkdirSync(join(r.root, '.venv/bin'), { recursive: true });
  writeFileSync(join(r.root, '.venv/bin/python'), '#!/bin/sh\n');
  return r;
}

async function plan(r: TempRepo, shared: string[] | null, readonly: string[] = []) {
  const lab = await Lab.open(r.root);
  return planShared({ root: r.root, snapshotDir: join(r.root, '.autoresearch/t/shared'), shared, readonly, ignored: await lab.untracked(true), untracked: await lab.untracked(false) });
}

describe('shared inputs', () => {
  it('by default shares what git ignores, and leaves out outputs and checkpoints', async () => {
    const p = await plan(layout(), null);
    assert.deepEqual(p.links.map((l) => l.path), ['.venv', 'cache', 'data/owt/train.bin', 'data/owt/val.bin']);
    assert.deepEqual(p.leftOut.sort(), ['exp1', 'model.pt', 'out', 'out-shakespeare-char', 'wandb']);
    assert.deepEqual(p.unignored, []);
  });

  it('leaves the engine\'s own files out without a word: results.tsv and the summary are no output of a run', async () => {
    const r = layout();
    r.write('.gitignore', '*.bin\n*.pt\n.venv/\nout/\nwandb/\n__pycache__/\ncache/\nresults.tsv\nautoresearch-summary.md\n');
    r.write('results.tsv', 'commit\tval_loss\n');
    r.write('autoresearch-summary.md', '# summary\n');
    const p = await plan(r, null);
    assert.deepEqual(p.leftOut.sort(), ['exp1', 'model.pt', 'out', 'out-shakespeare-char', 'wandb']);
    assert.ok(!p.links.some((l) => l.path === 'results.tsv' || l.path === 'autoresearch-summary.md'));
    const chosen = await plan(r, ['*.tsv', '*.md']);
    assert.deepEqual(chosen.links.map((l) => l.path), [], 'not even when `shared` globs match them');
  });

  it('`shared` globs choose, reaching inside folders and into untracked ones that git does not ignore', async () => {
    const p = await plan(layout(), ['data/owt/val.bin', 'notes/**', 'out']);
    assert.deepEqual(p.links.map((l) => l.path), ['data/owt/val.bin', 'notes', 'out']);
    assert.deepEqual(p.unignored, ['notes']);
  });

  it('a protected input is linked to a snapshot; a folder holding one becomes a folder of links', async () => {
    const r = layout();
    const p = await plan(r, ['data/**', '.venv'], ['data/owt/val.bin']);
    const byPath = Object.fromEntries(p.links.map((l) => [l.path, l]));
    assert.equal(byPath['data/owt/val.bin']!.target, join(r.root, '.autoresearch/t/shared/data/owt/val.bin'));
    assert.equal(byPath['data/owt/val.bin']!.source, join(r.root, 'data/owt/val.bin'));
    assert.equal(byPath['data/owt/train.bin']!.target, join(r.root, 'data/owt/train.bin'));
    assert.equal(byPath['.venv']!.target, join(r.root, '.venv'));

    const { shared } = SharedInputs.create(p);
    const wt = join(r.root, '..', `${r.root.split('/').pop()}-wt`);
    mkdirSync(join(wt, 'data/owt'), { recursive: true });
    assert.deepEqual(shared.link(wt), []);
    assert.equal(readlinkSync(join(wt, 'data/owt/val.bin')), byPath['data/owt/val.bin']!.target);
    assert.ok(lstatSync(join(wt, '.venv')).isSymbolicLink());
    assert.deepEqual(shared.link(wt), [], 'linking again changes nothing');

    // A write through the link reaches the snapshot only; it is caught and undone.
    const before = shared.stamps();
    const snap = byPath['data/owt/val.bin']!.target;
    // The snapshot is read-only; a run that owns the file can make it writable again (root need not).
    chmodSync(snap, 0o644);
    writeFileSync(join(wt, 'data/owt/val.bin'), 'tampered');
    assert.equal(readFileSync(join(r.root, 'data/owt/val.bin'), 'utf8'), 'data/owt/val.bin');
    assert.deepEqual(shared.restoreTampered(wt, before), ['data/owt/val.bin']);
    assert.equal(readFileSync(snap, 'utf8'), 'data/owt/val.bin');
    // A link replaced by a file of the run's own is caught too.
    const again = shared.stamps();
    rmSync(join(wt, 'data/owt/val.bin'));
    writeFileSync(join(wt, 'data/owt/val.bin'), 'mine');
    assert.deepEqual(shared.restoreTampered(wt, again), ['data/owt/val.bin']);
    assert.equal(readlinkSync(join(wt, 'data/owt/val.bin')), snap);
    rmSync(wt, { recursive: true, force: true });
  });

  it('a path the experiment\'s commit has is not replaced by a link', async () => {
    const r = layout();
    const { shared } = SharedInputs.create(await plan(r, ['cache']));
    const wt = join(r.root, '.wt');
    mkdirSync(join(wt, 'cache'), { recursive: true });
    assert.deepEqual(shared.link(wt), ['cache']);
  });
});

describe('a slot worktree between experiments', () => {
  it('loses the previous run\'s outputs (nanoGPT\'s out-shakespeare-char/ckpt.pt) and keeps ignored inputs, caches and shared links (issue 10)', async () => {
    // Seen on nanoGPT: out-shakespeare-char/ckpt.pt written by #0 was still in slot-0 when #1 and #2 ran there; a run
    // with init_from='resume' (or any script that resumes from a checkpoint it finds) would start from #0's weights.
    const r = layout();
    const lab = await Lab.open(r.root);
    const { shared } = SharedInputs.create(await plan(r, null));
    const wt = join(r.root, '.autoresearch/worktrees/t/slot-0');
    const head = r.git('rev-parse', 'HEAD').trim();
    await lab.prepareWorktree(wt, head);
    shared.link(wt);
    for (const f of ['out-shakespeare-char/ckpt.pt', 'exp1/ckpt.pt', 'model.pt', 'wandb/run-1/log', 'data/owt/extra.bin', 'scratch.txt']) {
      mkdirSync(join(wt, f, '..'), { recursive: true });
      writeFileSync(join(wt, f), 'from #0');
    }
    await lab.prepareWorktree(wt, head);
    shared.link(wt);
    const there = (f: string) => lstatSync(join(wt, f), { throwIfNoEntry: false }) !== undefined;
    assert.deepEqual(['out-shakespeare-char', 'exp1', 'model.pt', 'wandb', 'scratch.txt'].filter(there), []);
    assert.deepEqual(['data/owt/extra.bin', 'train.py'].filter((f) => !there(f)), []);
    assert.ok(lstatSync(join(wt, 'data/owt/train.bin')).isSymbolicLink());
    assert.ok(lstatSync(join(wt, '.venv')).isSymbolicLink());
    // The user's own checkout keeps its outputs.
    assert.ok(there(join('..', '..', '..', '..', 'out-shakespeare-char/ckpt.pt')));
  });
});

describe('crash hints', () => {
  const r = layout();
  const wt = join(r.root, '.autoresearch/worktrees/t/slot-0');
  mkdirSync(wt, { recursive: true });
  const ctx = { worktree: wt, root: r.root, run: 'python3 train.py', shared: null, leftOut: ['out'] };

  it('names a git-ignored path the worktree lacks, and the shared line that fixes it', () => {
    const log = "Traceback (most recent call last):\n  File \"train.py\", line 3\nFileNotFoundError: [Errno 2] No such file or directory: 'data/owt/train.bin'\n";
    assert.equal(explainCrash(log, ctx), "data/owt/train.bin is in your checkout but not in the experiment's worktree (git does not track it, and it is not shared); add `shared: [data/**]` to autoresearch.config.yaml");
    assert.match(explainCrash("python3: can't open file '" + join(wt, 'out/ckpt.pt') + "': [Errno 2] No such file or directory", ctx)!, /out\/ckpt\.pt .*looks like an output.*`shared: \[out\/\*\*\]`/);
    assert.match(explainCrash('bash: line 1: .venv/bin/python: No such file or directory', { ...ctx, shared: ['data/**'] })!, /add `shared: \[data\/\*\*, \.venv\]`/);
  });

  it('says nothing about a path that is missing everywhere', () => {
    assert.equal(explainCrash("FileNotFoundError: [Errno 2] No such file or directory: 'nope.txt'", ctx), null);
  });

  it('points a missing module at the checkout\'s .venv', () => {
    assert.equal(explainCrash("ModuleNotFoundError: No module named 'torch'", ctx), 'the Python on PATH has no module torch, but your checkout has a virtual environment: set `run: .venv/bin/python train.py`');
  });

  it('names another interpreter that has the missing module, as when pyenv\'s python3 is first on PATH and Debian\'s python3-torch is in /usr/bin (issue 10)', () => {
    // Seen on nanoGPT: `ModuleNotFoundError: No module named 'torch'` from PATH's python3 while /usr/bin/python3 had it.
    const dir = mkdtempSync(join(tmpdir(), 'ar-pythons-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const real = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    mkdirSync(join(dir, 'site/fakemod_ar'), { recursive: true });
    writeFileSync(join(dir, 'site/fakemod_ar/__init__.py'), '');
    mkdirSync(join(dir, 'system/bin'), { recursive: true });
    writeFileSync(join(dir, 'system/bin/python3'), `#!/bin/sh\nPYTHONPATH='${join(dir, 'site')}' exec '${real}' "$@"\n`);
    chmodSync(join(dir, 'system/bin/python3'), 0o755);
    const path = `${process.env.PATH}${delimiter}${join(dir, 'system/bin')}`;
    const noVenv = { ...ctx, root: dir, worktree: dir, path };
    assert.equal(explainCrash("ModuleNotFoundError: No module named 'fakemod_ar'", noVenv),
      `the Python on PATH has no module fakemod_ar, but ${join(dir, 'system/bin/python3')} has it: set \`run: ${join(dir, 'system/bin/python3')} train.py\``);
    // The interpreter that failed is never the answer, even when named by its path.
    assert.match(explainCrash("ModuleNotFoundError: No module named 'fakemod_ar'", { ...noVenv, run: `${join(dir, 'system/bin/python3')} train.py` }) ?? '', /^the Python on PATH has no module fakemod_ar: install it there/);
    assert.match(explainCrash("ModuleNotFoundError: No module named 'nosuchmod_ar'", noVenv) ?? '', /^the Python on PATH has no module nosuchmod_ar: install it there/);
  });

  it('a metric pattern that matched nothing is answered with the lines that look like metrics and a pattern for them', () => {
    const log = 'iter 290: loss 2.1333, time 20.81ms, mfu 18.26%\nstep 300: train loss 2.3665, val loss 2.3792\nsaving checkpoint to out\n';
    const text = metricSuggestion(log, 'val_loss')!;
    assert.match(text, /^the log has metric-like lines such as `step 300: train loss 2\.3665, val loss 2\.3792` \(also .*\); to read val_loss there, set `metric\.pattern: '/);
    const pattern = /`metric\.pattern: '(.*)'`/.exec(text)![1]!.replace(/''/g, "'");
    assert.equal(extractLast(log, pattern), '2.3792');
    assert.equal(metricSuggestion('training went fine, honest\n', 'val_loss'), null);
  });

  it('finds the exception line of a traceback', () => {
    assert.equal(lastError("step 0: loss 4.2\nTraceback (most recent call last):\n  File \"train.py\", line 9, in <module>\nNameError: name 'floor' is not defined\n"), "NameError: name 'floor' is not defined");
    assert.equal(lastError('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB'), 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB');
    assert.equal(lastError('step 300: train loss 2.3665, val loss 2.3792'), null);
    // nanoGPT with `n_head 8 → 6` and `n_embd = 64` (Python 3.11): a bare AssertionError names the line that raised it.
    const assertion = [
      'Traceback (most recent call last):',
      '  File "/tmp/ngpt/.autoresearch/worktrees/dec7/slot-0/train.py", line 158, in <module>',
      '    model = GPT(gptconf)',
      '            ^^^^^^^^^^^^',
      '  File "/tmp/ngpt/.autoresearch/worktrees/dec7/slot-0/model.py", line 33, in __init__',
      '    assert config.n_embd % config.n_head == 0',
      '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
      'AssertionError',
    ].join('\n');
    assert.equal(lastError(assertion), 'AssertionError: assert config.n_embd % config.n_head == 0 (model.py:33)');
    // Without the marks (before 3.11), on Windows paths, and where the source is not shown (code run from a string).
    assert.equal(lastError('  File "C:\\repo\\train.py", line 12, in <module>\n    assert x > 0\nAssertionError\n'), 'AssertionError: assert x > 0 (train.py:12)');
    assert.equal(lastError('Traceback (most recent call last):\n  File "<string>", line 1, in <module>\nAssertionError\n'), 'AssertionError');
    assert.equal(lastError('  File "m.py", line 3, in f\n    raise ValueError\nValueError\n'), 'ValueError: raise ValueError (m.py:3)');
  });
});
