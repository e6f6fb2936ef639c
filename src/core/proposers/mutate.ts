// The built-in proposer that needs no model: it nudges one hyperparameter of the editable files (`LR = 0.01` ->
// `LR = 0.02`, `optimizer.lr: 3e-4` -> `6e-4`). Its edits form a finite set per parent, it never repeats an editKey
// tried from that parent, and the same seed, parent and history give the same pick.
//
// What counts as a hyperparameter: a number or a True/False value written as a literal in one of these places
// (a string only when a trailing `# choices: a, b` comment or argparse's `choices=` lists the alternatives):
//   Python         a top-level assignment at column 0 (`LR = 0.01`, `learning_rate: float = 6e-4`); lower-case names
//                  only in the settings block at the top of the file, before the first statement that runs something
//                  (`exec(...)`, `main()`, `for ...`), since what follows is the script's state (`iter_num = 0`);
//   argparse/click `add_argument('--lr', type=float, default=1e-3)`, `@click.option('--n-layer', default=6)`: the
//                  `default=` value, named after the first `--long` option (`lr`, `n_layer`), anywhere in the file;
//   YAML/JSON/TOML a leaf value of a mapping, named by its dotted key path (`optimizer.lr`); lists are structure.
// Names in NOT_HYPERPARAMETERS are left alone. An edit replaces the value's characters and nothing else.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, parseAllDocuments } from 'yaml';
import { CONFIG_FILE } from '../config.js';
import { listFiles, matchesAny } from '../glob.js';
import type { Proposal, ProposalRequest, Proposer } from '../proposer.js';
import type { Operator } from '../types.js';

/** Where a hyperparameter is written: a Python assignment, an argparse/click default, or a config file's key. */
export type HyperparameterSource = 'python' | 'argparse' | 'yaml' | 'json' | 'toml';

/** One literal value the proposer may edit. */
export interface Hyperparameter {
  file: string;
  /** `LR`, `learning_rate`, `lr` (from `--lr`), `optimizer.lr` (a nested config key). */
  name: string;
  source: HyperparameterSource;
  kind: 'float' | 'int' | 'power' | 'bool' | 'choice';
  /** The value as written (`0.01`, `1e-3`, `True`, `"relu"`, `2**19`). */
  text: string;
  /** Offset of the value text in the file's content. */
  start: number;
  end: number;
  /** Alternatives from a trailing `# choices: a, b` comment (or argparse's `choices=`), as they would be written. */
  choices: string[] | null;
  /** Bounds from a trailing `# range: lo, hi` comment. */
  range: [number, number] | null;
}

/** One possible edit: a parameter and its new value text. */
export interface MutationCandidate {
  param: Hyperparameter;
  newText: string;
  editKey: string;
  /** A clause for the plan: `Double LR`. */
  action: string;
  /** Why it is worth a run. */
  because: string;
}

/**
 * What the proposer leaves alone, whatever the value: changing it is noise (seeds), changes what is measured or only
 * how often (evaluation, logging, checkpoints), moves files, or breaks the run (devices, distributed setup, token ids).
 * A name is left alone when it is one of `names`, or one of its words (split at `_`, `-` and camelCase) is one of
 * `words`, unless it is one of `unless`; in a YAML, JSON or TOML file every key of the dotted path counts, so all of
 * `wandb.*` is left alone. Files matching `files` (globs, as in `editable`) and TOML tables under `tables` belong to
 * tools, not to the model, and are not read. Names compare in snake_case, lower-cased.
 */
