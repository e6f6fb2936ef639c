// Learning curves: the intermediate values a run prints while it goes (every match of the metric's pattern, or a
// `progress` pattern such as `step (\d+).*val loss (\S+)`), stamped with the elapsed fraction of the budget, and
// the rule that stops a run that cannot win: clearly behind its parent at the same point, twice in a row, and too
// slow to reach the parent's final value by the end of the budget even at its best recent rate. Being behind alone
// is not enough: a run that learns slowly at first but falls fast may still cross, and none that stops can show it.
import { DEFAULT_PRUNE as CONFIG_DEFAULT_PRUNE } from '../config.js';
import { parseNumber } from './judge.js';
import type { Direction } from '../types.js';
import { fmtNum, fmtShare, NA } from '../../shared/format.js';

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

/** How far back a run's rate of improvement is measured: a tenth of the budget. */
const RATE_WINDOW = 0.1;
/** How many standard deviations of noise a gap must clear (as the noise-aware judge's default z). */
const Z = 2;

/**
 * A run is slower than its parent when it took more than 1/SLOWER of the time its parent took to print as many points,
 * and more than SLOWER_BY of the budget more (a later start alone is no slower pace).
 */
const SLOWER = 0.9;
const SLOWER_BY = 0.05;

/**
 * When (a share of the budget) the parent printed its k-th point (from 1): its journaled curve holds at most 60 of the
 * `printed` it read, evenly by index (compact), so the index is scaled back; past its last, at the pace it ended with.
 */
function whenPrinted(parent: readonly CurvePoint[], printed: number, k: number): number {
  const end = parent.at(-1)![0];
  if (k >= printed || parent.length < 2) return (end * k) / printed;
  const at = ((k - 1) * (parent.length - 1)) / (printed - 1);
  const j = Math.floor(at);
  return parent[j]![0] + (parent[Math.min(j + 1, parent.length - 1)]![0] - parent[j]![0]) * (at - j);
}

/** How much worse than its parent a run was at some point of its curve and still ended better: late winners. */
export interface LateWin {
  fraction: number;
  /** How much worse than the parent it was there, in the metric's units (positive). */
  gap: number;
  /**
   * That gap over what the parent itself still improved from there to its end (0 when the parent no longer did): how
   * many times the parent's remaining progress the winner made up, which carries over to parents of another shape.
   */
  ratio: number;
}

/** Positive when `a` is worse than `b` in the direction. */
function worseBy(a: number, b: number, direction: Direction): number {
  return direction === 'minimize' ? a - b : b - a;
}

/** What a curve still improved from `fraction` to its last point (0 when it did not). */
function stillImproved(points: readonly CurvePoint[], fraction: number, direction: Direction): number {
  const here = valueAt(points, fraction);
  const end = points.at(-1)?.[1];
  if (here === null || end === undefined || !Number.isFinite(here) || !Number.isFinite(end)) return 0;
  return Math.max(0, worseBy(here, end, direction));
}

/**
 * From finished runs and their parents' curves: the gap each late winner had at each point of its curve (every run
 * that ended better than its parent), and that gap over what its parent still improved from there.
 */
export function lateWins(pairs: readonly { child: readonly CurvePoint[]; parent: readonly CurvePoint[]; childFinal: number; parentFinal: number }[], direction: Direction): LateWin[] {
  const out: LateWin[] = [];
  for (const { child, parent, childFinal, parentFinal } of pairs) {
    if (worseBy(childFinal, parentFinal, direction) >= 0) continue;
    // What the parent still improved is a measure only where it is beyond the scatter of its own points: late in a
    // flat curve it is noise, and a gap over noise is no ratio (the benchmark's level winners gave up to 1000, which
    // made every later margin that many times the parent's remaining progress). The gap itself still counts there.
    const noise = Z * Math.SQRT2 * pointNoise(parent);
    for (const [f, v] of child) {
      const p = valueAt(parent, f);
      if (p === null) continue;
      const gap = worseBy(v, p, direction);
      const rest = stillImproved(parent, f, direction);
      if (gap > 0) out.push({ fraction: f, gap, ratio: rest > noise ? gap / rest : 0 });
    }
  }
  return out;
}

/**
 * How far a curve's points scatter about a smooth line, as a standard deviation: each point's distance from the
 * parabola fitted to it and its two neighbours on each side (which follows a learning curve's bend, not its noise),
 * the median of them. 0 with fewer than five points.
 */
