// An offline model of `npm run bench -- --prune-only` (issue 13): the same population of changes (bench/prune.ts's
// drawChange) and the same rule (pruneVerdict), without processes, so a rule is tried on a hundred sessions in a
// second instead of one in a minute. It is a model, not the benchmark: the parent is the best, or another kept node
// after 4 failures of the best in a row (the tree policy's exploitation); a run's points are on the engine's clock (a
// start-up of 1 to 5 % of the budget); 8.5 % of a budget passes between experiments (the engine, the proposer, python's
// start at a 2 s budget). Its figures for the rule match the benchmark's (1.09× vs 1.10–1.13×, oracle 2.02× vs 1.97–1.99×).
//
//   node --import tsx bench/pruneModel.ts [--seeds 100] [--experiments 24] [--noise 0.004] [--power] [--fit Z] [--spare-at F]
//
// Beside the oracle it gives what an oracle reaches that never stops a neutral change (τ × 0.9–1.1 and floor ×
// 0.995–1.02 of its parent's) before F of the budget (default: never) and stops every other run not kept at
// minFraction: the most any rule can give that cannot tell a neutral change's end from its parent's before F.
//
// --noise 0: curves without scatter (what the rule loses to noise). --power: power-law curves that keep falling to
// the end of the budget, as fixed-budget training does, instead of the benchmark's exponentials that level off. --fit Z: instead of the rule, a reference that
// knows the benchmark's family (floor + A·exp(−f/τ), 0.4 % scatter, the end of training) and fits it to the points so
// far, stopping (at two points in a row) where even the most hopeful fit within Z standard errors ends worse than
// the parent by Z noise SDs: more than any rule that does not know the family could do safely. It fits exponentials
// whatever --power says: with --power it shows what such an assumption costs when the curves are not of its family.
import { compact, type CurvePoint, DEFAULT_PRUNE, lateWins, type LateWin, pruneVerdict } from '../src/core/judging/curves.js';
import { BASELINE, type Curve, curve, drawChange, POINTS, type Shape } from './prune.js';
import { rng } from './webviewData.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SEEDS = arg('seeds', 100);
const EXPERIMENTS = arg('experiments', 24);
const NOISE = arg('noise', 0.004);
const FIT = arg('fit', 0);
const SPARE_AT = arg('spare-at', Infinity);
const SHAPE: Shape = process.argv.includes('--power') ? 'power' : 'exp';
/** Between experiments, in budgets. */
const GAP = 0.085;

interface Node { floor: number; tau: number; curve: CurvePoint[]; final: number; kept: boolean; parent: number }

/** The family-aware reference (--fit): see the head of this file. */
function fitSaysStop(points: readonly CurvePoint[], parentFinal: number, end: number, z: number): boolean {
  if (points.some((p) => !Number.isFinite(p[1]))) return true;
  if (points.length < 4) return false;
  let least = Infinity;
  const fits: { chi2: number; low: number }[] = [];
  for (let lt = Math.log(0.02); lt <= Math.log(5); lt += 0.03) {
    const tau = Math.exp(lt);
    // Weighted least squares of v = a + b·x, x = exp(−f/τ), each point weighed by its scatter (relative to it).
    let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const [f, v] of points) {
      const w = 1 / (NOISE * v) ** 2;
      const x = Math.exp(-f / tau);
      sw += w; sx += w * x; sy += w * v; sxx += w * x * x; sxy += w * x * v;
    }
    const det = sw * sxx - sx * sx;
    if (!(det > 0)) continue;
    const a = (sxx * sy - sx * sxy) / det;
    const b = (sw * sxy - sx * sy) / det;
    let chi2 = 0;
    for (const [f, v] of points) chi2 += (v - a - b * Math.exp(-f / tau)) ** 2 / (NOISE * v) ** 2;
    const xe = Math.exp(-end / tau);
    fits.push({ chi2, low: a + b * xe - z * Math.sqrt((sxx - 2 * xe * sx + xe * xe * sw) / det) });
    least = Math.min(least, chi2);
  }
  const low = Math.min(...fits.filter((f) => f.chi2 <= least + z * z).map((f) => f.low));
  return low - parentFinal > z * NOISE * low;
}

interface Tally { stopped: number; wrong: number; at: Map<string, number[]> }

