// `autoresearch init --probe` as a user runs it: a real script in a temp repo, run once, its metric written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../src/core/config.js';
import { extractLast } from '../../../src/core/judging/judge.js';
import { CHARLM } from '../helpers/charlm.js';
import { cliSync as cli, cliSyncEnv } from '../helpers/cli.js';
import { scratchRepo, type TempRepo } from '../helpers/repo.js';

const repo = scratchRepo;

function config(r: TempRepo): { text: string; parsed: ReturnType<typeof parseConfig> } {
  const text = readFileSync(join(r.root, 'autoresearch.config.yaml'), 'utf8');
  return { text, parsed: parseConfig(text) };
}

/** karpathy/makemore's shape: one script, argparse defaults (-1 for "off"), a step line and an eval line every 50 steps. */
const MAKEMORE = `import argparse
import os


def main(args):
    os.makedirs(args.work_dir, exist_ok=True)
    loss, best = 3.3, None
    for step in range(args.max_steps if args.max_steps > 0 else 101):
        loss *= 0.995
        if step % 10 == 0:
            print(f"step {step} | loss {loss:.4f} | step time 12.31ms")
        if step > 0 and step % 50 == 0:
            test_loss = loss + 0.05
            print(f"step {step} train loss: {loss} test loss: {test_loss}")
            if best is None or test_loss < best:
                best = test_loss
                print(f"test loss {test_loss} is the best so far, saving model to {args.work_dir}/model.pt")
                with open(os.path.join(args.work_dir, "model.pt"), "w") as f:
                    f.write("weights")


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description="Make More")
    parser.add_argument('--work-dir', '-o', type=str, default='out', help="output working directory")
    parser.add_argument('--max-steps', type=int, default=-1, help="max number of optimization steps to run for, or -1 for infinite.")
    parser.add_argument('--top-k', type=int, default=-1, help="top-k for sampling, -1 means no top-k")
    parser.add_argument('--n-embd', type=int, default=64, help="number of feature channels in the model")
    parser.add_argument('--batch-size', '-b', type=int, default=32, help="batch size during optimization")
    parser.add_argument('--learning-rate', '-l', type=float, default=5e-4, help="learning rate")
    main(parser.parse_args())
`;

/** What nanoGPT's train.py prints: a config dump, eval lines every few steps, iteration lines in between. */
const NANOGPT_TRAIN = `import os
print("tokens per iteration will be: 16,384")
print("number of parameters: 10.65M")
evals = {0: (4.2874, 4.2823), 100: (2.9123, 2.9550), 200: (2.5012, 2.5409), 300: (2.3665, 2.3792)}
for it in range(0, 311, 10):
    if it in evals:
        t, v = evals[it]
        print(f"step {it}: train loss {t:.4f}, val loss {v:.4f}")
    print(f"iter {it}: loss {4.2 - it / 150:.4f}, time {20.5 + it / 1000:.2f}ms, mfu 18.26%")
`;

