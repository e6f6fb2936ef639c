// `autoresearch init` on a repository laid out as Hydra/YAML research templates are (ashleve/lightning-hydra-template):
// the script in src/, its settings in configs/ chosen by a defaults list.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/core/config.js';
import { cliSync as cli } from '../helpers/cli.js';
import { scratchRepo, type TempRepo } from '../helpers/repo.js';

const repo = scratchRepo;

const TRAIN = `import os
import yaml

with open(os.path.join(os.path.dirname(__file__), "..", "configs", "train.yaml")) as f:
    cfg = yaml.safe_load(f)
print("val_loss: 0.5")
`;

const HYDRA_TRAIN = `import hydra
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="../configs", config_name="train.yaml")
def main(cfg: DictConfig) -> None:
    print("val/loss: 0.5")


if __name__ == "__main__":
    main()
`;

const LAYOUT = {
  'configs/train.yaml': [
    '# @package _global_',
    'defaults:',
    '  - _self_',
    '  - data: mnist',
    '  - model: mnist',
    '  - callbacks: default',
    '  - logger: null',
    '  - trainer: default',
    '  - paths: default',
    '  - extras: default',
    '  - hydra: default',
    '  - experiment: null',
    '  - optional local: default',
    '  - debug: null',
    '',
    'task_name: train',
    'seed: 12345',
    '',
  ].join('\n'),
  'configs/data/mnist.yaml': 'batch_size: 128\n',
  'configs/model/mnist.yaml': 'optimizer:\n  lr: 0.001\n',
  'configs/model/cnn.yaml': 'optimizer:\n  lr: 0.01\n',
  'configs/callbacks/default.yaml': 'early_stopping:\n  patience: 100\n',
  'configs/trainer/default.yaml': 'max_epochs: 10\n',
  'configs/trainer/gpu.yaml': 'max_epochs: 10\naccelerator: gpu\n',
  'configs/paths/default.yaml': 'root_dir: .\n',
  'configs/extras/default.yaml': 'print_config: true\n',
  'configs/hydra/default.yaml': 'job:\n  chdir: false\n',
  'configs/experiment/example.yaml': '# @package _global_\ntrainer:\n  max_epochs: 3\n',
};

function config(r: TempRepo): ReturnType<typeof parseConfig> {
  return parseConfig(readFileSync(join(r.root, 'autoresearch.config.yaml'), 'utf8'));
}

