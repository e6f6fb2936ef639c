// autoresearch.config.yaml: the protocol of one study. Every bad value is refused with its key path,
// the value and what was expected, all at once, before anything runs or is written.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import { AutoResearchError } from './errors.js';
import { oneLookZ } from './random.js';
import { COST_EXPECTED, parseCost, parseTokens, TOKENS_EXPECTED } from './spend.js';
import type { Constraint, ExecutorConfig, ProposerConfig, ResearchConfig, SandboxConfig, SecondaryMetricSpec, SlurmExecutorConfig } from './types.js';

export const CONFIG_FILE = 'autoresearch.config.yaml';

/** One refused value: where it is (`metric.direction`, `editable[0]`, `(file)`), what it was, what was expected. */
export interface ConfigIssue {
  path: string;
  value: unknown;
  expected: string;
}

/** A config that cannot be used; `issues` lists every bad key at once, and the message has one line per issue. */
export class ConfigError extends AutoResearchError {
  constructor(readonly issues: ConfigIssue[]) {
    super('config', issues.length ? issues.map(formatIssue).join('\n') : 'the research config is not valid');
    this.name = 'ConfigError';
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return String(value);
  }
}

/** `metric.direction: got "lower", expected one of minimize, maximize` */
export function formatIssue(i: ConfigIssue): string {
  return `${i.path}: got ${show(i.value)}, expected ${i.expected}`;
}

const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|h|m|s)\s*/y;

/** Seconds from `90s`, `5m`, `1h`, `1h30m`, `2.5m`, `500ms` or a bare number of seconds (`300`, 300); null when invalid or not > 0. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? text : null;
  if (typeof text !== 'string') return null;
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) > 0 ? Number(t) : null;
  const re = new RegExp(DURATION_PART);
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const v = Number(m[1]);
    total += m[2] === 'h' ? v * 3600 : m[2] === 'm' ? v * 60 : m[2] === 'ms' ? v / 1000 : v;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length || !Number.isFinite(total) || total <= 0) return null;
  return total;
}

export const PROPOSER_KINDS = ['mutate', 'patches', 'openai-compatible', 'anthropic', 'agent-cli', 'vscode-lm'] as const;
export const EXECUTOR_KINDS = ['local', 'manual', 'slurm'] as const;
export const POLICY_KINDS = ['tree', 'greedy'] as const;
const DIRECTIONS = ['minimize', 'maximize'] as const;
const TOP_KEYS = ['tag', 'editable', 'readonly', 'shared', 'sandbox', 'run', 'budget', 'atBudget', 'metric', 'memory', 'metrics', 'constraints', 'maxExperiments', 'proposer', 'policy', 'executor', 'parallel', 'minDelta', 'seed', 'notes', 'graceSeconds', 'search', 'gpus', 'slotsPerGpu', 'gpuMemoryGb', 'pipeline', 'noise', 'progress', 'prune', 'checks', 'maxCost', 'maxTokens'];
/** Keys of the proposers and executors the engine builds itself; model-backed proposers check their own keys. */
const FIXED_KEYS: Record<string, string[]> = { mutate: ['kind'], patches: ['kind', 'dir'], local: ['kind'], manual: ['kind'] };

export const DEFAULT_MAX_EXPERIMENTS = 20;
export const DEFAULT_SEARCH: ResearchConfig['search'] = { drafts: 1, debugDepth: 2, patience: 10 };
export const DEFAULT_PIPELINE = 1;
export const DEFAULT_NOISE_Z = 2;
/** Early stopping's defaults (curves.ts): not before a quarter of the budget, 1.5 × the largest late-winner gap, 5 %. */
export const DEFAULT_PRUNE = { minFraction: 0.25, safety: 1.5, floor: 0.05 };
export const DEFAULT_MEMORY = { pattern: '^peak_(?:vram|memory)_mb:\\s*(\\S+)', unit: 'mb' as const };
export const DEFAULT_SANDBOX: SandboxConfig = { mode: 'auto', network: true, writable: [] };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `^<name>:\s*(\S+)`, the name escaped: the line `val_loss: 0.35`. */
export function defaultPattern(name: string): string {
  return `^${escapeRegExp(name)}:\\s*(\\S+)`;
}

/** What the CLI's flags (or a host) may change after the file is read; checked like the file's own values. */
export type ConfigOverrides = Partial<{ maxExperiments: number | null; proposer: string; policy: string }>;

