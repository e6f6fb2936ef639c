// Finds the metric in what a training script prints: every `name value` pair in the log becomes a
// candidate with a pattern the judge can read (its last match wins), ranked so the held-out metric of
// the final report comes first. Used by `autoresearch init --probe` and the editor's config wizard.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNumber } from './judging/judge.js';
import { LocalExecutor } from './executors/localExecutor.js';
import { STATE_DIR } from './files.js';
import type { Direction, RunResult } from './types.js';

export type MetricSplit = 'eval' | 'train';

export interface MetricCandidate {
  /** snake_case, as the config's `metric.name`: `val_loss`, `test_accuracy`. */
  name: string;
  /** A regex (the engine adds the flags `gm`) with exactly one capture group: the value. */
  pattern: string;
  /** Undefined when the name says neither way: ask. */
  direction: Direction | undefined;
  split: MetricSplit | undefined;
  /** How many times the pattern matches the log. */
  matches: number;
  /** The value the judge would read: the last match. */
  value: number;
  valueText: string;
  /** The whole line of the last match, and its 1-based number. */
  line: string;
  lineNumber: number;
}

const WORD = '[A-Za-z_](?:[\\w./-]*\\w)?';
const NUMBER = '[-+]?(?:\\d*\\.?\\d+(?:[eE][-+]?\\d+)?|nan|NaN|inf|Inf(?:inity)?)';
/** The value in a pattern: a number, or Python's nan/inf so a diverged run reads as NaN, not as a missing line. */
const VALUE = '([-+]?(?:\\d*\\.?\\d+(?:[eE][-+]?\\d+)?|nan|NaN|inf|Inf))';
// A quoted key ('eval_loss': 0.5) or a run of words (val loss 2.37), a separator, a number, then a fraction
// like 9890/10000 (99%) or a unit (12ms, 91%); not a number with thousands separators (10,740,096 parameters).
const PAIR = new RegExp(
  `(?:(['"])(${WORD})\\1|(?<![\\w./'"-])(${WORD}(?: ${WORD})*))(\\s*[:=]\\s*|\\s+)(${NUMBER})`
  + '(?:(/\\d+\\s*\\(\\s*([-+]?\\d*\\.?\\d+)\\s*%\\s*\\))|(/\\d+)|(%|[A-Za-z]+(?:/[A-Za-z]+)?))?(?![\\w.]|,\\d)',
  'g',
);

const MINIMIZE = new Set(['loss', 'losses', 'error', 'err', 'errors', 'perplexity', 'ppl', 'bpb', 'bpc', 'rmse', 'mse', 'mae', 'wer', 'cer', 'nll', 'ce', 'fid', 'regret', 'distance']);
const MAXIMIZE = new Set(['acc', 'accuracy', 'f1', 'auc', 'auroc', 'bleu', 'rouge', 'map', 'iou', 'miou', 'score', 'reward', 'rewards', 'return', 'precision', 'recall', 'top1', 'top5', 'r2', 'dice', 'psnr', 'ssim', 'mcc', 'em']);
const EVAL = new Map([['val', 'val'], ['valid', 'val'], ['validation', 'val'], ['eval', 'eval'], ['evaluation', 'eval'], ['test', 'test'], ['dev', 'dev'], ['holdout', 'holdout']]);
const TRAIN = new Set(['train', 'training', 'trn']);
/** Counters, clocks, rates, hyperparameters and resources: printed by training scripts, never the metric. */
const IGNORED = new Set([
  'step', 'steps', 'iter', 'iters', 'iteration', 'iterations', 'epoch', 'epochs', 'batch', 'batches', 'bs',
  'time', 'dt', 'ms', 'sec', 'secs', 'second', 'seconds', 'elapsed', 'eta', 'runtime', 'duration',
  'lr', 'learning', 'mfu', 'tokens', 'token', 'tok', 'toks', 'throughput', 'samples', 'sample', 'per',
  'memory', 'mem', 'vram', 'gpu', 'gpus', 'seed', 'grad', 'norm', 'flos', 'flops', 'params', 'param',
  'parameters', 'rank', 'world', 'interval', 'size', 'dropout', 'decay', 'warmup', 'momentum', 'beta1',
  'beta2', 'workers', 'layer', 'layers', 'head', 'heads', 'embd', 'vocab', 'number', 'num', 'count',
]);
/** Words that name no measurement alone: `with 320 parameters` (nanoGPT's small CPU model) is no metric `with`. */
const STOP = new Set(['with', 'without', 'of', 'and', 'or', 'to', 'in', 'on', 'at', 'for', 'from', 'by', 'is', 'are', 'was', 'were', 'has', 'have', 'got', 'the', 'a', 'an', 'total', 'using', 'over', 'after', 'about']);
/** A comment line of a config file the script echoes (`# good for debugging and playing on macbooks`). */
const COMMENT_LINE = /^\s*#/;
/** `block_size = 256 # context of up to 256 previous characters`: a setting, whose trailing comment is not read. */
const ASSIGNMENT = /^\s*[A-Za-z_][\w.]*\s*[:=]/;
/** A traceback's frame line (`File "train.py", line 26, in <module>`): its numbers are line numbers, never a metric. */
const TRACEBACK = /^\s*File "[^"]*", line \d+/;
/**
 * An error's or a warning's own line (`python3: can't open file 'train.py': [Errno 2] …`, `RuntimeError: …`, torch's
 * `UserWarning: This DataLoader will create 4 worker processes`): its numbers are codes and counts, never a metric.
 */