export function pointNoise(points: readonly CurvePoint[]): number {
  const off: number[] = [];
  for (let i = 2; i + 2 < points.length; i++) {
    const w = points.slice(i - 2, i + 3);
    const scale = w[4]![0] - w[0]![0];
    if (!(scale > 0) || !w.every((p) => Number.isFinite(p[1]))) continue;
    const fit = parabola(w.map((p) => (p[0] - points[i]![0]) / scale), w.map((p) => p[1]));
    // The middle point's residual varies by σ²(1 − h), h its leverage in the fit.
    if (fit && fit.leverage < 1) off.push(Math.abs(points[i]![1] - fit.atZero) / Math.sqrt(1 - fit.leverage));
  }
  if (off.length === 0) return 0;
  off.sort((a, b) => a - b);
  const median = off.length % 2 ? off[(off.length - 1) / 2]! : (off[off.length / 2 - 1]! + off[off.length / 2]!) / 2;
  // The median absolute value of a normal deviate is 0.6745 σ.
  return median / 0.6745;
}

/** The least-squares parabola through (x, y): its value at x = 0, and the leverage there. Null when it is not unique. */
function parabola(x: readonly number[], y: readonly number[]): { atZero: number; leverage: number } | null {
  // The normal equations of y = a + b·x + c·x², solved by Cramer's rule.
  const s = [0, 0, 0, 0, 0];
  const t = [0, 0, 0];
  x.forEach((xi, k) => {
    for (let d = 0; d < 5; d++) s[d]! += xi ** d;
    for (let d = 0; d < 3; d++) t[d]! += y[k]! * xi ** d;
  });
  const [s0, s1, s2, s3, s4] = s as [number, number, number, number, number];
  const det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s2 * s3) + s2 * (s1 * s3 - s2 * s2);
  if (Math.abs(det) < 1e-12) return null;
  const [t0, t1, t2] = t as [number, number, number];
  const a = (t0 * (s2 * s4 - s3 * s3) - s1 * (t1 * s4 - s3 * t2) + s2 * (t1 * s3 - s2 * t2)) / det;
  return { atZero: a, leverage: (s2 * s4 - s3 * s3) / det };
}

export interface PruneRule {
  /** Never before this fraction of the budget (default 0.25). */
  minFraction: number;
  /** The margin is at least this share of the parent's value there (default 0.05). */
  floor: number;
  /**
   * The margin is this many times what the parent still improved from that point to its end, or times what the
   * session's late winners made up, whichever is larger (default 1.5).
   */
  safety: number;
}

export const DEFAULT_PRUNE: PruneRule = CONFIG_DEFAULT_PRUNE;

export interface PruneInput {
  /** The run's curve so far, the point just read last. */
  curve: readonly CurvePoint[];
  parent: readonly CurvePoint[] | null;
  direction: Direction;
  /** Late winners the session has seen so far. */
  late: readonly LateWin[];
  /** The run-to-run spread, when measured. */
  spread?: number | null;
  rule?: PruneRule;
  /**
   * The parent's run ended by itself (not at the budget) after printing this many points (its curve may hold fewer):
   * absent or null when the budget ended it, or for a curve journaled before the count was.
   */
  parentPrinted?: number | null;
}

/** The numbers behind a decision to stop, for the record. */
export interface PruneVerdict {
  fraction: number;
  value: number;
  /** The parent's value at the same point. */
  parentValue: number;
  /** How much worse than the parent the run is there; the previous point's, and where that was. */
  gap: number;
  previous: { fraction: number; gap: number } | null;
  /** The margin there (the previous point cleared its own). */
  margin: number;
  /** The parent's final value, which the run must beat. */
  parentEnd: number;
  /** How fast the run has been improving, per tenth of the budget, at most (noise included). */
  improving: number;
  /** How far behind the parent's final value the run would still be, improving that fast to the end of the budget. */
  endGap: number;
  /** Nan or inf: the run diverged. */
  diverged: boolean;
}

interface Shared {
  parent: readonly CurvePoint[];
  direction: Direction;
  rule: PruneRule;
  /** What two noisy readings of the metric may differ by. */
  noise: number;
  late: readonly LateWin[];
  /** Where the budget ends, or the parent's curve if it went past it. */
  end: number;
}

/** The margin at `fraction`: the larger, the earlier, because the parent still improved more from there. */
function marginAt(s: Shared, fraction: number, parentValue: number): number {
  const rest = stillImproved(s.parent, fraction, s.direction);
  let gap = 0;
  let ratio = 1;
  for (const l of s.late) {
    if (l.fraction < fraction - RATE_WINDOW) continue;
    gap = Math.max(gap, l.gap);
    ratio = Math.max(ratio, l.ratio);
  }
  return Math.max(s.rule.floor * Math.abs(parentValue), s.noise, s.rule.safety * ratio * rest, s.rule.safety * gap);
}

