// The built-in mutate proposer on content modelled on public ML repos: nanoGPT's lower-case globals and config
// overrides, a Hydra/Lightning YAML config, a Hugging Face-style config.json, a pyproject-style TOML, argparse and
// click scripts; and the message it leaves when there is nothing to tune.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { Proposal } from '../../../../src/core/proposers/proposer.js';
import {
  MutateProposer, NOT_HYPERPARAMETERS, candidatesFor, describeSearchSpace, isHyperparameterName, parseHyperparameters, readValues, scanSearchSpace,
  type Hyperparameter,
} from '../../../../src/core/proposers/mutate.js';
import { tempFolder } from '../../helpers/repo.js';
import { fakeConfig, fakeRequest, proposeAll } from '../../helpers/nodes.js';

// nanoGPT's train.py, shortened: the settings block, then the script (after `exec(...)`) with its own state.
const NANOGPT_TRAIN = `"""
This training script can be run both on a single gpu in debug mode,
and also in a larger training run with distributed data parallel (ddp).

To run on a single GPU, example:
$ python train.py --batch_size=32 --compile=False
"""

import os
import time
from contextlib import nullcontext

import numpy as np
import torch

from model import GPTConfig, GPT

# -----------------------------------------------------------------------------
# default config values designed to train a gpt2 (124M) on OpenWebText
# I/O
out_dir = 'out'
eval_interval = 2000
log_interval = 1
eval_iters = 200
eval_only = False # if True, script exits right after the first eval
always_save_checkpoint = True # if True, always save a checkpoint after each eval
init_from = 'scratch' # 'scratch' or 'resume' or 'gpt2*'
seed = 1337
# wandb logging
wandb_log = False # disabled by default
wandb_project = 'owt'
wandb_run_name = 'gpt2' # 'run' + str(time.time())
# data
dataset = 'openwebtext'
gradient_accumulation_steps = 5 * 8 # used to simulate larger batch sizes
batch_size = 12 # if gradient_accumulation_steps > 1, this is the micro-batch size
block_size = 1024
# model
n_layer = 12
n_head = 12
n_embd = 768
dropout = 0.0 # for pretraining 0 is good, for finetuning try 0.1+
bias = False # do we use bias inside LayerNorm and Linear layers?
# adamw optimizer
learning_rate = 6e-4 # max learning rate
max_iters = 600000 # total number of training iterations
weight_decay = 1e-1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0 # clip gradients at this value, or disable if == 0.0
# learning rate decay settings
decay_lr = True # whether to decay the learning rate
warmup_iters = 2000 # how many steps to warm up for
lr_decay_iters = 600000 # should be ~= max_iters per Chinchilla
min_lr = 6e-5 # minimum learning rate, should be ~= learning_rate/10 per Chinchilla
# DDP settings
backend = 'nccl' # 'nccl', 'gloo', etc.
# system
device = 'cuda' # examples: 'cpu', 'cuda', 'cuda:0', 'cuda:1' etc., or try 'mps' on macbooks
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float16'
compile = True # use PyTorch 2.0 to compile the model to be faster
# -----------------------------------------------------------------------------
config_keys = [k for k,v in globals().items() if not k.startswith('_') and isinstance(v, (int, float, bool, str))]
exec(open('configurator.py').read()) # overrides from command line or config file
config = {k: globals()[k] for k in config_keys} # will be useful for logging
# -----------------------------------------------------------------------------

ddp = int(os.environ.get('RANK', -1)) != -1 # is this a ddp run?
if ddp:
    ddp_rank = int(os.environ['RANK'])
    seed_offset = ddp_rank # each process gets a different seed
else:
    master_process = True
    seed_offset = 0
    ddp_world_size = 1
torch.manual_seed(seed + seed_offset)
torch.backends.cuda.matmul.allow_tf32 = True # allow tf32 on matmul
device_type = 'cuda' if 'cuda' in device else 'cpu'

# init these up here, can override if init_from='resume' (i.e. from a checkpoint)
iter_num = 0
best_val_loss = 1e9
local_iter_num = 0 # number of iterations in the lifetime of this process
running_mfu = -1.0
while True:
    lr = learning_rate
    iter_num += 1
    if iter_num > max_iters:
        break
`;

// nanoGPT's config/train_shakespeare_char.py: lower-case overrides only.
const SHAKESPEARE_CHAR = `# train a miniature character-level shakespeare model
# good for debugging and playing on macbooks and such

out_dir = 'out-shakespeare-char'
eval_interval = 250 # keep frequent because we'll overfit
eval_iters = 200
log_interval = 10 # don't print too too often

# we expect to overfit on this small dataset, so only save when val improves
always_save_checkpoint = False

wandb_log = False # override via command line if you like
wandb_project = 'shakespeare-char'
wandb_run_name = 'mini-gpt'

dataset = 'shakespeare_char'
gradient_accumulation_steps = 1
batch_size = 64
block_size = 256 # context of up to 256 previous characters

# baby GPT model :)
n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2

learning_rate = 1e-3 # with baby networks can afford to go a bit higher
max_iters = 5000
lr_decay_iters = 5000 # make equal to max_iters usually
min_lr = 1e-4 # learning_rate / 10 usually
beta2 = 0.99 # make a bit bigger because number of tokens per iter is small

warmup_iters = 100 # not super necessary potentially

# on macbook also add
# device = 'cpu'  # run on cpu only
# compile = False # do not torch compile the model
`;

