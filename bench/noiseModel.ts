// What a `noise:` setting does to one change, by Monte Carlo of the engine's own rule (evidence.ts `weigh`) and run
// order (decisions.ts `nextRun`: the parent runs again while it has fewer runs than the change, else the change): how
// often a change is kept, by its true gain in spreads, and how many runs its decision takes. A gain of 0 is a change
// that does nothing, so its row is how often the search keeps noise. `z` applies at every look, and a re-run is one
// more look, so that row is above the one-look rate 1 − Φ(z) (2.3 % at z 2).
//
//   node --import tsx bench/noiseModel.ts [--z 2] [--repeats 3] [--maxRuns 6] [--effect 1] [--no-confirm] [--trials 20000]
//
// The spread is taken as known (the engine estimates it from the runs it pools), the parent is the baseline with its
// `repeats` runs, minDelta is 0 (the engine's default) and the change would be a new best (so `confirm` asks for a
// second run before it is kept).
import { weigh } from '../src/core/judging/evidence.js';
import { mulberry32 } from '../src/core/proposers/mutate.js';
import { formatTable } from './harness.js';

const value = (name: string): number | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
};
const Z = value('z') ?? 2;
const REPEATS = value('repeats') ?? 3;
const MAX_RUNS = value('maxRuns') ?? 2 * REPEATS;
const EFFECT = value('effect');
const CONFIRM = !process.argv.includes('--no-confirm');
const TRIALS = value('trials') ?? 20_000;
const GAINS = [0, 0.25, 0.5, 1, 1.5, 2];

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** One change of true gain `gain` (in spreads, lower is better, parent at 0): whether it was kept, and its runs. */
function decide(gain: number, rng: () => number): { kept: boolean; runs: number } {
  const parent = Array.from({ length: REPEATS }, () => gauss(rng));
  const change = [-gain + gauss(rng)];
  for (;;) {
    const mean = parent.reduce((a, b) => a + b, 0) / parent.length;
    const v = weigh({
      runs: change, parent: { mean, runs: parent.length }, spread: 1, z: Z, minDelta: 0, direction: 'minimize',
      maxRuns: MAX_RUNS, minRuns: CONFIRM ? 2 : 1, ...(EFFECT === undefined ? {} : { effect: EFFECT }),
    });
    if (v.action !== 'rerun') return { kept: v.action === 'keep', runs: change.length + parent.length - REPEATS };
    if (parent.length < change.length) parent.push(gauss(rng));
    else change.push(-gain + gauss(rng));
  }
}

const rng = mulberry32(20261207);
const rows = GAINS.map((gain) => {
  let kept = 0;
  let runs = 0;
  for (let i = 0; i < TRIALS; i++) {
    const d = decide(gain, rng);
    if (d.kept) kept++;
    runs += d.runs;
  }
  return [gain === 0 ? '0 (does nothing)' : String(gain), `${(100 * kept / TRIALS).toFixed(1)} %`, (runs / TRIALS).toFixed(1)];
});
const setting = `{repeats: ${REPEATS}, z: ${Z}, confirm: ${CONFIRM}, maxRuns: ${MAX_RUNS}${EFFECT === undefined ? '' : `, effect: ${EFFECT}`}}`;
console.log(`noise: ${setting}, minDelta 0, parent = the baseline's ${REPEATS} runs, ${TRIALS} changes a row`);
console.log(formatTable(['true gain (spreads)', 'kept', 'runs a change'], rows));