const ERROR_LINE = /\[Errno \d+\]|\b[A-Z][A-Za-z]*(?:Error|Exception|Warning): |can't open file|No such file or directory/;
/** Words that say nothing about what is measured: "Average loss" is the loss, "final test_acc" the test_acc. */
const FILLER = new Set(['average', 'avg', 'final']);

interface Pair {
  key: string;
  name: string;
  words: string[];
  quote: string | undefined;
  start: number;
  sep: string;
  valueText: string;
  unit: string | undefined;
  /** `9890/10000 (99%)`: the value is the percentage. */
  fraction: boolean;
  /** `3/10`: a counter, not a measurement. */
  counter: boolean;
}

function nameWords(key: string): string[] {
  return key.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/** Which way is better, from the words of the name (the last known word decides: `top1_err` minimizes). */
export function metricDirection(name: string): Direction | undefined {
  const words = nameWords(name);
  for (let i = words.length - 1; i >= 0; i--) {
    const w = words[i]!;
    if (MINIMIZE.has(w)) return 'minimize';
    if (MAXIMIZE.has(w)) return 'maximize';
    // Glued spellings: valloss, testAccuracy.
    for (const m of MINIMIZE) if (m.length > 2 && w.endsWith(m)) return 'minimize';
    for (const m of MAXIMIZE) if (m.length > 2 && w.endsWith(m)) return 'maximize';
  }
  return undefined;
}

function splitOf(words: string[]): MetricSplit | undefined {
  if (words.some((w) => EVAL.has(w))) return 'eval';
  if (words.some((w) => TRAIN.has(w))) return 'train';
  return undefined;
}

function ignored(p: Pair): boolean {
  if (p.counter || (p.unit !== undefined && p.unit !== '%')) return true;
  return p.words.some((w) => IGNORED.has(w) || /^n_/.test(w)) || p.words.every((w) => STOP.has(w));
}

function pairsOf(line: string): Pair[] {
  const out: Pair[] = [];
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(line); m; m = PAIR.exec(line)) {
    const quote = m[1];
    const key = quote ? m[2]! : m[3]!;
    const words = nameWords(key);
    out.push({
      key, words, quote, name: '', start: m.index, sep: m[4]!,
      valueText: m[7] ?? m[5]!, unit: m[9], fraction: m[6] !== undefined, counter: m[8] !== undefined,
    });
  }
  return out;
}