// A Hydra + Lightning conf/config.yaml.
const HYDRA_CONFIG = `# @package _global_
# Main training config. Override from the command line: python train.py optimizer.lr=1e-3
defaults:
  - model: gpt
  - _self_

seed: 42
trainer:
  max_epochs: 20            # full passes over the data
  accelerator: gpu
  devices: 1
  precision: bf16-mixed
  gradient_clip_val: 1.0
  log_every_n_steps: 50
  val_check_interval: 0.25

optimizer:
  _target_: torch.optim.AdamW
  lr: 3e-4   # peak learning rate
  weight_decay: 0.1
  betas: [0.9, 0.95]

scheduler: {warmup_steps: 500, min_lr_ratio: 0.1}

model:
  n_layer: 6
  n_head: 8
  dropout: 0.1
  activation: gelu  # choices: gelu, relu, silu
  use_flash: true

data:
  batch_size: 64
  num_workers: 8
  data_dir: \${oc.env:DATA_DIR,data}

logger:
  wandb:
    project: nano
    log_model: false

paths:
  output_dir: outputs/\${now:%Y-%m-%d}
`;

// A Hugging Face-style config.json with a training section.
const HF_CONFIG = `{
  "architectures": ["GPT2LMHeadModel"],
  "model_type": "gpt2",
  "n_layer": 6,
  "n_head": 6,
  "n_embd": 384,
  "vocab_size": 50257,
  "attn_pdrop": 0.1,
  "resid_pdrop": 0.1,
  "layer_norm_epsilon": 1e-05,
  "bos_token_id": 50256,
  "eos_token_id": 50256,
  "scale_attn_weights": true,
  "training": {
    "learning_rate": 0.0005,
    "warmup_ratio": 0.05,
    "seed": 1234,
    "logging_steps": 10,
    "schedule": {"name": "cosine", "cycles": 1}
  }
}
`;

// A pyproject-style TOML with the project's own tables beside the experiment's.
const PYPROJECT = `[project]
name = "tiny-lm"
version = "0.1.0"
requires-python = ">=3.10"

[tool.ruff]
line-length = 100

# Experiment settings, read by train.py
[train]
lr = 3e-4            # AdamW peak
batch_size = 32
epochs = 10
mixed_precision = true
log_every = 50
out_dir = "runs/tiny"
betas = [
  0.9,
  0.95,
]

[model]
d_model = 256
n_layers = 4
activation = "gelu"  # choices: gelu, relu, silu
`;

// A PyTorch-examples-style script: argparse defaults inside a function.
const ARGPARSE_SCRIPT = `import argparse

import torch


def parse_args():
    parser = argparse.ArgumentParser(description="Train a small CNN on CIFAR-10")
    parser.add_argument("--data-dir", type=str, default="./data")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--epochs",
        type=int,
        default=30,  # range: 1, 100
        help="number of epochs (default: 30)",
    )
    parser.add_argument('--momentum', type=float, default=0.9, metavar='M')
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    parser.add_argument("--no-augment", action="store_true", default=False)
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=10, help="how many batches to wait before logging")
    parser.add_argument("--num-workers", type=int, default=4)
    parser.add_argument("--save-model", action="store_true", default=False)
    # parser.add_argument("--dropout", type=float, default=0.5)
    return parser.parse_args()


def main():
    args = parse_args()
    torch.manual_seed(args.seed)


if __name__ == "__main__":
    main()
`;

const CLICK_SCRIPT = `import click


@click.command()
@click.option("--lr", default=0.001, show_default=True)
@click.option("--hidden-size", default=256)
@click.option("--compile/--no-compile", default=True)
@click.option("--seed", default=0)
def train(lr, hidden_size, compile, seed):
    print(lr, hidden_size, compile, seed)
`;

const worktree = (files: Record<string, string>): string => tempFolder(files, 'ar-mutate-repos-');

const table = (params: Hyperparameter[]): string[][] => params.map((p) => [p.name, p.kind, p.text]);
const names = (file: string, content: string): string[] => parseHyperparameters(file, content).map((p) => p.name);
const values = (file: string, content: string, name: string): string[] => {
  const p = parseHyperparameters(file, content).find((x) => x.name === name);
  assert.ok(p, `${name} was not found in ${file}`);
  return candidatesFor(p).map((c) => c.newText);
};


/** Every proposal for these files, each checked to change one value's characters and nothing else. */
async function everyEdit(files: Record<string, string>, editable: string[]): Promise<{ proposal: Proposal; file: string; param: Hyperparameter; to: string; next: string }[]> {
  const wt = worktree(files);
  const all = await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(wt, { config: fakeConfig({ editable }) }));
  return all.map((proposal) => {
    const m = /^(?:(\S+): )?(\S+) (\S+) → (\S+)$/.exec(proposal.description);
    assert.ok(m, proposal.description);
    const file = m[1] ?? Object.keys(proposal.files ?? {})[0]!;
    assert.deepEqual(Object.keys(proposal.files ?? {}), [file]);
    const param = parseHyperparameters(file, files[file]!).find((p) => p.name === m[2]);
    assert.ok(param, proposal.description);
    assert.equal(param.text, m[3]);
    const next = proposal.files![file]!;
    assert.equal(next, files[file]!.slice(0, param.start) + m[4]! + files[file]!.slice(param.end), `${proposal.description}: only the value changes`);
    assert.equal(proposal.editKey, `${file}:${param.name}=${m[4]}`);
    return { proposal, file, param, to: m[4]!, next };
  });
}

function setPath(obj: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(obj) as Record<string, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[path.at(-1)!] = value;
  return copy;
}

