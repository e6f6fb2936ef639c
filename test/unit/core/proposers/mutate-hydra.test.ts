// The mutate proposer on a Hydra/Lightning config tree laid out as ashleve/lightning-hydra-template lays it out
// (configs/train.yaml with a defaults list, one file per group): what it tunes there, and what it must leave alone
// because an edit breaks the run or changes what the metric measures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSearchSpace, isHyperparameterName, MutateProposer, parseHyperparameters, scanSearchSpace } from '../../../../src/core/proposers/mutate.js';
import { fakeConfig, fakeRequest, proposeAll } from '../../helpers/nodes.js';
import { tempFolder } from '../../helpers/repo.js';

const FILES = {
  'configs/train.yaml': '# @package _global_\ndefaults:\n  - data: mnist\n  - model: mnist\n  - _self_\n\ntask_name: train\nseed: 12345\n',
  'configs/model/mnist.yaml': [
    '_target_: src.models.mnist_module.MNISTLitModule',
    '',
    'optimizer:',
    '  _target_: torch.optim.Adam',
    '  _partial_: true',
    '  lr: 0.001',
    '  weight_decay: 0.0',
    '  eps: 1.0e-8',
    '',
    'net:',
    '  _target_: src.models.components.simple_dense_net.SimpleDenseNet',
    '  input_size: 784',
    '  lin1_size: 64',
    '  output_size: 10',
    '  dropout: 0.1',
    '',
  ].join('\n'),
  'configs/data/mnist.yaml': [
    '_target_: src.data.mnist_datamodule.MNISTDataModule',
    'data_dir: ${paths.data_dir}',
    'batch_size: 128',
    'train_val_test_split: [55_000, 5_000, 10_000]',
    'val_fraction: 0.1',
    'valid_pct: 0.2',
    'num_workers: 0',
    '',
  ].join('\n'),
  'configs/trainer/default.yaml': 'max_epochs: 10\ngradient_clip_val: 0.5\n',
};

function scanned(): { tuned: string[]; skipped: string[] } {
  const space = scanSearchSpace(tempFolder(FILES, 'ar-mutate-hydra-'), ['configs/**/*.yaml']);
  return { tuned: space.params.map((p) => `${p.file}:${p.name}`), skipped: space.skipped.map((p) => `${p.file}:${p.name}`) };
}

describe('mutate on a lightning-hydra-template config tree', () => {
  it("never flips Hydra's own keys (_partial_, _recursive_, _convert_): instantiate would break", () => {
    const { tuned, skipped } = scanned();
    assert.ok(!tuned.includes('configs/model/mnist.yaml:optimizer._partial_'), tuned.join(', '));
    assert.ok(skipped.includes('configs/model/mnist.yaml:optimizer._partial_'));
    for (const n of ['_partial_', 'optimizer._recursive_', '_convert_', 'net._args_']) assert.equal(isHyperparameterName(n), false, n);
  });

  it("never changes a layer's input or output size, which the data fixes: the run would crash", () => {
    const { tuned } = scanned();
    assert.ok(!tuned.includes('configs/model/mnist.yaml:net.input_size'), tuned.join(', '));
    assert.ok(!tuned.includes('configs/model/mnist.yaml:net.output_size'), tuned.join(', '));
    for (const n of ['input_dim', 'in_features', 'in_channels', 'in_chans', 'output_dim', 'out_features', 'num_outputs', 'net.input_size']) {
      assert.equal(isHyperparameterName(n), false, n);
    }
    // The hidden sizes between them are what to tune.
    assert.ok(tuned.includes('configs/model/mnist.yaml:net.lin1_size'));
    for (const n of ['hidden_dim', 'hidden_size', 'lin1_size', 'd_model', 'n_embd']) assert.equal(isHyperparameterName(n), true, n);
  });

  it('never changes the validation split (DESIGN rule 9: what the metric measures is fixed), but still tunes gradient_clip_val', () => {
    const { tuned } = scanned();
    assert.ok(!tuned.includes('configs/data/mnist.yaml:val_fraction'), tuned.join(', '));
    assert.ok(!tuned.includes('configs/data/mnist.yaml:valid_pct'), tuned.join(', '));
    for (const n of ['val_fraction', 'val_size', 'valid_ratio', 'val_steps', 'holdout_fraction']) assert.equal(isHyperparameterName(n), false, n);
    assert.ok(tuned.includes('configs/trainer/default.yaml:gradient_clip_val'));
    assert.ok(tuned.includes('configs/data/mnist.yaml:batch_size'));
    assert.ok(tuned.includes('configs/model/mnist.yaml:optimizer.lr'));
  });

  it("leaves Adam's eps alone: a step of a quarter from 1e-8 moves the metric by nothing, a run spent for nothing", () => {
    const { tuned, skipped } = scanned();
    assert.ok(!tuned.includes('configs/model/mnist.yaml:optimizer.eps'), tuned.join(', '));
    assert.ok(skipped.includes('configs/model/mnist.yaml:optimizer.eps'));
    const names = (text: string): string[] => parseHyperparameters('conf.yaml', text).map((p) => p.name);
    assert.deepEqual(names('layer_norm_eps: 1e-5\nadam_epsilon: 1.0e-8\nlr: 1.0e-3\n'), ['lr']);
    // An epsilon that is a real setting (epsilon-greedy exploration), or one the user bounds with a range, is tuned.
    assert.deepEqual(names('epsilon: 0.1\neps: 1.0e-6  # range: 1e-8, 1e-4\n'), ['epsilon', 'eps']);
  });

  it("never edits a group's file the run command does not select (model=cnn: configs/model/mnist.yaml is not read)", async () => {
    const wt = tempFolder({ ...FILES, 'configs/model/cnn.yaml': 'optimizer:\n  lr: 0.01\nnet:\n  width: 32\n' }, 'ar-mutate-hydra-');
    const run = 'python src/train.py model=cnn trainer=default';
    const all = await proposeAll(new MutateProposer({ seed: 3 }), fakeRequest(wt, { config: fakeConfig({ editable: ['configs/**/*.yaml'], run }) }));
    const files = new Set(all.map((p) => p.editKey.replace(/:.*$/, '')));
    assert.ok(!files.has('configs/model/mnist.yaml'), [...files].join(', '));
    assert.ok(files.has('configs/model/cnn.yaml'), [...files].join(', '));
    assert.ok(files.has('configs/trainer/default.yaml'), 'the group option the command names is read');
    assert.match(all.find((p) => /run command sets them/.test(p.plan))?.plan ?? '', /in configs\/model\/mnist\.yaml, .*optimizer\.lr.* \(model=cnn\)/);
  });

  it('with only the script editable, says which config files hold what it could tune, and the glob that adds them', () => {
    const wt = tempFolder({ ...FILES, 'src/train.py': 'import yaml\nROOT = "."\n', 'package.json': '{"version": 1}\n' }, 'ar-mutate-hydra-');
    const space = scanSearchSpace(wt, ['src/train.py']);
    assert.deepEqual(space.params, []);
    assert.deepEqual(space.elsewhere, ['configs/data/mnist.yaml', 'configs/model/mnist.yaml', 'configs/trainer/default.yaml']);
    assert.match(describeSearchSpace(space, ['src/train.py']),
      / Files that are not editable hold values it could tune: configs\/data\/mnist\.yaml, configs\/model\/mnist\.yaml, configs\/trainer\/default\.yaml; add them to editable \(globs such as `configs\/\*\*\/\*\.yaml`\)\./);
    // With something to tune, nothing else is read.
    assert.equal(scanSearchSpace(wt, ['configs/**/*.yaml']).elsewhere, undefined);
  });
});