const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_.\/-]*$/;
const CONSTRAINT = /^\s*([A-Za-z_][A-Za-z0-9_.\/-]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*$/i;

class Checker {
  readonly issues: ConfigIssue[] = [];
  fail(path: string, value: unknown, expected: string): undefined {
    this.issues.push({ path, value, expected });
    return undefined;
  }

  isMap(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  }

  unknownKeys(obj: Record<string, unknown>, known: readonly string[], prefix: string): void {
    for (const k of Object.keys(obj)) if (!known.includes(k)) this.fail(prefix ? `${prefix}.${k}` : k, obj[k], `no such key; known keys are ${known.join(', ')}`);
  }

  string(path: string, v: unknown, required = true): string | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, v, 'a non-empty string') : undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.fail(path, v, 'a non-empty string');
    return v;
  }

  relPath(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s === undefined) return undefined;
    if (isAbsolute(s) || /^([\\/]|[A-Za-z]:)/.test(s) || s.split(/[\\/]/).includes('..')) return this.fail(path, v, 'a path relative to the workspace root, without ".."');
    return s;
  }

  globs(path: string, v: unknown, required: boolean): string[] | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, v, 'a glob or a non-empty list of globs (e.g. [train.py])') : [];
    const list = typeof v === 'string' ? [v] : v;
    if (Array.isArray(list) && list.length === 0 && !required) return [];
    if (!Array.isArray(list) || list.length === 0) return this.fail(path, v, `a glob or a ${required ? 'non-empty ' : ''}list of globs (e.g. [train.py])`);
    const out: string[] = [];
    list.forEach((g: unknown, i) => {
      const s = this.relPath(Array.isArray(v) ? `${path}[${i}]` : path, g);
      if (s !== undefined) out.push(s);
    });
    return out.length === list.length ? out : undefined;
  }

  /** A JavaScript regex (flag m) with at least one capture group; the last one is the value. */
  regexAnyGroups(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s === undefined) return undefined;
    try {
      if (new RegExp(`${s}|`, 'm').exec('')!.length < 2) return this.fail(path, v, 'a regular expression with a capture group for the value (the last group), like step (\\d+).*val loss ([\\d.]+)');
    } catch (e) {
      return this.fail(path, v, `a valid regular expression (${(e as Error).message})`);
    }
    return s;
  }

  /** A JavaScript regex (flag m) with exactly one capture group. */
  regex(path: string, v: unknown): string | undefined {
    const s = this.string(path, v);
    if (s === undefined) return undefined;
    let groups: number;
    try {
      groups = new RegExp(`${s}|`, 'm').exec('')!.length - 1;
    } catch (e) {
      return this.fail(path, v, `a valid regular expression (${(e as Error).message})`);
    }
    if (groups !== 1) return this.fail(path, v, `a regular expression with exactly one capture group (it has ${groups}); use (?:...) for other groups`);
    return s;
  }

  int(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.fail(path, v, `an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}`);
    return v;
  }

  number(path: string, v: unknown, min: number, exclusive = false): number | undefined {
    if (typeof v !== 'number' || !Number.isFinite(v) || (exclusive ? v <= min : v < min)) return this.fail(path, v, `a number ${exclusive ? '>' : '>='} ${min}`);
    return v;
  }

  oneOf<T extends string>(path: string, v: unknown, options: readonly T[]): T | undefined {
    if (typeof v !== 'string' || !options.includes(v as T)) return this.fail(path, v, `one of ${options.join(', ')}`);
    return v as T;
  }
}

const SLURM_KEYS = ['kind', 'partition', 'gres', 'cpusPerTask', 'mem', 'time', 'account', 'extraArgs', 'pollSeconds'];
/** sbatch options the engine sets itself, and the config key to use instead. */
const ENGINE_SBATCH: [RegExp, string][] = [
  [/^(--output|-o|--error|-e|--open-mode)(=|$)/, 'the log goes to the node\'s log file'],
  [/^(--chdir|-D)(=|$)/, 'the job runs in the node\'s worktree'],
  [/^(--time|-t)(=|$)/, 'the time limit comes from the budget; use executor.time'],
  [/^(--job-name|-J)(=|$)/, 'the engine names the job after the session and node'],
  [/^(--wait|-W|--parsable|--wrap|--array|-a|--test-only)(=|$)/, 'the engine submits and watches one job per experiment'],
  [/^(--partition|-p)(=|$)/, 'use executor.partition'],
  [/^(--account|-A)(=|$)/, 'use executor.account'],
  [/^(--gres)(=|$)/, 'use executor.gres'],
  [/^(--cpus-per-task|-c)(=|$)/, 'use executor.cpusPerTask'],
  [/^(--mem)(=|$)/, 'use executor.mem'],
];

/** Minutes from a Slurm time (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH[:MM[:SS]]`) or a duration (`90m`, `2h`), rounded up; null when invalid. */
export function parseSlurmMinutes(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.ceil(v) : null;
  if (typeof v !== 'string') return null;
  const t = v.trim();
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (m) {
    const [days, a, b, c] = [m[1], m[2], m[3], m[4]].map((x) => (x === undefined ? undefined : Number(x)));
    let secs: number;
    if (days !== undefined) secs = days * 86400 + a! * 3600 + (b ?? 0) * 60 + (c ?? 0);
    else if (c !== undefined) secs = a! * 3600 + b! * 60 + c;
    else secs = a! * 60 + (b ?? 0);
    return secs > 0 ? Math.ceil(secs / 60) : null;
  }
  const d = parseDuration(t);
  return d === null ? null : Math.ceil(d / 60);
}