describe('Python: nanoGPT', () => {
  it('finds the lower-case settings of train.py, in file order, and nothing after the script starts', () => {
    assert.deepEqual(table(parseHyperparameters('train.py', NANOGPT_TRAIN)), [
      ['batch_size', 'int', '12'], ['block_size', 'int', '1024'], ['n_layer', 'int', '12'], ['n_head', 'int', '12'],
      ['n_embd', 'int', '768'], ['dropout', 'float', '0.0'], ['bias', 'bool', 'False'], ['learning_rate', 'float', '6e-4'],
      ['max_iters', 'int', '600000'], ['weight_decay', 'float', '1e-1'], ['beta1', 'float', '0.9'], ['beta2', 'float', '0.95'],
      ['grad_clip', 'float', '1.0'], ['decay_lr', 'bool', 'True'], ['warmup_iters', 'int', '2000'], ['lr_decay_iters', 'int', '600000'],
      ['min_lr', 'float', '6e-5'], ['compile', 'bool', 'True'],
    ]);
  });

  it('never offers I/O, logging, evaluation, seeds, devices, strings, expressions or the script\'s state', () => {
    const found = names('train.py', NANOGPT_TRAIN);
    for (const n of [
      'out_dir', 'eval_interval', 'log_interval', 'eval_iters', 'eval_only', 'always_save_checkpoint', 'init_from', 'seed', 'wandb_log',
      'wandb_project', 'wandb_run_name', 'dataset', 'gradient_accumulation_steps', 'backend', 'device', 'dtype', 'config_keys', 'ddp',
      'seed_offset', 'master_process', 'iter_num', 'best_val_loss', 'local_iter_num', 'running_mfu', 'lr',
    ]) assert.ok(!found.includes(n), n);
  });

  it('a setup call (seeding, warnings) does not end the settings block; the first call that runs the script does', () => {
    const script = 'import warnings\nimport torch\nwarnings.filterwarnings("ignore")\ntorch.manual_seed(0)\n\n# hyperparameters\n' +
      'batch_size = 16\nlearning_rate: float = 1e-3\nprint("starting")\nstep_count = 0\nHIDDEN = 64  # UPPER_CASE counts anywhere\n';
    assert.deepEqual(table(parseHyperparameters('gpt.py', script)), [['batch_size', 'int', '16'], ['learning_rate', 'float', '1e-3'], ['HIDDEN', 'int', '64']]);
  });

  it('moves betas by their distance from 1 and gives a zero dropout small values; scientific notation stays scientific', () => {
    // Not 0.45 or 0.495: a beta is an average's length, and halving it is no experiment anyone would run.
    assert.deepEqual(values('train.py', NANOGPT_TRAIN, 'beta1'), ['0.8', '0.95', '0.875', '0.92']);
    assert.deepEqual(values('train.py', NANOGPT_TRAIN, 'beta2'), ['0.9', '0.975', '0.9375', '0.96']);
    // config/train_shakespeare_char.py's `beta2 = 0.99`, the value the nanoGPT session met.
    assert.deepEqual(values('config/train_shakespeare_char.py', SHAKESPEARE_CHAR, 'beta2'), ['0.98', '0.995', '0.9875', '0.992']);
    assert.deepEqual(values('train.py', NANOGPT_TRAIN, 'dropout'), ['0.1', '0.01']);
    assert.deepEqual(values('train.py', NANOGPT_TRAIN, 'learning_rate'), ['1.2e-3', '3e-4', '7.5e-4', '4.8e-4']);
    assert.deepEqual(values('train.py', NANOGPT_TRAIN, 'weight_decay'), ['2e-1', '5e-2', '1.25e-1', '8e-2']);
    assert.deepEqual(values('train.py', NANOGPT_TRAIN, 'compile'), ['False']);
  });

  it('edits one value in place; with the config overrides editable too, names the file', async () => {
    const edits = await everyEdit({ 'train.py': NANOGPT_TRAIN, 'config/train_shakespeare_char.py': SHAKESPEARE_CHAR, 'configurator.py': 'x = 1\n' }, ['train.py', 'config/*.py']);
    const lr = edits.find((e) => e.proposal.editKey === 'train.py:learning_rate=1.2e-3');
    assert.ok(lr);
    assert.equal(lr.proposal.description, 'train.py: learning_rate 6e-4 → 1.2e-3');
    assert.equal(lr.next, NANOGPT_TRAIN.replace('learning_rate = 6e-4 # max learning rate', 'learning_rate = 1.2e-3 # max learning rate'));
    const layers = edits.find((e) => e.proposal.editKey === 'config/train_shakespeare_char.py:n_layer=8');
    assert.equal(layers?.proposal.description, 'config/train_shakespeare_char.py: n_layer 6 → 8');
    assert.equal(layers.next, SHAKESPEARE_CHAR.replace('n_layer = 6\n', 'n_layer = 8\n'));
    assert.deepEqual([...new Set(edits.map((e) => e.file))].sort(), ['config/train_shakespeare_char.py', 'train.py']);
    assert.deepEqual(names('config/train_shakespeare_char.py', SHAKESPEARE_CHAR), [
      'gradient_accumulation_steps', 'batch_size', 'block_size', 'n_layer', 'n_head', 'n_embd', 'dropout', 'learning_rate', 'max_iters',
      'lr_decay_iters', 'min_lr', 'beta2', 'warmup_iters',
    ]);
  });

  it('run as the README does: never edits what the config file or a `--key=value` sets instead, and says so once', async () => {
    const files = { 'train.py': NANOGPT_TRAIN, 'config/train_shakespeare_char.py': SHAKESPEARE_CHAR, 'configurator.py': 'x = 1\n' };
    const run = 'python train.py config/train_shakespeare_char.py --max_iters=2000 --compile=False';
    const all = await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree(files), { config: fakeConfig({ editable: ['train.py'], run }) }));
    const tuned = [...new Set(all.map((p) => p.editKey.replace(/=.*$/, '')))].sort();
    // What the config file and the command line leave to train.py: nothing else reaches the run.
    assert.deepEqual(tuned, ['beta1', 'bias', 'decay_lr', 'grad_clip', 'weight_decay'].map((n) => `train.py:${n}`));
    const said = all.filter((p) => p.plan.includes('run command sets them'));
    assert.equal(said.length, 1);
    assert.match(said[0]!.plan, /would not reach the run: in train\.py, batch_size, block_size, .* and \d+ more \(config\/train_shakespeare_char\.py\), max_iters \(--max_iters=2000\), compile \(--compile=False\)\.$/);

    // With the config file editable too, its own settings are tuned, except the one the command line sets.
    const both = await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree(files), { config: fakeConfig({ editable: ['train.py', 'config/*.py'], run }) }));
    const keys = new Set(both.map((p) => p.editKey.replace(/=.*$/, '')));
    assert.ok(keys.has('config/train_shakespeare_char.py:learning_rate'));
    assert.ok(!keys.has('config/train_shakespeare_char.py:max_iters'));
    assert.ok(!keys.has('train.py:learning_rate'));
  });
});

