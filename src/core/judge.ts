// The judge: reads the metric from the log and decides keep / discard / crash by rule, never by a model.
import type { Direction, Judgement, ResearchConfig, RunResult } from './types.js';

type JudgeConfig = Pick<ResearchConfig, 'metric' | 'memory' | 'metrics' | 'constraints' | 'minDelta' | 'budgetSeconds'>;

/** The capture group of the last match of `pattern` in `log` (multiline), or null. */
export function extractLast(log: string, pattern: string): string | null {
  const re = new RegExp(pattern, 'gm');
  let last: string | null = null;
  for (let m = re.exec(log); m; m = re.exec(log)) {
    last = m[1] ?? null;
    if (m[0] === '') re.lastIndex++;
  }
  return last;
}

/** Number() that also understands Python's nan/inf spellings. */
export function parseNumber(text: string): number {
  const t = text.trim().replace(/[,;]+$/, '').toLowerCase();
  if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return t === '' ? NaN : Number(t);
}

export function formatMetric(v: number | null): string {
  if (v === null) return 'n/a';
  if (!Number.isFinite(v)) return String(v);
  return Number(v.toPrecision(6)).toString();
}

/** Positive when `value` is better than `parent` in the direction. */
export function improvement(parent: number, value: number, direction: Direction): number {
  return direction === 'minimize' ? parent - value : value - parent;
}

const OOM = /CUDA out of memory|OutOfMemoryError|MemoryError|out of memory|Killed\s*$/im;

function tail(log: string, lines = 30): string {
  return log.split(/\r?\n/).filter((l, i, a) => i < a.length - 1 || l !== '').slice(-lines).join('\n');
}

export interface JudgeInput {
  log: string;
  run: RunResult;
  config: JudgeConfig;
  parentMetric: number | null;
  isBaseline: boolean;
}

export function judge({ log, run, config, parentMetric, isBaseline }: JudgeInput): Judgement {
  const name = config.metric.name;
  const crash = (reason: string, metric: number | null = null): Judgement => ({
    status: 'crash', metric, memoryGb: memory(), secondary: secondary(), logTail: tail(log),
    reason: OOM.test(tail(log, 50)) ? `${reason} (out of memory)` : reason,
  });
  const memory = (): number | null => {
    if (run.recorded) return run.recorded.memoryGb;
    const raw = extractLast(log, config.memory.pattern);
    if (raw === null) return null;
    const v = parseNumber(raw);
    if (!Number.isFinite(v)) return null;
    return Math.round((config.memory.unit === 'mb' ? v / 1024 : v) * 1000) / 1000;
  };
  const secondary = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const m of config.metrics) {
      const raw = extractLast(log, m.pattern);
      if (raw !== null && !Number.isNaN(parseNumber(raw))) out[m.name] = parseNumber(raw);
    }
    return out;
  };

  if (run.startError) return crash(`could not start: ${run.startError}`);
  if (run.timedOut) return crash(`timed out: still running after the ${config.budgetSeconds}s budget (stopped at ${(run.wallMs / 1000).toFixed(1)}s)`);
  if (run.signal && !run.recorded) return crash(`killed by ${run.signal}`);
  if (run.exitCode !== 0 && run.exitCode !== null) return crash(`exit code ${run.exitCode}`);
  if (run.exitCode === null && !run.recorded) return crash('the run ended without an exit code');

  let value: number;
  if (run.recorded) value = run.recorded.metric;
  else {
    const raw = extractLast(log, config.metric.pattern);
    if (raw === null) return crash(`no ${name} in the log (pattern ${config.metric.pattern})`);
    value = parseNumber(raw);
  }
  if (Number.isNaN(value)) return crash(`${name} is NaN`, value);
  if (!Number.isFinite(value)) return crash(`${name} is ${value > 0 ? 'inf' : '-inf'}`, value);

  const mem = memory();
  const sec = secondary();
  for (const c of config.constraints) {
    const actual = c.metric === 'memory_gb' ? mem : c.metric === name ? value : sec[c.metric] ?? null;
    if (actual === null) return { status: 'discard', metric: value, memoryGb: mem, secondary: sec, reason: `constraint metric ${c.metric} missing (${c.source})` };
    const ok = c.op === '<' ? actual < c.value : c.op === '<=' ? actual <= c.value : c.op === '>' ? actual > c.value : actual >= c.value;
    if (!ok) return { status: 'discard', metric: value, memoryGb: mem, secondary: sec, reason: `violates ${c.source} (got ${formatMetric(actual)})` };
  }
  const result = (status: 'keep' | 'discard', reason: string): Judgement => ({ status, metric: value, memoryGb: mem, secondary: sec, reason });
  if (isBaseline) return result('keep', 'baseline');
  if (parentMetric === null || !Number.isFinite(parentMetric)) return result('keep', `parent had no metric; ${name} ${formatMetric(value)}`);
  const gain = improvement(parentMetric, value, config.metric.direction);
  const delta = value - parentMetric;
  const pct = parentMetric !== 0 ? `, ${delta >= 0 ? '+' : ''}${((delta / Math.abs(parentMetric)) * 100).toFixed(1)}%` : '';
  const deltaText = `${delta >= 0 ? '+' : ''}${formatMetric(delta)}${pct}`;
  // Float subtraction must not turn "exactly minDelta" into "more than minDelta".
  const eps = 1e-12 * Math.max(1, Math.abs(parentMetric));
  if (gain - config.minDelta > eps) {
    return result('keep', `${name} ${formatMetric(value)} ${config.metric.direction === 'minimize' ? '<' : '>'} parent ${formatMetric(parentMetric)} (${deltaText})`);
  }
  if (gain > eps) return result('discard', `improved by ${formatMetric(gain)}, not more than minDelta ${config.minDelta} (${deltaText})`);
  return result('discard', `no improvement over parent ${formatMetric(parentMetric)} (${deltaText})`);
}
