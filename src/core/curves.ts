// Learning curves: the intermediate values a run prints while it goes (every match of the metric's pattern, or a
// `progress` pattern such as `step (\d+).*val loss ([\d.]+)`), stamped with the elapsed fraction of the budget, and
// the rule that stops a run that cannot win: worse than its parent at the same point by more than the session's
// own curves say a late winner can be.
import { DEFAULT_PRUNE as CONFIG_DEFAULT_PRUNE } from './config.js';
import { parseNumber } from './judge.js';
import type { Direction } from './types.js';

/** One point: the elapsed fraction of the budget (0..1+) and the value read there. */
export type CurvePoint = [fraction: number, value: number];

/** Reads values from a run's output as it arrives, a chunk at a time; a line cut between chunks is joined first. */
export class CurveReader {
  private readonly re: RegExp;
  private pending = '';
  readonly points: CurvePoint[] = [];

  /** `pattern`: the metric's pattern, or a progress pattern whose last capture group is the value. */
  constructor(pattern: string, private readonly budgetMs: number) {
    this.re = new RegExp(pattern, 'm');
  }

  /** Feeds output read `elapsedMs` after the run started; returns the points it added. */
  feed(chunk: string, elapsedMs: number): CurvePoint[] {
    const text = this.pending + chunk;
    const lines = text.split(/\r\n|\n|\r/);
    this.pending = lines.pop() ?? '';
    const added: CurvePoint[] = [];
    const fraction = Math.max(0, elapsedMs / this.budgetMs);
    for (const line of lines) {
      const m = this.re.exec(line);
      if (!m) continue;
      const raw = [...m].slice(1).reverse().find((g) => g !== undefined);
      const v = raw === undefined ? null : readValue(raw);
      // Text that is no number is no point: read as NaN, it would stop the run as if it had diverged.
      if (v === null) continue;
      const p: CurvePoint = [round(fraction), v];
      this.points.push(p);
      added.push(p);
    }
    return added;
  }
}

// A number, or nan/inf as Python prints them (not the start of a word like `info`).
const LEADING_NUMBER = /^\s*["'([]?\s*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|(?:nan|inf(?:inity)?)(?![a-z])))/i;

/**
 * The number a captured value starts with, whatever follows it: `(\S+)` takes `2.31]` from a tqdm postfix and `2.5}`
 * from a JSON line. NaN and inf stay: a run that diverged is the first one to stop. Null when it starts with no number.
 */
function readValue(raw: string): number | null {
  const m = LEADING_NUMBER.exec(raw);
  return m ? parseNumber(m[1]!) : null;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** At most `max` points, the last always kept: what the journal stores of a curve. */
export function compact(points: readonly CurvePoint[], max = 60): CurvePoint[] {
  if (points.length <= max) return [...points];
  const out: CurvePoint[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]!);
  return out;
}

/** The curve's value at `fraction`: linear between the points around it; null before its first point or with none. */
export function valueAt(points: readonly CurvePoint[], fraction: number): number | null {
  if (points.length === 0 || fraction < points[0]![0]) return null;
  for (let i = points.length - 1; i >= 0; i--) {
    const [f, v] = points[i]!;
    if (f <= fraction) {
      const next = points[i + 1];
      if (!next || next[0] === f) return v;
      return v + ((next[1] - v) * (fraction - f)) / (next[0] - f);
    }
  }
  return null;
}

/** How much worse than its parent a run was at some point of its curve and still ended better: late winners. */
export interface LateWin {
  fraction: number;
  /** How much worse than the parent it was there, in the metric's units (positive). */
  gap: number;
}

/** Positive when `a` is worse than `b` in the direction. */
function worseBy(a: number, b: number, direction: Direction): number {
  return direction === 'minimize' ? a - b : b - a;
}

/**
 * From finished runs and their parents' curves: the largest gap each late winner had at each point of its curve
 * (every run that ended better than its parent). This is what the margin must exceed.
 */
export function lateWins(pairs: readonly { child: readonly CurvePoint[]; parent: readonly CurvePoint[]; childFinal: number; parentFinal: number }[], direction: Direction): LateWin[] {
  const out: LateWin[] = [];
  for (const { child, parent, childFinal, parentFinal } of pairs) {
    if (worseBy(childFinal, parentFinal, direction) >= 0) continue;
    for (const [f, v] of child) {
      const p = valueAt(parent, f);
      if (p === null) continue;
      const gap = worseBy(v, p, direction);
      if (gap > 0) out.push({ fraction: f, gap });
    }
  }
  return out;
}

export interface PruneRule {
  /** Never before this fraction of the budget (default 0.25). */
  minFraction: number;
  /** The margin is at least this share of the parent's value there (default 0.05), before the session has evidence. */
  floor: number;
  /** The margin is this many times the largest gap a late winner had (default 1.5). */
  safety: number;
}

export const DEFAULT_PRUNE: PruneRule = CONFIG_DEFAULT_PRUNE;

export interface PruneInput {
  fraction: number;
  value: number;
  parent: readonly CurvePoint[] | null;
  direction: Direction;
  /** Late winners the session has seen so far. */
  late: readonly LateWin[];
  /** The run-to-run spread, when measured. */
  spread?: number | null;
  rule?: PruneRule;
}

/** Why to stop the run now (with the numbers), or null to let it go on. */
export function pruneVerdict(i: PruneInput): { margin: number; parentValue: number } | null {
  const rule = i.rule ?? DEFAULT_PRUNE;
  if (i.fraction < rule.minFraction || !i.parent || i.parent.length === 0) return null;
  const parentValue = valueAt(i.parent, i.fraction);
  if (parentValue === null) return null;
  if (Number.isNaN(i.value) || worseBy(i.value, parentValue, i.direction) === Infinity) return { margin: 0, parentValue };
  // From this point on in the budget, the largest gap a late winner overcame (a margin learned from the session).
  const overcome = i.late.filter((l) => l.fraction >= i.fraction - 0.1).reduce((m, l) => Math.max(m, l.gap), 0);
  const margin = Math.max(rule.floor * Math.abs(parentValue), rule.safety * overcome, 3 * (i.spread ?? 0));
  return worseBy(i.value, parentValue, i.direction) > margin ? { margin, parentValue } : null;
}

/** A small text sparkline of a curve, for `autoresearch show`. */
export function sparkline(points: readonly CurvePoint[], width = 24): string {
  if (points.length === 0) return '';
  const bars = '▁▂▃▄▅▆▇█';
  const values = compact(points, width).map((p) => p[1]);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => bars[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (bars.length - 1)) : 0]).join('');
}