describe('attention heads split the width', () => {
  // A small nanoGPT config for a CPU, as a user writes one (config/train_cpu.py); tried on the real nanoGPT, `n_head 8 → 6`
  // with `n_embd = 64` crashed at model build (`assert config.n_embd % config.n_head == 0`).
  const CPU_CONFIG = `out_dir = 'out-cpu'\ndevice = 'cpu'\ncompile = False\nbatch_size = 16\nblock_size = 32\nn_layer = 2\nn_head = 8\nn_embd = 64\nlearning_rate = 6e-3\nmax_iters = 800\n`;

  it('never sets a head count the width does not divide, nor a width the heads do not divide', async () => {
    const files = { 'train.py': NANOGPT_TRAIN, 'config/train_cpu.py': CPU_CONFIG, 'configurator.py': 'x = 1\n' };
    const run = 'python train.py config/train_cpu.py';
    const all = await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree(files), { config: fakeConfig({ editable: ['train.py', 'config/*.py'], run }) }));
    const to = (name: string) => all.filter((p) => p.editKey.startsWith(`config/train_cpu.py:${name}=`)).map((p) => p.editKey.replace(/^.*=/, '')).sort();
    // 6 and 10 (a fifth down, a quarter up) would not divide 64.
    assert.deepEqual(to('n_head'), ['16', '4']);
    assert.deepEqual(to('n_embd'), ['128', '32', '48', '80']);
    assert.deepEqual(to('n_layer'), ['1', '3', '4']);

    // A width whose heads are 6 wide: a quarter up (120) or a fifth down (72) is no multiple of 16 heads.
    const json = { 'config.json': '{\n  "d_model": 96,\n  "num_heads": 16,\n  "num_layers": 4\n}\n' };
    const widths = (await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree(json), { config: fakeConfig({ editable: ['config.json'] }) })))
      .filter((p) => p.editKey.startsWith('config.json:d_model=')).map((p) => p.editKey.replace(/^.*=/, '')).sort();
    assert.deepEqual(widths, ['192', '48']);

    // Grouped-query attention (a Llama-style config.json): the heads stay a multiple of the key-value heads.
    const llama = { 'config.json': '{\n  "hidden_size": 512,\n  "num_attention_heads": 8,\n  "num_key_value_heads": 4\n}\n' };
    const kv = (await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree(llama), { config: fakeConfig({ editable: ['config.json'] }) })))
      .filter((p) => p.editKey.startsWith('config.json:num_key_value_heads=')).map((p) => p.editKey.replace(/^.*=/, '')).sort();
    assert.deepEqual(kv, ['2', '8']);
  });

  it('pairs heads with the width under the same key only, and leaves a pair that does not divide already alone', async () => {
    // An encoder and a decoder each with their own: each pair is kept whole; `head_dim` and `n_kv_head` are no head count.
    const yaml = 'encoder:\n  d_model: 64\n  n_head: 8\ndecoder:\n  d_model: 64\n  n_head: 4\n  head_dim: 16\n';
    const all = await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree({ 'model.yaml': yaml }), { config: fakeConfig({ editable: ['model.yaml'] }) }));
    const to = (name: string) => all.filter((p) => p.editKey.startsWith(`model.yaml:${name}=`)).map((p) => p.editKey.replace(/^.*=/, '')).sort();
    assert.deepEqual(to('encoder.n_head'), ['16', '4']);
    assert.deepEqual(to('decoder.n_head'), ['2', '8']);
    assert.deepEqual(to('decoder.head_dim'), ['12', '20', '32', '8']);
    // 100 is no multiple of 8 to begin with: the width is made elsewhere of it, and every step is offered.
    const odd = 'n_embd = 100\nn_head = 8\n';
    const heads = (await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(worktree({ 'train.py': odd }), { config: fakeConfig({ editable: ['train.py'] }) })))
      .filter((p) => p.editKey.startsWith('train.py:n_head=')).map((p) => p.editKey.replace(/^.*=/, '')).sort();
    assert.deepEqual(heads, ['10', '16', '4', '6']);
  });
});