/** The pair's name: its words in snake_case, the filler dropped, with the split named earlier on the line (`Test set: Average loss` → test_loss). */
function nameOf(p: Pair, context: string): string {
  let words = p.words.filter((w) => !FILLER.has(w));
  if (!words.length) words = p.words;
  // A sentence ("Training finished with loss 0.3"): its split and its last word.
  if (words.length > 3) words = [...words.filter((w) => EVAL.has(w) || TRAIN.has(w)).slice(-1).map((w) => (TRAIN.has(w) ? 'train' : w)), words[words.length - 1]!];
  if (!splitOf(words)) {
    const ctx = nameWords(context).reverse().find((w) => EVAL.has(w) || TRAIN.has(w));
    if (ctx) words = [TRAIN.has(ctx) ? 'train' : EVAL.get(ctx)!, ...words];
  }
  return words.join('_');
}

/** Regex-escaped, with control characters (a stray escape sequence) spelled out so the YAML stays printable. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(/[\x00-\x1f\x7f]/g, (ch) => (ch === '\t' ? '\\t' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function separator(sep: string): string {
  if (sep.includes(':')) return sep.startsWith(':') ? ':\\s*' : '\\s*:\\s*';
  if (sep.includes('=')) return sep === '=' ? '=' : '\\s*=\\s*';
  return '\\s+';
}

/**
 * The pattern for one pair on its line: the line's first word as an anchor (`^step\b`), then the text that
 * precedes the key (`, val loss`), so `loss` never reads the `val loss` of the same line, and every number
 * in between free to change.
 */
function patternOf(line: string, p: Pair): string {
  const value = p.fraction ? `\\d+/\\d+\\s*\\(\\s*${VALUE}\\s*%\\s*\\)` : VALUE;
  const tail = `${separator(p.sep)}${value}`;
  // Quoted keys delimit themselves, wherever the dict is printed (after a progress bar, in a log prefix).
  if (p.quote) return `${p.quote}${escape(p.key)}${p.quote}${tail}`;
  const key = p.key.split(' ').map(escape).join(' ');
  const indent = /^[ \t]/.test(line) ? '\\s*' : '';
  const before = line.slice(0, p.start).trimEnd();
  if (!before.trim()) return `^${indent}${key}${tail}`;
  const first = before.trimStart();
  const head = /^[A-Za-z_]\w*/.exec(first)?.[0];
  const anchor = head ? `${escape(head)}\\b` : /^\d/.test(first) ? '\\d' : escape(first[0]!);
  const gap = before.length < p.start;
  // The anchor is all there is before the key (`[loss 0.5]`, `3  loss 0.5`): nothing between them.
  if (new RegExp(`^${anchor}`).exec(first)![0] === first) return `^${indent}${anchor}${gap ? '\\s+' : ''}${key}${tail}`;
  const c = before[before.length - 1]!;
  // After a word, only a tab or two spaces end it (one space would make the key longer: `val loss`).
  const delim = /\d/.test(c) ? '\\d\\s+' : /\w/.test(c) ? '(?:\\t|\\s{2})\\s*' : `${escape(c)}${gap ? '\\s*' : ''}`;
  return `^${indent}${anchor}.*?${delim}${key}${tail}`;
}

interface Seen {
  name: string;
  pattern: string;
  split: MetricSplit | undefined;
  /** Where it was first seen on its line: the earlier of two metrics on one line ranks first. */
  column: number;
}

/** Splits like the engine's multiline regexes: `^` also starts after a carriage return (progress bars). */
function lines(log: string): string[] {
  return log.split(/\r\n|[\r\n\u2028\u2029]/);
}

const MAX_PATTERNS = 200;

/** A line that reports a value only because it improved: `is the best so far`, `new best`, `saving model`. */
const BEST_SO_FAR = /\bbest\b|\bso far\b|\bsav(?:e|ing)\b.*\b(?:model|checkpoint)|\bimproved\b/i;

