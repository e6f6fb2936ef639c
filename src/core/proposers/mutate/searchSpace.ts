// The search space: what the proposer reads in a worktree's editable files (scanSearchSpace), and the sentences that
// tell a user what it tunes or, when it found nothing, what to do instead (describeSearchSpace).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles, matchesAny } from '../../glob.js';
import type { Hyperparameter } from './hyperparameter.js';
import { isHyperparameter, NOT_HYPERPARAMETERS } from './names.js';
import { readValues } from './parse.js';

/** What the proposer tunes, in a sentence for messages. */
export const TUNABLE_FORMS =
  'numbers and True/False values of top-level Python assignments (`lr = 1e-3`), of the fields of a dataclass or config ' +
  'class (`lr: float = 1e-3`) and of a `get_config()` function (`config.lr = 1e-3`), argparse/click defaults ' +
  "(`add_argument('--lr', default=1e-3)`) and YAML, JSON and TOML keys (`optimizer.lr: 3e-4`); a string only with a " +
  '`# choices: a, b` comment (or a `# a | b` one that lists its own value)';

const MAX_FILE_BYTES = 1_000_000;

/** What the proposer read in a worktree's editable files. */
export interface SearchSpace {
  /** The editable text files read, as sorted paths. */
  files: string[];
  /** The hyperparameters, file by file in file order. */
  params: Hyperparameter[];
  /** The values read but left alone (NOT_HYPERPARAMETERS), file by file in file order. */
  skipped: Hyperparameter[];
  /** The content of each file that has a hyperparameter. */
  contents: Map<string, string>;
  /** When the editable files hold nothing to tune: config files (YAML, JSON, TOML) outside `editable` that do, sorted. */
  elsewhere?: string[];
}

const CONFIG_FILES = /\.(?:ya?ml|json|toml)$/i;

/**
 * Reads the hyperparameters of the editable files in a worktree. `ignored`: paths git ignores there (a checkout's run
 * outputs, `out/config.json`), which are never suggested as files to make editable.
 */
export function scanSearchSpace(worktree: string, editable: readonly string[], ignored: (file: string) => boolean = () => false): SearchSpace {
  const space: SearchSpace = { files: [], params: [], skipped: [], contents: new Map() };
  for (const file of listFiles(worktree)) {
    if (!matchesAny(file, editable) || matchesAny(file, NOT_HYPERPARAMETERS.files)) continue;
    const abs = join(worktree, file);
    try {
      if (statSync(abs).size > MAX_FILE_BYTES) continue;
      const buf = readFileSync(abs);
      if (buf.subarray(0, 8192).includes(0)) continue; // binary
      const content = buf.toString('utf8');
      space.files.push(file);
      for (const p of readValues(file, content)) {
        (isHyperparameter(p) ? space.params : space.skipped).push(p);
      }
      if (space.params.at(-1)?.file === file) space.contents.set(file, content);
    } catch {
      // Unreadable: not ours to edit.
    }
  }
  // Nothing here: the settings may be in config files the user did not make editable (a Hydra repo's configs/).
  if (space.params.length === 0) {
    space.elsewhere = listFiles(worktree).filter((file) => {
      if (!CONFIG_FILES.test(file) || matchesAny(file, editable) || matchesAny(file, NOT_HYPERPARAMETERS.files) || ignored(file)) return false;
      try {
        const abs = join(worktree, file);
        return statSync(abs).size <= MAX_FILE_BYTES && readValues(file, readFileSync(abs, 'utf8')).some(isHyperparameter);
      } catch {
        return false;
      }
    });
  }
  return space;
}

/**
 * In a few sentences a user can act on: what the proposer tunes in these files, or, when it found nothing, where it
 * looked, what it accepts, what it left alone and what to do instead.
 */
export function describeSearchSpace(space: SearchSpace, editable: readonly string[]): string {
  const list = (xs: readonly string[], max: number): string => (xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', '));
  const byFile = (ps: readonly Hyperparameter[]): string => {
    const files = [...new Set(ps.map((p) => p.file))];
    const shown = files.slice(0, 6).map((f) => `${f}: ${list(ps.filter((p) => p.file === f).map((p) => p.name), 8)}`).join('; ');
    return files.length > 6 ? `${shown}; and ${files.length - 6} more files` : shown;
  };
  const left = space.skipped.length ? ` It left alone, as not hyperparameters (seeds, evaluation and validation data, logging, paths, devices, distributed settings, input and output sizes, tiny epsilons, negative sentinels such as -1): ${byFile(space.skipped)}.` : '';
  if (space.params.length) return `The mutate proposer tunes ${space.params.length} value${space.params.length === 1 ? '' : 's'}: ${byFile(space.params)}.${left}`;
  const where = space.files.length ? `the editable files (${list(space.files, 8)}; editable: ${editable.join(', ')})` : `the editable files: none could be read (editable: ${editable.join(', ')})`;
  const elsewhere = space.elsewhere?.length ? ` Files that are not editable hold values it could tune: ${list(space.elsewhere, 6)}; add them to editable (globs such as ${globsOf(space.elsewhere)}).` : '';
  return `The mutate proposer found nothing to tune in ${where}. It tunes ${TUNABLE_FORMS}.${left}${elsewhere} ` +
    'Add a `# choices: a, b` comment to a setting, make the file that holds the hyperparameters editable, or let a model propose: ' +
    '`proposer: {kind: anthropic | openai-compatible | agent-cli}` (or `vscode-lm` in VS Code).';
}

/** Globs that cover config files by their top folder and extension (every YAML file under configs/), a file at the top by its name. */
function globsOf(files: readonly string[]): string {
  const globs = new Set(files.map((f) => {
    const slash = f.indexOf('/');
    return slash < 0 ? f : `${f.slice(0, slash)}/**/*${/\.[^./]+$/.exec(f)![0]}`;
  }));
  return [...globs].slice(0, 4).map((g) => `\`${g}\``).join(', ');
}
