// The exclusion rule: which names the proposer leaves alone, whatever their value (NOT_HYPERPARAMETERS), and the
// check a (dotted) name must pass to be tuned.
import { CONFIG_FILE } from '../../config.js';
import type { Hyperparameter } from './hyperparameter.js';

/**
 * What the proposer leaves alone, whatever the value: changing it is noise (seeds), changes what is measured or only
 * how often (evaluation, logging, checkpoints), moves files, or breaks the run (devices, distributed setup, token ids).
 * A name is left alone when it is one of `names`, or one of its words (split at `_`, `-` and camelCase) is one of
 * `words`, unless it is one of `unless`; in a YAML, JSON or TOML file every key of the dotted path counts, so all of
 * `wandb.*` is left alone. A key written `_like_this_` is the framework's own (Hydra's `_partial_`, `_recursive_`,
 * `_convert_`: flipping one breaks `instantiate`), never a setting of the model. Files matching `files` (globs, as in `editable`) and TOML tables under `tables` belong to
 * tools, not to the model, and are not read. Names compare in snake_case, lower-cased.
 */
export const NOT_HYPERPARAMETERS = {
  words: [
    'seed', 'seeds', 'eval', 'evaluation', 'validation', 'test', 'predict', 'split', 'log', 'logs', 'logging', 'logger',
    'wandb', 'tensorboard', 'mlflow', 'save', 'checkpoint', 'checkpointing', 'ckpt', 'interval', 'every', 'verbose',
    'verbosity', 'debug', 'quiet', 'profile', 'profiler', 'progress', 'tqdm', 'ddp', 'port', 'workers', 'threads',
    'path', 'paths', 'dir', 'dirs', 'file', 'files', 'filename', 'name', 'url', 'id', 'ids', 'vocab', 'project',
    'entity', 'version', 'hub', 'upload', 'do', 'best', 'running', 'timeout',
    // The validation data and how much of it (val_fraction, valid_pct, val_steps): what the metric measures (DESIGN rule 9).
    'val', 'valid', 'holdout', 'heldout',
  ],
  names: [
    'device', 'devices', 'dtype', 'backend', 'dist_backend', 'world_size', 'rank', 'local_rank', 'global_rank',
    'node_rank', 'num_nodes', 'gpu', 'gpus', 'n_gpu', 'n_gpus', 'num_gpus', 'use_cuda', 'no_cuda', 'precision',
    'mixed_precision', 'fp16', 'bf16', 'tf32', 'amp', 'pin_memory', 'deterministic', 'benchmark', 'init_from',
    'resume', 'dataset', 'num_labels', 'num_classes', 'n_classes', 'limit_val_batches', 'num_sanity_val_steps',
    'val_batch_size', 'fast_dev_run', 'overfit_batches', 'iter_num', 'global_step', 'step', 'epoch', 'start_epoch',
    'start_iter', 'start_step', 'use_cache', 'cuda', 'torch_deterministic',
    // CleanRL's switches for a wandb run and videos of the agent: on, they need a login, a network and a display.
    'track', 'capture_video',
    // A network's input and output sizes are fixed by the data (784 pixels, 10 classes): another value crashes the run.
    'input_dim', 'input_size', 'input_shape', 'input_channels', 'in_dim', 'in_features', 'in_channels', 'in_chans',
    'n_input', 'n_inputs', 'num_inputs', 'output_dim', 'output_size', 'out_dim', 'out_features', 'n_output', 'n_outputs',
    'num_outputs',
  ],
  unless: ['drop_path', 'drop_path_rate', 'drop_path_prob', 'gradient_clip_val', 'clip_val'],
  files: [
    `**/${CONFIG_FILE}`, '**/package.json', '**/package-lock.json', '**/tsconfig.json', '**/jsconfig.json', '**/vocab.json',
    '**/tokenizer.json', '**/tokenizer_config.json', '**/special_tokens_map.json', '**/added_tokens.json',
    '**/.pre-commit-config.{yaml,yml}', '**/environment.{yaml,yml}', '**/docker-compose.{yaml,yml}',
    '**/mkdocs.{yaml,yml}', '**/.readthedocs.{yaml,yml}', '**/codecov.{yaml,yml}', '.github/**', '.vscode/**',
  ],
  tables: [
    'project', 'build-system', 'dependency-groups', 'tool.black', 'tool.ruff', 'tool.isort', 'tool.mypy', 'tool.pytest',
    'tool.coverage', 'tool.setuptools', 'tool.setuptools_scm', 'tool.poetry', 'tool.hatch', 'tool.pdm', 'tool.pylint',
    'tool.pyright', 'tool.uv', 'tool.tox', 'tool.codespell', 'tool.flit', 'tool.maturin', 'tool.cibuildwheel',
  ],
} as const;

/** The words of a name: `learningRate` and `learning-rate` both give `learning`, `rate`. */
export function wordsOf(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '');
}

/** Whether a (dotted) name may be tuned: none of its keys is ruled out by NOT_HYPERPARAMETERS. */
export function isHyperparameterName(name: string): boolean {
  const words: readonly string[] = NOT_HYPERPARAMETERS.words;
  const names: readonly string[] = NOT_HYPERPARAMETERS.names;
  const unless: readonly string[] = NOT_HYPERPARAMETERS.unless;
  return name.split('.').every((key) => {
    if (/^_\w*_$/.test(key)) return false;
    const w = wordsOf(key);
    const snake = w.join('_');
    return unless.includes(snake) || !(names.includes(snake) || w.some((x) => words.includes(x)));
  });
}

/**
 * Whether a value may be tuned: its name may (isHyperparameterName), and it is no numerical guard, an `eps` or
 * `epsilon` under 1e-3 (Adam's 1e-8, LayerNorm's 1e-5), which a step of a quarter or a half leaves the metric exactly
 * as it was (seen on a Hydra optimizer config: `eps 1.0e-8 → 1.25e-8`, a run spent for nothing). A `# range:` comment
 * on it asks for it to be tuned all the same.
 */
export function isHyperparameter(p: Hyperparameter): boolean {
  if (!isHyperparameterName(p.name)) return false;
  // A negative whole number is a sentinel, not a size: -1 for "off", "no limit" or "all" (makemore's `--top-k -1`,
  // `--max-steps -1`), -100 for an ignored label. Scaling it keeps the sign (-1 to -2) and breaks the run.
  if (!p.range && (p.kind === 'int' || p.kind === 'float') && Number(p.text) < 0 && Number.isInteger(Number(p.text))) return false;
  if (p.range || p.kind !== 'float') return true;
  const words = wordsOf(p.name.slice(p.name.lastIndexOf('.') + 1));
  return !(words.some((w) => w === 'eps' || w === 'epsilon') && Math.abs(Number(p.text)) < 1e-3);
}