describe('YAML: a Hydra/Lightning config', () => {
  it('finds numeric and boolean leaves by dotted key, and strings with choices', () => {
    assert.deepEqual(table(parseHyperparameters('conf/config.yaml', HYDRA_CONFIG)), [
      ['trainer.max_epochs', 'int', '20'], ['trainer.gradient_clip_val', 'float', '1.0'], ['optimizer.lr', 'float', '3e-4'],
      ['optimizer.weight_decay', 'float', '0.1'], ['scheduler.warmup_steps', 'int', '500'], ['scheduler.min_lr_ratio', 'float', '0.1'],
      ['model.n_layer', 'int', '6'], ['model.n_head', 'int', '8'], ['model.dropout', 'float', '0.1'], ['model.activation', 'choice', 'gelu'],
      ['model.use_flash', 'bool', 'true'], ['data.batch_size', 'int', '64'],
    ]);
    assert.deepEqual(values('conf/config.yaml', HYDRA_CONFIG, 'model.activation'), ['relu', 'silu']);
    assert.deepEqual(values('conf/config.yaml', HYDRA_CONFIG, 'optimizer.lr'), ['6e-4', '1.5e-4', '3.75e-4', '2.4e-4']);
  });

  it('changes only the value: comments, flow maps and interpolations stay byte for byte', async () => {
    const edits = await everyEdit({ 'conf/config.yaml': HYDRA_CONFIG }, ['conf/*.yaml']);
    assert.equal(edits.length, parseHyperparameters('conf/config.yaml', HYDRA_CONFIG).reduce((n, p) => n + candidatesFor(p).length, 0));
    const lr = edits.find((e) => e.proposal.editKey === 'conf/config.yaml:optimizer.lr=6e-4');
    assert.equal(lr?.proposal.description, 'optimizer.lr 3e-4 → 6e-4');
    assert.equal(lr.next, HYDRA_CONFIG.replace('  lr: 3e-4   # peak learning rate\n', '  lr: 6e-4   # peak learning rate\n'));
    const warmup = edits.find((e) => e.proposal.editKey === 'conf/config.yaml:scheduler.warmup_steps=1000');
    assert.equal(warmup?.next, HYDRA_CONFIG.replace('scheduler: {warmup_steps: 500, min_lr_ratio: 0.1}', 'scheduler: {warmup_steps: 1000, min_lr_ratio: 0.1}'));
    const before = parseYaml(HYDRA_CONFIG) as unknown;
    for (const e of edits) assert.deepEqual(parseYaml(e.next), setPath(before, e.param.name.split('.'), parseYaml(e.to)), e.proposal.description);
  });

  it('leaves seeds, devices, logging, evaluation cadence, workers, lists and strings alone', () => {
    const found = names('conf/config.yaml', HYDRA_CONFIG);
    for (const n of ['seed', 'trainer.devices', 'trainer.precision', 'trainer.accelerator', 'trainer.log_every_n_steps', 'trainer.val_check_interval',
      'optimizer._target_', 'optimizer.betas', 'data.num_workers', 'data.data_dir', 'logger.wandb.project', 'logger.wandb.log_model', 'paths.output_dir']) {
      assert.ok(!found.includes(n), n);
    }
  });

  it('reads nothing from a file that does not parse', () => {
    assert.deepEqual(parseHyperparameters('bad.yaml', 'lr: 0.1\n  n: [1\n'), []);
  });

  it('keeps a dotted mantissa, which a YAML 1.1 reader (PyYAML) needs to read a float', () => {
    assert.deepEqual(values('conf/optim.yaml', 'lr: 3.0e-4\n', 'lr'), ['6.0e-4', '1.5e-4', '3.75e-4', '2.4e-4']);
  });

  it('a hint that names the leaf key picks that parameter', async () => {
    const wt = worktree({ 'conf/config.yaml': HYDRA_CONFIG });
    const hint = { id: 1, text: 'a higher lr should converge faster', addedAt: '2025-01-01T00:00:00.000Z', takenBy: null };
    for (let seed = 0; seed < 10; seed++) {
      const p = await new MutateProposer({ seed }).propose(fakeRequest(wt, { hint, config: fakeConfig({ editable: ['conf/*.yaml'] }) }));
      assert.match(p!.description, /^optimizer\.lr 3e-4 → /);
    }
  });
});

describe('JSON: a config.json', () => {
  it('finds numeric and boolean members by dotted key, never token ids, the vocabulary, seeds, logging or a tiny epsilon', () => {
    assert.deepEqual(table(parseHyperparameters('config.json', HF_CONFIG)), [
      ['n_layer', 'int', '6'], ['n_head', 'int', '6'], ['n_embd', 'int', '384'], ['attn_pdrop', 'float', '0.1'], ['resid_pdrop', 'float', '0.1'],
      ['scale_attn_weights', 'bool', 'true'], ['training.learning_rate', 'float', '0.0005'],
      ['training.warmup_ratio', 'float', '0.05'], ['training.schedule.cycles', 'int', '1'],
    ]);
    assert.deepEqual(values('config.json', '{"weight_decay": 1e-05}\n', 'weight_decay'), ['2e-5', '5e-6', '1.25e-5', '8e-6']);
  });

  it('edits the value in place and the file still parses to the same object but that value', async () => {
    const edits = await everyEdit({ 'config.json': HF_CONFIG }, ['*.json']);
    const lr = edits.find((e) => e.proposal.editKey === 'config.json:training.learning_rate=0.001');
    assert.equal(lr?.next, HF_CONFIG.replace('"learning_rate": 0.0005,', '"learning_rate": 0.001,'));
    const before = JSON.parse(HF_CONFIG) as unknown;
    for (const e of edits) assert.deepEqual(JSON.parse(e.next), setPath(before, e.param.name.split('.'), JSON.parse(e.to)), e.proposal.description);
  });

  it('tolerates comments and trailing commas; reads nothing from a file that does not parse', () => {
    const jsonc = '{\n  // tuned by hand\n  "lr": 0.01, /* peak */\n  "layers": [64, 64,],\n}\n';
    assert.deepEqual(table(parseHyperparameters('cfg.json', jsonc)), [['lr', 'float', '0.01']]);
    assert.deepEqual(parseHyperparameters('cfg.json', '{"lr": 0.01,'), []);
    assert.deepEqual(table(parseHyperparameters('metrics.json', '{"lr": 0.01, "loss": NaN, "best": -Infinity}')), [['lr', 'float', '0.01']]);
  });

  it('does not read tool files such as package.json or a tokenizer vocabulary', () => {
    const wt = worktree({ 'package.json': '{"version": 1, "n": 2}\n', 'tokenizer/vocab.json': '{"a": 1, "b": 2}\n', 'config.json': '{"lr": 0.1}\n' });
    const space = scanSearchSpace(wt, ['**/*.json']);
    assert.deepEqual(space.files, ['config.json']);
    assert.deepEqual(space.params.map((p) => p.name), ['lr']);
  });
});

