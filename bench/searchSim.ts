// A fast, in-memory check of the search policies for designing them: the real `mutate` proposer, the real policy
// and the real sequential noise rule (src/core/judging/evidence.ts) on the same synthetic shapes as bench:search
// (bench/searchScripts.ts), with the loss computed here instead of by running Python in a git worktree. Minutes of
// bench:search become seconds; bench:search stays the measure that is reported, because only it runs the engine.
//   npm run bench:search:sim [-- --seeds 50 --k 30 --shape deceptive --trace 3]
// For design only, the environment overrides what a session would read from its config: SIM_PATIENCE and SIM_DRAFTS
// (search), SIM_Z, SIM_CONFIRM=0 and SIM_MAXRUNS (noise).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEARCH } from '../src/core/config.js';
import { pooledSpread, weigh } from '../src/core/judging/evidence.js';
import { SessionModel } from '../src/core/model.js';
import { maxRuns } from '../src/core/session/decisions.js';
import { mergeBase, mergeFiles } from '../src/core/search/merge.js';
import { createPolicy, exhaustedKey, mergeKey, type Policy } from '../src/core/search/policy.js';
import { MutateProposer, mulberry32 } from '../src/core/proposers/mutate.js';
import type { ExperimentNode, Operator, PolicyKind, ResearchConfig } from '../src/core/types.js';
import { arg, formatTable, median } from './harness.js';
import { NOISE_SD, OPTIMUM, script, SHAPES, TRUE_VALUES_PY, trueLoss, type Shape } from './searchScripts.js';

export { trueLoss };

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng() || 1e-12)) * Math.cos(2 * Math.PI * rng());
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
  const add = (parent: ExperimentNode | null, operator: Operator, content: string, editKey: string, description: string, mergedFrom?: number) => {
    const id = model.nextId;
    contents[id] = content;
    truth[id] = trueLoss(shape, content);
    model.apply({ seq: seq++, type: 'node', node: { id, parentId: parent?.id ?? null, ...(mergedFrom === undefined ? {} : { mergedFrom }), operator, commit: 'c', description, plan: '', editKey, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: '' } });
    const got = [measure(content)];
    runs++;
    let keep: boolean;
    let metric = got[0]!;
    if (parent === null) {
      keep = true;
      if (noiseAware) for (let i = 1; i < NOISE.repeats; i++, runs++) got.push(measure(content));
    } else if (!noiseAware) keep = metric < parent.metric!;
    else {
      const p = samples[parent.id]!;
      for (;;) {
        const newBest = got.reduce((a, b) => a + b, 0) / got.length < model.best!.metric!;
        const v = weigh({ runs: got, parent: { mean: p.reduce((a, b) => a + b, 0) / p.length, runs: p.length }, spread: spread(), z: NOISE.z, minDelta: 0, direction: 'minimize', maxRuns: MAX_RUNS, minRuns: newBest && NOISE.confirm ? 2 : 1 });
        if (v.action !== 'rerun') {
          keep = v.action === 'keep';
          metric = v.mean;
          break;
        }
        // As the engine (session/runs.ts, rerunSide): the side with fewer runs runs again, the parent while it has
        // fewer than the candidate; its run joins its samples, never its recorded metric.
        if (p.length < got.length) p.push(measure(contents[parent.id]!));
        else got.push(measure(content));
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
  add(null, 'baseline', script(shape), 'baseline', 'baseline');
  const pol = typeof policy === 'string' ? createPolicy(policy, config.search) : policy;
  const proposer = new MutateProposer({ seed });
  const exhausted = new Set<string>();
  let reachedAt: number | null = null;
  for (let decided = 0, guard = 0; decided < k && guard < 10 * k; guard++) {
    const choice = pol.choose(model, { operators: new Set<Operator>(['draft', 'improve']), exhausted, busyParents: new Map() });
    if (!choice) break;
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
      add(parent, 'merge', r.files['train.py'], `merge:${from.id}`, `merge #${from.id} into #${parent.id}`, from.id);
    } else {
      writeFileSync(join(dir, 'train.py'), contents[parent.id]!);
      const tried = new Set(model.childrenOf(parent.id).map((c) => c.editKey));
      const p = await proposer.propose({ parent, operator, worktree: dir, history: model.nodes, triedFromParent: tried, notes: null, hint: null, config, platform: null, signal: new AbortController().signal });
      if (!p) {
        exhausted.add(exhaustedKey(parent.id, operator));
        continue;
      }
      add(parent, operator, p.files!['train.py']!, p.editKey, p.description);
    }
    decided++;
    const n = model.get(model.nextId - 1)!;
    if (options.trace) console.log(`#${n.id} <- #${parent.id} ${operator} ${n.description}: ${n.metric!.toFixed(3)} (true ${truth[n.id]!.toFixed(3)}) ${n.status} | ${choice.reason}`);
    if (reachedAt === null && n.status === 'keep' && truth[n.id]! <= OPTIMUM * 1.01) reachedAt = decided;
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

async function main(): Promise<void> {
  const seeds = arg('seeds', 50);
  const k = arg('k', 30);
  const only = process.argv.includes('--shape') ? process.argv[process.argv.indexOf('--shape') + 1] : null;
  const trace = arg('trace', 0);
  const dir = mkdtempSync(join(tmpdir(), 'ar-sim-'));
  const rows: string[][] = [];
  try {
    checkAgainstPython(dir);
    for (const shape of SHAPES.filter((s) => !only || s === only)) {
      for (const noiseAware of shape === 'noisy' ? [false, true] : [false]) {
        for (const policy of ['greedy', 'tree'] as PolicyKind[]) {
          const rs: SimResult[] = [];
          for (let s = 1; s <= seeds; s++) rs.push(await simulate(shape, policy, s, k, dir, { noiseAware, trace: s <= trace }));
          const kept = rs.reduce((a, r) => a + r.kept, 0);
          const bad = rs.reduce((a, r) => a + r.notReal, 0);
          rows.push([shape, policy, noiseAware ? 'yes' : '—', median(rs.map((r) => r.best)).toFixed(4), `${rs.filter((r) => r.reachedAt !== null).length}/${seeds}`, String(median(rs.map((r) => r.runs))), kept ? `${((100 * bad) / kept).toFixed(1)} %` : '—']);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(formatTable(['shape', 'policy', 'noise-aware', 'median best', 'within 1 %', 'runs', 'kept, not real'], rows));
}

if (process.argv[1]?.endsWith('searchSim.ts')) await main();
