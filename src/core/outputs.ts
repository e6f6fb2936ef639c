// What a run writes next to its code (checkpoints, logs, caches), told apart from what it reads, among the files
// git ignores: the automatic sharing leaves outputs out (protection/sharedInputs.ts), and a slot's worktree loses
// them between experiments (git.ts), so no experiment starts from another's checkpoint.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { statOrNull } from './files.js';
import { SKIPPED_DIRS } from './glob.js';

/** What the engine itself writes at the root of the checkout: neither a run's input nor its output, and not worth a word. */
export const ENGINE_OWN: readonly string[] = ['.autoresearch', 'results.tsv', 'autoresearch-summary.md'];

/** Folder and file names that are a run's outputs or caches, never its inputs: the automatic choice leaves them out. */
const OUTPUT_NAMES: readonly string[] = [
  'out', 'outputs', 'output', 'checkpoints', 'checkpoint', 'ckpt', 'ckpts', 'runs', 'logs', 'log', 'wandb', 'lightning_logs',
  'mlruns', 'multirun', 'tensorboard', 'tb_logs', '__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache',
  '.ipynb_checkpoints', '.tox', 'build', 'dist', '.autoresearch', 'results.tsv', 'autoresearch-summary.md', 'nohup.out', '.DS_Store',
];
/** Checkpoints, logs and bytecode a run writes next to the code. */
const OUTPUT_FILE = /\.(pt|pth|ckpt|log|pyc)$/i;

/** Output folders named after a run or a dataset: `out-shakespeare-char`, `outputs_2024`, `checkpoints-small`. */
const OUTPUT_PREFIX = /^(out|outputs?|checkpoints?|ckpts?|runs|logs)[-_.]/;

/** Whether the automatic choice takes a git-ignored path as an output rather than an input. */
function looksLikeOutput(path: string): boolean {
  const parts = path.replace(/\/+$/, '').split('/');
  return parts.some((p) => OUTPUT_NAMES.includes(p) || OUTPUT_PREFIX.test(p)) || OUTPUT_FILE.test(parts[parts.length - 1]!);
}

/**
 * A git-ignored folder whose files all look like outputs (a `ckpt.pt`, logs) is a previous run's output folder,
 * whatever its name: sharing it would link a folder the run writes into the user's checkout.
 */
function holdsOnlyOutputs(root: string, p: string): boolean {
  const abs = join(root, p);
  if (!statOrNull(abs)?.isDirectory()) return false;
  // Stops at the first file that is no output, and after 1000: the worktree's check runs before every experiment, and
  // a dataset a run downloaded into its worktree can hold a million files.
  let seen = 0;
  const walk = (dir: string, prefix: string): boolean | null => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of entries) {
      if (seen >= 1000) return null;
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory() && SKIPPED_DIRS.has(e.name)) continue;
      if (e.isDirectory()) {
        if (walk(join(dir, e.name), rel) === false) return false;
        continue;
      }
      seen++;
      if (!looksLikeOutput(rel)) return false;
    }
    return null;
  };
  return walk(abs, '') !== false && seen > 0;
}

/**
 * Whether a git-ignored path (relative to `root`) is a run's output, not an input: by its name (looksLikeOutput), or a
 * folder of nothing but outputs. The automatic sharing leaves these out, and a worktree loses them between experiments.
 */
export function isOutput(root: string, path: string): boolean {
  return looksLikeOutput(path) || holdsOnlyOutputs(root, path);
}