function slurmExecutor(c: Checker, e: Record<string, unknown>): SlurmExecutorConfig | undefined {
  c.unknownKeys(e, SLURM_KEYS, 'executor');
  const before = c.issues.length;
  const name = (key: string, what: string) => {
    const v = e[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^[\w.,:+-]+$/.test(v)) return c.fail(`executor.${key}`, v, what);
    return v;
  };
  const partition = name('partition', 'a partition name, or several separated by commas (e.g. gpu)');
  const account = name('account', 'an account name (e.g. my-lab)');
  const gres = name('gres', 'a generic resource like gpu:1 or gpu:a100:2');
  const cpusPerTask = e.cpusPerTask === undefined ? undefined : c.int('executor.cpusPerTask', e.cpusPerTask, 1, 4096);
  let mem: string | undefined;
  if (e.mem !== undefined) {
    const s = typeof e.mem === 'number' ? String(e.mem) : e.mem;
    if (typeof s !== 'string' || !/^\d+[KMGT]?$/i.test(s.trim()) || /^0+[KMGT]?$/i.test(s.trim())) c.fail('executor.mem', e.mem, 'memory per node as Slurm writes it: megabytes, or a number with K, M, G or T (e.g. 16G)');
    else mem = s.trim().toUpperCase();
  }
  let time: string | undefined;
  let timeMinutes: number | undefined;
  if (e.time !== undefined) {
    const minutes = parseSlurmMinutes(e.time);
    if (minutes === null) c.fail('executor.time', e.time, 'a time limit like 30m, 2h, 90 (minutes), 1:30:00 or 1-00:00:00');
    else {
      time = String(e.time);
      timeMinutes = minutes;
    }
  }
  const extraArgs: string[] = [];
  if (e.extraArgs !== undefined) {
    const list = typeof e.extraArgs === 'string' ? [e.extraArgs] : e.extraArgs;
    if (!Array.isArray(list)) c.fail('executor.extraArgs', e.extraArgs, 'a list of sbatch options, one per item (e.g. ["--qos=high", "--constraint=a100"])');
    else list.forEach((a: unknown, i) => {
      const p = Array.isArray(e.extraArgs) ? `executor.extraArgs[${i}]` : 'executor.extraArgs';
      if (typeof a !== 'string' || !a.startsWith('-') || /[\r\n]/.test(a)) return c.fail(p, a, 'an sbatch option starting with - (e.g. --qos=high)');
      const owned = ENGINE_SBATCH.find(([re]) => re.test(a));
      if (owned) return c.fail(p, a, `an sbatch option the engine does not set itself (${owned[1]})`);
      extraArgs.push(a);
      return undefined;
    });
  }
  const pollSeconds = e.pollSeconds === undefined ? undefined : c.number('executor.pollSeconds', e.pollSeconds, 0.1);
  if (c.issues.length > before) return undefined;
  const out: SlurmExecutorConfig = { kind: 'slurm', extraArgs };
  if (partition) out.partition = partition;
  if (account) out.account = account;
  if (gres) out.gres = gres;
  if (cpusPerTask !== undefined) out.cpusPerTask = cpusPerTask;
  if (mem) out.mem = mem;
  if (time !== undefined) {
    out.time = time;
    out.timeMinutes = timeMinutes;
  }
  if (pollSeconds !== undefined) out.pollSeconds = pollSeconds;
  return out;
}

/** Applies the command line's overrides to the file's values, before they are checked. */
function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): Record<string, unknown> {
  const r = { ...raw };
  if (o.maxExperiments !== undefined) r.maxExperiments = o.maxExperiments === null ? 'unlimited' : o.maxExperiments;
  if (o.proposer !== undefined) {
    // `--proposer patches` keeps the file's `{kind: patches, dir}`; another kind replaces the mapping.
    const current = r.proposer;
    const sameKind = typeof current === 'object' && current !== null && !Array.isArray(current) && (current as Record<string, unknown>).kind === o.proposer;
    if (!sameKind) r.proposer = o.proposer;
  }
  if (o.policy !== undefined) r.policy = o.policy;
  return r;
}

function readYaml(yamlText: string): unknown {
  const doc = parseDocument(yamlText, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => ({
      path: '(file)',
      value: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'YAML',
      expected: `valid YAML (${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')})`,
    })));
  }
  try {
    return doc.toJS();
  } catch (e) {
    throw new ConfigError([{ path: '(file)', value: 'YAML', expected: `valid YAML (${(e as Error).message})` }]);
  }
}