/**
 * Whether the curve's point `i` says stop: worse than the parent there by more than the margin, and unable to reach
 * the parent's final value by the end of the budget even if it went on improving as fast as it did over the last
 * tenth of the budget (noise included), or as much as the parent still did from there. Learning curves flatten,
 * so the first is the most a run can still gain; a slow starter that falls fast goes on.
 */
function stopAt(s: Shared, curve: readonly CurvePoint[], i: number): Omit<PruneVerdict, 'previous' | 'diverged'> | HeldBy {
  const [fraction, value] = curve[i]!;
  const parentValue = valueAt(s.parent, fraction);
  if (parentValue === null || !Number.isFinite(value)) return 'unread';
  const gap = worseBy(value, parentValue, s.direction);
  if (!(gap > s.noise)) return 'level';
  const margin = marginAt(s, fraction, parentValue);
  let j = i - 1;
  while (j >= 0 && curve[j]![0] > fraction - RATE_WINDOW) j--;
  if (j < 0 || !Number.isFinite(curve[j]![1])) return 'unread';
  const [before, then] = curve[j]!;
  const rate = (worseBy(then, value, s.direction) + s.noise) / (fraction - before);
  const parentEnd = s.parent.at(-1)![1];
  const canStill = Math.max(rate * Math.max(0, s.end - fraction), stillImproved(s.parent, fraction, s.direction));
  const endGap = worseBy(value, parentEnd, s.direction) - canStill;
  const inMargin = !(gap > margin);
  const inReach = !(endGap > s.noise);
  if (inMargin || inReach) return inMargin && inReach ? 'margin and pace' : inMargin ? 'margin' : 'pace';
  return { fraction, value, parentValue, gap, margin, parentEnd, improving: rate * RATE_WINDOW, endGap };
}

/**
 * What lets a run go on at a point of its curve: `level`, not behind its parent there beyond the noise; behind, but
 * `margin`, within the margin, or `pace`, as fast as it still improves it could reach the parent's final value, or
 * both (either alone holds it back); `once`, only its last point says stop; `early`, before the minimum fraction;
 * `unread`, nothing to compare (no parent curve or point there, one point, no pace measured yet); `slower`, it prints
 * its points more slowly than its parent, which ended by itself: a script that stops at a step count (epochs,
 * max_iters) judges the run at its own end, whenever that comes, so at the same share of the budget a change that is
 * only slower per step (a wider model) would be stopped for its pace, not its values.
 */
export type HeldBy = 'level' | 'margin' | 'pace' | 'margin and pace' | 'once' | 'early' | 'unread' | 'slower';

/** Why to stop the run now (with the numbers), or what holds it back. */
function decide(i: PruneInput): PruneVerdict | HeldBy {
  const rule = i.rule ?? DEFAULT_PRUNE;
  const last = i.curve.at(-1);
  if (!last || !i.parent || i.parent.length === 0) return 'unread';
  if (last[0] < rule.minFraction) return 'early';
  const [fraction, value] = last;
  if (!Number.isFinite(value)) {
    const parentValue = valueAt(i.parent, fraction);
    if (parentValue === null) return 'unread';
    const bad = Number.isNaN(value) || worseBy(value, parentValue, i.direction) > 0;
    return bad ? { fraction, value, parentValue, gap: Infinity, previous: null, margin: 0, parentEnd: i.parent.at(-1)![1], improving: 0, endGap: Infinity, diverged: true } : 'level';
  }
  if (i.parentPrinted && i.curve.length >= 2) {
    const theirs = whenPrinted(i.parent, i.parentPrinted, i.curve.length);
    if (SLOWER * fraction > theirs && fraction - theirs > SLOWER_BY) return 'slower';
  }
  if (i.curve.length < 2 || !Number.isFinite(i.parent.at(-1)![1])) return 'unread';
  // The parent's curve is the journal's (at most 60 points): the run's is read at the same density, and in bounded time.
  const noise = Math.max(Z * Math.SQRT2 * Math.max(pointNoise(i.parent), pointNoise(compact(i.curve))), 3 * (i.spread ?? 0));
  const s: Shared = { parent: i.parent, direction: i.direction, rule, noise, late: i.late, end: Math.max(1, i.parent.at(-1)![0]) };
  const now = stopAt(s, i.curve, i.curve.length - 1);
  if (typeof now === 'string') return now;
  const before = stopAt(s, i.curve, i.curve.length - 2);
  if (typeof before === 'string') return 'once';
  return { ...now, previous: { fraction: before.fraction, gap: before.gap }, diverged: false };
}

/**
 * Why to stop the run now (with the numbers), or null to let it go on. Nan or inf stops it at once. Otherwise the
 * last two points of its curve must both say stop (see `stopAt`): one bad reading is not enough.
 */
export function pruneVerdict(i: PruneInput): PruneVerdict | null {
  const d = decide(i);
  return typeof d === 'string' ? null : d;
}