describe('autoresearch init --probe', () => {
  it('runs the script once and writes the metric it found: val loss of the nanoGPT step lines, minimized', () => {
    const r = repo({ 'train.py': NANOGPT_TRAIN });
    const res = cli(r.root, 'init', '--probe', '--budget', '1m');
    assert.equal(res.code, 0, res.err + res.out);
    assert.match(res.out, /Found train\.py/);
    assert.match(res.out, /Running `python3? train\.py` once to find the metric: up to 1m/);
    assert.match(res.out, /^Metric: val_loss, minimize; 4 lines, the last reads 2\.3792$/m);
    assert.match(res.out, /^ {2}matched: step 300: train loss 2\.3665, val loss 2\.3792$/m);
    assert.match(res.out, /Other candidates:\n {2}loss \(minimize\) = 2\.1333: iter 310: .*\n {2}train_loss \(minimize\) = 2\.3665: step 300/);

    const { text, parsed } = config(r);
    assert.equal(parsed.metric.name, 'val_loss');
    assert.equal(parsed.metric.direction, 'minimize');
    assert.equal(parsed.budgetSeconds, 60);
    // The judge reads val loss with it, wherever the step is and whatever the numbers.
    assert.equal(extractLast('step 300: train loss 2.3665, val loss 2.3792\n', parsed.metric.pattern), '2.3792');
    assert.equal(extractLast('step 5000: train loss 0.9, val loss 1.4712\niter 5000: loss 0.8, time 20ms, mfu 18%\n', parsed.metric.pattern), '1.4712');
    assert.equal(extractLast(readFileSync(join(r.root, '.autoresearch/init-probe.log'), 'utf8'), parsed.metric.pattern), '2.3792');
    assert.match(text, /^# {3}step 300: train loss 2\.3665, val loss 2\.3792\n/m);
    // The probe's log stays out of the user's git status.
    assert.equal(r.git('status', '--porcelain'), '?? autoresearch.config.yaml');
  });

  it('a failing script: the exit code and its last lines, and the config written with the guess from what it printed', () => {
    const r = repo({ 'train.py': 'import sys\nprint("epoch 1 | val_acc 0.61")\nprint("Traceback: CUDA error", file=sys.stderr)\nsys.exit(3)\n' });
    const res = cli(r.root, 'init', '--probe');
    assert.equal(res.code, 0, res.err);
    assert.match(res.err, /It failed: exit code 3 after (?:[\d.]+ s|\d+ ms)\. Last lines of the log:\n {4}epoch 1 \| val_acc 0\.61\n {4}Traceback: CUDA error/);
    assert.match(res.out, /matched: epoch 1 \| val_acc 0\.61/);
    const { text, parsed } = config(r);
    assert.deepEqual([parsed.metric.name, parsed.metric.direction], ['val_acc', 'maximize']);
    assert.match(text, /failed \(exit code 3\) when init ran it/);
  });

  it('the wrong Python on PATH: init runs the interpreter that has the module, and a probe of a config that names the wrong one says which to use (issue 10, nanoGPT with Debian\'s torch)', () => {
    // As on nanoGPT: pyenv's python3 first on PATH without torch, /usr/bin/python3 with it. Here a wrapper of the
    // real interpreter, later on PATH, is the one with the (made-up) module.
    const dir = mkdtempSync(join(tmpdir(), 'ar-pythons-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const real = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    mkdirSync(join(dir, 'site/fakemod_ar'), { recursive: true });
    writeFileSync(join(dir, 'site/fakemod_ar/__init__.py'), '');
    mkdirSync(join(dir, 'bin'));
    const other = join(dir, 'bin/python3');
    writeFileSync(other, `#!/bin/sh\nPYTHONPATH='${join(dir, 'site')}' exec '${real}' "$@"\n`);
    chmodSync(other, 0o755);
    const env = { PATH: `${process.env.PATH}${delimiter}${join(dir, 'bin')}` };
    // model.py is the script's own module: found in the checkout, never a reason to look elsewhere.
    const r = repo({ 'train.py': 'import os\nimport fakemod_ar\nfrom model import GPT\nprint("step 100: train loss 2.9, val loss 3.0")\n', 'model.py': 'GPT = 1\n' });
    const res = cliSyncEnv(env, r.root, 'init', '--probe');
    assert.equal(res.code, 0, res.err);
    assert.ok(res.out.includes(`python3 on PATH cannot import fakemod_ar, which train.py imports; ${other} can, so the run uses it.`), res.out);
    assert.match(res.out, /Finished in .* \(exit code 0\)/);
    assert.equal(config(r).parsed.run, `${other} train.py`);
    assert.equal(config(r).parsed.metric.name, 'val_loss');

    // A config that runs PATH's python3: the probe fails, and says which interpreter to set.
    const path = join(r.root, 'autoresearch.config.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^run: .*$/m, 'run: python3 train.py'));
    const again = cliSyncEnv(env, r.root, 'init', '--probe', '--force');
    assert.match(again.err, /ModuleNotFoundError: No module named 'fakemod_ar'/);
    const fix = `the Python on PATH has no module fakemod_ar, but ${other} has it: set \`run: ${other} train.py\``;
    assert.ok(again.err.includes(`To fix it: ${fix}, then \`autoresearch init --probe --force\` again.`), again.err);

    // No interpreter has it: init says so, keeps python3 and marks the run line.
    const none = repo({ 'train.py': 'import nosuchmod_ar\n' });
    const res3 = cliSyncEnv(env, none.root, 'init');
    assert.match(res3.err, /python3 on PATH cannot import nosuchmod_ar, which train\.py imports, and no other interpreter here can/);
    assert.match(config(none).text, /^# FIX ME: python3 on PATH cannot import nosuchmod_ar.*\nrun: python3 train\.py$/m);
  });

  it('a nanoGPT-style script that takes config/*.py: init trains with the one whose data is prepared, and makes it editable (issue 10)', () => {
    // Run bare, nanoGPT's train.py trains GPT-2 on openwebtext on CUDA; the user meant config/train_shakespeare_char.py.
    const r = repo({});
    cpSync(CHARLM, r.root, { recursive: true });
    writeFileSync(join(r.root, 'config/train_gpt2.py'), "dataset = 'openwebtext'\nbatch_size = 12\n");
    r.commit('nanoGPT-like');
    // Before the data is prepared: no config is ready, so init names them and the run line, and runs the script bare.
    const before = cli(r.root, 'init');
    assert.equal(before.code, 0, before.err);
    assert.doesNotMatch(before.err, /No training script/);
    assert.match(before.out, /train\.py takes a config file after it \(exec of configurator\.py\); run bare, it trains its own defaults\. config\/ has train_gpt2\.py, train_shakespeare_char\.py\./);
    assert.match(before.out, /set `run: python3? train\.py config\/train_gpt2\.py` and add config\/train_gpt2\.py to editable/);
    assert.match(config(r).text, /^# For one of them: run: python3? train\.py config\/train_gpt2\.py {2}\(and add config\/train_gpt2\.py to editable\)\nrun: python3? train\.py$/m);

    execFileSync('python3', ['data/shakespeare_char/prepare.py'], { cwd: r.root, stdio: 'ignore' });
    const res = cli(r.root, 'init', '--force');
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /^Found train\.py: the script the loop changes and runs \(`python3? train\.py config\/train_shakespeare_char\.py`\)\.$/m);
    assert.match(res.out, /config\/ has train_gpt2\.py, train_shakespeare_char\.py \(its data is prepared\)\.\n {2}The run trains with config\/train_shakespeare_char\.py, the one whose data is prepared/);
    // What issue 10's first baseline lacked: the prepared data, which every experiment now gets as links.
    r.write('out-shakespeare-char/ckpt.pt', 'a previous run');
    const again = cli(r.root, 'init', '--force');
    assert.match(again.out, /^Every experiment gets links to what git ignores here: data\/shakespeare_char\/meta\.pkl, data\/shakespeare_char\/train\.bin, data\/shakespeare_char\/val\.bin \(left out as outputs: out-shakespeare-char\); `shared:` in the config chooses instead\.$/m);
    const { parsed } = config(r);
    assert.match(parsed.run, /^python3? train\.py config\/train_shakespeare_char\.py$/);
    assert.deepEqual(parsed.editable, ['train.py', 'config/train_shakespeare_char.py']);
    // A script that takes no config file gets no such note, and no word about a missing script.
    const plain = cli(repo({ 'train.py': 'lr = 0.1\n', 'config/x.py': 'lr = 1\n' }).root, 'init');
    assert.doesNotMatch(plain.out + plain.err, /takes a config file|No training script/);
  });

  it('nothing that looks like a metric: says so, shows the last lines, writes the default marked FIX ME', () => {
    const r = repo({ 'train.py': 'print("loading data")\nprint("training done")\n' });
    const res = cli(r.root, 'init', '--probe');
    // Written, but not ready to run: exit code 1, so `init --probe && autoresearch run` stops here.
    assert.equal(res.code, 1, res.err);
    assert.match(res.err, /Nothing it printed looks like a metric.*\n {4}loading data\n {4}training done/);
    const { text, parsed } = config(r);
    assert.equal(parsed.metric.name, 'val_loss');
    assert.match(text, /^# FIX ME: init ran `python3? train\.py` and found no metric in its output/m);
  });

  it('a script still running at the budget is stopped with what it started, and the metric comes from what it printed', () => {
    const r = repo({ 'train.py': 'import subprocess, time\np = subprocess.Popen(["sleep", "30"])\nopen("child.pid", "w").write(str(p.pid))\nprint("val_loss: 0.9", flush=True)\ntime.sleep(30)\n' });
    const started = Date.now();
    const res = cli(r.root, 'init', '--probe', '--budget', '1s');
    assert.ok(Date.now() - started < 15_000, 'the probe stops at the budget');
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /still running at the budget \(1s\) and was stopped after \S+ s, but it printed val_loss as it went: the config judges each run on the last value it printed when the budget stops it \(atBudget: last\)/);
    assert.equal(config(r).parsed.metric.name, 'val_loss');
    assert.equal(config(r).parsed.atBudget, 'last');
    assert.match(config(r).text, /^# The run was still going at the budget when it was tried.*\n.*\natBudget: last$/m);
    const child = readFileSync(join(r.root, 'child.pid'), 'utf8').trim();
    // Gone, or a zombie nobody reaped yet: not running.
    const stat = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8') : '';
    assert.ok(!stat || /^\d+ \(.*\) Z/.test(stat), `the script's child still runs: ${stat}`);
  });

  it('a script still running at the budget that printed no metric: every experiment would time out, and it says so', () => {
    const r = repo({ 'train.py': 'import time\nprint("loading data", flush=True)\ntime.sleep(30)\n' });
    const res = cli(r.root, 'init', '--probe', '--budget', '1s');
    assert.equal(res.code, 1, res.err);
    assert.match(res.err, /still running at the budget \(1s\) and was stopped after \S+ s, before it printed anything that looks like a metric: its first evaluation comes later than that\. Every experiment would end the same way, as a crash: make the script stop in time \(it gets AUTORESEARCH_BUDGET_SECONDS\), make a run smaller \(fewer steps, a smaller model, fewer evaluation batches\) or give a larger --budget\./);
    assert.equal(config(r).parsed.atBudget, 'crash');
  });

  it('--probe --force on a config whose run is still going at the budget adds atBudget: last, leaving the rest', () => {
    const r = repo({ 'train.py': 'import time\nfor i in range(100):\n    print(f"step {i}: train loss {2 - i / 100:.3f}, val loss {2.1 - i / 100:.3f}", flush=True)\n    time.sleep(0.2)\n' });
    assert.equal(cli(r.root, 'init').code, 0);
    const path = join(r.root, 'autoresearch.config.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^budget: .*$/m, 'budget: 2s'));
    const res = cli(r.root, 'init', '--probe', '--force');
    assert.equal(res.code, 0, res.err + res.out);
    assert.match(res.out, /, and atBudget: last; the other keys are as they were/);
    const { parsed } = config(r);
    assert.equal(parsed.atBudget, 'last');
    assert.equal(parsed.budgetSeconds, 2);
  });

  it('no training script: says what it looked for, runs nothing, and marks run in the config', () => {
    const r = repo({ 'README.md': '# notes\n' });
    const res = cli(r.root, 'init', '--probe');
    assert.equal(res.code, 1, res.err);
    assert.match(res.err, /No training script here: none of train\.py, main\.py/);
    assert.match(res.err, /Not running anything/);
    assert.ok(!existsSync(join(r.root, '.autoresearch/init-probe.log')));
    assert.match(config(r).text, /^# FIX ME: `autoresearch init` found no training script .*\nrun: /m);
  });

  it('in a folder below the repository root, names files from the root and runs from the folder, as a session does (minGPT\'s projects/chargpt)', () => {
    const chargpt = 'import os\nfrom mingpt.model import X\nLEARNING_RATE = 5e-4\n\nif __name__ == "__main__":\n    assert os.path.exists("input.txt")\n    for i in range(0, 100, 10):\n        print(f"iter_dt 12.00ms; iter {i}: train loss {3 - i / 100:.5f}")\n';
    const r = repo({ 'projects/chargpt/chargpt.py': chargpt, 'projects/chargpt/input.txt': 'hello\n', 'mingpt/__init__.py': '', 'mingpt/model.py': 'X = 1\n' });
    const here = join(r.root, 'projects/chargpt');
    const res = cli(here, 'init', '--probe', '--budget', '1m');
    assert.equal(res.code, 0, res.err + res.out);
    assert.match(res.out, /^This folder is projects\/chargpt\/ of the repository at .*\. A session works from the repository root, so the config names files from there \(projects\/chargpt\/chargpt\.py\) and runs `cd projects\/chargpt && PYTHONPATH=\.\.\/\.\. python3? chargpt\.py`\.$/m);
    // The repository's own package, two folders up, is found as minGPT's README runs it: on PYTHONPATH.
    assert.match(res.out, /^mingpt is this repository's own \(in \.\.\/\.\.\), which python finds on PYTHONPATH: the run sets `PYTHONPATH=\.\.\/\.\.`\.$/m);
    assert.match(res.out, /^Metric: train_loss, minimize; 10 lines, the last reads 2\.10000$/m);
    const c = parseConfig(readFileSync(join(here, 'autoresearch.config.yaml'), 'utf8'));
    assert.deepEqual(c.editable, ['projects/chargpt/chargpt.py']);
    assert.match(c.run, /^cd projects\/chargpt && PYTHONPATH=\.\.\/\.\. python3? chargpt\.py$/);
    // The probe ran from the root, as a session does: its log is there, not in a stray .autoresearch below.
    assert.ok(existsSync(join(r.root, '.autoresearch/init-probe.log')));
    assert.ok(!existsSync(join(here, '.autoresearch')));
    // And a session started from the folder runs it.
    r.git('add', '-A');
    r.git('commit', '-qm', 'config');
    const run = cli(here, 'run', '--max-experiments', '1');
    assert.equal(run.code, 0, run.err + run.out);
    assert.match(run.out, /^\[EXP\] \S+ 0 \| commit:\w+ \| train_loss:2\.1 \| .*status:keep \| baseline$/m);
  });

  it('says when the run took most of the budget, and what budget leaves room', () => {
    // makemore took 0:31 of 40 s here, and three changes that cost no time then ran past 40 s on a busier machine.
    const r = repo({ 'train.py': 'import time\ntime.sleep(4.2)\nprint("val_loss: 0.5")\n' });
    const res = cli(r.root, 'init', '--probe', '--budget', '6s');
    assert.equal(res.code, 0, res.err + res.out);
    assert.match(res.out, /^Finished in \d\.\d s \(exit code 0\)\.$/m);
    assert.match(res.err, /^That is \d+ % of the 6s budget: a change that makes a run a little slower \(a wider model, a larger batch\), or a busier machine, runs past it, and a run stopped at the budget is a crash that says nothing about its change\. `budget: \d+s` in autoresearch\.config\.yaml is about twice this run\.$/m);
  });

  it('finds the one Python file that runs as a program when nothing is named train (karpathy/makemore)', () => {
    const r = repo({ 'makemore.py': MAKEMORE, 'names.txt': 'emma\nolivia\n', 'README.md': '# makemore\n' });
    const res = cli(r.root, 'init');
    assert.equal(res.code, 0, res.err);
    assert.doesNotMatch(res.err, /No training script/);
    assert.match(res.out, /^Found makemore\.py: the script the loop changes and runs \(`python3? makemore\.py`\)\.$/m);
    assert.deepEqual(config(r).parsed.editable, ['makemore.py']);
    // What mutate tunes there, -1 sentinels left alone.
    assert.match(res.out, /The mutate proposer tunes 3 values: makemore\.py: n_embd, batch_size, learning_rate\./);
    assert.match(res.out, /left alone.*max_steps, top_k/);
    // --probe reads the eval line every run prints, not the one printed only when the loss improved (the best so far).
    const probed = cli(r.root, 'init', '--probe', '--force', '--budget', '1m');
    assert.equal(probed.code, 0, probed.err + probed.out);
    assert.match(probed.out, /^Metric: test_loss, minimize; 2 lines, the last reads /m);
    assert.match(probed.out, /^ {2}matched: step 100 train loss: \S+ test loss: \S+$/m);
    assert.match(config(r).parsed.metric.pattern, /^\^step\\b/);
    // It wrote out/model.pt into the checkout, which the README's next step (`git add -A`) would commit.
    assert.match(probed.err, /^The run wrote `out\/` here, which git does not ignore: `git add -A` would commit it with your code, into the baseline and every experiment\. Add it to \.gitignore/m);
    writeFileSync(join(r.root, '.gitignore'), 'out/\n');
    const again = cli(r.root, 'init', '--probe', '--force', '--budget', '1m');
    assert.doesNotMatch(again.err, /The run wrote/);
    // Two programs and no train: init names them instead of guessing.
    const two = repo({ 'makemore.py': MAKEMORE, 'sample.py': 'if __name__ == "__main__":\n    print("hi")\n', 'utils.py': 'X = 1\n' });
    const res2 = cli(two.root, 'init');
    assert.equal(res2.code, 1);
    assert.match(res2.err, /No training script here: .* Here makemore\.py, sample\.py run as a program: `autoresearch init --script makemore\.py --force` takes the one you name\.$/m);
    // Named, it is taken, and the data it reads by name is protected.
    const named = cli(two.root, 'init', '--script', 'makemore.py', '--force');
    assert.equal(named.code, 0, named.err);
    assert.match(named.out, /^Found makemore\.py: the script the loop changes and runs/m);
    assert.deepEqual(config(two).parsed.editable, ['makemore.py']);
    const missing = cli(two.root, 'init', '--script', 'nope.py', '--force');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--script: there is no file nope\.py here/);
  });

  it('takes the one script that trains a model when none runs as a program, and protects the data it reads (karpathy/ng-video-lecture)', () => {
    // gpt.py and bigram.py: top-level settings, no main guard, `open('input.txt')`; here bigram.py is gone.
    const gpt = "import torch\nbatch_size = 16\nlearning_rate = 1e-3\nwith open('input.txt', 'r', encoding='utf-8') as f:\n    text = f.read()\nwith open('samples.txt', 'w') as f:\n    f.write(text)\nfor it in range(10):\n    loss = model(xb)\n    optimizer.zero_grad(set_to_none=True)\n    loss.backward()\n    optimizer.step()\n";
    const one = repo({ 'gpt.py': gpt, 'input.txt': 'First Citizen:\n', 'README.md': '# nanogpt-lecture\n' });
    const res = cli(one.root, 'init');
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /^Found gpt\.py: the script the loop changes and runs/m);
    // What it reads is protected; what it writes is not.
    assert.match(res.out, /^ {2}protected: input\.txt$/m);
    assert.deepEqual(config(one).parsed.readonly, ['input.txt']);
    // Both scripts of the lecture train: init names them and how to choose.
    const both = repo({ 'gpt.py': gpt, 'bigram.py': gpt, 'input.txt': 'First Citizen:\n' });
    const res2 = cli(both.root, 'init');
    assert.equal(res2.code, 1);
    assert.match(res2.err, /Here bigram\.py, gpt\.py train a model: `autoresearch init --script bigram\.py --force` takes the one you name\./);
    const gptNamed = cli(both.root, 'init', '--script', 'gpt.py', '--force');
    assert.equal(gptNamed.code, 0, gptNamed.err);
    assert.deepEqual([config(both).parsed.editable, config(both).parsed.readonly], [['gpt.py'], ['input.txt']]);
  });

  it('with a config here, --probe --force runs that config\'s run command and changes only its metric', () => {
    // The script prints the metric the user means only with the options the config's run passes.
    const r = repo({ 'train.py': 'import sys\nprint("val_acc: 0.91" if "--full=1" in sys.argv else "val_loss: 1.5")\n' });
    assert.equal(cli(r.root, 'init').code, 0);
    const path = join(r.root, 'autoresearch.config.yaml');
    const mine = readFileSync(path, 'utf8').replace(/^run: .*$/m, 'run: python3 train.py --full=1').replace(/^maxExperiments: .*$/m, 'maxExperiments: 7 # mine');
    writeFileSync(path, mine);
    const res = cli(r.root, 'init', '--probe', '--force');
    assert.equal(res.code, 0, res.err + res.out);
    assert.match(res.out, /Probing the run command of autoresearch\.config\.yaml, `python3 train\.py --full=1`/);
    assert.match(res.out, /Running `python3 train\.py --full=1` once/);
    const { text, parsed } = config(r);
    assert.deepEqual([parsed.metric.name, parsed.metric.direction], ['val_acc', 'maximize']);
    assert.equal(parsed.run, 'python3 train.py --full=1');
    assert.match(text, /^maxExperiments: 7 # mine$/m);
    assert.equal(text.slice(text.indexOf('# Peak memory')), mine.slice(mine.indexOf('# Peak memory')));

    // A probe that finds nothing leaves the config as it was.
    writeFileSync(join(r.root, 'train.py'), 'print("done")\n');
    const none = cli(r.root, 'init', '--probe', '--force');
    assert.equal(none.code, 1, none.err);
    assert.match(none.err, /left as it was \(metric: val_acc, maximize\)/);
    assert.equal(readFileSync(path, 'utf8'), text);
  });

  it('--help names --probe; a bad --budget is refused with exit 2 and nothing written', () => {
    const r = repo({ 'train.py': 'print("val_loss: 1")\n' });
    assert.match(cli(r.root, '--help').out, /init .*\n\s+\[--probe\] run the command once/);
    const bad = cli(r.root, 'init', '--probe', '--budget', 'soon');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--budget: expected a duration/);
    assert.ok(!existsSync(join(r.root, 'autoresearch.config.yaml')));
  });
});