const SANDBOX_KEYS = ['mode', 'network', 'writable'];
const SANDBOX_MODES = ['auto', 'on', 'off'] as const;
const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** Whether `entry` is a host `sandbox.network` can hold: `example.com`, `*.example.com` (its subdomains), or an IP address. */
export function validHostEntry(entry: string): boolean {
  return HOST.test(entry) || /^\d{1,3}(\.\d{1,3}){3}$/.test(entry);
}

/** `sandbox: off | on | auto` (YAML's booleans too), or `{mode, network, writable}`. */
function sandboxConfig(c: Checker, v: unknown): SandboxConfig | undefined {
  if (v === undefined || v === null) return DEFAULT_SANDBOX;
  if (v === true || v === false) return { ...DEFAULT_SANDBOX, mode: v ? 'on' : 'off' };
  if (typeof v === 'string') {
    const mode = c.oneOf('sandbox', v, SANDBOX_MODES);
    return mode && { ...DEFAULT_SANDBOX, mode };
  }
  if (!c.isMap(v)) return c.fail('sandbox', v, 'auto, on, off, or a mapping {mode, network, writable}');
  c.unknownKeys(v, SANDBOX_KEYS, 'sandbox');
  const mode = v.mode === undefined ? 'auto' : c.oneOf('sandbox.mode', v.mode, SANDBOX_MODES);
  const network = v.network === undefined ? true : typeof v.network === 'boolean' ? v.network
    : Array.isArray(v.network) && v.network.length && v.network.every((h) => typeof h === 'string' && validHostEntry(h)) ? v.network as string[]
      : c.fail('sandbox.network', v.network, 'true, false, or a list of hosts the runs may reach, like [huggingface.co, \'*.hf.co\']');
  let writable: string[] | undefined = [];
  if (v.writable !== undefined) {
    const list = typeof v.writable === 'string' ? [v.writable] : v.writable;
    if (!Array.isArray(list) || list.some((w) => typeof w !== 'string' || !w.trim())) writable = c.fail('sandbox.writable', v.writable, 'a list of paths, like [~/.cache/torch, /scratch]');
    else writable = list as string[];
  }
  if (mode === undefined || network === undefined || writable === undefined) return undefined;
  return { mode, network, writable };
}

/** The share a minDelta written as a percentage stands for (`0.5%` → 0.005), or null when it is not one. */
export function minDeltaShareOf(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(text);
  return m ? Number(m[1]) / 100 : null;
}

/** What `noise.alpha` may be. */
export const ALPHA = { min: 0.01, max: 0.25 };

/**
 * `noise.alpha`: a share (0.05 or 5%) from 1 % to 25 % (below that the Monte Carlo that turns it into z would take
 * seconds; give z), and not beside z, which it replaces.
 */
function noiseAlpha(c: Checker, v: unknown, z: unknown): number | undefined {
  const share = typeof v === 'string' ? minDeltaShareOf(v) : typeof v === 'number' ? v : null;
  if (share === null || !Number.isFinite(share) || share < ALPHA.min || share > ALPHA.max) {
    return c.fail('noise.alpha', v, 'a share from 0.01 to 0.25, or 1% to 25% (0.05: a change that does nothing is kept 5 % of the time, every run again counted)');
  }
  if (z !== undefined) return c.fail('noise.z', z, 'z or alpha, not both: alpha chooses z (remove one)');
  return share;
}