describe('TOML: a pyproject-style file', () => {
  it('finds `key = value` under [tables], skipping packaging and tool tables, arrays and strings without choices', () => {
    assert.deepEqual(table(parseHyperparameters('pyproject.toml', PYPROJECT)), [
      ['train.lr', 'float', '3e-4'], ['train.batch_size', 'int', '32'], ['train.epochs', 'int', '10'],
      ['model.d_model', 'int', '256'], ['model.n_layers', 'int', '4'], ['model.activation', 'choice', '"gelu"'],
    ]);
    assert.deepEqual(values('pyproject.toml', PYPROJECT, 'model.activation'), ['"relu"', '"silu"']);
  });

  it('edits the value in place', async () => {
    const edits = await everyEdit({ 'pyproject.toml': PYPROJECT }, ['pyproject.toml']);
    const lr = edits.find((e) => e.proposal.editKey === 'pyproject.toml:train.lr=6e-4');
    assert.equal(lr?.proposal.description, 'train.lr 3e-4 → 6e-4');
    assert.equal(lr.next, PYPROJECT.replace('lr = 3e-4            # AdamW peak', 'lr = 6e-4            # AdamW peak'));
    const act = edits.find((e) => e.proposal.editKey === 'pyproject.toml:model.activation="silu"');
    assert.equal(act?.next, PYPROJECT.replace('activation = "gelu"  # choices', 'activation = "silu"  # choices'));
  });
});

// CleanRL's ppo.py, shortened: the settings are the fields of a dataclass that tyro turns into options, each with a
// docstring under it; the script computes some of them at run time.
const CLEANRL_PPO = `import os
import random
from dataclasses import dataclass
from typing import Literal

import tyro


@dataclass
class Args:
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    torch_deterministic: bool = True
    """if toggled, \`torch.backends.cudnn.deterministic=False\`"""
    cuda: bool = True
    """if toggled, cuda will be enabled by default"""
    track: bool = False
    """if toggled, this experiment will be tracked with Weights and Biases"""
    capture_video: bool = False
    env_id: str = "CartPole-v1"
    total_timesteps: int = 500000
    learning_rate: float = 2.5e-4
    """the learning rate of the optimizer"""
    num_envs: int = 4
    gamma: float = 0.99
    optimizer: Literal["adam", "adamw"] = "adam"
    clip_coef: float = 0.2  # the surrogate clipping coefficient
    upload_model: bool = False
    """whether to upload the saved model to huggingface"""
    batch_size: int = 0
    """the batch size (computed in runtime)"""

    def steps(self):
        window = 128
        return window


def make_env(env_id, idx, capture_video, run_name):
    gamma = 0.5
    return gamma


if __name__ == "__main__":
    args = tyro.cli(Args)
`;

// minGPT's projects/chargpt/chargpt.py, shortened: the settings are set on a config object inside get_config().
const MINGPT_CHARGPT = `import os
import sys

from mingpt.model import GPT
from mingpt.trainer import Trainer
from mingpt.utils import set_seed, setup_logging, CfgNode as CN

# -----------------------------------------------------------------------------

def get_config():

    C = CN()

    # system
    C.system = CN()
    C.system.seed = 3407
    C.system.work_dir = './out/chargpt'

    # data
    C.data = CharDataset.get_default_config()

    # model
    C.model = GPT.get_default_config()
    C.model.model_type = 'gpt-mini'

    # trainer
    C.trainer = Trainer.get_default_config()
    C.trainer.learning_rate = 5e-4 # the model we're using is so small that we can go a bit faster

    return C

# -----------------------------------------------------------------------------

class CharDataset(Dataset):
    """
    Emits batches of characters
    """

    @staticmethod
    def get_default_config():
        C = CN()
        C.block_size = 128
        return C
`;

// An ml_collections config file, as in the flax examples (configs/default.py), two-space indented.
const FLAX_CONFIG = `"""Default Hyperparameter configuration."""

import ml_collections


def get_config():
  """Get the default hyperparameter configuration."""
  config = ml_collections.ConfigDict()

  config.learning_rate = 0.1
  config.momentum = 0.9
  config.batch_size = 128
  config.num_epochs = 10
  config.model = ml_collections.ConfigDict()
  config.model.width = 64
  if config.batch_size > 64:
    config.warmup_epochs = 1.0
  return config


def metrics():
  learning_rate = 0.5
  return learning_rate
`;