describe('autoresearch init on a Hydra-style repository', () => {
  it('finds the training script in src/ and runs it from the root', () => {
    const r = repo({ 'src/train.py': 'print("val_loss: 0.5")\n', 'src/eval.py': 'x = 1\n', 'README.md': '# x\n' });
    const res = cli(r.root, 'init');
    assert.equal(res.code, 0, res.err);
    assert.doesNotMatch(res.err, /No training script/);
    assert.match(res.out, /^Found src\/train\.py: the script the loop changes and runs \(`python3? src\/train\.py`\)\.$/m);
    const c = config(r);
    assert.match(c.run, /^python3? src\/train\.py$/);
    assert.deepEqual(c.editable, ['src/train.py']);

    // Its own modules beside it (src/models.py) are found as `python src/train.py` finds them: no word of a missing module.
    const mods = repo({ 'src/train.py': 'import models\nprint("val_loss: 0.5")\n', 'src/models.py': 'X = 1\n' });
    const again = cli(mods.root, 'init');
    assert.doesNotMatch(again.out + again.err, /cannot import/);
    assert.doesNotMatch(readFileSync(join(mods.root, 'autoresearch.config.yaml'), 'utf8'), /FIX ME/);
  });

  it('makes the YAML files the defaults list selects editable, not the other options, nor paths, logging, callbacks or hydra', () => {
    const r = repo({ 'src/train.py': HYDRA_TRAIN, ...LAYOUT });
    const res = cli(r.root, 'init');
    assert.equal(res.code, 0, res.err);
    assert.deepEqual(config(r).editable, [
      'src/train.py', 'configs/train.yaml', 'configs/data/mnist.yaml', 'configs/model/mnist.yaml', 'configs/trainer/default.yaml',
    ]);
    assert.match(res.out, /src\/train\.py reads its settings from configs\/train\.yaml, whose defaults list selects data\/mnist, model\/mnist, trainer\/default/);
    // What mutate will tune there, before anything runs.
    assert.match(res.out, /^The mutate proposer tunes 3 values: configs\/data\/mnist\.yaml: batch_size; configs\/model\/mnist\.yaml: optimizer\.lr; configs\/trainer\/default\.yaml: max_epochs\. It left alone, as not hyperparameters .*: configs\/train\.yaml: seed\.$/m);
  });

  it('a plain entry of the defaults list (- base) is the config of that name in the same folder', () => {
    const r = repo({ 'src/train.py': TRAIN, 'configs/train.yaml': 'defaults:\n  - base\n  - _self_\n  - model: mnist\nseed: 1\n', 'configs/base.yaml': 'lr: 0.1\n', 'configs/model/mnist.yaml': 'width: 8\n' });
    assert.equal(cli(r.root, 'init').code, 0);
    assert.deepEqual(config(r).editable, ['src/train.py', 'configs/train.yaml', 'configs/base.yaml', 'configs/model/mnist.yaml']);
  });

  it('a script that reads configs/*.yaml itself (PyYAML) gets them editable too', () => {
    const r = repo({ 'src/train.py': TRAIN, ...LAYOUT });
    assert.equal(cli(r.root, 'init').code, 0);
    assert.ok(config(r).editable.includes('configs/model/mnist.yaml'), config(r).editable.join(', '));
  });

  it('--probe: a metric the step lines also print becomes the learning curve (progress), so that early stopping has one', () => {
    const steps = 'for s in range(1, 6):\n    print(f"epoch {s} | step {s * 20} | train_loss {2 - s / 5:.4f} | val_loss {2.1 - s / 5:.4f}")\nprint("val_loss: 1.05")\n';
    const r = repo({ 'train.py': steps });
    const res = cli(r.root, 'init', '--probe', '--budget', '1m');
    assert.equal(res.code, 0, res.err);
    const c = config(r);
    assert.equal(c.metric.name, 'val_loss');
    assert.ok(c.progress, readFileSync(join(r.root, 'autoresearch.config.yaml'), 'utf8'));
    const curve = [...'epoch 3 | step 60 | train_loss 1.4000 | val_loss 1.5000\nval_loss: 1.05\n'.matchAll(new RegExp(c.progress, 'gm'))].map((m) => m.at(-1));
    assert.deepEqual(curve, ['1.5000']);
    assert.match(res.out, /^Learning curve: val_loss in the step lines \(5 lines, the last reads 1\.1000\), set as progress/m);
    // A run far shorter than the budget is told what that costs. minDelta is a share of the parent's value, as the
    // wizard suggests: a fixed step from the first value printed (0.5 % of 1.37 = 0.007) was 11 % of the best after a
    // few keeps, and turned away gains of 4 to 5 %.
    assert.equal(c.minDelta, 0);
    assert.equal(c.minDeltaShare, 0.005);
    assert.match(res.out, /^minDelta: 0\.5%\. .*0\.5 % of the parent's value \(0\.0053 of the 1\.05 your script printed\)/m);
    assert.match(res.out, /of the 1m budget\. Early stopping compares runs at the same share of the budget .*`budget: 10s` in autoresearch\.config\.yaml\) lets it/);

    // The same with --probe --force on a config that has none yet; one that sets progress keeps its own.
    // Only the metric changes; a minDelta of 0 (init without a probe writes it) gets the suggestion in words.
    r.write('autoresearch.config.yaml', readFileSync(join(r.root, 'autoresearch.config.yaml'), 'utf8').replace(/^progress: .*$/m, '').replace(/^minDelta: .*$/m, 'minDelta: 0'));
    assert.equal(config(r).progress, null);
    const forced = cli(r.root, 'init', '--probe', '--force');
    assert.equal(forced.code, 0);
    assert.equal(config(r).progress, c.progress);
    assert.equal(config(r).minDelta, 0);
    assert.match(forced.out, /^minDelta is 0 in autoresearch\.config\.yaml: at 0 any change .*0\.5 % of the parent's value .* Set `minDelta: 0\.5%` there to take it\.$/m);
    r.write('autoresearch.config.yaml', readFileSync(join(r.root, 'autoresearch.config.yaml'), 'utf8').replace(/^progress: .*$/m, "progress: 'step (\\d+).*val_loss (\\S+)'"));
    assert.equal(cli(r.root, 'init', '--probe', '--force').code, 0);
    assert.equal(config(r).progress, 'step (\\d+).*val_loss (\\S+)');
  });

  it("says when an editable config is ignored by git (.gitignore's data/ also matches configs/data/): no experiment could tune it", () => {
    const r = repo({ 'src/train.py': HYDRA_TRAIN, ...LAYOUT, '.gitignore': 'data/\n' });
    assert.equal(r.git('ls-files', 'configs/data'), '', 'git ignored it');
    const res = cli(r.root, 'init');
    assert.equal(res.code, 0, res.err);
    assert.match(res.err, /^configs\/data\/mnist\.yaml is ignored by git; `git check-ignore -v configs\/data\/mnist\.yaml` names the rule/m);
    const clean = cli(repo({ 'src/train.py': HYDRA_TRAIN, ...LAYOUT, '.gitignore': '/data/\n' }).root, 'init');
    assert.doesNotMatch(clean.err, /ignored by git/);
  });
});