/** Reads and checks a research config; throws a ConfigError listing every bad key. */
export function parseConfig(yamlText: string, overrides: ConfigOverrides = {}): ResearchConfig {
  const raw = readYaml(yamlText);
  const c = new Checker();
  if (!c.isMap(raw)) throw new ConfigError([{ path: '(file)', value: raw ?? null, expected: 'a mapping of keys (tag, editable, run, budget, metric, ...)' }]);
  const r = applyOverrides(raw, overrides);
  c.unknownKeys(r, TOP_KEYS, '');

  // `tag: 1125` is a number to YAML but a fine tag.
  let tag = c.string('tag', typeof r.tag === 'number' && Number.isInteger(r.tag) && r.tag >= 0 ? String(r.tag) : r.tag);
  if (tag !== undefined && (!TAG.test(tag) || tag.includes('..') || tag.endsWith('.lock') || tag.endsWith('.'))) {
    tag = c.fail('tag', r.tag, 'a short name usable in a git branch: up to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, without ".." and not ending in "." or ".lock" (e.g. mar5)');
  }
  const editable = c.globs('editable', r.editable, true);
  const readonlyGlobs = c.globs('readonly', r.readonly, false);
  if (editable && readonlyGlobs && Array.isArray(r.readonly)) {
    readonlyGlobs.forEach((g, i) => { if (editable.includes(g)) c.fail(`readonly[${i}]`, g, 'a path that is not also editable'); });
  } else if (editable && readonlyGlobs?.length === 1 && editable.includes(readonlyGlobs[0]!)) {
    c.fail('readonly', readonlyGlobs[0], 'a path that is not also editable');
  }
  // Absent: the automatic choice (git-ignored inputs, outputs left out); false or []: nothing; else globs.
  const shared = r.shared === undefined || r.shared === null || r.shared === true ? null : r.shared === false ? [] : c.globs('shared', r.shared, false);
  const sandbox = sandboxConfig(c, r.sandbox);
  const run = c.string('run', r.run);

  let budgetSeconds: number | undefined;
  let budgetText = '';
  const budget = typeof r.budget === 'string' || typeof r.budget === 'number' ? parseDuration(r.budget) : null;
  if (budget === null) c.fail('budget', r.budget, 'a duration like 90s, 5m, 1h or 1h30m (a bare number is seconds)');
  else {
    budgetSeconds = budget;
    budgetText = typeof r.budget === 'number' ? `${r.budget}s` : (r.budget as string).trim();
  }
  const atBudget = r.atBudget === undefined || r.atBudget === null ? 'crash' : c.oneOf('atBudget', r.atBudget, ['crash', 'last'] as const);

  let metric: ResearchConfig['metric'] | undefined;
  if (!c.isMap(r.metric)) c.fail('metric', r.metric, 'a mapping {name, direction: minimize|maximize, pattern} (e.g. {name: val_loss})');
  else {
    c.unknownKeys(r.metric, ['name', 'direction', 'pattern'], 'metric');
    let name = c.string('metric.name', r.metric.name);
    if (name !== undefined && !NAME.test(name)) name = c.fail('metric.name', name, 'a name of letters, digits and _ . / -, not starting with a digit (e.g. val_loss)');
    const direction = r.metric.direction === undefined ? 'minimize' : c.oneOf('metric.direction', r.metric.direction, DIRECTIONS);
    const pattern = r.metric.pattern === undefined ? (name ? defaultPattern(name) : undefined) : c.regex('metric.pattern', r.metric.pattern);
    if (name && direction && pattern) metric = { name, direction, pattern };
  }
  // The name as written, so that a bad pattern does not also make every constraint on the metric look unknown.
  const metricName = metric?.name ?? (c.isMap(r.metric) && typeof r.metric.name === 'string' ? r.metric.name : undefined);

  let memory: ResearchConfig['memory'] | undefined = { ...DEFAULT_MEMORY };
  if (r.memory !== undefined) {
    if (!c.isMap(r.memory)) memory = c.fail('memory', r.memory, 'a mapping {pattern, unit: mb|gb}');
    else {
      c.unknownKeys(r.memory, ['pattern', 'unit'], 'memory');
      const pattern = r.memory.pattern === undefined ? DEFAULT_MEMORY.pattern : c.regex('memory.pattern', r.memory.pattern);
      const unit = r.memory.unit === undefined ? 'mb' : c.oneOf('memory.unit', r.memory.unit, ['mb', 'gb'] as const);
      memory = pattern && unit ? { pattern, unit } : undefined;
    }
  }

  const metrics: SecondaryMetricSpec[] = [];
  const secondaryNames: string[] = [];
  if (r.metrics !== undefined && r.metrics !== null) {
    if (!Array.isArray(r.metrics)) c.fail('metrics', r.metrics, 'a list of {name, pattern} (e.g. [{name: tokens_per_s}])');
    else r.metrics.forEach((m: unknown, i) => {
      const p = `metrics[${i}]`;
      if (!c.isMap(m)) return c.fail(p, m, 'a mapping {name, pattern}');
      c.unknownKeys(m, ['name', 'pattern'], p);
      let name = c.string(`${p}.name`, m.name);
      if (name !== undefined && !NAME.test(name)) name = c.fail(`${p}.name`, name, 'a name of letters, digits and _ . / -, not starting with a digit (e.g. tokens_per_s)');
      else if (name !== undefined && (name === metricName || name === 'memory_gb' || secondaryNames.includes(name))) {
        name = c.fail(`${p}.name`, name, `a unique name, different from the primary metric (${metricName ?? 'metric.name'}), memory_gb and the other secondary metrics`);
      }
      if (name !== undefined) secondaryNames.push(name);
      const pattern = m.pattern === undefined ? (name ? defaultPattern(name) : undefined) : c.regex(`${p}.pattern`, m.pattern);
      if (name && pattern) metrics.push({ name, pattern });
      return undefined;
    });
  }

  const constraints: Constraint[] = [];
  if (r.constraints !== undefined && r.constraints !== null) {
    if (!Array.isArray(r.constraints)) c.fail('constraints', r.constraints, 'a list of comparisons like ["memory_gb <= 40"]');
    else r.constraints.forEach((s: unknown, i) => {
      const p = `constraints[${i}]`;
      const m = typeof s === 'string' ? CONSTRAINT.exec(s) : null;
      if (!m) return c.fail(p, s, 'a comparison like "memory_gb <= 40": a metric, one of < <= > >=, and a number');
      const known = ['memory_gb', ...(metricName ? [metricName] : []), ...secondaryNames];
      if (!known.includes(m[1]!)) return c.fail(p, s, `a comparison on one of ${known.join(', ')} (add a secondary metric under metrics to constrain another)`);
      constraints.push({ metric: m[1]!, op: m[2] as Constraint['op'], value: Number(m[3]), source: (s as string).trim() });
      return undefined;
    });
  }

  let maxExperiments: number | null | undefined = DEFAULT_MAX_EXPERIMENTS;
  if (r.maxExperiments !== undefined) {
    if (r.maxExperiments === 'unlimited') maxExperiments = null;
    else if (typeof r.maxExperiments !== 'number' || !Number.isSafeInteger(r.maxExperiments) || r.maxExperiments < 1) maxExperiments = c.fail('maxExperiments', r.maxExperiments, 'a positive integer or "unlimited"');
    else maxExperiments = r.maxExperiments;
  }

  let proposer: ProposerConfig | undefined = { kind: 'mutate' };
  if (r.proposer !== undefined) {
    const p = typeof r.proposer === 'string' ? { kind: r.proposer } : r.proposer;
    if (!c.isMap(p)) proposer = c.fail('proposer', r.proposer, `a kind (${PROPOSER_KINDS.join(', ')}) or a mapping {kind, ...}`);
    else {
      const kind = c.oneOf('proposer.kind', p.kind, PROPOSER_KINDS);
      if (kind && FIXED_KEYS[kind]) c.unknownKeys(p, FIXED_KEYS[kind], 'proposer');
      if (kind === 'patches') {
        const dir = c.relPath('proposer.dir', p.dir);
        if (dir === undefined && typeof r.proposer === 'string') c.issues[c.issues.length - 1]!.expected += ': write proposer: {kind: patches, dir: patches/}';
        proposer = dir ? { kind, dir } : undefined;
      } else if (kind === 'mutate') proposer = { kind };
      else if (kind) proposer = { ...p, kind };
      else proposer = undefined;
    }
  }

  const policy = r.policy === undefined ? 'tree' : c.oneOf('policy', r.policy, POLICY_KINDS);

  let executor: ExecutorConfig | undefined = { kind: 'local' };
  if (r.executor !== undefined) {
    const e = typeof r.executor === 'string' ? { kind: r.executor } : r.executor;
    if (!c.isMap(e)) executor = c.fail('executor', r.executor, `a kind (${EXECUTOR_KINDS.join(', ')}) or a mapping {kind, ...}`);
    else {
      const kind = c.oneOf('executor.kind', e.kind, EXECUTOR_KINDS);
      if (kind === 'slurm') executor = slurmExecutor(c, e);
      else if (kind) {
        c.unknownKeys(e, FIXED_KEYS[kind] ?? ['kind'], 'executor');
        executor = { kind };
      } else executor = undefined;
    }
  }

  // `minDelta: 0.5%`: a share of the parent's value, so the margin follows a metric that falls tenfold in a session.
  const minDeltaShare = typeof r.minDelta === 'string' ? minDeltaShareOf(r.minDelta) ?? undefined : undefined;
  const minDelta = r.minDelta === undefined || minDeltaShare !== undefined ? 0
    : typeof r.minDelta === 'string' ? c.fail('minDelta', r.minDelta, 'a number >= 0, or a share of the parent\'s value such as 0.5%')
    : c.number('minDelta', r.minDelta, 0);
  const seed = r.seed === undefined ? 0 : c.int('seed', r.seed, Number.MIN_SAFE_INTEGER);
  const notes = r.notes === undefined || r.notes === null ? null : c.relPath('notes', r.notes) ?? null;
  const graceSeconds = r.graceSeconds === undefined ? 5 : c.number('graceSeconds', r.graceSeconds, 0, true);
  // A command line run like `run`, in the candidate's worktree, before a keep stands.
  const checks = r.checks === undefined || r.checks === null ? null : c.string('checks', r.checks) ?? null;

  let search: ResearchConfig['search'] | undefined = { ...DEFAULT_SEARCH };
  if (r.search !== undefined) {
    if (!c.isMap(r.search)) search = c.fail('search', r.search, 'a mapping {drafts, debugDepth, patience}');
    else {
      c.unknownKeys(r.search, ['drafts', 'debugDepth', 'patience'], 'search');
      const drafts = r.search.drafts === undefined ? DEFAULT_SEARCH.drafts : c.int('search.drafts', r.search.drafts, 0, 100);
      const debugDepth = r.search.debugDepth === undefined ? DEFAULT_SEARCH.debugDepth : c.int('search.debugDepth', r.search.debugDepth, 0, 100);
      const patience = r.search.patience === undefined ? DEFAULT_SEARCH.patience : c.int('search.patience', r.search.patience, 1, 1000);
      search = drafts !== undefined && debugDepth !== undefined && patience !== undefined ? { drafts, debugDepth, patience } : undefined;
    }
  }

  let gpus: string[] | undefined = [];
  if (r.gpus !== undefined && r.gpus !== null) {
    const list = typeof r.gpus === 'number' || typeof r.gpus === 'string' ? [r.gpus] : r.gpus;
    if (!Array.isArray(list) || list.length === 0) gpus = c.fail('gpus', r.gpus, 'a non-empty list of GPU indices or ids, one per slot (e.g. [0, 1])');
    else {
      const out: string[] = [];
      list.forEach((g: unknown, i) => {
        const p = Array.isArray(r.gpus) ? `gpus[${i}]` : 'gpus';
        if (typeof g === 'number' && Number.isInteger(g) && g >= 0) out.push(String(g));
        else if (typeof g === 'string' && /^[A-Za-z0-9][\w:.-]*$/.test(g.trim())) out.push(g.trim());
        else c.fail(p, g, 'a GPU index (an integer >= 0) or a device id like GPU-3f2a or MIG-1c9e');
      });
      gpus = out.length === list.length ? out : undefined;
    }
  }
  // GPU packing: several runs share a GPU only when the user says they fit; the card's memory is checked while they run.
  const slotsPerGpu = r.slotsPerGpu === undefined || r.slotsPerGpu === null ? 1 : c.int('slotsPerGpu', r.slotsPerGpu, 1, 16);
  const gpuMemoryGb = r.gpuMemoryGb === undefined || r.gpuMemoryGb === null ? null : c.number('gpuMemoryGb', r.gpuMemoryGb, 0, true);
  const packed = gpus?.length && slotsPerGpu ? gpus.length * slotsPerGpu : undefined;
  const parallel = r.parallel === undefined ? (slotsPerGpu && slotsPerGpu > 1 && packed ? Math.min(packed, 64) : 1) : c.int('parallel', r.parallel, 1, 64);
  if (slotsPerGpu !== undefined && slotsPerGpu > 1 && gpus && gpus.length === 0 && executor?.kind !== 'slurm') {
    c.fail('slotsPerGpu', r.slotsPerGpu, 'the GPUs to pack listed under gpus as well (e.g. gpus: [0]): slot i runs on gpus[i % len]');
  }
  const twice = gpus?.find((g, i) => gpus.indexOf(g) !== i);
  if (twice !== undefined) c.fail('gpus', r.gpus, `each GPU once (${twice} is listed twice); to run several experiments on one GPU, say how many fit with slotsPerGpu (e.g. slotsPerGpu: 2)`);
  if (parallel !== undefined && packed !== undefined && parallel > packed) {
    c.fail('parallel', r.parallel, `at most ${packed}: gpus lists ${gpus!.length} GPU${gpus!.length === 1 ? '' : 's'} and slotsPerGpu is ${slotsPerGpu}, so ${parallel} would put ${Math.ceil(parallel / gpus!.length)} runs on a GPU; when that many fit, say so with slotsPerGpu: ${Math.ceil(parallel / gpus!.length)}`);
  }
  const pipeline = r.pipeline === undefined ? DEFAULT_PIPELINE : c.int('pipeline', r.pipeline, 0, 16);

  // `progress`: a pattern whose last group is an intermediate value (the metric's own pattern by default).
  const progress = r.progress === undefined || r.progress === null ? null : c.regexAnyGroups('progress', r.progress);
  // Early stopping is on unless the config says off: `npm run bench -- --prune-only` stopped no run that would have been
  // kept (issue 13).
  let prune: ResearchConfig['prune'] | undefined = null;
  if (r.prune === true || r.prune === 'on' || r.prune === undefined) prune = { ...DEFAULT_PRUNE };
  else if (r.prune === false || r.prune === 'off' || r.prune === null) prune = null;
  else if (!c.isMap(r.prune)) prune = c.fail('prune', r.prune, 'on, off, or a mapping {minFraction, safety, floor}');
  else {
    c.unknownKeys(r.prune, ['minFraction', 'safety', 'floor'], 'prune');
    const minFraction = r.prune.minFraction === undefined ? DEFAULT_PRUNE.minFraction : c.number('prune.minFraction', r.prune.minFraction, 0.05);
    const safety = r.prune.safety === undefined ? DEFAULT_PRUNE.safety : c.number('prune.safety', r.prune.safety, 1);
    const floor = r.prune.floor === undefined ? DEFAULT_PRUNE.floor : c.number('prune.floor', r.prune.floor, 0);
    prune = minFraction !== undefined && safety !== undefined && floor !== undefined ? { minFraction: Math.min(minFraction, 0.95), safety, floor } : undefined;
  }
  // Spend caps: none unless set; a bad value is refused like any other.
  const cost = r.maxCost === undefined ? null : parseCost(r.maxCost);
  const maxCost = cost === undefined ? c.fail('maxCost', r.maxCost, COST_EXPECTED) : cost;
  const tokens = r.maxTokens === undefined ? null : parseTokens(r.maxTokens);
  const maxTokens = tokens === undefined ? c.fail('maxTokens', r.maxTokens, TOKENS_EXPECTED) : tokens;
  let noise: ResearchConfig['noise'] | undefined = null;
  if (r.noise !== undefined && r.noise !== null) {
    if (!c.isMap(r.noise)) noise = c.fail('noise', r.noise, 'a mapping {repeats, z or alpha, confirm, maxRuns, effect} (e.g. {repeats: 3})');
    else {
      c.unknownKeys(r.noise, ['repeats', 'z', 'alpha', 'confirm', 'maxRuns', 'effect'], 'noise');
      const repeats = c.int('noise.repeats', r.noise.repeats, 2, 100);
      const alpha = r.noise.alpha === undefined || r.noise.alpha === null ? null : noiseAlpha(c, r.noise.alpha, r.noise.z);
      const z = alpha ? oneLookZ(alpha) : r.noise.z === undefined ? DEFAULT_NOISE_Z : c.number('noise.z', r.noise.z, 0, true);
      const confirm = r.noise.confirm === undefined ? true : typeof r.noise.confirm === 'boolean' ? r.noise.confirm : c.fail('noise.confirm', r.noise.confirm, 'true or false');
      const most = r.noise.maxRuns === undefined ? (repeats === undefined ? undefined : 2 * repeats) : c.int('noise.maxRuns', r.noise.maxRuns, 1, 1000);
      const effect = r.noise.effect === undefined || r.noise.effect === null ? null : c.number('noise.effect', r.noise.effect, 0, true);
      noise = repeats !== undefined && z !== undefined && alpha !== undefined && confirm !== undefined && most !== undefined && effect !== undefined
        ? { repeats, z, confirm, maxRuns: most, ...(alpha === null ? {} : { alpha }), ...(effect === null ? {} : { effect }) } : undefined;
    }
  }

  if (executor?.kind === 'slurm' && gpus?.length) {
    c.fail('gpus', r.gpus, 'no gpus with executor slurm: the scheduler gives each job its GPUs (use executor.gres, e.g. gpu:1)');
  }
  if (executor?.kind === 'slurm' && r.slotsPerGpu !== undefined && r.slotsPerGpu !== null && r.slotsPerGpu !== 1) {
    c.fail('slotsPerGpu', r.slotsPerGpu, 'no slotsPerGpu with executor slurm: the scheduler places each job (ask for a GPU share through executor.gres, e.g. shard:1)');
  }

  if (executor?.kind === 'slurm' && budgetSeconds !== undefined && graceSeconds !== undefined) {
    const minutes = (executor as SlurmExecutorConfig).timeMinutes;
    if (minutes !== undefined && minutes * 60 < budgetSeconds + graceSeconds) {
      c.fail('executor.time', (executor as SlurmExecutorConfig).time, `a time limit of at least the budget (${budgetText}) plus graceSeconds (${graceSeconds}s), rounded up to whole minutes: ${Math.ceil((budgetSeconds + graceSeconds) / 60)} or more minutes`);
    }
  }

  if (c.issues.length) throw new ConfigError(c.issues);
  return {
    tag: tag!, editable: editable!, readonly: readonlyGlobs!, shared: shared ?? null, sandbox: sandbox ?? DEFAULT_SANDBOX, run: run!, budgetSeconds: budgetSeconds!, budgetText, atBudget: atBudget!, metric: metric!, memory: memory!, metrics, constraints,
    maxExperiments: maxExperiments!, proposer: proposer!, policy: policy!, executor: executor!, parallel: parallel!, minDelta: minDelta!, ...(minDeltaShare === undefined ? {} : { minDeltaShare }), seed: seed!, notes,
    graceSeconds: graceSeconds!, search: search!, gpus: gpus!, slotsPerGpu: slotsPerGpu!, gpuMemoryGb, pipeline: pipeline!, noise: noise!, progress: progress ?? null, prune: prune ?? null, checks, maxCost: maxCost ?? null, maxTokens: maxTokens ?? null,
  };
}

/** Reads `file` (default autoresearch.config.yaml; relative to the workspace root) and checks it like parseConfig. */
export function loadConfig(workspaceRoot: string, file?: string, overrides?: ConfigOverrides): ResearchConfig {
  const path = file ? (isAbsolute(file) ? file : join(workspaceRoot, file)) : join(workspaceRoot, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new ConfigError([{
      path: '(file)', value: path,
      expected: file ? `a research config at ${path}` : `an ${CONFIG_FILE} at the workspace root — run \`autoresearch init\` to write one`,
    }]);
  }
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new Error('it is a folder');
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '(file)', value: path, expected: `a readable file (${(e as Error).message})` }]);
  }
  return parseConfig(text, overrides);
}