export const NOT_HYPERPARAMETERS = {
  words: [
    'seed', 'seeds', 'eval', 'evaluation', 'validation', 'test', 'predict', 'split', 'log', 'logs', 'logging', 'logger',
    'wandb', 'tensorboard', 'mlflow', 'save', 'checkpoint', 'checkpointing', 'ckpt', 'interval', 'every', 'verbose',
    'verbosity', 'debug', 'quiet', 'profile', 'profiler', 'progress', 'tqdm', 'ddp', 'port', 'workers', 'threads',
    'path', 'paths', 'dir', 'dirs', 'file', 'files', 'filename', 'name', 'url', 'id', 'ids', 'vocab', 'project',
    'entity', 'version', 'hub', 'do', 'best', 'running', 'timeout',
  ],
  names: [
    'device', 'devices', 'dtype', 'backend', 'dist_backend', 'world_size', 'rank', 'local_rank', 'global_rank',
    'node_rank', 'num_nodes', 'gpu', 'gpus', 'n_gpu', 'n_gpus', 'num_gpus', 'use_cuda', 'no_cuda', 'precision',
    'mixed_precision', 'fp16', 'bf16', 'tf32', 'amp', 'pin_memory', 'deterministic', 'benchmark', 'init_from',
    'resume', 'dataset', 'num_labels', 'num_classes', 'n_classes', 'limit_val_batches', 'num_sanity_val_steps',
    'val_batch_size', 'fast_dev_run', 'overfit_batches', 'iter_num', 'global_step', 'step', 'epoch', 'start_epoch',
    'start_iter', 'start_step', 'use_cache',
  ],
  unless: ['drop_path', 'drop_path_rate', 'drop_path_prob'],
  files: [
    CONFIG_FILE, '**/package.json', '**/package-lock.json', '**/tsconfig.json', '**/jsconfig.json', '**/vocab.json',
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

/** What the proposer tunes, in a sentence for messages. */
export const TUNABLE_FORMS =
  'numbers and True/False values of top-level Python assignments (`lr = 1e-3`), argparse/click defaults ' +
  "(`add_argument('--lr', default=1e-3)`) and YAML, JSON and TOML keys (`optimizer.lr: 3e-4`); a string only with a " +
  '`# choices: a, b` comment';

// A float whose name has one of these words, and whose value is in [0, 1], stays below 1: a beta, momentum, EMA
// decay or dropout of 1 or more breaks the run.
const BELOW_ONE = new Set(['beta', 'beta1', 'beta2', 'beta3', 'betas', 'momentum', 'dropout', 'drop', 'pdrop', 'prob', 'ema', 'smoothing']);

const UPPER = /^[A-Z][A-Z0-9_]*$/;
// NAME [: annotation] = value [comment]
const ASSIGN = /^([A-Za-z][A-Za-z0-9_]*)(\s*(?::\s*[A-Za-z_][\w.[\], ]*?\s*)?=\s*)(.*?)(\s*(?:#(.*))?)$/;
// A top-level statement that runs the script (a loop, `with`, the main guard, a call other than setup such as
// seeding, warnings or logging): lower-case names assigned after it are the script's state, not its settings.
const RUNS = /^(?:(?:for|while|with|assert|del|raise)\b|if\s+__name__\b|(?!(?:torch|np|numpy|random|warnings|logging|os|sys|load_dotenv|set_seed|seed_everything|pl|L)\b)[A-Za-z_][\w.]*\s*\()/;
const CLI_CALL = /\b(?:add_argument|add_option|option)\s*\(/g;
const FLOAT = /^[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?$/;
const INT = /^[-+]?\d+$/;
const POWER = /^(\d+)(\s*\*\*\s*)(\d+)$/;
const BOOL = /^(?:True|False|true|false)$/;
const STRING = /^(?:"[^"\\]*"|'[^'\\]*')$/;
const TOML_KEY = /^(\s*)((?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*'))*)(\s*=\s*)/;
const TOML_TABLE = /^\s*(\[\[?)\s*([^\]]+?)\s*\]/;
const MAX_FILE_BYTES = 1_000_000;

/** The words of a name: `learningRate` and `learning-rate` both give `learning`, `rate`. */
function wordsOf(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '');
}

/** Whether a (dotted) name may be tuned: none of its keys is ruled out by NOT_HYPERPARAMETERS. */
export function isHyperparameterName(name: string): boolean {
  const words: readonly string[] = NOT_HYPERPARAMETERS.words;
  const names: readonly string[] = NOT_HYPERPARAMETERS.names;
  const unless: readonly string[] = NOT_HYPERPARAMETERS.unless;
  return name.split('.').every((key) => {
    const w = wordsOf(key);
    const snake = w.join('_');
    return unless.includes(snake) || !(names.includes(snake) || w.some((x) => words.includes(x)));
  });
}

/** The hyperparameters of one file's content, in file order; a name assigned twice counts at its last assignment. */
export function parseHyperparameters(file: string, content: string): Hyperparameter[] {
  return readValues(file, content).filter((p) => isHyperparameterName(p.name));
}

/** Every literal the proposer can read in a file, the names it leaves alone included. */
function readValues(file: string, content: string): Hyperparameter[] {
  const ext = /\.([^./]+)$/.exec(file)?.[1]?.toLowerCase();
  const found = ext === 'yaml' || ext === 'yml' ? yamlValues(file, content)
    : ext === 'json' ? jsonValues(file, content)
    : ext === 'toml' ? tomlValues(file, content)
    : [...pythonAssignments(file, content), ...cliDefaults(file, content)];
  const byName = new Map<string, Hyperparameter>();
  for (const p of found.sort((a, b) => a.start - b.start)) {
    byName.delete(p.name);
    byName.set(p.name, p);
  }
  return [...byName.values()].sort((a, b) => a.start - b.start);
}

interface Literal {
  file: string;
  source: HyperparameterSource;
  name: string;
  text: string;
  start: number;
  /** The trailing comment of the value's line, without `#`. */
  comment: string;
  /** The quote of a string value (`''` for a plain YAML string); null when the value is not a string. */
  quote: string | null;
  /** Alternatives the code itself lists (argparse `choices=`), as written. */
  listed?: string[] | null;
}

function literalParam(l: Literal): Hyperparameter | null {
  if (l.text === '' || l.text.includes('\n')) return null;
  const choices = /\bchoices\s*:\s*(.+)$/i.exec(l.comment);
  const range = /\brange\s*:\s*\[?\s*([-+.\deE]+)\s*,\s*([-+.\deE]+)\s*\]?/i.exec(l.comment);
  const listed = choices ? choices[1]!.split(/[,|]/) : l.listed ?? null;
  let kind: Hyperparameter['kind'];
  if (l.quote !== null) {
    if (!listed) return null;
    kind = 'choice';
  } else if (BOOL.test(l.text)) kind = 'bool';
  else if (INT.test(l.text)) kind = 'int';
  else if (FLOAT.test(l.text)) kind = 'float';
  else if (POWER.test(l.text)) kind = 'power';
  else return null;
  let parsedChoices: string[] | null = null;
  if (listed) {
    const quote = l.quote ?? '';
    parsedChoices = listed.map((c) => c.trim().replace(/^(["'])(.*)\1$/, '$2')).filter((c) => c !== '').map((c) => `${quote}${c}${quote}`);
    if (kind === 'choice' || parsedChoices.length > 1) kind = 'choice';
  }
  let bounds: [number, number] | null = null;
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (Number.isFinite(lo) && Number.isFinite(hi)) bounds = [Math.min(lo, hi), Math.max(lo, hi)];
  }
  return { file: l.file, name: l.name, source: l.source, kind, text: l.text, start: l.start, end: l.start + l.text.length, choices: parsedChoices, range: bounds };
}

/** Top-level `name = literal` lines, outside triple-quoted strings. */
function pythonAssignments(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  let inTripleQuote: string | null = null;
  let settings = true;
  let offset = 0;
  for (const rawLine of content.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (inTripleQuote) {
      if (count(line, inTripleQuote) % 2 === 1) inTripleQuote = null;
      continue;
    }
    const m = ASSIGN.exec(line);
    if (m && (settings || UPPER.test(m[1]!))) {
      const [, name = '', assign = '', text = '', , comment = ''] = m;
      const param = literalParam({ file, source: 'python', name, text, start: lineStart + name.length + assign.length, comment, quote: STRING.test(text) ? text[0]! : null });
      if (param) {
        out.push(param);
        continue;
      }
    }
    if (!m && RUNS.test(line)) settings = false;
    for (const q of ['"""', "'''"]) {
      if (count(line, q) % 2 === 1) {
        inTripleQuote = q;
        break;
      }
    }
  }
  return out;
}

function count(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** The `default=` of `add_argument(...)`, `add_option(...)` and `click.option(...)` calls with a `--long` option. */
function cliDefaults(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  for (const m of content.matchAll(CLI_CALL)) {
    const lineStart = content.lastIndexOf('\n', m.index) + 1;
    if (content.slice(lineStart, m.index).trimStart().startsWith('#')) continue;
    const args = bracketItems(content, m.index + m[0].length - 1);
    if (!args) continue;
    let name: string | null = null;
    let value: Span | null = null;
    let listed: string[] | null = null;
    for (const a of args) {
      const kw = /^([A-Za-z_]\w*)\s*=(?!=)\s*/.exec(a.text);
      if (!kw) {
        const option = /^[rRuU]?(["'])(--[^"']*)\1$/.exec(a.text)?.[2];
        // `--compile/--no-compile` is click's on/off pair.
        if (option && name === null) name = option.split('/')[0]!.slice(2).replace(/-/g, '_');
        continue;
      }
      const v = { text: a.text.slice(kw[0].length), start: a.start + kw[0].length };
      if (kw[1] === 'default') value = v;
      else if (kw[1] === 'choices') listed = literalItems(content, v);
    }
    if (!name || !/^[A-Za-z]\w*$/.test(name) || !value) continue;
    const comment = trailingComment(content, value.start + value.text.length);
    const param = literalParam({ file, source: 'argparse', name, text: value.text, start: value.start, comment, quote: STRING.test(value.text) ? value.text[0]! : null, listed });
    if (param) out.push(param);
  }
  return out;
}

interface Span {
  text: string;
  start: number;
}

/**
 * The top-level, comma-separated items of the Python bracket opening at `open`, without comments or surrounding
 * blanks; null when it does not close.
 */
function bracketItems(src: string, open: number): Span[] | null {
  const items: Span[] = [];
  let depth = 0;
  let first = -1;
  let last = -1;
  const push = (): void => {
    if (first >= 0) items.push({ text: src.slice(first, last), start: first });
    first = last = -1;
  };
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i]!;
    if (c === '#') {
      const nl = src.indexOf('\n', i);
      if (nl < 0) return null;
      i = nl;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (depth === 0 && c === ',') {
      push();
      continue;
    }
    if (depth === 0 && (c === ')' || c === ']' || c === '}')) {
      push();
      return items;
    }
    if (first < 0) first = i;
    if (c === '"' || c === "'") {
      const end = stringEnd(src, i);
      if (end < 0) return null;
      i = end - 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    last = i + 1;
  }
  return null;
}

/** The offset just after the string literal opening at `i` (Python or JSON quoting); -1 when it does not close. */
function stringEnd(src: string, i: number): number {
  const q = src[i]!;
  const triple = q.repeat(3);
  if (src.startsWith(triple, i)) {
    const close = src.indexOf(triple, i + 3);
    return close < 0 ? -1 : close + 3;
  }
  for (let j = i + 1; j < src.length; j++) {
    const c = src[j];
    if (c === '\\') j++;
    else if (c === q) return j + 1;
    else if (c === '\n') return -1;
  }
  return -1;
}

/** The literal items of a `[...]` or `(...)` value, as written; null when it is anything else. */
function literalItems(src: string, value: Span): string[] | null {
  if (!/^[[(]/.test(value.text)) return null;
  const items = bracketItems(src, value.start);
  if (!items?.length || !items.every((x) => STRING.test(x.text) || FLOAT.test(x.text) || INT.test(x.text) || BOOL.test(x.text))) return null;
  return items.map((x) => x.text);
}

/** The comment after `from` on its line (`#` outside quotes), without the `#`; empty when there is none. */
function trailingComment(src: string, from: number): string {
  let quote: string | null = null;
  for (let i = from; i < src.length && src[i] !== '\n'; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') {
      const nl = src.indexOf('\n', i);
      return src.slice(i + 1, nl < 0 ? undefined : nl).replace(/\r$/, '');
    }
  }
  return '';
}

/** Leaf scalars of YAML mappings, named by their key path; none when the file does not parse. */
function yamlValues(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) if (isScalar(pair.key) && pair.key.value !== null) walk(pair.value, [...path, String(pair.key.value)]);
      return;
    }
    if (!isScalar(node) || !node.range || path.length === 0) return;
    const text = content.slice(node.range[0], node.range[1]);
    let quote: string | null = null;
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') quote = text[0] ?? '';
    else if (node.type !== 'PLAIN') return;
    else if (typeof node.value === 'string') quote = '';
    else if (typeof node.value !== 'number' && typeof node.value !== 'boolean') return;
    const param = literalParam({ file, source: 'yaml', name: path.join('.'), text, start: node.range[0], comment: trailingComment(content, node.range[1]), quote });
    if (param) out.push(param);
  };
  try {
    const docs = parseAllDocuments(content);
    if (docs.some((d) => d.errors.length > 0)) return [];
    for (const doc of docs) walk(doc.contents, []);
  } catch {
    return [];
  }
  return out;
}

/** Numeric and boolean members of JSON objects, named by their key path; comments and trailing commas (JSONC) are tolerated. */
function jsonValues(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  // NaN and Infinity are not JSON, but Python's json.dump writes them.
  const scalar = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity/y;
  let i = 0;
  const fail = (): never => {
    throw new SyntaxError(`unexpected ${content[i] ?? 'end'} at ${i}`);
  };
  const blank = (): void => {
    for (;;) {
      while (i < content.length && /\s/.test(content[i]!)) i++;
      if (content.startsWith('//', i)) {
        const nl = content.indexOf('\n', i);
        i = nl < 0 ? content.length : nl;
      } else if (content.startsWith('/*', i)) {
        const close = content.indexOf('*/', i + 2);
        if (close < 0) fail();
        i = close + 2;
      } else return;
    }
  };
  const string = (): string => {
    const end = content[i] === '"' ? stringEnd(content, i) : -1;
    if (end < 0) fail();
    const s = JSON.parse(content.slice(i, end)) as string;
    i = end;
    return s;
  };
  // `path` is null inside arrays: their members are structure, not settings.
  const value = (path: string[] | null): void => {
    blank();
    const open = content[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      blank();
      while (content[i] !== close) {
        let key: string | null = null;
        if (open === '{') {
          key = string();
          blank();
          if (content[i] !== ':') fail();
          i++;
        }
        value(path && key !== null ? [...path, key] : null);
        blank();
        if (content[i] === ',') {
          i++;
          blank();
        } else if (content[i] !== close) fail();
      }
      i++;
    } else if (open === '"') string();
    else {
      scalar.lastIndex = i;
      const m = scalar.exec(content) ?? fail();
      if (path?.length && m[0] !== 'null') {
        const param = literalParam({ file, source: 'json', name: path.join('.'), text: m[0], start: i, comment: '', quote: null });
        if (param) out.push(param);
      }
      i += m[0].length;
    }
  };
  try {
    value([]);
    blank();
    if (i < content.length) fail();
  } catch {
    return [];
  }
  return out;
}

/** `key = value` lines of TOML, named by their `[table]` and dotted key; arrays, inline tables and multi-line strings are skipped. */
function tomlValues(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  const tables: readonly string[] = NOT_HYPERPARAMETERS.tables;
  let table: string[] | null = [];
  let closing: string | null = null;
  let depth = 0;
  let offset = 0;
  for (const rawLine of content.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (closing) {
      if (line.includes(closing)) closing = null;
      continue;
    }
    if (depth > 0) {
      depth += bracketDepth(line);
      continue;
    }
    const key = TOML_KEY.exec(line);
    if (!key) {
      const header = TOML_TABLE.exec(line);
      if (header) {
        const path = tomlKeyPath(header[2]!);
        const dotted = path.join('.');
        // An array of tables is a list: structure, not settings.
        table = header[1] === '[[' || tables.some((t) => dotted === t || dotted.startsWith(`${t}.`)) ? null : path;
      }
      continue;
    }
    const rest = line.slice(key[0].length);
    const triple = /^(?:"""|''')/.exec(rest)?.[0];
    if (triple) {
      if (count(rest, triple) < 2) closing = triple;
      continue;
    }
    if (rest.startsWith('[') || rest.startsWith('{')) {
      depth = bracketDepth(rest);
      continue;
    }
    if (!table) continue;
    const comment = trailingComment(line, 0);
    const hash = comment === '' ? line.length : line.length - comment.length - 1;
    const text = line.slice(key[0].length, hash).trimEnd();
    const quote = STRING.test(text) ? text[0]! : null;
    const param = literalParam({ file, source: 'toml', name: [...table, ...tomlKeyPath(key[2]!)].join('.'), text, start: lineStart + key[0].length, comment, quote });
    if (param) out.push(param);
  }
  return out;
}

function tomlKeyPath(key: string): string[] {
  return (key.match(/"[^"]*"|'[^']*'|[^.\s]+/g) ?? []).map((k) => k.replace(/^(["'])(.*)\1$/, '$2'));
}

/** Opening minus closing brackets on a line, outside strings and comments. */
function bracketDepth(line: string): number {
  let d = 0;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '[' || c === '{') d++;
    else if (c === ']' || c === '}') d--;
  }
  return d;
}

/** Every edit of one parameter, in a fixed order, none equal to the current value. */
export function candidatesFor(p: Hyperparameter): MutationCandidate[] {
  const out: MutationCandidate[] = [];
  const seen = new Set<string>([p.text]);
  const add = (newText: string, action: string, because: string): void => {
    if (seen.has(newText)) return;
    seen.add(newText);
    out.push({ param: p, newText, editKey: editKeyOf(p.file, p.name, newText), action, because });
  };
  const below1 = !p.range && belowOne(p);
  const inRange = (v: number): boolean => (p.range ? v >= p.range[0] && v <= p.range[1] : !below1 || (v >= 0 && v < 1));
  switch (p.kind) {
    case 'bool': {
      const flipped = { True: 'False', False: 'True', true: 'false', false: 'true' }[p.text as 'True'] ?? p.text;
      const on = flipped === 'True' || flipped === 'true';
      add(flipped, `${on ? 'Enable' : 'Disable'} ${p.name}`, `to test whether the model does better ${on ? 'with' : 'without'} it`);
      break;
    }
    case 'choice':
      for (const c of p.choices ?? []) {
        const n = Number(c);
        if (c.trim() !== '' && Number.isFinite(n) && !inRange(n)) continue;
        add(c, `Switch ${p.name} from ${p.text} to ${c}`, 'to compare it with the current choice');
      }
      break;
    case 'float': {
      const v = Number(p.text);
      if (v === 0) {
        for (const n of [0.1, 0.01]) if (inRange(n)) add(formatFloat(n, p.text), `Set ${p.name} to ${formatFloat(n, p.text)}`, 'to test whether a non-zero value helps');
        break;
      }
      for (const f of [2, 0.5, 1.25, 0.8]) {
        const n = Number((v * f).toPrecision(6));
        if (n === 0 || !inRange(n)) continue;
        add(formatFloat(n, p.text), scaleAction(p.name, f), scaleReason(f));
      }
      break;
    }
    case 'int': {
      const v = Number(p.text);
      const sign = v < 0 ? -1 : 1;
      const a = Math.abs(v);
      if (a === 0) {
        if (inRange(1)) add('1', `Set ${p.name} to 1`, 'to test whether a non-zero value helps');
        break;
      }
      const step = Math.max(1, Math.round(a * 0.25));
      for (const [n, f] of [[a * 2, 2], [Math.round(a / 2), 0.5], [a + step, 1.25], [a - step, 0.8]] as const) {
        if (n < 1 || !inRange(sign * n)) continue;
        add(String(sign * n), scaleAction(p.name, f), scaleReason(f));
      }
      break;
    }
    case 'power': {
      const [, base = '2', op = '**', exp = '0'] = POWER.exec(p.text)!;
      const e = Number(exp);
      for (const [n, f] of [[e + 1, 2], [e - 1, 0.5]] as const) {
        if (n < 0 || !inRange(Number(base) ** n)) continue;
        add(`${base}${op}${n}`, Number(base) === 2 ? scaleAction(p.name, f) : `${f > 1 ? 'Raise' : 'Lower'} ${p.name}'s exponent`, scaleReason(f));
      }
      break;
    }
  }
  return out;
}

export function editKeyOf(file: string, name: string, newText: string): string {
  return `${file}:${name}=${newText}`;
}

/** A float in [0, 1] named like a beta, a momentum or a dropout (BELOW_ONE) is kept below 1. */
function belowOne(p: Hyperparameter): boolean {
  const v = Number(p.text);
  return p.kind === 'float' && v >= 0 && v <= 1 && wordsOf(p.name.slice(p.name.lastIndexOf('.') + 1)).some((w) => BELOW_ONE.has(w));
}

function scaleAction(name: string, factor: number): string {
  if (factor === 2) return `Double ${name}`;
  if (factor === 0.5) return `Halve ${name}`;
  return factor > 1 ? `Raise ${name} by about a quarter` : `Lower ${name} by about a fifth`;
}

function scaleReason(factor: number): string {
  if (factor === 2) return 'to test whether it is set too low';
  if (factor === 0.5) return 'to test whether it is set too high';
  return factor > 1 ? 'to probe whether a slightly larger value helps' : 'to probe whether a slightly smaller value helps';
}

/**
 * A float written like the original: scientific when it was (`1e-3` -> `5e-4`, `3.0e-4` -> `6.0e-4`: a YAML 1.1
 * reader takes `6e-4` for a string), otherwise plain decimal that still reads as a float (`2.0`, not `2`); at most
 * 6 significant digits, never `0.30000000000000004`.
 */
export function formatFloat(value: number, original: string): string {
  const v = Number(value.toPrecision(6));
  const e = /[eE]/.exec(original)?.[0];
  if (e) {
    const [mantissa = '0', exponent = '0'] = v.toExponential().split('e');
    const dotted = /\.\d*[eE]/.test(original) && !mantissa.includes('.') ? `${mantissa}.0` : mantissa;
    return `${dotted}${e}${Number(exponent)}`;
  }
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** mulberry32: a small, fast, seedable PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string, for seeding. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether a text names a parameter: `matrix lr` names MATRIX_LR, `lr` names optimizer.lr. */
function mentions(text: string, name: string): boolean {
  const lower = text.toLowerCase();
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  return [name, name.replace(/[_.]/g, ' '), leaf, leaf.replace(/_/g, ' ')].some((n) => new RegExp(`(^|[^a-z0-9_])${escapeRegExp(n.toLowerCase())}($|[^a-z0-9_])`).test(lower));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

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
}

/** Reads the hyperparameters of the editable files in a worktree. */
export function scanSearchSpace(worktree: string, editable: readonly string[]): SearchSpace {
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
        (isHyperparameterName(p.name) ? space.params : space.skipped).push(p);
      }
      if (space.params.at(-1)?.file === file) space.contents.set(file, content);
    } catch {
      // Unreadable: not ours to edit.
    }
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
  const left = space.skipped.length ? ` It left alone, as not hyperparameters (seeds, evaluation, logging, paths, devices, distributed settings): ${byFile(space.skipped)}.` : '';
  if (space.params.length) return `The mutate proposer tunes ${space.params.length} value${space.params.length === 1 ? '' : 's'}: ${byFile(space.params)}.${left}`;
  const where = space.files.length ? `the editable files (${list(space.files, 8)}; editable: ${editable.join(', ')})` : `the editable files: none could be read (editable: ${editable.join(', ')})`;
  return `The mutate proposer found nothing to tune in ${where}. It tunes ${TUNABLE_FORMS}.${left} ` +
    'Add a `# choices: a, b` comment to a setting, make the file that holds the hyperparameters editable, or let a model propose: ' +
    '`proposer: {kind: anthropic | openai-compatible | agent-cli}` (or `vscode-lm` in VS Code).';
}

export class MutateProposer implements Proposer {
  readonly kind = 'mutate';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
  private readonly seed: number;
  private nothingNew: string | null = null;

  constructor(options: { seed: number }) {
    this.seed = options.seed;
  }

  /** What the proposer reads in a worktree's editable files. */
  scan(worktree: string, editable: readonly string[]): SearchSpace {
    return scanSearchSpace(worktree, editable);
  }

  /**
   * Why the last `propose` returned null, when that is something the user can fix: the editable files hold nothing
   * it can tune (describeSearchSpace). Null after a proposal, or when it has only run out of new edits.
   */
  explainNothingNew(): string | null {
    return this.nothingNew;
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    this.nothingNew = null;
    if (req.operator !== 'draft' && req.operator !== 'improve') return null;
    const space = this.scan(req.worktree, req.config.editable);
    const { params, contents } = space;
    if (params.length === 0) {
      this.nothingNew = describeSearchSpace(space, req.config.editable);
      return null;
    }
    let pool = params.map((p) => candidatesFor(p).filter((c) => !req.triedFromParent.has(c.editKey))).filter((cs) => cs.length > 0);
    if (pool.length === 0) return null;

    const hint = req.hint?.text ?? '';
    let hinted = hint ? pool.filter((cs) => mentions(hint, cs[0]!.param.name)) : [];
    // `matrix lr` names MATRIX_LR, not LR as well.
    hinted = hinted.filter((cs) => !hinted.some((o) => o !== cs && o[0]!.param.name !== cs[0]!.param.name && mentions(o[0]!.param.name.replace(/[_.]/g, ' '), cs[0]!.param.name)));
    if (hinted.length) pool = hinted;
    else if (req.operator === 'draft') {
      // Independent drafts: prefer a parameter no sibling has changed yet.
      // Siblings in the history, and edits other slots are proposing or hold ready from this parent (tried).
      const siblings = [...req.history.filter((n) => n.parentId === req.parent.id).map((n) => n.editKey), ...req.triedFromParent];
      const fresh = pool.filter((cs) => {
        const prefix = editKeyOf(cs[0]!.param.file, cs[0]!.param.name, '');
        return !siblings.some((key) => key.startsWith(prefix));
      });
      if (fresh.length) pool = fresh;
    }

    const rng = mulberry32(hash(`${this.seed}|${req.parent.id}|${req.triedFromParent.size}|${req.operator}`));
    const group = pool[Math.floor(rng() * pool.length)]!;
    const pick = group[Math.floor(rng() * group.length)]!;
    const p = pick.param;
    const content = contents.get(p.file)!;
    const several = new Set(params.map((x) => x.file)).size > 1;
    const plan = `${pick.action} (${p.text} -> ${pick.newText}) ${pick.because}.${hinted.length ? ` Tests the hint: ${hint}` : ''}`;
    return {
      description: `${several ? `${p.file}: ` : ''}${p.name} ${p.text} -> ${pick.newText}`,
      plan,
      editKey: pick.editKey,
      files: { [p.file]: content.slice(0, p.start) + pick.newText + content.slice(p.end) },
      proposer: { kind: this.kind },
    };
  }

  dispose(): void {
    // Nothing held.
  }
}