/** What holds the run back at its curve's last point (see `HeldBy`), or null where the rule stops it: the benchmark's account of the runs it let finish. */
export function heldBy(i: PruneInput): HeldBy | null {
  const d = decide(i);
  return typeof d === 'string' ? d : null;
}

/** The record of a stopped run: "stopped early at 52 % of the budget: val_loss 3.4 vs 3.1 for #7 at the same point, …". */
export function stoppedReason(v: PruneVerdict, metric: string, parentId: number | null): string {
  const f = (x: number) => fmtNum(x, NA, 4);
  const head = `stopped early at ${fmtShare(v.fraction)} of the budget: ${metric} ${f(v.value)} vs ${f(v.parentValue)} for #${parentId} at the same point`;
  if (v.diverged) return `${head}: the run diverged`;
  const previous = v.previous ? ` (${f(v.previous.gap)} at ${fmtShare(v.previous.fraction)})` : '';
  return `${head}, worse by ${f(v.gap)}${previous}, more than the margin ${f(v.margin)}; improving by at most ${f(Math.max(0, v.improving))} per tenth of the budget, it would end ${f(v.endGap)} short of #${parentId}'s ${f(v.parentEnd)}`;
}

export interface SparklineScale {
  /** The shares of the budget the first and last cell stand for; default the curve's first and last point. */
  span?: [from: number, to: number];
  /** The values the lowest and highest bar stand for; default the curve's own. Give curves one scale to compare them. */
  range?: [lo: number, hi: number];
}

/** A curve's value at `fraction` for drawing: interpolated where both neighbours are numbers, else the nearer one's. */
function drawnValue(points: readonly CurvePoint[], fraction: number): number {
  let i = points.length - 1;
  while (i > 0 && points[i]![0] > fraction) i--;
  const [f, v] = points[i]!;
  const next = points[i + 1];
  if (!next || next[0] === f) return v;
  if (!Number.isFinite(v) || !Number.isFinite(next[1])) return fraction - f < next[0] - fraction ? v : next[1];
  return v + ((next[1] - v) * (fraction - f)) / (next[0] - f);
}

/** The lowest and highest finite values of some curves: one scale for drawing them side by side; null with none. */
export function curveRange(curves: readonly (readonly CurvePoint[])[]): [number, number] | null {
  const values = curves.flatMap((c) => c.map((p) => p[1])).filter((v) => typeof v === 'number' && Number.isFinite(v));
  return values.length ? [Math.min(...values), Math.max(...values)] : null;
}

/**
 * A text sparkline of a curve (`autoresearch show`, the summary): `width` cells evenly over the budget's `span`, each
 * the curve's value there on the `range`'s eight bars. A cell outside the curve (before its first point, after its
 * last) is blank, and one where it was not a number (NaN, inf: it diverged) is `×`.
 */
export function sparkline(points: readonly CurvePoint[], width = 24, scale: SparklineScale = {}): string {
  if (points.length === 0) return '';
  const bars = '▁▂▃▄▅▆▇█';
  const [from, to] = scale.span ?? [points[0]![0], points.at(-1)![0]];
  const [lo, hi] = scale.range ?? curveRange([points]) ?? [0, 0];
  const first = points[0]![0];
  const last = points.at(-1)![0];
  const cells = Math.max(1, Math.round(width));
  let out = '';
  for (let k = 0; k < cells; k++) {
    const f = cells === 1 ? to : from + ((to - from) * k) / (cells - 1);
    // Half a cell of slack: a curve's first and last points land in the cells nearest them.
    const half = cells === 1 ? 0 : (to - from) / (cells - 1) / 2;
    if (f < first - half - 1e-9 || f > last + half + 1e-9) {
      out += ' ';
      continue;
    }
    const v = drawnValue(points, Math.min(last, Math.max(first, f)));
    if (typeof v !== 'number' || !Number.isFinite(v)) out += '×';
    else out += bars[hi > lo ? Math.max(0, Math.min(bars.length - 1, Math.round(((v - lo) / (hi - lo)) * (bars.length - 1)))) : 0];
  }
  return out.replace(/ +$/, '');
}

/**
 * Curves drawn to compare (a run and its parent, the path to the best): one sparkline each, on one scale and one time
 * axis from 0 to the latest point of any of them (at least the whole budget), so equal heights mean equal values.
 */
export function sparklines(curves: readonly (readonly CurvePoint[])[], width = 24): string[] {
  const range = curveRange(curves);
  const end = Math.max(1, ...curves.map((c) => c.at(-1)?.[0] ?? 0));
  return curves.map((c) => sparkline(c, width, { span: [0, end], ...(range ? { range } : {}) }));
}
