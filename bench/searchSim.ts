// A fast, in-memory check of the search policies for designing them: the real `mutate` proposer, the real policy
// and the real sequential noise rule (src/core/judging/evidence.ts) on the same synthetic shapes as bench:search
// (bench/searchScripts.ts), with the loss computed here instead of by running Python in a git worktree. Minutes of
// bench:search become seconds; bench:search stays the measure that is reported, because only it runs the engine.
// It schedules as the engine does with one slot and `pipeline: 1`: the next proposal is made while an experiment
// runs (the policy told a result is due), a proposal made for the best moves onto a best that appeared meanwhile as
// the same edit, and re-runs are journaled, so the model pools them as the engine's does. Seed for seed it then
// gives the engine's tree (`TRACE=1 npm run bench:search` prints the engine's); SIM_PIPELINE=0 proposes after each
// result instead.
//   npm run bench:search:sim [-- --seeds 50 --k 30 --shape deceptive --trace 3]
//   npm run bench:search:sim -- --agree bench/results/search.json   (seed for seed against a stored engine run)
// For design only, the environment overrides what a session would read from its config: SIM_PATIENCE and SIM_DRAFTS
// (search), SIM_Z, SIM_CONFIRM=0, SIM_MAXRUNS and SIM_EFFECT (noise). SIM_SHIFT=0.5 starts every setting up to half
// a doubling off the grid of doublings that the shapes' optima sit on, for checking that a rule does not merely fit
// that grid.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEARCH } from '../src/core/config.js';
import { pooledSpread, weigh } from '../src/core/judging/evidence.js';
import { parentRunKey, SessionModel } from '../src/core/model.js';
import { maxRuns } from '../src/core/judging/evidence.js';
import { broughtChanges, mergeBase, mergeFiles } from '../src/core/search/merge.js';
import { createPolicy, exhaustedKey, mergeKey, type Choice, type Policy } from '../src/core/search/policy.js';
import { MutateProposer, mulberry32 } from '../src/core/proposers/mutate.js';
import type { ExperimentNode, Operator, PolicyKind, ResearchConfig } from '../src/core/types.js';
import { arg, formatTable, median } from './harness.js';
import { NOISE_SD, OPTIMUM, script, SHAPES, TRUE_VALUES_PY, trueLoss, type Shape } from './searchScripts.js';

export { trueLoss };

// Not src/core/random.ts's gauss: this one draws log(u), not log(1 − u), and the README's simulator figures for the
// noisy shape are from these draws.
function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng() || 1e-12)) * Math.cos(2 * Math.PI * rng());
}

/** A proposal made and not yet run. */
interface Prepared {
  choice: Choice;
  content: string;
  editKey: string;
  description: string;
  mergedFrom?: number;
}

export interface SimResult {
  best: number;
  reachedAt: number | null;
  runs: number;
  kept: number;
  notReal: number;
}

/** The engine's noise settings in the benchmark: `noise: {repeats: 3, z: 2}` (confirm on). */
const NOISE = { repeats: 3, z: Number(process.env.SIM_Z ?? 2), confirm: process.env.SIM_CONFIRM !== '0' };
const MAX_RUNS = Number(process.env.SIM_MAXRUNS ?? maxRuns(NOISE));
/** The engine's default `pipeline: 1`: the next proposal is made while an experiment runs. SIM_PIPELINE=0: after it. */
const PIPELINE = process.env.SIM_PIPELINE !== '0';
/** `noise.effect`: the smallest gain worth finding, in spreads (unset: a change measured no better is turned away). */
const EFFECT = process.env.SIM_EFFECT === undefined ? {} : { effect: Number(process.env.SIM_EFFECT) };
/** SIM_SHIFT=S: every starting value moved by up to S doublings, drawn per seed (the shapes' optima sit on its grid). */
const SHIFT = Number(process.env.SIM_SHIFT ?? 0);

/** The script with its numbers moved off the grid of doublings that the optima sit on, by SHIFT (0: unchanged). */
function offGrid(content: string, seed: number): string {
  if (!SHIFT) return content;
  const rng = mulberry32(seed * 977 + 13);
  return content.replace(/^([A-Z]+) = ([\d.]+)(?=\s+#)/gm, (_, name: string, v: string) => {
    const moved = Number(v) * 2 ** ((2 * rng() - 1) * SHIFT);
    return `${name} = ${Number.isInteger(Number(v)) ? Math.max(1, Math.round(moved)) : Number(moved.toPrecision(3))}`;
  });
}