/** The candidate metrics in a run's log, best first; empty when nothing printed looks like one. */
export function probeMetrics(log: string): MetricCandidate[] {
  const all = lines(log);
  const seen = new Map<string, Seen>();
  for (const full of all) {
    if (full.length > 2000 || !/\d/.test(full) || TRACEBACK.test(full) || ERROR_LINE.test(full) || COMMENT_LINE.test(full)) continue;
    // A config file echoed into the log (nanoGPT prints config/train_shakespeare_char.py): its comments are prose.
    const line = ASSIGNMENT.test(full) ? full.replace(/\s+#\s.*$/, '') : full;
    const pairs = pairsOf(line);
    for (const p of pairs) {
      if (ignored(p)) continue;
      // What is left of the line before the key once the other measurements are taken out: "Test set: ".
      let context = line.slice(0, p.start);
      for (const q of pairs) if (q.start < p.start && !ignored(q)) context = context.replace(q.key, ' ');
      p.name = nameOf(p, context);
      // The config's metric.name starts with a letter.
      if (!/^[a-z]/.test(p.name)) continue;
      const pattern = patternOf(line, p);
      if (!seen.has(pattern) && seen.size < MAX_PATTERNS) seen.set(pattern, { name: p.name, pattern, split: splitOf(nameWords(p.name)), column: p.start });
    }
  }
  const nonEmpty = all.filter((l) => l.trim()).length || 1;
  const found: (MetricCandidate & { column: number; position: number })[] = [];
  for (const s of seen.values()) {
    const m = lastMatch(log, s.pattern);
    if (!m) continue;
    const upTo = lines(log.slice(0, m.at));
    found.push({
      name: s.name, pattern: s.pattern, direction: metricDirection(s.name), split: s.split,
      matches: m.count, value: parseNumber(m.value), valueText: m.value, line: lineAt(log, m.at), lineNumber: upTo.length,
      column: s.column, position: upTo.filter((l) => l.trim()).length / nonEmpty,
    });
  }
  const splitRank = (s: MetricSplit | undefined) => (s === 'eval' ? 0 : s === undefined ? 1 : 2);
  // makemore's `test loss 2.24 is the best so far, saving model to out/model.pt` comes only when the value improved:
  // it is the best so far, not the run's end, and another line with the same name printed each time is the one to read.
  const bestSoFar = new Set(found.filter((c) => BEST_SO_FAR.test(c.line) && found.some((o) => o !== c && o.name === c.name && o.matches >= c.matches && !BEST_SO_FAR.test(o.line))));
  // A metric printed again and again, or late, is what the run reports; one printed once early (a setting) is not.
  const current = (c: { matches: number; position: number }) => c.matches >= 2 || c.position >= 0.5;
  found.sort((a, b) => Number(b.direction !== undefined) - Number(a.direction !== undefined)
    || Number(Number.isFinite(b.value)) - Number(Number.isFinite(a.value))
    || Number(current(b)) - Number(current(a))
    || splitRank(a.split) - splitRank(b.split)
    || Number(bestSoFar.has(a)) - Number(bestSoFar.has(b))
    || b.lineNumber - a.lineNumber
    || b.matches - a.matches
    || a.column - b.column);
  return found.map(({ column: _c, position: _p, ...c }) => c);
}

/** The judge's reading (the last match, flags `gm`), with the count and where it is. */
function lastMatch(log: string, pattern: string): { value: string; count: number; at: number } | null {
  const re = new RegExp(pattern, 'gm');
  let last: { value: string; at: number } | null = null;
  let count = 0;
  for (let m = re.exec(log); m; m = re.exec(log)) {
    if (m[1] !== undefined) {
      count++;
      // The end of the match is on the value's line, whatever `\s*` crossed before it.
      last = { value: m[1], at: m.index + m[0].length - 1 };
    }
    if (m[0] === '') re.lastIndex++;
  }
  return last && { ...last, count };
}

function lineAt(log: string, at: number): string {
  const isBreak = (ch: string | undefined) => ch === '\n' || ch === '\r' || ch === '\u2028' || ch === '\u2029';
  let s = at;
  while (s > 0 && !isBreak(log[s - 1])) s--;
  let e = at;
  while (e < log.length && !isBreak(log[e])) e++;
  return log.slice(s, e);
}

/** The number of capture groups of a pattern (1 for every pattern the probe proposes). */
export function captureGroups(pattern: string): number {
  return new RegExp(`${pattern}|`).exec('')!.length - 1;
}

/**
 * A config written by `configTemplate` with the probed pattern set (the template leaves it commented out),
 * and comment lines placed above the metric.
 */
export function withMetricPattern(configText: string, pattern: string | null, comments: string[] = []): string {
  let text = configText;
  if (pattern !== null) {
    const line = `  pattern: '${pattern.replace(/'/g, "''")}'`;
    text = /^ {2}# pattern: .*$/m.test(text) ? text.replace(/^ {2}# pattern: .*$/m, () => line) : text.replace(/^metric:\n/m, () => `metric:\n${line}\n`);
  }
  if (comments.length) text = text.replace(/^metric:$/m, () => `${comments.map(commentLine).join('\n')}\nmetric:`);
  return text;
}

/**
 * What to say when the chosen metric is measured on the training data (a `train` metric, or a bare `loss`) and the run
 * printed nothing measured on held-out data: a change that only fits the training set better (a larger model, less
 * dropout, less weight decay) wins on it. Null when the metric is held-out or of no split, or the run printed a
 * held-out one too (then the choice is the person's).
 */
export function trainingOnlyWarning(chosen: MetricCandidate, candidates: readonly MetricCandidate[]): string | null {
  const training = chosen.split === 'train' || (chosen.split === undefined && chosen.name === 'loss');
  if (!training || candidates.some((c) => c.split === 'eval')) return null;
  return `${chosen.name} looks measured on the training data, and the run printed no validation or test metric: a change that only fits the training set better (a larger model, less dropout or weight decay) is kept as a win. Have the script print a metric on held-out data (val_loss: <value>) and judge on that, if it can.`;
}

/**
 * The candidate that gives the chosen metric's learning curve: the same name printed again and again on the way (the
 * step lines `epoch 3 | step 120 | val_loss 1.301`), when the chosen pattern reads only the final line (`val_loss: 1.29`),
 * whose one match is no curve: early stopping and the curves in `show` and the summary need one. Null when the chosen
 * pattern already matches as often.
 */
export function progressCandidate(candidates: readonly MetricCandidate[], chosen: MetricCandidate): MetricCandidate | null {
  return candidates.find((c) => c !== chosen && c.name === chosen.name && c.matches >= 2 && c.matches > chosen.matches && captureGroups(c.pattern) === 1) ?? null;
}

/** A config with `progress:` set, in place of the template's commented-out example, else at the end; comments above it. */
export function withProgressPattern(configText: string, pattern: string, comments: string[] = []): string {
  const line = `${comments.map(commentLine).join('\n')}${comments.length ? '\n' : ''}progress: '${pattern.replace(/'/g, "''")}'`;
  if (/^# progress: .*$/m.test(configText)) return configText.replace(/^# progress: .*$/m, () => line);
  const eol = configText.includes('\r\n') ? '\r\n' : '\n';
  return `${configText}${configText.endsWith('\n') || configText === '' ? '' : eol}${line.replace(/\n/g, eol)}${eol}`;
}

/**
 * A config with `atBudget: last`: in place of an `atBudget:` line or the template's commented-out example, else after
 * `budget:`, else at the end.
 */
export function withAtBudgetLast(configText: string): string {
  const line = 'atBudget: last';
  if (/^atBudget\s*:.*$/m.test(configText)) return configText.replace(/^atBudget\s*:.*$/m, () => line);
  if (/^# atBudget: .*$/m.test(configText)) return configText.replace(/^# atBudget: .*$/m, () => line);
  const eol = configText.includes('\r\n') ? '\r\n' : '\n';
  if (/^budget\s*:.*$/m.test(configText)) return configText.replace(/^(budget\s*:.*)$/m, (b) => `${b}${eol}${line}`);
  return `${configText}${configText.endsWith('\n') || configText === '' ? '' : eol}${line}${eol}`;
}

/** A comment holds printable text only: a log line's colour codes and tabs are dropped. */
function commentLine(c: string): string {
  return `# ${c.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[\x00-\x1f\x7f]/g, ' ')}`;
}

/** The first words of the comments `withMetricPattern` writes above `metric:`, so that a new probe replaces them. */
const PROBE_NOTES = /^# (?:Found by `autoresearch init --probe`|FIX ME: init ran|FIX ME: `|Note: `)/;

/**
 * An existing config with the probed metric set (name, direction, pattern) and the probe's comments above `metric:`
 * in place of an earlier probe's; every other line stays as the user wrote it. Null when `metric` is neither a block
 * nor a one-line flow mapping.
 */
export function withProbedMetric(configText: string, metric: { name: string; direction: Direction; pattern: string }, comments: string[] = []): string | null {
  const eol = configText.includes('\r\n') ? '\r\n' : '\n';
  const lines = configText.split(/\r?\n/);
  const at = lines.findIndex((l) => /^metric\s*:/.test(l));
  if (at < 0) return null;
  const values: Record<'name' | 'direction' | 'pattern', string> = {
    name: metric.name, direction: metric.direction, pattern: `'${metric.pattern.replace(/'/g, "''")}'`,
  };
  if (/^metric\s*:\s*\{[^#]*\}\s*(?:#.*)?$/.test(lines[at]!)) {
    lines[at] = `metric: {name: ${values.name}, direction: ${values.direction}, pattern: ${values.pattern}}`;
  } else if (/^metric\s*:\s*(?:#.*)?$/.test(lines[at]!)) {
    let end = at + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || /^\s/.test(lines[end]!))) end++;
    const block = lines.slice(at + 1, end);
    const indent = /^(\s+)[A-Za-z_]/.exec(block.find((l) => /^\s+[A-Za-z_]\w*\s*:/.test(l)) ?? '')?.[1] ?? '  ';
    let last = -1;
    for (const key of ['name', 'direction', 'pattern'] as const) {
      const line = `${indent}${key}: ${values[key]}`;
      let i = block.findIndex((l) => new RegExp(`^\\s+${key}\\s*:`).test(l));
      // The template's commented-out default pattern is where the probed one goes.
      if (i < 0 && key === 'pattern') i = block.findIndex((l) => /^\s+# pattern:/.test(l));
      if (i >= 0) block[i] = line;
      else block.splice((i = last + 1), 0, line);
      last = Math.max(last, i);
    }
    lines.splice(at + 1, end - at - 1, ...block);
  } else return null;
  let first = at;
  for (let i = at - 1; i >= 0 && lines[i]!.startsWith('#'); i--) if (PROBE_NOTES.test(lines[i]!)) first = i;
  lines.splice(first, at - first, ...comments.map(commentLine));
  return lines.join(eol);
}

export interface ProbeRun {
  result: RunResult;
  log: string;
  logPath: string;
  candidates: MetricCandidate[];
}

/** Where the probe keeps the output of its run: in the state folder, out of the user's `git status`. */
export function probeLogPath(cwd: string): string {
  return join(cwd, STATE_DIR, 'init-probe.log');
}

/**
 * Runs the command once in `cwd` as an experiment runs (its own process group, the budget in its
 * environment, the whole tree ended at the budget or on abort), then finds the metric in its output.
 */
export async function probeRun(o: { cwd: string; command: string; budgetSeconds: number; tag: string; signal?: AbortSignal; graceSeconds?: number }): Promise<ProbeRun> {
  const logPath = probeLogPath(o.cwd);
  const dir = join(o.cwd, STATE_DIR);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, '.gitignore'))) writeFileSync(join(dir, '.gitignore'), '*\n');
  const executor = new LocalExecutor();
  try {
    const result = await executor.start({
      nodeId: 0, tag: o.tag, cwd: o.cwd, command: o.command, budgetSeconds: o.budgetSeconds,
      graceSeconds: o.graceSeconds ?? 5, slot: 0, logPath, signal: o.signal,
    }).result;
    const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
    return { result, log, logPath, candidates: probeMetrics(log) };
  } finally {
    executor.dispose();
  }
}

/** The last lines a person needs to see of a log, without the engine's own notes. */
export function logTail(log: string, lines = 10): string[] {
  return log.split(/\r\n|[\r\n]/).filter((l) => l.trim() && !l.startsWith('[autoresearch]')).slice(-lines);
}
