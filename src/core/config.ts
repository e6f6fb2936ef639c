// autoresearch.config.yaml: the protocol of one study. Every bad value is refused with its key path,
// the value and what was expected, all at once, before anything runs or is written.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Constraint, ExecutorConfig, ProposerConfig, ResearchConfig, SecondaryMetricSpec } from './types.js';

export const CONFIG_FILE = 'autoresearch.config.yaml';

export interface ConfigIssue {
  path: string;
  value: unknown;
  expected: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
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

export function formatIssue(i: ConfigIssue): string {
  return `${i.path}: got ${show(i.value)}, expected ${i.expected}`;
}

/** Seconds from `90s`, `5m`, `1h30m`, `2.5m` or a bare number of seconds; null when invalid. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? text : null;
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) > 0 ? Number(t) : null;
  const re = /(\d+(?:\.\d+)?)\s*(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const v = Number(m[1]);
    total += m[2] === 'h' ? v * 3600 : m[2] === 'm' ? v * 60 : m[2] === 'ms' ? v / 1000 : v;
    matched = re.lastIndex;
  }
  if (matched !== t.length || matched === 0 || total <= 0) return null;
  return total;
}

export const PROPOSER_KINDS = ['mutate', 'patches', 'openai-compatible', 'anthropic', 'agent-cli', 'vscode-lm'] as const;
export const EXECUTOR_KINDS = ['local', 'manual', 'slurm'] as const;
const TOP_KEYS = ['tag', 'editable', 'readonly', 'run', 'budget', 'metric', 'memory', 'metrics', 'constraints', 'maxExperiments', 'proposer', 'policy', 'executor', 'parallel', 'minDelta', 'seed', 'notes', 'graceSeconds', 'search'];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export function defaultPattern(name: string): string {
  return `^${escapeRegExp(name)}:\\s*(\\S+)`;
}

export const DEFAULT_MEMORY = { pattern: '^peak_(?:vram|memory)_mb:\\s*(\\S+)', unit: 'mb' as const };

type Overrides = Partial<{ maxExperiments: number | null; proposer: string; policy: string }>;

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
    if (isAbsolute(s) || s.split(/[\\/]/).includes('..')) return this.fail(path, v, 'a path relative to the workspace root, without ".."');
    return s;
  }

  globs(path: string, v: unknown, required: boolean): string[] | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, v, 'a glob or a list of globs (e.g. [train.py])') : [];
    const list = typeof v === 'string' ? [v] : v;
    if (Array.isArray(list) && list.length === 0 && !required) return [];
    if (!Array.isArray(list) || list.length === 0) return this.fail(path, v, 'a glob or a non-empty list of globs (e.g. [train.py])');
    const out: string[] = [];
    list.forEach((g, i) => {
      const p = Array.isArray(v) ? `${path}[${i}]` : path;
      const s = this.relPath(p, g);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

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
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.fail(path, v, `an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` >= ${min}`}`);
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

const NAME = /^[A-Za-z_][A-Za-z0-9_.\/-]*$/;

export function parseConfig(yamlText: string, overrides: Overrides = {}): ResearchConfig {
  const doc = parseDocument(yamlText, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => ({ path: '(file)', value: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'YAML', expected: `valid YAML (${e.message.split('\n')[0]})` })));
  }
  const raw = doc.toJS() as unknown;
  const c = new Checker();
  if (!c.isMap(raw)) throw new ConfigError([{ path: '(file)', value: raw, expected: 'a mapping of keys (tag, editable, run, budget, metric, ...)' }]);
  const r = { ...raw };
  if (overrides.maxExperiments !== undefined) r.maxExperiments = overrides.maxExperiments === null ? 'unlimited' : overrides.maxExperiments;
  if (overrides.proposer !== undefined) r.proposer = overrides.proposer;
  if (overrides.policy !== undefined) r.policy = overrides.policy;
  c.unknownKeys(r, TOP_KEYS, '');

  // `tag: 1125` is a number to YAML but a fine tag.
  let tag = c.string('tag', typeof r.tag === 'number' && Number.isInteger(r.tag) ? String(r.tag) : r.tag);
  if (tag !== undefined && (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tag) || tag.includes('..') || tag.endsWith('.lock') || tag.endsWith('.'))) {
    tag = c.fail('tag', r.tag, 'a short name usable in a git branch: letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. mar5)');
  }
  const editable = c.globs('editable', r.editable, true);
  const readonlyGlobs = c.globs('readonly', r.readonly, false);
  if (editable && readonlyGlobs) readonlyGlobs.forEach((g, i) => { if (editable.includes(g)) c.fail(`readonly[${i}]`, g, 'a path that is not also editable'); });
  const run = c.string('run', r.run);
  let budgetSeconds: number | undefined;
  let budgetText = '';
  if (r.budget === undefined) c.fail('budget', r.budget, 'a duration like 90s, 5m or 1h');
  else {
    const d = typeof r.budget === 'string' || typeof r.budget === 'number' ? parseDuration(r.budget) : null;
    if (d === null) c.fail('budget', r.budget, 'a duration like 90s, 5m or 1h');
    else {
      budgetSeconds = d;
      budgetText = typeof r.budget === 'number' ? `${r.budget}s` : r.budget as string;
    }
  }

  let metric: ResearchConfig['metric'] | undefined;
  if (!c.isMap(r.metric)) c.fail('metric', r.metric, 'a mapping {name, direction, pattern}');
  else {
    c.unknownKeys(r.metric, ['name', 'direction', 'pattern'], 'metric');
    let name = c.string('metric.name', r.metric.name);
    if (name !== undefined && !NAME.test(name)) name = c.fail('metric.name', name, 'a name of letters, digits and _ . / - (e.g. val_loss)');
    const direction = r.metric.direction === undefined ? 'minimize' : c.oneOf('metric.direction', r.metric.direction, ['minimize', 'maximize'] as const);
    const pattern = r.metric.pattern === undefined ? (name ? defaultPattern(name) : undefined) : c.regex('metric.pattern', r.metric.pattern);
    if (name && direction && pattern) metric = { name, direction, pattern };
  }

  let memory: ResearchConfig['memory'] = { ...DEFAULT_MEMORY };
  if (r.memory !== undefined) {
    if (!c.isMap(r.memory)) c.fail('memory', r.memory, 'a mapping {pattern, unit: mb|gb}');
    else {
      c.unknownKeys(r.memory, ['pattern', 'unit'], 'memory');
      const pattern = r.memory.pattern === undefined ? DEFAULT_MEMORY.pattern : c.regex('memory.pattern', r.memory.pattern);
      const unit = r.memory.unit === undefined ? 'mb' : c.oneOf('memory.unit', r.memory.unit, ['mb', 'gb'] as const);
      if (pattern && unit) memory = { pattern, unit };
    }
  }

  const metrics: SecondaryMetricSpec[] = [];
  if (r.metrics !== undefined) {
    if (!Array.isArray(r.metrics)) c.fail('metrics', r.metrics, 'a list of {name, pattern}');
    else r.metrics.forEach((m: unknown, i) => {
      const p = `metrics[${i}]`;
      if (!c.isMap(m)) return c.fail(p, m, 'a mapping {name, pattern}');
      c.unknownKeys(m, ['name', 'pattern'], p);
      let name = c.string(`${p}.name`, m.name);
      if (name !== undefined && (!NAME.test(name) || name === metric?.name || name === 'memory_gb' || metrics.some((x) => x.name === name))) {
        name = c.fail(`${p}.name`, name, 'a unique name, different from the primary metric and memory_gb');
      }
      const pattern = m.pattern === undefined ? (name ? defaultPattern(name) : undefined) : c.regex(`${p}.pattern`, m.pattern);
      if (name && pattern) metrics.push({ name, pattern });
      return undefined;
    });
  }

  const constraints: Constraint[] = [];
  if (r.constraints !== undefined) {
    if (!Array.isArray(r.constraints)) c.fail('constraints', r.constraints, 'a list like ["memory_gb <= 40"]');
    else r.constraints.forEach((s: unknown, i) => {
      const p = `constraints[${i}]`;
      const m = typeof s === 'string' ? /^\s*([A-Za-z_][A-Za-z0-9_.\/-]*)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(s) : null;
      if (!m) return c.fail(p, s, 'a comparison like "memory_gb <= 40"');
      const known = ['memory_gb', ...(metric ? [metric.name] : []), ...metrics.map((x) => x.name)];
      if (!known.includes(m[1]!)) return c.fail(p, s, `a comparison on one of ${known.join(', ')}`);
      constraints.push({ metric: m[1]!, op: m[2] as Constraint['op'], value: Number(m[3]), source: (s as string).trim() });
      return undefined;
    });
  }

  let maxExperiments: number | null | undefined = 20;
  if (r.maxExperiments !== undefined) {
    if (r.maxExperiments === 'unlimited') maxExperiments = null;
    else if (typeof r.maxExperiments !== 'number' || !Number.isInteger(r.maxExperiments) || r.maxExperiments < 1) maxExperiments = c.fail('maxExperiments', r.maxExperiments, 'a positive integer or "unlimited"');
    else maxExperiments = r.maxExperiments;
  }

  let proposer: ProposerConfig | undefined = { kind: 'mutate' };
  if (r.proposer !== undefined) {
    const p = typeof r.proposer === 'string' ? { kind: r.proposer } : r.proposer;
    if (!c.isMap(p)) proposer = c.fail('proposer', r.proposer, `a kind (${PROPOSER_KINDS.join(', ')}) or a mapping {kind, ...}`);
    else {
      const kind = c.oneOf('proposer.kind', p.kind, PROPOSER_KINDS);
      if (kind === 'patches') {
        const dir = c.relPath('proposer.dir', p.dir);
        proposer = dir ? { kind, dir } : undefined;
      } else if (kind) proposer = { ...p, kind };
      else proposer = undefined;
    }
  }

  const policy = r.policy === undefined ? 'tree' : c.oneOf('policy', r.policy, ['tree', 'greedy'] as const);

  let executor: ExecutorConfig | undefined = { kind: 'local' };
  if (r.executor !== undefined) {
    const e = typeof r.executor === 'string' ? { kind: r.executor } : r.executor;
    if (!c.isMap(e)) executor = c.fail('executor', r.executor, `a kind (${EXECUTOR_KINDS.join(', ')}) or a mapping {kind, ...}`);
    else {
      const kind = c.oneOf('executor.kind', e.kind, EXECUTOR_KINDS);
      executor = kind ? { ...e, kind } : undefined;
    }
  }

  const parallel = r.parallel === undefined ? 1 : c.int('parallel', r.parallel, 1, 64);
  const minDelta = r.minDelta === undefined ? 0 : c.number('minDelta', r.minDelta, 0);
  const seed = r.seed === undefined ? 0 : c.int('seed', r.seed, Number.MIN_SAFE_INTEGER);
  const notes = r.notes === undefined || r.notes === null ? null : c.relPath('notes', r.notes) ?? null;
  const graceSeconds = r.graceSeconds === undefined ? 5 : c.number('graceSeconds', r.graceSeconds, 0, true);

  let search: ResearchConfig['search'] | undefined = { drafts: 3, debugDepth: 2, patience: 3 };
  if (r.search !== undefined) {
    if (!c.isMap(r.search)) search = c.fail('search', r.search, 'a mapping {drafts, debugDepth, patience}');
    else {
      c.unknownKeys(r.search, ['drafts', 'debugDepth', 'patience'], 'search');
      const drafts = r.search.drafts === undefined ? 3 : c.int('search.drafts', r.search.drafts, 0, 100);
      const debugDepth = r.search.debugDepth === undefined ? 2 : c.int('search.debugDepth', r.search.debugDepth, 0, 100);
      const patience = r.search.patience === undefined ? 3 : c.int('search.patience', r.search.patience, 1, 1000);
      search = drafts !== undefined && debugDepth !== undefined && patience !== undefined ? { drafts, debugDepth, patience } : undefined;
    }
  }

  if (c.issues.length) throw new ConfigError(c.issues);
  return {
    tag: tag!, editable: editable!, readonly: readonlyGlobs!, run: run!, budgetSeconds: budgetSeconds!, budgetText, metric: metric!, memory, metrics, constraints,
    maxExperiments: maxExperiments!, proposer: proposer!, policy: policy!, executor: executor!, parallel: parallel!, minDelta: minDelta!, seed: seed!, notes,
    graceSeconds: graceSeconds!, search: search!,
  };
}

export function loadConfig(workspaceRoot: string, file?: string, overrides?: Overrides): ResearchConfig {
  const path = file ? (isAbsolute(file) ? file : join(workspaceRoot, file)) : join(workspaceRoot, CONFIG_FILE);
  if (!existsSync(path)) throw new ConfigError([{ path: '(file)', value: path, expected: `an ${CONFIG_FILE} at the workspace root; run \`autoresearch init\` to write one` }]);
  return parseConfig(readFileSync(path, 'utf8'), overrides);
}

export interface TemplateOptions {
  tag: string;
  editable: string[];
  readonly: string[];
  run: string;
  budget: string;
  metricName: string;
  direction: 'minimize' | 'maximize';
  maxExperiments: number | 'unlimited';
  proposer: string;
  policy?: string;
  notes?: string | null;
}

function yamlList(items: string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** A commented config that parseConfig accepts; written by `autoresearch init` and the editor's wizard. */
export function configTemplate(o: TemplateOptions): string {
  return `# AutoResearch research config: the protocol of one study.
# Every experiment changes only the editable files, runs under the budget, and is judged on one metric.

# Session name: the branch autoresearch/<tag> points at the best experiment.
tag: ${/^[A-Za-z0-9._-]+$/.test(o.tag) && !/^[\d.]+$/.test(o.tag) ? o.tag : JSON.stringify(o.tag)}
# Files (globs) the proposer may change.
editable: ${yamlList(o.editable)}
# Protected files (globs): hashed before each run, restored and the run marked invalid if touched.
readonly: ${yamlList(o.readonly)}
# The experiment, run in a git worktree of the repo; it gets AUTORESEARCH_BUDGET_SECONDS to stop in time.
run: ${JSON.stringify(o.run)}
# Wall-clock budget per experiment (90s, 5m, 1h); past it the process tree is terminated.
budget: ${o.budget}
# The one metric that decides: read from the log with a regex (one capture group; the last match wins).
metric:
  name: ${o.metricName}
  direction: ${o.direction}
  # pattern: '^${o.metricName}:\\s*(\\S+)'
# Peak memory, if the log reports it (unit of the captured number: mb or gb).
# memory: {pattern: '^peak_vram_mb:\\s*(\\S+)', unit: mb}
# Experiments after the baseline (a number or unlimited).
maxExperiments: ${o.maxExperiments}
# Who proposes changes: mutate (built in, tunes UPPER_CASE hyperparameters) or {kind: patches, dir: patches/}.
proposer: ${o.proposer}
# Search: tree (drafts, improve the best open branch, debug crashes, backtrack) or greedy (one straight line).
policy: ${o.policy ?? 'tree'}
# A change is kept only if it beats its parent by more than this.
minDelta: 0
# Seed for the proposer's choices.
seed: 0
${o.notes ? `# Research direction for proposers (like program.md).\nnotes: ${o.notes}\n` : '# notes: program.md\n'}`;
}