export async function simulate(shape: Shape, policy: PolicyKind | Policy, seed: number, k: number, dir: string, options: { trace?: boolean; noiseAware?: boolean } = {}): Promise<SimResult> {
  const noiseAware = options.noiseAware ?? false;
  const config = { metric: { name: 'val_loss', direction: 'minimize', pattern: '' }, run: 'python3 train.py', editable: ['train.py'], readonly: [], minDelta: 0, seed, policy: typeof policy === 'string' ? policy : policy.kind, search: { ...DEFAULT_SEARCH, ...(process.env.SIM_PATIENCE ? { patience: Number(process.env.SIM_PATIENCE) } : {}), ...(process.env.SIM_DRAFTS ? { drafts: Number(process.env.SIM_DRAFTS) } : {}) }, noise: null } as unknown as ResearchConfig;
  const model = new SessionModel();
  let seq = 0;
  model.apply({ seq: seq++, type: 'session', tag: 's', config, baseCommit: 'x', baseBranch: null, platform: null, startedAt: '' });
  const contents: string[] = [];
  const truth: number[] = [];
  const samples: number[][] = [];
  const noiseRng = mulberry32(seed * 31 + 7);
  const measure = (c: string) => trueLoss(shape, c) + (NOISE_SD[shape] ? NOISE_SD[shape] * gauss(noiseRng) : 0);
  let runs = 0;
  let kept = 0;
  let notReal = 0;
  const spread = () => pooledSpread(samples.filter(Boolean)).spread;
  /** Journals a node about to run (the engine journals it when a slot starts it). */
  const start = (parent: ExperimentNode | null, operator: Operator, content: string, editKey: string, description: string, mergedFrom?: number): number => {
    const id = model.nextId;
    contents[id] = content;
    truth[id] = trueLoss(shape, content);
    model.apply({ seq: seq++, type: 'node', node: { id, parentId: parent?.id ?? null, ...(mergedFrom === undefined ? {} : { mergedFrom }), operator, commit: 'c', description, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: '' } });
    return id;
  };
  /** Runs a started node, with the re-runs its evidence needs, and decides it. */
  const finish = (id: number): void => {
    const content = contents[id]!;
    const parentId = model.get(id)!.parentId;
    const parent = parentId === null ? null : model.get(parentId)!;
    const got = [measure(content)];
    runs++;
    // Re-runs are journaled as the engine journals them, so the model pools them into each code's estimate.
    const rerun = (of: number, editKey: string, value: number) => {
      const r = model.nextId;
      model.apply({ seq: seq++, type: 'node', node: { id: r, parentId: of, operator: 'rerun', commit: 'c', description: editKey, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: '' } });
      model.apply({ seq: seq++, type: 'decide', id: r, status: 'discard', metric: value, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
    };
    let keep: boolean;
    let metric = got[0]!;
    if (parent === null) {
      keep = true;
      if (noiseAware) for (let i = 1; i < NOISE.repeats; i++, runs++) got.push(measure(content));
      got.slice(1).forEach((v, i) => rerun(id, `noise:0:${i + 1}`, v));
    } else if (!noiseAware) keep = metric < parent.metric!;
    else {
      const p = samples[parent.id]!;
      for (;;) {
        const newBest = got.reduce((a, b) => a + b, 0) / got.length < model.rankValue(model.best!.id)!;
        const v = weigh({ runs: got, parent: { mean: p.reduce((a, b) => a + b, 0) / p.length, runs: p.length }, spread: spread(), z: NOISE.z, minDelta: 0, direction: 'minimize', maxRuns: MAX_RUNS, minRuns: newBest && NOISE.confirm ? 2 : 1, ...EFFECT });
        if (v.action !== 'rerun') {
          keep = v.action === 'keep';
          metric = v.mean;
          break;
        }
        // As the engine (session/runs.ts, rerunSide): the side with fewer runs runs again, the parent while it has
        // fewer than the candidate; its run joins its samples, never its recorded metric.
        if (p.length < got.length) {
          p.push(measure(contents[parent.id]!));
          rerun(parent.id, parentRunKey(parent.id, id, p.length), p.at(-1)!);
        } else {
          got.push(measure(content));
          rerun(id, `confirm:${id}:${got.length - 1}`, got.at(-1)!);
        }
        runs++;
      }
    }
    samples[id] = got;
    if (parent !== null && keep) {
      kept++;
      if (!(truth[id]! < truth[parent.id]!)) notReal++;
    }
    model.apply({ seq: seq++, type: 'decide', id, status: keep ? 'keep' : 'discard', metric, memoryGb: null, secondary: {}, reason: '', decidedBy: 'rule' });
  };
  finish(start(null, 'baseline', offGrid(script(shape), seed), 'baseline', 'baseline'));
  const pol = typeof policy === 'string' ? createPolicy(policy, config.search) : policy;
  const proposer = new MutateProposer({ seed });
  const exhausted = new Set<string>();
  const operators = new Set<Operator>(['draft', 'improve']);
  let reachedAt: number | null = null;
  let decided = 0;
  /**
   * The next proposal, as the engine's preparer makes it: with `running` in flight (its parent busy, the policy told
   * a result is due) when the pipeline is on, else with nothing in flight. 'wait' when the policy waits for the
   * running result; null when nothing is left to try.
   */
  const prepare = async (running: number | null): Promise<Prepared | 'wait' | null> => {
    for (let guard = 0; guard < 100; guard++) {
      const parentOfRunning = running === null ? null : model.get(running)!.parentId;
      const busyParents = new Map<number, number>(parentOfRunning === null ? [] : [[parentOfRunning, 1]]);
      const choice = pol.choose(model, { operators, exhausted, busyParents, resultDue: running !== null });
      if (!choice) return running === null ? null : 'wait';
      const { parent, operator } = choice;
      if (operator === 'merge' && choice.mergeFrom) {
        // The engine's merge (session/proposals.ts), on the one file the shapes have.
        const from = choice.mergeFrom;
        const base = mergeBase(model, parent, from);
        const r = mergeFiles({ 'train.py': { base: contents[base.id]!, ours: contents[parent.id]!, theirs: contents[from.id]! } });
        if ('conflict' in r || r.files['train.py'] == null) {
          exhausted.add(mergeKey(parent.id, from.id));
          continue;
        }
        return { choice, content: r.files['train.py'], editKey: `merge:${from.id}`, description: `merge #${from.id} into #${parent.id}: ${broughtChanges(model, parent, from, base)}`, mergedFrom: from.id };
      }
      writeFileSync(join(dir, 'train.py'), contents[parent.id]!);
      const tried = model.editsFrom(parent.id);
      const p = await proposer.propose({ parent, operator, worktree: dir, history: model.nodes, triedFromParent: tried, notes: null, hint: null, config, platform: null, signal: new AbortController().signal });
      if (!p) {
        exhausted.add(exhaustedKey(parent.id, operator));
        continue;
      }
      return { choice, content: p.files!['train.py']!, editKey: p.editKey, description: p.description };
    }
    return null;
  };
  /**
   * As the engine's Proposals.retarget: a proposal prepared for the best (or any, under greedy) moves onto a best
   * that appeared while it waited, as the same edit (a three-way merge); dropped where the new best has that edit
   * already or the merge conflicts.
   */
  const retarget = (p: Prepared): Prepared | null => {
    const best = model.best!;
    if (!((config.policy === 'greedy' || p.choice.followsBest) && best.id !== p.choice.parent.id)) return p;
    if (model.childrenOf(best.id).some((c) => c.editKey === p.editKey)) return null;
    const r = mergeFiles({ 'train.py': { base: contents[p.choice.parent.id]!, ours: contents[best.id]!, theirs: p.content } });
    if ('conflict' in r || r.files['train.py'] == null) return null;
    return { ...p, choice: { ...p.choice, parent: best, reason: `${p.choice.reason}; re-targeted to #${best.id}` }, content: r.files['train.py'] };
  };
  let next = await prepare(null);
  while (decided < k && next !== null) {
    if (next === 'wait') {
      next = await prepare(null);
      continue;
    }
    const { choice } = next;
    const id = start(choice.parent, choice.operator, next.content, next.editKey, next.description, next.mergedFrom);
    // The preparer proposes the next while this one runs (pipeline: 1), unless the session has its K in hand.
    let following: Prepared | 'wait' | null | undefined = PIPELINE && decided + 1 < k ? await prepare(id) : undefined;
    finish(id);
    decided++;
    const n = model.get(id)!;
    if (options.trace) console.log(`[${samples[n.id]!.length}/${samples[choice.parent.id]!.length}] #${n.id} <- #${choice.parent.id} ${choice.operator} ${n.description}: ${n.metric!.toFixed(3)} (true ${truth[n.id]!.toFixed(3)}) ${n.status} | ${choice.reason}`);
    if (reachedAt === null && n.status === 'keep' && truth[n.id]! <= OPTIMUM * 1.01) reachedAt = decided;
    if (following && following !== 'wait') following = retarget(following);
    next = following && following !== 'wait' ? following : await prepare(null);
  }
  return { best: truth[model.best!.id]!, reachedAt, runs, kept, notReal };
}

/** The TypeScript losses against the Python the real benchmark runs, on random settings of every shape. */
function checkAgainstPython(dir: string): void {
  const rng = mulberry32(12345);
  const cases: { shape: Shape; path: string; content: string }[] = [];
  for (const shape of SHAPES) {
    for (let i = 0; i < 20; i++) {
      let content = script(shape);
      content = content.replace(/^([A-Z]+) = ([\d.]+)(?=\s+#)/gm, (_, name: string, v: string) => `${name} = ${(Number(v) * 2 ** Math.round(rng() * 6 - 3)).toString()}`);
      const path = join(dir, `check-${shape}-${i}.py`);
      writeFileSync(path, content);
      cases.push({ shape, path, content });
    }
  }
  const py = JSON.parse(execFileSync('python3', ['-c', TRUE_VALUES_PY], { input: JSON.stringify(cases.map((c) => c.path)), encoding: 'utf8' })) as number[];
  cases.forEach((c, i) => {
    const ts = trueLoss(c.shape, c.content);
    if (Math.abs(ts - py[i]!) > 1e-6) throw new Error(`searchScripts.ts: the ${c.shape} shape's TypeScript loss ${ts} differs from its Python ${py[i]} for\n${c.content}`);
  });
}

/**
 * Seed for seed against the engine: each noise-free greedy or tree session of a stored `bench:search` run simulated
 * again; prints the sessions whose best differs and how many agree (the noisy shape draws its noise differently).
 */
async function agree(file: string, dir: string): Promise<void> {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { options: { k: number }; sessions: { shape: Shape; searcher: string; seed: number; noiseAware: boolean; bestTrue: number }[] };
  let same = 0;
  let all = 0;
  for (const s of stored.sessions) {
    if ((s.searcher !== 'greedy' && s.searcher !== 'tree') || NOISE_SD[s.shape] > 0) continue;
    const sim = await simulate(s.shape, s.searcher, s.seed, stored.options.k, dir, { noiseAware: s.noiseAware });
    all++;
    if (Math.abs(sim.best - s.bestTrue) < 1e-6) same++;
    else console.log(`${s.shape} ${s.searcher} seed ${s.seed}: engine ${s.bestTrue.toFixed(4)}, simulator ${sim.best.toFixed(4)}`);
  }
  console.log(`the simulator gives the engine's best in ${same} of ${all} noise-free sessions of ${file}`);
}

async function main(): Promise<void> {
  const seeds = arg('seeds', 50);
  const k = arg('k', 30);
  const only = process.argv.includes('--shape') ? process.argv[process.argv.indexOf('--shape') + 1] : null;
  const trace = arg('trace', 0);
  const dir = mkdtempSync(join(tmpdir(), 'ar-sim-'));
  const rows: string[][] = [];
  try {
    checkAgainstPython(dir);
    if (process.argv.includes('--agree')) return await agree(process.argv[process.argv.indexOf('--agree') + 1]!, dir);
    for (const shape of SHAPES.filter((s) => !only || s === only)) {
      for (const noiseAware of shape === 'noisy' ? [false, true] : [false]) {
        let greedy: SimResult[] = [];
        for (const policy of ['greedy', 'tree'] as PolicyKind[]) {
          const rs: SimResult[] = [];
          for (let s = 1; s <= seeds; s++) rs.push(await simulate(shape, policy, s, k, dir, { noiseAware, trace: s <= trace }));
          const kept = rs.reduce((a, r) => a + r.kept, 0);
          const bad = rs.reduce((a, r) => a + r.notReal, 0);
          // Seed for seed against greedy (the same seed draws the same proposals), and the mean of the bests: a median
          // over a tie of two values (the plateau's 1.0000 and 1.0041) can flip on one seed.
          const better = rs.filter((r, i) => policy === 'tree' && r.best < greedy[i]!.best - 1e-9).length;
          const worse = rs.filter((r, i) => policy === 'tree' && r.best > greedy[i]!.best + 1e-9).length;
          rows.push([shape, policy, noiseAware ? 'yes' : '—', median(rs.map((r) => r.best)).toFixed(4), (rs.reduce((a, r) => a + r.best, 0) / seeds).toFixed(4), `${rs.filter((r) => r.reachedAt !== null).length}/${seeds}`, policy === 'tree' ? `${better} / ${seeds - better - worse} / ${worse}` : '', String(median(rs.map((r) => r.runs))), kept ? `${((100 * bad) / kept).toFixed(1)} %` : '—']);
          greedy = rs;
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(formatTable(['shape', 'policy', 'noise-aware', 'median best', 'mean best', 'within 1 %', 'tree better / equal / worse', 'runs', 'kept, not real'], rows));
}

if (process.argv[1]?.endsWith('searchSim.ts')) await main();
