// The judge: reads the metric from the log and decides keep / discard / crash by rule, never by a model.
import { defaultPattern } from '../config.js';
import type { Direction, Judgement, NoiseBand, ResearchConfig, RunResult } from '../types.js';
import { fmtDuration, fmtNum, fmtPct, fmtSigned, relativeChange } from '../../shared/format.js';

/** What the judge reads of the config; the budget words the timeout reason, `atBudget` says whether a timeout has a value. */
export type JudgeConfig = Pick<ResearchConfig, 'metric' | 'memory' | 'metrics' | 'constraints' | 'minDelta'> & Partial<Pick<ResearchConfig, 'budgetSeconds' | 'atBudget' | 'minDeltaShare'>>;

/** Capture group 1 of the last match of `pattern` in `log` (multiline), or null. */
export function extractLast(log: string, pattern: string): string | null {
  const re = new RegExp(pattern, 'gm');
  let last: string | null = null;
  for (let m = re.exec(log); m; m = re.exec(log)) {
    if (m[1] !== undefined) last = m[1];
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

/** Positive when `value` is better than `parent` in the direction. */
export function improvement(parent: number, value: number, direction: Direction): number {
  return direction === 'minimize' ? parent - value : value - parent;
}

// CUDA/MPS/XLA "out of memory", Python's MemoryError, torch's OutOfMemoryError, C++ bad_alloc.
const OOM_TEXT = /out of memory|MemoryError|std::bad_alloc|Cannot allocate memory/i;
// The shell's note on a child the OOM killer ended: "Killed" alone, or "line 3: 1234 Killed   python train.py".
const OOM_KILLED = /^Killed\s*$|\b\d+\s+Killed\b/m;

function outOfMemory(text: string): boolean {
  return OOM_TEXT.test(text) || OOM_KILLED.test(text);
}

function tail(log: string, lines = 30): string {
  return log.split(/\r?\n/).filter((l, i, a) => i < a.length - 1 || l !== '').slice(-lines).join('\n');
}

export interface JudgeInput {
  log: string;
  run: RunResult;
  config: JudgeConfig;
  parentMetric: number | null;
  isBaseline: boolean;
  /** The session's noise band: a change must beat its parent by more than its threshold instead of minDelta. */
  band?: NoiseBand | null;
  /** Lines added minus lines removed by the change; negative makes a change within noise a simplification. */
  netLines?: number | null;
  /** The run repeats its parent's code (a noise sample, a confirmation): an equal metric is what it should give. */
  repeat?: boolean;
}

/** Said of a change whose metric is its parent's to every printed digit. */
export const NO_EFFECT = 'no effect: the metric is exactly the parent\'s — the change may not reach the run (overridden on the command line? not read by the script?)';

type MinDelta = Pick<ResearchConfig, 'minDelta' | 'minDeltaShare'>;

/** How much a change must beat a parent of value `parent` by: minDelta, or its share of the parent's value. */
export function minDeltaAt(m: MinDelta, parent: number): number {
  return m.minDeltaShare === undefined ? m.minDelta : m.minDeltaShare * Math.abs(parent);
}

/** minDelta as configured, `0.001` or `0.5 %`; with a parent value, a share says what it comes to: `0.5 % = 0.0123`. */
export function minDeltaText(m: MinDelta, parent?: number): string {
  if (m.minDeltaShare === undefined) return String(m.minDelta);
  const share = `${Number((m.minDeltaShare * 100).toPrecision(6))} %`;
  return parent === undefined || !Number.isFinite(parent) ? share : `${share} = ${fmtNum(minDeltaAt(m, parent))}`;
}

/** `threshold 0.02 = max(minDelta 0, 2 × spread 0.01)`, or `minDelta 0` without a measured spread. */
export function thresholdText(band: NoiseBand | null | undefined, m: MinDelta, parent?: number): string {
  if (!band || band.spread === null) return `minDelta ${minDeltaText(m, parent)}`;
  if (parent === undefined) return `threshold ${bandRule(band, m, `spread ${fmtNum(band.spread)}`)}`;
  const threshold = Math.max(minDeltaAt(m, parent), band.threshold);
  return `threshold ${fmtNum(threshold)} = max(minDelta ${minDeltaText(m, parent)}, ${band.z} × spread ${fmtNum(band.spread)})`;
}

/**
 * The margin a change must beat its parent by, said of no parent in particular: `0.2 = max(minDelta 0, 2 × spread)`.
 * With minDelta a share, the margin depends on the parent: `max(minDelta 0.5 % of the parent's value, 2 × spread =
 * 0.002)`. Where every run of the same code measured the same (a script that fixes its seed), it says so: there is no
 * noise to measure, and minDelta alone decides.
 */
export function bandRule(band: NoiseBand, m: MinDelta, spread = 'spread'): string {
  const rule = m.minDeltaShare === undefined
    ? `${fmtNum(band.threshold)} = max(minDelta ${minDeltaText(m)}, ${band.z} × ${spread})`
    : `max(minDelta ${minDeltaText(m)} of the parent's value, ${band.z} × ${spread} = ${fmtNum(band.z * (band.spread ?? 0))})`;
  return band.spread === 0 ? `${rule}; every run of the same code measured the same (a script that fixes its seed gives no noise to measure): minDelta alone decides` : rule;
}

export function judge({ log, run, config, parentMetric, isBaseline, band, netLines, repeat }: JudgeInput): Judgement {
  const name = config.metric.name;
  const crash = (reason: string, checkOom = true): Judgement => ({
    status: 'crash', metric: null, memoryGb: memory(), secondary: secondary(), logTail: tail(log),
    reason: checkOom && outOfMemory(tail(log, 50)) ? `${reason} (out of memory)` : reason,
  });
  const memory = (): number | null => {
    if (run.recorded) return run.recorded.memoryGb;
    const raw = extractLast(log, config.memory.pattern);
    if (raw === null) return null;
    const v = parseNumber(raw);
    if (!Number.isFinite(v)) return null;
    // Four significant digits: a 15.3 MB run is 0.01494 GB, not 0.0 (views show it as 15.3 MB).
    return Number((config.memory.unit === 'mb' ? v / 1024 : v).toPrecision(4));
  };
  const secondary = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const m of config.metrics) {
      const raw = extractLast(log, m.pattern);
      const v = raw === null ? NaN : parseNumber(raw);
      // Missing or unreadable ones are left out: the journal is JSON, where NaN and inf do not survive.
      if (Number.isFinite(v)) out[m.name] = v;
    }
    return out;
  };

  const wall = fmtDuration(run.wallMs);
  if (run.startError) return crash(`could not start: ${run.startError}`, false);
  if (run.failureReason) return crash(run.failureReason);
  // With `atBudget: last`, a run stopped at the budget is judged on the last value it printed: every run is then
  // compared at equal time, however many steps it took.
  const atBudget = run.timedOut && config.atBudget === 'last' && !run.recorded;
  if (run.timedOut && !(atBudget && extractLast(log, config.metric.pattern) !== null)) {
    // Our own kill at the budget can make the shell print "Killed": that is not the OOM killer.
    const why = config.budgetSeconds === undefined ? `timed out: stopped at ${wall}` : `timed out: still running after the ${config.budgetSeconds}s budget (stopped at ${wall})`;
    return crash(atBudget ? `${why}, with no \`${name}\` value printed before it (atBudget: last judges a run on the last one)` : why, false);
  }
  if (!atBudget) {
    if (run.signal && !run.recorded) return crash(`killed by ${run.signal}`);
    if (run.exitCode !== 0 && run.exitCode !== null) return crash(`exit code ${run.exitCode}`);
    if (run.exitCode === null && !run.recorded) return crash('the run ended without an exit code');
  }

  let value: number;
  if (run.recorded) value = run.recorded.metric;
  else {
    const raw = extractLast(log, config.metric.pattern);
    if (raw === null) return crash(`no \`${name}:\` line in the log${config.metric.pattern === defaultPattern(name) ? '' : ` (pattern ${config.metric.pattern})`}`);
    value = parseNumber(raw);
  }
  if (Number.isNaN(value)) return crash(`${name} is NaN`);
  if (!Number.isFinite(value)) return crash(`${name} is ${value > 0 ? 'inf' : '-inf'}`);

  const mem = memory();
  const sec = secondary();
  for (const c of config.constraints) {
    const actual = c.metric === 'memory_gb' ? mem : c.metric === name ? value : sec[c.metric] ?? null;
    if (actual === null) return { status: 'discard', metric: value, memoryGb: mem, secondary: sec, reason: `constraint metric ${c.metric} missing (${c.source})` };
    const ok = c.op === '<' ? actual < c.value : c.op === '<=' ? actual <= c.value : c.op === '>' ? actual > c.value : actual >= c.value;
    if (!ok) return { status: 'discard', metric: value, memoryGb: mem, secondary: sec, reason: `violates ${c.source} (got ${fmtNum(actual)})` };
  }
  const stopped = atBudget ? `, its last value when the budget stopped it at ${wall}` : '';
  const result = (status: 'keep' | 'discard', reason: string): Judgement => ({ status, metric: value, memoryGb: mem, secondary: sec, reason: reason + stopped });
  if (isBaseline) return result('keep', 'baseline');
  if (parentMetric === null || !Number.isFinite(parentMetric)) return result('keep', `parent had no metric; ${name} ${fmtNum(value)}`);
  const gain = improvement(parentMetric, value, config.metric.direction);
  const delta = value - parentMetric;
  const pct = relativeChange(parentMetric, value);
  const deltaText = `${fmtSigned(delta)}${pct === null ? '' : `, ${fmtPct(pct)}`}`;
  // Float subtraction must not turn "exactly minDelta" into "more than minDelta".
  const eps = 1e-12 * Math.max(1, Math.abs(parentMetric));
  const minDelta = minDeltaAt(config, parentMetric);
  const threshold = band && band.spread !== null ? Math.max(minDelta, band.threshold) : minDelta;
  const noisy = !!band && band.spread !== null;
  const margin = thresholdText(band, config, parentMetric);
  const compared = (status: 'keep' | 'discard', reason: string): Judgement => ({ ...result(status, reason), compared: true });
  if (gain - threshold > eps) {
    return compared('keep', `${name} ${fmtNum(value)} ${config.metric.direction === 'minimize' ? '<' : '>'} parent ${fmtNum(parentMetric)} (${deltaText})${noisy ? `, beyond the ${margin}` : ''}`);
  }
  // The simplicity rule: as good as the parent within noise, with less code, is worth keeping.
  if (netLines !== undefined && netLines !== null && netLines < 0 && gain + threshold >= -eps) {
    return { ...compared('keep', `simplification: ${name} ${fmtNum(value)} is within noise of parent ${fmtNum(parentMetric)} (${deltaText}, ${margin}) and the change removes ${-netLines} line${netLines === -1 ? '' : 's'}`), simplification: true };
  }
  if (gain > eps) return compared('discard', noisy ? `within noise: improved by ${fmtNum(gain)}, not more than the ${margin} (${deltaText})` : `improved by ${fmtNum(gain)}, not more than minDelta ${minDeltaText(config, parentMetric)} (${deltaText})`);
  return compared('discard', `no improvement over parent ${fmtNum(parentMetric)} (${deltaText})${delta === 0 && !repeat ? `; ${NO_EFFECT}` : ''}`);
}
