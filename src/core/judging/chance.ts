// How often the noise rule keeps a change that does nothing: a Monte Carlo of the engine's own rule (evidence.ts
// `weigh`) and run order (the parent runs again while it has fewer runs than the change, else the change; decisions.ts
// `nextRun`). z holds at each look, and every run again is one more look at the same change, so the rate is above
// the one-look 1 − Φ(z). The summary says it beside what the session kept; bench/noiseModel.ts prints it by true gain.
import { gauss, mulberry32 } from '../random.js';
import { weigh } from './evidence.js';

export interface ChanceSetting {
  z: number;
  /** The parent's runs: the baseline's repeats. */
  repeats: number;
  maxRuns: number;
  /** A change that would be a new best needs a second run (`noise.confirm`). */
  confirm: boolean;
  effect?: number;
  /** minDelta in spreads. */
  minDelta: number;
}

export interface Chance {
  /** The share of changes kept. */
  kept: number;
  /** The runs a decision took on average: the change's and the parent's runs again. */
  runs: number;
  /** Changes simulated. */
  changes: number;
}

/** Looks a figure may take: a setting of many runs a change (maxRuns: 1000) gets fewer changes, at least MIN_TRIALS. */
const MAX_LOOKS = 200_000;
const MIN_TRIALS = 200;

/**
 * How often a change of true gain `gain` (in spreads; 0 does nothing) is kept under `s`, and the runs its decision
 * takes, over `trials` changes against the baseline with its repeats, the spread known (fewer where their looks
 * would pass MAX_LOOKS). The same arguments give the same figures.
 */
export function keptShare(s: ChanceSetting, gain = 0, trials = 4000): Chance {
  const rng = mulberry32(20261207);
  let kept = 0;
  let runs = 0;
  let looks = 0;
  let done = 0;
  for (; done < trials && (looks < MAX_LOOKS || done < MIN_TRIALS); done++) {
    const parent = Array.from({ length: s.repeats }, () => gauss(rng));
    const change = [-gain + gauss(rng)];
    for (;;) {
      looks++;
      const mean = parent.reduce((a, b) => a + b, 0) / parent.length;
      const v = weigh({
        runs: change, parent: { mean, runs: parent.length }, spread: 1, z: s.z, minDelta: s.minDelta, direction: 'minimize',
        maxRuns: s.maxRuns, minRuns: s.confirm ? 2 : 1, ...(s.effect === undefined ? {} : { effect: s.effect }),
      });
      if (v.action !== 'rerun') {
        if (v.action === 'keep') kept++;
        runs += change.length + parent.length - s.repeats;
        break;
      }
      if (parent.length < change.length) parent.push(gauss(rng));
      else change.push(-gain + gauss(rng));
    }
  }
  return { kept: kept / done, runs: runs / done, changes: done };
}

const byChance = new Map<string, number>();

/** The share of changes that do nothing that `s` keeps (keptShare at gain 0), computed once per setting. */
export function keptByChance(s: ChanceSetting): number {
  const key = JSON.stringify([s.z, s.repeats, s.maxRuns, s.confirm, s.effect ?? null, Number(s.minDelta.toPrecision(2))]);
  let v = byChance.get(key);
  if (v === undefined) {
    v = keptShare({ ...s, minDelta: Number(s.minDelta.toPrecision(2)) }).kept;
    byChance.set(key, v);
  }
  return v;
}

/** 1 − Φ(z), the share kept by chance at one look (Abramowitz and Stegun 7.1.26, to 1.5e-7). */
export function oneLook(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}
