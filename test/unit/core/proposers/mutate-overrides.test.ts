// The mutate proposer leaves alone the settings the run command sets itself (`--key=value`, `--key value`, Hydra's
// `key=value`): an edit of them in a file would not reach the run, and the experiment would be wasted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import { runOverrides } from '../../../../src/core/proposers/mutate/overrides.js';
import { fakeConfig, fakeRequest, proposeAll } from '../../helpers/nodes.js';
import { tempFolder } from '../../helpers/repo.js';

const worktree = (files: Record<string, string>): string => tempFolder(files, 'ar-mutate-overrides-');


const names = (run: string): string[] => [...runOverrides(run).options.keys()].sort();

describe('runOverrides: what a run command sets', () => {
  it('nanoGPT `--key=value`, and the config file handed to the script after it', () => {
    const o = runOverrides('python train.py config/train_shakespeare_char.py --max_iters=2000 --compile=False --eval_interval=100');
    assert.deepEqual([...o.options.keys()].sort(), ['compile', 'eval_interval', 'max_iters']);
    assert.equal(o.options.get('max_iters'), '--max_iters=2000');
    assert.deepEqual(o.configFiles, ['config/train_shakespeare_char.py']);
  });

  it('argparse `--key value`, dashes as underscores, `--no-flag`; environment, launcher and shell syntax around it', () => {
    const o = runOverrides("CUDA_VISIBLE_DEVICES=0 python -u train.py --lr 0.1 --n-layer 4 --no-compile --name 'a run' 2>&1 | tee log.txt && echo done");
    assert.deepEqual([...o.options.keys()].sort(), ['compile', 'lr', 'n_layer', 'name', 'no_compile']);
    assert.equal(o.options.get('lr'), '--lr 0.1');
    assert.deepEqual(o.configFiles, []);
    // A flag before the script does not take the script for its value.
    assert.deepEqual(runOverrides('torchrun --standalone --nproc_per_node=2 train.py config/x.py').configFiles, ['config/x.py']);
  });

  it('Hydra `key=value`, `+key=value`, `++key=value` and `~key`; nothing for a bare command', () => {
    assert.deepEqual(names('python main.py optimizer.lr=1e-3 +trainer.max_epochs=3 ++model.dropout=0.2 ~data.augment'), ['data.augment', 'model.dropout', 'optimizer.lr', 'trainer.max_epochs']);
    assert.deepEqual(names('python3 train.py'), []);
    assert.deepEqual(names('LR=0.1 python3 train.py'), [], 'an environment variable is not an override of the script');
  });
});

describe('MutateProposer: settings the run command sets', () => {
  it('argparse: never edits the default of an option the command passes, and says why once', async () => {
    const script = 'import argparse\np = argparse.ArgumentParser()\np.add_argument("--lr", type=float, default=1e-3)\n' +
      'p.add_argument("--n-layer", type=int, default=6)\np.add_argument("--dropout", type=float, default=0.1)\nargs = p.parse_args()\n';
    const wt = worktree({ 'train.py': script });
    const all = await proposeAll(new MutateProposer({ seed: 2 }), fakeRequest(wt, { config: fakeConfig({ run: 'python3 train.py --lr 3e-4 --n-layer=8' }) }));
    assert.ok(all.length > 0);
    assert.deepEqual([...new Set(all.map((p) => p.description.split(' ')[0]))], ['dropout']);
    const said = all.filter((p) => /run command sets them/.test(p.plan));
    assert.equal(said.length, 1, 'said once');
    assert.match(said[0]!.plan, /Left alone because the run command sets them, so an edit in the file would not reach the run: in train\.py, lr \(--lr 3e-4\), n_layer \(--n-layer=8\)\./);
  });

  it('Hydra: never edits a key the command overrides, in the main config or in its group file', async () => {
    const wt = worktree({
      'conf/config.yaml': 'trainer:\n  max_epochs: 20\n  gradient_clip_val: 1.0\noptimizer:\n  lr: 3e-4\n',
      'conf/optimizer/adam.yaml': 'lr: 1e-3\nweight_decay: 0.1\n',
    });
    const req = fakeRequest(wt, { config: fakeConfig({ editable: ['conf/**/*.yaml'], run: 'python main.py optimizer.lr=1e-3 trainer.max_epochs=3' }) });
    const edited = new Set((await proposeAll(new MutateProposer({ seed: 4 }), req)).map((p) => p.editKey.replace(/=.*$/, '')));
    assert.deepEqual([...edited].sort(), ['conf/config.yaml:trainer.gradient_clip_val', 'conf/optimizer/adam.yaml:weight_decay']);
  });

  it('when the command sets every setting it found, proposes nothing and says what to do', async () => {
    const wt = worktree({ 'train.py': 'LR = 0.01\nWIDTH = 4\n' });
    const p = new MutateProposer({ seed: 1 });
    assert.equal(await p.propose(fakeRequest(wt, { config: fakeConfig({ run: 'python3 train.py --lr=0.1 --width=8' }) })), null);
    assert.match(p.explainNothingNew() ?? '', /the run command sets every setting it found .*\(in train\.py, LR \(--lr=0\.1\), WIDTH \(--width=8\)\)\. /);
  });
});
