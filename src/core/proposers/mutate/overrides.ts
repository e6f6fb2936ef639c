// The settings the run command sets itself, so that an edit of them in a file never reaches the run: `--key=value`
// (nanoGPT's configurator, argparse), `--key value` and `--flag` (argparse, click), Hydra's `key=value` (`+key=`,
// `++key=`, `~key`), and a Python config file handed to the script (nanoGPT's `python train.py config/x.py`), whose
// top-level assignments replace the script's own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hyperparameter } from './hyperparameter.js';

/** What the run command sets: each name (lower-case, `-` as `_`) with the words that set it. */
export interface RunOverrides {
  options: Map<string, string>;
  /** Python files passed to the script after it: their settings win over the script's. */
  configFiles: string[];
}

const ENV = /^[A-Za-z_]\w*=/;
const PY = /\.py$/;
const LONG = /^--([A-Za-z][\w.-]*)(?:=(.*))?$/;
// `key=value`, `+key=value`, `++key=value`, `~key`: a dotted key, an optional `@package`.
const HYDRA = /^(?:(?:\+\+|\+)?([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)(?:@[\w.]+)?=|~([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)(?:@[\w.]+)?(?:=|$))/;

/** The options and overrides of a shell command line, and the Python config files it hands the script. */
export function runOverrides(run: string): RunOverrides {
  const options = new Map<string, string>();
  const configFiles: string[] = [];
  for (const words of commands(run)) {
    let i = 0;
    while (i < words.length && ENV.test(words[i]!)) i++;
    let script = false;
    for (i++; i < words.length; i++) {
      const w = words[i]!;
      const long = LONG.exec(w);
      if (long) {
        const key = normal(long[1]!);
        const next = words[i + 1];
        // `--lr 0.1`: the next word is its value (a script is not: `torchrun --standalone train.py`).
        const value = long[2] === undefined && next !== undefined && !next.startsWith('-') && !HYDRA.test(next) && !PY.test(next) ? next : null;
        options.set(key, value === null ? w : `${w} ${value}`);
        // `--no-compile` is click's and BooleanOptionalAction's way to set compile.
        if (key.startsWith('no_')) options.set(key.slice(3), w);
        if (value !== null) i++;
        continue;
      }
      if (w.startsWith('-')) continue;
      const hydra = HYDRA.exec(w);
      if (hydra) options.set(normal(hydra[1] ?? hydra[2]!), w);
      else if (PY.test(w)) {
        // The first is the script; nanoGPT's configurator exec's the ones after it over the script's settings.
        if (script) configFiles.push(w.replace(/^\.\//, ''));
        script = true;
      }
    }
  }
  return { options, configFiles };
}

/** Adds the top-level assignments of the config files (read in the worktree) to what the command sets. */
export function withConfigFiles(o: RunOverrides, worktree: string): Map<string, { by: string; file: string | null }> {
  const out = new Map<string, { by: string; file: string | null }>();
  for (const file of o.configFiles) {
    let content: string;
    try {
      content = readFileSync(join(worktree, file), 'utf8');
    } catch {
      continue;
    }
    for (const m of content.matchAll(/^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)/gm)) out.set(normal(m[1]!), { by: file, file });
  }
  for (const [k, by] of o.options) out.set(k, { by, file: null });
  return out;
}

/**
 * What sets a parameter instead of its file: the option (`--max_iters=2000`), or the config file named on the command
 * line (never for a parameter of that file itself); null when the run reads the file's value.
 */
export function overriddenBy(p: Hyperparameter, set: ReadonlyMap<string, { by: string; file: string | null }>): string | null {
  const name = normal(p.name);
  const hit = set.get(name);
  if (hit && hit.file !== p.file) return hit.by;
  // Hydra's `optimizer.lr=` sets `lr` of a config group's file (conf/optimizer/adam.yaml).
  if (p.source === 'yaml' || p.source === 'json' || p.source === 'toml') {
    const folders = p.file.split('/').slice(0, -1).map(normal);
    for (const [key, v] of set) {
      if (v.file !== null || !key.endsWith(`.${name}`)) continue;
      const group = key.slice(0, -name.length - 1).split('.');
      if (group.length <= folders.length && group.every((g, i) => folders[folders.length - group.length + i] === g)) return v.by;
    }
    // Hydra's `model=cnn` selects conf/model/cnn.yaml: no other file of that group is read by the run.
    const stem = normal(p.file.replace(/^.*\//, '').replace(/\.\w+$/, ''));
    for (const [key, v] of set) {
      const choice = v.file === null && !v.by.startsWith('-') ? /^[^=]*=(.+)$/.exec(v.by)?.[1] : undefined;
      if (choice === undefined || key.includes('.') || folders.at(-1) !== key) continue;
      if (normal(choice) !== stem) return v.by;
    }
  }
  return null;
}

function normal(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}

/** The simple commands of a shell line, as words (quotes removed); `&&`, `||`, `;`, `|` and newlines separate them. */
function commands(line: string): string[][] {
  const out: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const end = (): void => {
    if (word !== null) words.push(word);
    word = null;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      const stop = close < 0 ? line.length : close;
      word = (word ?? '') + line.slice(i + 1, stop);
      i = stop;
    } else if (c === '\\' && i + 1 < line.length) {
      if (line[i + 1] !== '\n') word = (word ?? '') + line[i + 1];
      i++;
    } else if (c === ';' || c === '|' || c === '&' || c === '\n') {
      end();
      if (words.length) out.push(words);
      words = [];
    } else if (/\s/.test(c)) end();
    else word = (word ?? '') + c;
  }
  end();
  if (words.length) out.push(words);
  return out;
}