describe('Python: config classes and config functions', () => {
  it('reads the fields of a dataclass (CleanRL), not its methods, the functions after it, the script or what it computes', () => {
    assert.deepEqual(table(parseHyperparameters('ppo.py', CLEANRL_PPO)), [
      ['total_timesteps', 'int', '500000'], ['learning_rate', 'float', '2.5e-4'], ['num_envs', 'int', '4'], ['gamma', 'float', '0.99'],
      ['optimizer', 'choice', '"adam"'], ['clip_coef', 'float', '0.2'],
    ]);
    // Literal[...] names a string field's alternatives; the seed, the device, determinism, wandb and videos are left alone.
    assert.deepEqual(values('ppo.py', CLEANRL_PPO, 'optimizer'), ['"adamw"']);
    // A discount stays below 1 and moves by its distance from 1, as a beta does (it was doubled to 1.98).
    assert.deepEqual(values('ppo.py', CLEANRL_PPO, 'gamma'), ['0.98', '0.995', '0.9875', '0.992']);
    assert.deepEqual(readValues('ppo.py', CLEANRL_PPO).map((p) => p.name).filter((n) => !names('ppo.py', CLEANRL_PPO).includes(n)), ['seed', 'torch_deterministic', 'cuda', 'track', 'capture_video', 'upload_model']);
    // A field whose docstring says the script computes it is no setting: an edit would never reach the run.
    assert.ok(!readValues('ppo.py', CLEANRL_PPO).some((p) => p.name === 'batch_size'));
  });

  it('reads a class named as a config without a decorator, and no other class', () => {
    const content = 'class TrainConfig:\n    lr = 0.01\n    depth: int = 4\n\nclass Model(nn.Module):\n    width = 8\n';
    assert.deepEqual(names('model.py', content), ['lr', 'depth']);
  });

  it('reads `C.trainer.learning_rate = 5e-4` of get_config() by its path below the object (minGPT)', () => {
    assert.deepEqual(table(parseHyperparameters('projects/chargpt/chargpt.py', MINGPT_CHARGPT)), [['trainer.learning_rate', 'float', '5e-4']]);
    assert.deepEqual(readValues('projects/chargpt/chargpt.py', MINGPT_CHARGPT).map((p) => p.name), ['system.seed', 'trainer.learning_rate']);
  });

  it('reads an ml_collections get_config() at its own indentation, not nested code or other functions (flax)', () => {
    assert.deepEqual(table(parseHyperparameters('configs/default.py', FLAX_CONFIG)), [
      ['learning_rate', 'float', '0.1'], ['momentum', 'float', '0.9'], ['batch_size', 'int', '128'], ['num_epochs', 'int', '10'], ['model.width', 'int', '64'],
    ]);
  });

  it('edits a field or an attribute in place, and the run\'s `--trainer.learning_rate=` option wins over the file', async () => {
    const edits = await everyEdit({ 'ppo.py': CLEANRL_PPO, 'chargpt.py': MINGPT_CHARGPT }, ['*.py']);
    const lr = edits.find((e) => e.proposal.editKey === 'ppo.py:learning_rate=5.0e-4');
    assert.equal(lr?.next, CLEANRL_PPO.replace('learning_rate: float = 2.5e-4', 'learning_rate: float = 5.0e-4'));
    const clip = edits.find((e) => e.param.name === 'clip_coef');
    assert.match(clip?.next ?? '', /clip_coef: float = [\d.]+  # the surrogate clipping coefficient\n/);
    const trainer = edits.find((e) => e.proposal.editKey === 'chargpt.py:trainer.learning_rate=1e-3');
    assert.equal(trainer?.next, MINGPT_CHARGPT.replace('C.trainer.learning_rate = 5e-4 #', 'C.trainer.learning_rate = 1e-3 #'));
    const wt = worktree({ 'chargpt.py': MINGPT_CHARGPT });
    const run = 'cd projects/chargpt && python chargpt.py --trainer.learning_rate=3e-4';
    const all = await proposeAll(new MutateProposer({ seed: 5 }), fakeRequest(wt, { config: fakeConfig({ editable: ['chargpt.py'], run }) }));
    assert.deepEqual(all, []);
  });
});

describe('argparse and click defaults', () => {
  it('finds `default=` of add_argument calls inside a function, named after the --long option', () => {
    assert.deepEqual(table(parseHyperparameters('train_cifar.py', ARGPARSE_SCRIPT)), [
      ['lr', 'float', '1e-3'], ['batch_size', 'int', '128'], ['epochs', 'int', '30'], ['momentum', 'float', '0.9'],
      ['optimizer', 'choice', '"sgd"'], ['no_augment', 'bool', 'False'],
    ]);
    // argparse's own `choices=` lists the alternatives; a `# range:` comment on the default's line bounds it.
    assert.deepEqual(values('train_cifar.py', ARGPARSE_SCRIPT, 'optimizer'), ['"adam"', '"adamw"']);
    const epochs = parseHyperparameters('train_cifar.py', ARGPARSE_SCRIPT).find((p) => p.name === 'epochs');
    assert.deepEqual(epochs?.range, [1, 100]);
    assert.deepEqual(values('train_cifar.py', ARGPARSE_SCRIPT, 'momentum'), ['0.8', '0.95', '0.875', '0.92']);
  });

  it('never offers the seed, logging, workers, saving, a path or a commented-out argument', () => {
    const found = names('train_cifar.py', ARGPARSE_SCRIPT);
    for (const n of ['seed', 'log_interval', 'num_workers', 'save_model', 'data_dir', 'dropout']) assert.ok(!found.includes(n), n);
  });

  it('edits the default in place', async () => {
    const edits = await everyEdit({ 'train_cifar.py': ARGPARSE_SCRIPT }, ['*.py']);
    const lr = edits.find((e) => e.proposal.editKey === 'train_cifar.py:lr=2e-3');
    assert.equal(lr?.proposal.description, 'lr 1e-3 → 2e-3');
    assert.equal(lr.next, ARGPARSE_SCRIPT.replace('type=float, default=1e-3, help="learning rate"', 'type=float, default=2e-3, help="learning rate"'));
    const epochs = edits.find((e) => e.proposal.editKey === 'train_cifar.py:epochs=60');
    assert.equal(epochs?.next, ARGPARSE_SCRIPT.replace('default=30,  # range: 1, 100', 'default=60,  # range: 1, 100'));
  });

  it('leaves a negative whole number alone: -1 is "off" or "no limit", not a size to double (karpathy/makemore)', () => {
    const makemore = [
      'parser.add_argument(\'--max-steps\', type=int, default=-1, help="max number of optimization steps to run for, or -1 for infinite.")',
      'parser.add_argument(\'--top-k\', type=int, default=-1, help="top-k for sampling, -1 means no top-k")',
      'parser.add_argument(\'--n-embd\', type=int, default=64, help="number of feature channels in the model")',
      'parser.add_argument(\'--learning-rate\', \'-l\', type=float, default=5e-4, help="learning rate")',
      'parser.add_argument(\'--ignore-index\', type=int, default=-100)',
      'parser.add_argument(\'--clip\', type=float, default=-1.0, help="gradient clipping, -1 for none")',
      'parser.add_argument(\'--bias-init\', type=float, default=-0.5)',
      '',
    ].join('\n');
    assert.deepEqual(names('makemore.py', makemore), ['n_embd', 'learning_rate', 'bias_init']);
    // Given a range, the person said which values make sense: the value is tuned inside it.
    assert.deepEqual(values('x.py', 'SHIFT = -2  # range: -8, -1\n', 'SHIFT'), ['-4', '-1', '-3']);
  });

  it('reads click options, on/off flag pairs included', () => {
    assert.deepEqual(table(parseHyperparameters('cli.py', CLICK_SCRIPT)), [['lr', 'float', '0.001'], ['hidden_size', 'int', '256'], ['compile', 'bool', 'True']]);
    assert.deepEqual(values('cli.py', CLICK_SCRIPT, 'compile'), ['False']);
  });
});

describe('NOT_HYPERPARAMETERS', () => {
  it('is one list of plain names a user can read', () => {
    for (const list of Object.values(NOT_HYPERPARAMETERS)) for (const x of list) assert.equal(typeof x, 'string');
    for (const w of ['seed', 'eval', 'log', 'wandb', 'save', 'interval', 'every', 'path', 'dir', 'file', 'name', 'verbose', 'debug', 'ddp']) {
      assert.ok((NOT_HYPERPARAMETERS.words as readonly string[]).includes(w), w);
    }
  });

  it('rules out names by word in any spelling, and every key of a dotted path', () => {
    for (const n of ['seed', 'SEED', 'data_seed', 'eval_interval', 'evalInterval', 'log-interval', 'log_every_n_steps', 'wandb_project', 'save_steps',
      'always_save_checkpoint', 'num_workers', 'local_rank', 'world_size', 'ddp_backend', 'out_dir', 'checkpoint_path', 'run_name', 'device',
      'logger.wandb.enabled', 'paths.output_dir', 'verbose', 'debug']) assert.equal(isHyperparameterName(n), false, n);
    for (const n of ['learning_rate', 'LR', 'MATRIX_LR', 'n_layer', 'dropout', 'drop_path_rate', 'DEVICE_BATCH_SIZE', 'TOTAL_BATCH_SIZE',
      'gradient_clip_val', 'compile', 'bias', 'optimizer.lr', 'lora_rank', 'warmup_steps']) assert.equal(isHyperparameterName(n), true, n);
  });
});

describe('nothing to tune', () => {
  const TRAIN = `import torch

out_dir = 'out'
seed = 1337
device = 'cuda'
eval_interval = 200


def main():
    model = torch.nn.Linear(4, 4)
`;

  it('returns null and says where it looked, what it accepts, what it left alone and what to do instead', async () => {
    const wt = worktree({ 'train.py': TRAIN, 'conf/logging.yaml': 'wandb: {project: demo, log_model: false}\n', 'prepare.py': 'LR = 0.1\n' });
    const editable = ['train.py', 'conf/*.yaml'];
    const proposer = new MutateProposer({ seed: 1 });
    assert.equal(await proposer.propose(fakeRequest(wt, { config: fakeConfig({ editable }) })), null);
    assert.equal(proposer.explainNothingNew(),
      'The mutate proposer found nothing to tune in the editable files (conf/logging.yaml, train.py; editable: train.py, conf/*.yaml). ' +
      'It tunes numbers and True/False values of top-level Python assignments (`lr = 1e-3`), of the fields of a dataclass or config ' +
      'class (`lr: float = 1e-3`) and of a `get_config()` function (`config.lr = 1e-3`), argparse/click defaults ' +
      "(`add_argument('--lr', default=1e-3)`) and YAML, JSON and TOML keys (`optimizer.lr: 3e-4`); a string only with a `# choices: a, b` comment (or a `# a | b` one that lists its own value). " +
      'It left alone, as not hyperparameters (seeds, evaluation and validation data, logging, paths, devices, distributed settings, input and output sizes, tiny epsilons, negative sentinels such as -1): ' +
      'conf/logging.yaml: wandb.log_model; train.py: seed, eval_interval. ' +
      'Add a `# choices: a, b` comment to a setting, make the file that holds the hyperparameters editable, or let a model propose: ' +
      '`proposer: {kind: anthropic | openai-compatible | agent-cli}` (or `vscode-lm` in VS Code).');
  });

  it('never suggests a file git ignores (a run\'s output) or a session config, in a subfolder too (minGPT)', () => {
    const wt = worktree({
      'projects/chargpt/chargpt.py': TRAIN, 'projects/chargpt/autoresearch.config.yaml': 'budget: 60\nminDelta: 0.01\n',
      'out/chargpt/config.json': '{"trainer": {"learning_rate": 0.0005}}', 'conf/model.yaml': 'width: 64\n',
    });
    const editable = ['projects/chargpt/chargpt.py'];
    assert.deepEqual(scanSearchSpace(wt, editable, (f) => f.startsWith('out/')).elsewhere, ['conf/model.yaml']);
    assert.deepEqual(scanSearchSpace(wt, editable).elsewhere, ['conf/model.yaml', 'out/chargpt/config.json']);
  });

  it('says so when no editable file could be read', () => {
    const wt = worktree({ 'data.bin': 'a\0b' });
    assert.match(describeSearchSpace(scanSearchSpace(wt, ['data.bin']), ['data.bin']), /^The mutate proposer found nothing to tune in the editable files: none could be read \(editable: data\.bin\)\. It tunes /);
  });

  it('has nothing to explain after a proposal, or when it has only run out of new edits', async () => {
    const wt = worktree({ 'train.py': 'lr = 0.1\n' });
    const proposer = new MutateProposer({ seed: 1 });
    const all = await proposeAll(proposer, fakeRequest(wt));
    assert.equal(all.length, 4);
    assert.equal(proposer.explainNothingNew(), null);
    assert.ok(await proposer.propose(fakeRequest(wt)));
    assert.equal(proposer.explainNothingNew(), null);
  });

  it('describes what it tunes when there is something', () => {
    const wt = worktree({ 'train.py': TRAIN.replace("device = 'cuda'", 'n_layer = 6'), 'config.json': '{"lr": 0.1, "seed": 3}' });
    assert.equal(describeSearchSpace(scanSearchSpace(wt, ['train.py', '*.json']), ['train.py', '*.json']),
      'The mutate proposer tunes 2 values: config.json: lr; train.py: n_layer. ' +
      'It left alone, as not hyperparameters (seeds, evaluation and validation data, logging, paths, devices, distributed settings, input and output sizes, tiny epsilons, negative sentinels such as -1): config.json: seed; train.py: seed, eval_interval.');
  });
});
