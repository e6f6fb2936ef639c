// What a `noise:` setting does to one change (src/core/judging/chance.ts, a Monte Carlo of the engine's own rule and
// run order): how often a change is kept, by its true gain in spreads, and how many runs its decision takes. A gain
// of 0 is a change that does nothing, so its row is how often the search keeps noise. `z` applies at every look, and
// a re-run is one more look, so that row is above the one-look rate 1 − Φ(z) (2.3 % at z 2).
//
//   node --import tsx bench/noiseModel.ts [--z 2 | --alpha 0.02] [--repeats 3] [--maxRuns 6] [--effect 1] [--no-confirm] [--trials 20000]
//   (--alpha: the z the engine chooses for `noise.alpha`, zForAlpha)
//   (fewer changes a row where their runs would pass 200,000 looks)
//
// The spread is taken as known (the engine estimates it from the runs it pools), the parent is the baseline with its
// `repeats` runs, minDelta is 0 (the engine's default) and the change would be a new best (so `confirm` asks for a
// second run before it is kept).
import { keptShare, zForAlpha } from '../src/core/judging/chance.js';
import { oneLook } from '../src/core/random.js';
import { formatTable } from './harness.js';

const value = (name: string): number | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
};
const repeats = value('repeats') ?? 3;
const alpha = value('alpha');
const shape = {
  repeats, maxRuns: value('maxRuns') ?? 2 * repeats, confirm: !process.argv.includes('--no-confirm'),
  ...(value('effect') === undefined ? {} : { effect: value('effect')! }),
};
const z = alpha === undefined ? value('z') ?? 2 : zForAlpha(alpha, shape);
const setting = { ...shape, z, minDelta: 0 };
const trials = value('trials') ?? 20_000;
const rows = [0, 0.25, 0.5, 1, 1.5, 2].map((gain) => {
  const c = keptShare(setting, gain, trials);
  return [gain === 0 ? '0 (does nothing)' : String(gain), `${(100 * c.kept).toFixed(1)} %`, c.runs.toFixed(1), String(c.changes)];
});
const text = `{repeats: ${repeats}, ${alpha === undefined ? `z: ${z}` : `alpha: ${alpha} (z ${z})`}, confirm: ${setting.confirm}, maxRuns: ${setting.maxRuns}${setting.effect === undefined ? '' : `, effect: ${setting.effect}`}}`;
console.log(`noise: ${text}, minDelta 0, parent = the baseline's ${repeats} runs (one look: ${(100 * oneLook(z)).toFixed(1)} %)`);
console.log(formatTable(['true gain (spreads)', 'kept', 'runs a change', 'changes'], rows));
