// How often the noise rule keeps a change that does nothing: a Monte Carlo of the engine's own rule (evidence.ts
// `weigh`) and run order (the parent runs again while it has fewer runs than the change, else the change; decisions.ts
// `nextRun`). z holds at each look, and every run again is one more look at the same change, so the rate is above
// the one-look 1 − Φ(z). The summary says it beside what the session kept; bench/noiseModel.ts prints it by true gain.
import { gauss, mulberry32, oneLookZ } from '../random.js';
import type { ResearchConfig } from '../types.js';
import { maxRuns, weigh } from './evidence.js';

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

const byGain = new Map<string, Chance>();

/** keptShare for `s` and `gain` (minDelta to two figures), computed once per setting. */
export function keptAt(s: ChanceSetting, gain: number): Chance {
  const minDelta = Number(s.minDelta.toPrecision(2));
  const key = JSON.stringify([s.z, s.repeats, s.maxRuns, s.confirm, s.effect ?? null, minDelta, gain]);
  let v = byGain.get(key);
  if (v === undefined) {
    v = keptShare({ ...s, minDelta }, gain);
    byGain.set(key, v);
  }
  return v;
}

/** The share of changes that do nothing that `s` keeps (keptShare at gain 0), computed once per setting. */
export function keptByChance(s: ChanceSetting): number {
  return keptAt(s, 0).kept;
}

const zByAlpha = new Map<string, number>();

/**
 * The z (to about 0.01) at which `s` keeps a change that does nothing about `alpha` of the time, every look counted,
 * at minDelta 0 (a minDelta keeps fewer). One look at it would keep fewer than alpha, so the search starts there and
 * goes up: regula falsi on the log of the rate, which falls about linearly in z, so a few Monte Carlos do (a session
 * with maxRuns 24 pays for them once, at its start). The same setting gives the same z, computed once.
 */
export function zForAlpha(alpha: number, s: Omit<ChanceSetting, 'z' | 'minDelta'>): number {
  const key = JSON.stringify([alpha, s.repeats, s.maxRuns, s.confirm, s.effect ?? null]);
  const known = zByAlpha.get(key);
  if (known !== undefined) return known;
  // Enough changes that alpha of them is about 100 kept ones: the figure to a tenth of itself, z to a few hundredths.
  const trials = Math.max(4000, Math.ceil(100 / alpha));
  // Above 0 while too many are kept; 1/trials stands in for none kept.
  const excess = (z: number) => Math.log(Math.max(keptShare({ ...s, z, minDelta: 0 }, 0, trials).kept, 1 / trials) / alpha);
  let lo = oneLookZ(alpha);
  let gLo = excess(lo);
  let z = lo;
  if (gLo > 0) {
    let hi = lo + 0.5;
    let gHi = excess(hi);
    while (gHi > 0 && hi < 10) {
      [lo, gLo] = [hi, gHi];
      hi += 0.5;
      gHi = excess(hi);
    }
    // Illinois: the end that stays has its value halved, so neither end sticks.
    let side = 0;
    z = hi;
    for (let i = 0; i < 12 && hi - lo > 0.01; i++) {
      z = hi - gHi * (hi - lo) / (gHi - gLo);
      const g = excess(z);
      if (Math.abs(g) < 0.03) break;
      if (g > 0) {
        [lo, gLo] = [z, g];
        if (side === 1) gHi /= 2;
        side = 1;
      } else {
        [hi, gHi] = [z, g];
        if (side === -1) gLo /= 2;
        side = -1;
      }
    }
  }
  z = Math.round(z * 100) / 100;
  zByAlpha.set(key, z);
  return z;
}

/** The config with `noise.alpha` turned into the z that gives it (zForAlpha); a config without alpha as it is. */
export function resolveNoise(config: ResearchConfig): ResearchConfig {
  const noise = config.noise;
  if (!noise || noise.alpha === undefined) return config;
  const z = zForAlpha(noise.alpha, { repeats: noise.repeats, maxRuns: maxRuns(noise), confirm: noise.confirm, ...(noise.effect === undefined ? {} : { effect: noise.effect }) });
  return { ...config, noise: { ...noise, z } };
}