/** One session of EXPERIMENTS changes; returns its time in budgets, and the oracles' (prune off only). */
function session(seed: number, prune: boolean, tally: Tally): { time: number; oracle: number; spared: number } {
  const r = rng(seed);
  const clock = rng(seed * 7919 + 1);
  const choose = rng(seed * 104_729 + 3);
  // Each point printed at its share of 85 % of the budget after a start-up, as the engine's clock reads it.
  const read = (c: Curve): CurvePoint[] => {
    const start = 0.01 + 0.04 * clock();
    return c.values.map((v, i): CurvePoint => [Math.round((start + (0.85 * (i + 1)) / POINTS + 0.005 * clock()) * 1e4) / 1e4, Number(v)]);
  };
  const base = curve(BASELINE.floor, BASELINE.tau, rng(seed + 1_000), undefined, NOISE, SHAPE);
  const nodes: Node[] = [{ ...BASELINE, curve: read(base), final: Number(base.values.at(-1)), kept: true, parent: -1 }];
  let best = 0;
  let fails = 0;
  let time = 0;
  let oracle = 0;
  let spared = 0;
  for (let k = 1; k <= EXPERIMENTS; k++) {
    const kept = nodes.flatMap((n, i) => (n.kept ? [i] : []));
    const parentId = fails < 4 || kept.length === 1 ? best : kept[Math.floor(choose() * kept.length)]!;
    const parent = nodes[parentId]!;
    const { kind, c } = drawChange(parent, r, NOISE, SHAPE);
    const points = read(c);
    const final = Number(c.values.at(-1));
    const wins = Number.isFinite(final) && final < parent.final;
    let stoppedAt: number | null = null;
    if (prune) {
      const late: LateWin[] = lateWins(nodes.filter((n) => n.kept && n.parent >= 0).map((n) => ({ child: n.curve, parent: nodes[n.parent]!.curve, childFinal: n.final, parentFinal: nodes[n.parent]!.final })), 'minimize');
      for (let i = 1; i <= points.length && stoppedAt === null; i++) {
        const at = points[i - 1]![0];
        const stop = FIT
          ? at >= DEFAULT_PRUNE.minFraction && fitSaysStop(points.slice(0, i), parent.final, points.at(-1)![0], FIT) && fitSaysStop(points.slice(0, i - 1), parent.final, points.at(-1)![0], FIT)
          : pruneVerdict({ curve: points.slice(0, i), parent: parent.curve, direction: 'minimize', late }) !== null;
        if (stop) stoppedAt = at;
      }
      if (stoppedAt !== null) {
        tally.stopped++;
        if (wins) tally.wrong++;
        tally.at.set(kind, [...(tally.at.get(kind) ?? []), stoppedAt]);
      }
    }
    const wall = stoppedAt ?? points.at(-1)![0] + 0.01;
    time += wall + GAP;
    const isKept = stoppedAt === null && wins;
    // The benchmark's oracle: every run not kept cut at minFraction, or at its first nan.
    const nan = c.values.indexOf('nan');
    const cut = Math.min(DEFAULT_PRUNE.minFraction, nan < 0 ? Infinity : (0.85 * (nan + 1)) / POINTS);
    oracle += (isKept ? wall : cut) + GAP;
    // The oracle that spares neutral changes until SPARE_AT.
    spared += (isKept ? wall : kind === 'neutral' ? Math.min(wall, SPARE_AT) : cut) + GAP;
    nodes.push({ floor: c.floor, tau: c.tau, curve: stoppedAt === null ? compact(points) : points.filter((p) => p[0] <= stoppedAt!), final, kept: isKept, parent: parentId });
    if (isKept && final < nodes[best]!.final) {
      best = nodes.length - 1;
      fails = 0;
    } else if (!isKept && parentId === best) fails++;
  }
  return { time, oracle, spared };
}

const tally: Tally = { stopped: 0, wrong: 0, at: new Map() };
let off = 0;
let on = 0;
let oracle = 0;
let spared = 0;
for (let seed = 1; seed <= SEEDS; seed++) {
  const o = session(seed, false, { stopped: 0, wrong: 0, at: new Map() });
  off += o.time;
  oracle += o.oracle;
  spared += o.spared;
  on += session(seed, true, tally).time;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${Math.round(x * 100)} %`;
console.log(`${SEEDS} seeds × ${EXPERIMENTS} experiments, ${SHAPE === 'exp' ? 'exponential' : 'power-law'} curves, noise ${NOISE}${FIT ? `, the family-aware reference at z ${FIT}` : ', the rule'}:`);
console.log(`  experiments per hour on / off ${(off / on).toFixed(3)}×; the oracle ${(off / oracle).toFixed(3)}×; ${Math.round((100 * (off / on - 1)) / (off / oracle - 1))} % of its gain`);
console.log(`  an oracle that stops no neutral change ${SPARE_AT < 1 ? `before ${pct(SPARE_AT)} of the budget` : 'at all'} ${(off / spared).toFixed(3)}×`);
console.log(`  stopped ${tally.stopped}, of which would have been kept ${tally.wrong} (${((100 * tally.wrong) / Math.max(1, tally.stopped)).toFixed(2)} %)`);
console.log(`  stopped at a median ${pct(median([...tally.at.values()].flat()))} of the budget: ${[...tally.at].map(([k, xs]) => `${k} ${xs.length} at ${pct(median(xs))}`).join(', ')}`);
