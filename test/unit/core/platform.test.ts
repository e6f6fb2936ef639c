// What the session records as its platform: the versions of the interpreter the run command starts, not of the
// python3 first on PATH (issue 10: nanoGPT ran under /usr/bin/python3 with torch 1.13 and numpy 1.24, and the summary
// said Python 3.11.7 and numpy 2.4.6, those of pyenv's python3, which had no torch).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pythonOf } from '../../../src/core/platform.js';
import { cliSync } from '../helpers/cli.js';
import { tempRepo, type TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

describe('platform', () => {
  it('takes the interpreter from the run command', () => {
    assert.equal(pythonOf('/usr/bin/python3 train.py config/train_shakespeare_char.py --device=cpu'), '/usr/bin/python3');
    assert.equal(pythonOf('.venv/bin/python train.py'), '.venv/bin/python');
    assert.equal(pythonOf('env OMP_NUM_THREADS=1 python3.11 -u train.py'), 'python3.11');
    assert.equal(pythonOf('CUDA_VISIBLE_DEVICES=0 python train.py'), 'python');
    assert.equal(pythonOf('torchrun --standalone train.py'), 'python3');
    assert.equal(pythonOf('bash run.sh'), 'python3');
    // What init writes below the repository root: the interpreter after the cd.
    assert.equal(pythonOf('cd projects/chargpt && PYTHONPATH=../.. /usr/bin/python3 chargpt.py'), '/usr/bin/python3');
  });

  it('a session records the framework versions of the run\'s interpreter', () => {
    // A setting to tune: a session with nothing to tune does not start.
    const r = tempRepo({ 'train.py': 'lr = 1e-3\nprint("val_loss: 1.0")\n' });
    repos.push(r);
    // An interpreter of its own, as /usr/bin/python3 with Debian's python3-torch is: a torch PATH's python3 has not.
    const real = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    mkdirSync(join(r.root, '.py/site/torch'), { recursive: true });
    writeFileSync(join(r.root, '.py/site/torch/__init__.py'), "__version__ = '0.0.test'\n");
    writeFileSync(join(r.root, '.py/python3'), `#!/bin/sh\nPYTHONPATH='${join(r.root, '.py/site')}' exec '${real}' "$@"\n`);
    chmodSync(join(r.root, '.py/python3'), 0o755);
    writeFileSync(join(r.root, '.gitignore'), '.py/\n');
    r.write('autoresearch.config.yaml', `tag: t1\neditable: [train.py]\nrun: ${join(r.root, '.py/python3')} train.py\nbudget: 20s\nmetric: {name: val_loss, direction: minimize}\nmaxExperiments: 1\nsandbox: {mode: off}\n`);
    r.commit('baseline');
    const res = cliSync(r.root, 'run');
    assert.equal(res.code, 0, res.err + res.out);
    const session = JSON.parse(readFileSync(join(r.root, '.autoresearch/t1/journal.jsonl'), 'utf8').split('\n')[0]!) as { platform: { frameworks: Record<string, string> } };
    assert.equal(session.platform.frameworks.torch, '0.0.test');
  });
});
