// Whether a change really beat its parent, decided as a statistician would and with as few runs as the evidence
// needs (sequential testing). Every run of the same code is one sample of it: a node's own run, its confirmation
// runs, the baseline's repeats, a parent's re-runs for a child's evidence. A change is kept when the mean of its runs
// beats the mean of its parent's by more than z standard errors of that difference (and minDelta); it is run again
// only while the evidence is open: it measured better than its parent, but not yet beyond the threshold, and it has
// had fewer than the runs allowed. With `effect` (the smallest gain worth finding, in spreads), the evidence also
// stays open for a change measured no better while it could still gain that much (its gain plus z standard errors):
// a futility bound, so a real gain the size of the noise is not turned away on one unlucky run. Which side runs
// again, the less measured one, is the session's (Decisions.nextRun).
import { fmtNum } from '../../shared/format.js';
import type { Direction, NoiseConfig } from '../types.js';

export interface Evidence {
  /** The candidate's runs so far, its own first. */
  runs: readonly number[];
  /** The parent's estimate: the mean of its runs, and how many there were. */
  parent: { mean: number; runs: number };
  /** The pooled run-to-run standard deviation; null when none is measured (then minDelta alone decides). */
  spread: number | null;
  z: number;
  minDelta: number;
  /** How the reason writes minDelta (`0.5 % = 0.0018` for a share of the parent's value); the number otherwise. */
  minDeltaText?: string;
  direction: Direction;
  /** The most runs one candidate gets before it is turned away as unproven. */
  maxRuns: number;
  /** A new best must have at least this many runs (`noise.confirm`: 2). */
  minRuns?: number;
  /** The smallest gain worth finding, in spreads (`noise.effect`); unset, a change measured no better is turned away. */
  effect?: number;
}

export interface Verdict {
  action: 'keep' | 'discard' | 'rerun';
  /** Mean of the candidate's runs. */
  mean: number;
  gain: number;
  /** The margin the gain must exceed: max(minDelta, z × standard error of the difference). */
  threshold: number;
  /** The evidence in one line: runs, means, gain, threshold. */
  text: string;
  /** Where the futility bound (`effect`) turned the change away: what it could still gain, against what is worth it. */
  bound?: string;
}

/** The most runs one change gets before it is turned away as unproven: `noise.maxRuns`, by default twice the baseline's. */
export function maxRuns(noise: Pick<NoiseConfig, 'repeats' | 'maxRuns'>): number {
  return noise.maxRuns ?? 2 * noise.repeats;
}

/** Mean of the values. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * The pooled standard deviation of several groups of runs of the same code (each group one code): the square root of
 * Σ(n_i − 1)·s_i² / Σ(n_i − 1). Null without two runs of any one code.
 */
export function pooledSpread(groups: readonly (readonly number[])[]): { spread: number | null; samples: number } {
  let ss = 0;
  let df = 0;
  let samples = 0;
  for (const g of groups) {
    if (g.length < 2) continue;
    const m = mean(g);
    ss += g.reduce((a, v) => a + (v - m) ** 2, 0);
    df += g.length - 1;
    samples += g.length;
  }
  return { spread: df > 0 ? Math.sqrt(ss / df) : null, samples };
}

/** The next step for a candidate given its runs so far: keep, discard, or run it once more. */
export function weigh(e: Evidence): Verdict {
  const n = e.runs.length;
  const m = mean(e.runs);
  const gain = e.direction === 'minimize' ? e.parent.mean - m : m - e.parent.mean;
  const se = e.spread === null ? 0 : e.spread * Math.sqrt(1 / n + 1 / Math.max(1, e.parent.runs));
  const threshold = Math.max(e.minDelta, e.z * se);
  // Float subtraction must not turn "exactly the threshold" into "more than the threshold".
  const eps = 1e-12 * Math.max(1, Math.abs(e.parent.mean));
  const more = gain - threshold > eps;
  // The words are written only when read: the Monte Carlo of chance.ts weighs a million looks and reads none.
  const verdict = (action: Verdict['action'], bound?: string): Verdict => ({
    action, mean: m, gain, threshold,
    get text() {
      const runs = n === 1 ? `${fmtNum(m)}` : `mean ${fmtNum(m)} of ${n} runs`;
      const against = `parent ${fmtNum(e.parent.mean)}${e.parent.runs > 1 ? ` (mean of ${e.parent.runs})` : ''}`;
      const minDelta = e.minDeltaText ?? fmtNum(e.minDelta);
      const margin = e.spread === null ? `minDelta ${minDelta}` : `threshold ${fmtNum(threshold)} = max(minDelta ${minDelta}, ${e.z} × ${fmtNum(e.spread)} × √(1/${n} + 1/${Math.max(1, e.parent.runs)}))`;
      const text = `${runs} vs ${against}: gain ${fmtNum(gain)}, ${more ? 'more' : 'not more'} than the ${margin}`;
      return bound === undefined ? text : `${text}; ${bound}`;
    },
    ...(bound === undefined ? {} : { bound }),
  });
  if (more) {
    if (n < (e.minRuns ?? 1) && n < e.maxRuns) return verdict('rerun');
    return verdict('keep');
  }
  if (e.spread === null || n >= e.maxRuns) return verdict('discard');
  if (gain - e.minDelta > eps) return verdict('rerun');
  if (e.effect === undefined) return verdict('discard');
  // The futility bound: the most it could still gain, z standard errors above what it measured, against the smallest
  // gain worth finding.
  const most = gain + e.z * se;
  const worth = Math.max(e.minDelta, e.effect * e.spread);
  if (most - worth > eps) return verdict('rerun');
  return verdict('discard', `at most it would gain ${fmtNum(most)} (gain + ${e.z} standard errors), not more than the smallest gain worth finding, ${e.effect} × spread = ${fmtNum(worth)}`);
}
