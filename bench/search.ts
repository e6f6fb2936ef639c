// Benchmark of the search: how good a result each policy finds in K experiments on synthetic training scripts
// whose optimum is known (bench/searchScripts.ts), over many seeds, and on a noisy script how many of the changes
// it kept were only noise, with and without noise-aware decisions. Prints a table and writes
// bench/results/search.json.
//   npm run bench:search [-- --full | --seeds 5 --k 30 --jobs 2]     (--full: the 10-seed table the README reports)
//   npm run bench:search -- --from bench/results/search.json    (the table again from stored sessions)
//   npm run bench:search -- --full --k 60 --shapes smooth,deceptive,merge,ridge --policies greedy,tree
//     (longer sessions, written to bench/results/search-k60.json beside the K = 30 table; `--out F` names the file
//     in bench/results; `--from` a file of a few shapes or policies needs the same --shapes and --policies)
//   TRACE=1 npm run bench:search -- --seed 10 --shapes merge --policies tree   (one seed's sessions, node by node)
//   npm run bench:search -- --full --shapes noisy --policies greedy,tree --noise '{repeats: 3, maxRuns: 24, effect: 1}'
//     (the noise-aware sessions with another `noise:`; the default is `{repeats: 3, z: 2}`)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProposer } from '../src/core/factory.js';
import type { Proposal, ProposalRequest, Proposer } from '../src/core/proposers/proposer.js';
import { formatFloat, mulberry32, parseHyperparameters, type Hyperparameter } from '../src/core/proposers/mutate.js';
import type { ExperimentNode, Operator, ResearchConfig } from '../src/core/types.js';
import { arg, benchRepo, configOrNull, formatTable, machine, median, runSession } from './harness.js';
import { NOISE_SD, OPTIMUM, script, SHAPE_TEXT, SHAPES, TRUE_VALUES_PY, type Shape } from './searchScripts.js';

type Searcher = 'greedy' | 'tree' | 'random';

/**
 * The random-search baseline: every proposal draws every hyperparameter afresh, uniformly within its
 * `# range:` (log-uniform when the range spans more than a decade and a half) or among its `# choices:`,
 * whatever the parent was. Run under the greedy policy, its best node is the best of all its draws.
 */
export class RandomSearchProposer implements Proposer {
  readonly kind = 'random';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
  private readonly rng: () => number;

  constructor(seed: number, private readonly file = 'train.py') {
    this.rng = mulberry32(seed * 7919 + 104_729);
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const content = readFileSync(join(req.worktree, this.file), 'utf8');
    const params = parseHyperparameters(this.file, content).filter((p) => p.choices || p.range);
    let out = content;
    const values: string[] = [];
    // From the end of the file backwards, so each edit leaves the earlier offsets valid.
    for (const p of [...params].sort((a, b) => b.start - a.start)) {
      const v = this.sample(p);
      out = out.slice(0, p.start) + v + out.slice(p.end);
      values.unshift(`${p.name}=${v}`);
    }
    return {
      description: `random: ${values.join(' ')}`,
      plan: 'Fresh random values for every hyperparameter, independent of the parent (random-search baseline).',
      editKey: `random:${values.join(',')}`,
      files: { [this.file]: out },
      proposer: { kind: this.kind },
    };
  }

  private sample(p: Hyperparameter): string {
    if (p.choices) return p.choices[Math.floor(this.rng() * p.choices.length)]!;
    const [lo, hi] = p.range!;
    const u = this.rng();
    const v = lo > 0 && hi / lo >= 30 ? Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))) : lo + u * (hi - lo);
    return p.kind === 'int' ? String(Math.min(hi, Math.max(lo, Math.round(v)))) : formatFloat(v, p.text);
  }

  dispose(): void {
    // Nothing held.
  }
}

interface Spec {
  shape: Shape;
  searcher: Searcher;
  noiseAware: boolean;
  seed: number;
}

interface SessionResult extends Spec {
  /** Experiments decided (not counting the baseline and the engine's noise measurements). */
  experiments: number;
  /** Every run, the baseline and noise measurements included. */
  runs: number;
  /** True (noise-free) value of the node the session calls best. */
  bestTrue: number;
  /** What the session itself believed its best measured. */
  bestMeasured: number;
  /** Experiments until the first kept node within 1 % of the optimum; null when none was. */
  reachedAt: number | null;
  kept: number;
  /** Kept changes whose true value is no better than their parent's. */
  notHoldingUp: number;
  seconds: number;
  state: string;
}

const trueCache = new Map<string, number>();

/** `--pipeline N`: the config's pipeline for every session (default: the engine's). */
const PIPELINE = process.argv.includes('--pipeline') ? Number(process.argv[process.argv.indexOf('--pipeline') + 1]) : null;

/** `--shapes a,b`: only these shapes. */
const ONLY = process.argv.includes('--shapes') ? new Set(process.argv[process.argv.indexOf('--shapes') + 1]!.split(',')) : null;

/** `--noise '{repeats: 3, maxRuns: 24, effect: 1}'`: the noise-aware sessions' `noise:` (default `{repeats: 3, z: 2}`). */
const NOISE = process.argv.includes('--noise') ? process.argv[process.argv.indexOf('--noise') + 1]! : '{repeats: 3, z: 2}';

/** `--policies greedy,tree`: only these searchers (random search is the floor, and the slowest to leave out of a long run). */
const POLICIES = process.argv.includes('--policies') ? new Set(process.argv[process.argv.indexOf('--policies') + 1]!.split(',')) : null;

/** True values of the nodes' code: one `git cat-file --batch` for the contents, one Python process for the values. */
function trueValues(root: string, nodes: readonly ExperimentNode[]): Map<number, number> {
  const withCode = nodes.filter((n) => n.commit);
  const raw = execFileSync('git', ['cat-file', '--batch'], { cwd: root, input: withCode.map((n) => `${n.commit}:train.py`).join('\n') + '\n', maxBuffer: 64 * 1024 * 1024 });
  const contents: string[] = [];
  let at = 0;
  for (let i = 0; i < withCode.length; i++) {
    const nl = raw.indexOf(10, at);
    const size = Number(raw.subarray(at, nl).toString().split(' ')[2]);
    contents.push(raw.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    at = nl + 1 + size + 1;
  }
  const todo = [...new Set(contents.filter((c) => !trueCache.has(c)))];
  if (todo.length) {
    const dir = mkdtempSync(join(tmpdir(), 'ar-true-'));
    try {
      const paths = todo.map((c, i) => {
        const p = join(dir, `v${i}.py`);
        writeFileSync(p, c);
        return p;
      });
      const values = JSON.parse(execFileSync('python3', ['-S', '-c', TRUE_VALUES_PY], { input: JSON.stringify(paths), encoding: 'utf8' })) as number[];
      todo.forEach((c, i) => trueCache.set(c, values[i]!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return new Map(withCode.map((n, i) => [n.id, trueCache.get(contents[i]!)!]));
}

function configFor(spec: Spec, k: number): ResearchConfig | null {
  return configOrNull(`tag: s${spec.seed}
editable: [train.py]
readonly: []
run: "BENCH_SEED=${spec.seed} python3 -S train.py"
budget: 30s
metric:
  name: val_loss
  direction: minimize
maxExperiments: ${k}
proposer: mutate
policy: ${spec.searcher === 'tree' ? 'tree' : 'greedy'}
seed: ${spec.seed}
${PIPELINE === null ? '' : `pipeline: ${PIPELINE}\n`}${spec.noiseAware ? `noise: ${NOISE}\n` : ''}`);
}

async function runOne(spec: Spec, k: number): Promise<SessionResult | null> {
  const config = configFor(spec, k);
  if (!config) return null;
  const repo = benchRepo({ 'train.py': script(spec.shape) });
  const t0 = Date.now();
  try {
    let proposer: Proposer;
    if (spec.searcher === 'random') {
      config.proposer = { kind: 'random' };
      proposer = new RandomSearchProposer(spec.seed);
    } else proposer = createProposer(config, repo.root);
    const { outcome } = await runSession(repo.root, config, proposer);
    const nodes = outcome.model.nodes.filter(Boolean);
    if (process.env.TRACE) for (const n of nodes) console.error(`#${n.id} <- #${n.parentId}${n.mergedFrom !== undefined ? '+' + n.mergedFrom : ''} ${n.operator} ${n.description}: ${n.metric} ${n.status} | ${n.policyReason}`);
    const truth = trueValues(repo.root, nodes);
    // Re-runs in a benchmark session are the engine's own noise measurements (baseline repeats, confirmations).
    const experiments = nodes.filter((n) => n.id !== 0 && n.operator !== 'rerun' && n.decidedBy !== null);
    let reachedAt: number | null = null;
    let kept = 0;
    let notHoldingUp = 0;
    experiments.forEach((n, i) => {
      if (n.status !== 'keep') return;
      kept++;
      const t = truth.get(n.id)!;
      if (!(t < truth.get(n.parentId!)!)) notHoldingUp++;
      if (reachedAt === null && t <= OPTIMUM * 1.01) reachedAt = i + 1;
    });
    const best = outcome.model.best!;
    return {
      ...spec, experiments: experiments.length, runs: nodes.length, bestTrue: truth.get(best.id)!, bestMeasured: best.metric!,
      reachedAt, kept, notHoldingUp, seconds: (Date.now() - t0) / 1000, state: outcome.state,
    };
  } finally {
    repo.cleanup();
  }
}

/** Runs `tasks` at most `jobs` at a time, in order. */
async function pool<T>(tasks: (() => Promise<T>)[], jobs: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }));
  return out;
}

const CONFIGS: Omit<Spec, 'seed'>[] = [];
for (const shape of SHAPES.filter((sh) => !ONLY || ONLY.has(sh))) {
  for (const searcher of ['greedy', 'tree', 'random'] as const) {
    if (POLICIES && !POLICIES.has(searcher)) continue;
    CONFIGS.push({ shape, searcher, noiseAware: false });
    // Random search ignores what it measured: noise-aware decisions change nothing for it.
    if (shape === 'noisy' && searcher !== 'random') CONFIGS.push({ shape, searcher, noiseAware: true });
  }
}

/** The q-quantile of the values (linear between the nearest two). */
function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}

interface Meta {
  started: string;
  seconds: number;
  machine: Record<string, unknown>;
  options: { seeds: number; k: number; jobs: number; noiseSupported: boolean } & Record<string, unknown>;
}

/** The table and the JSON from the sessions' results: per configuration, medians over seeds and pooled counts. */
function report(meta: Meta, sessions: readonly SessionResult[]): void {
  const rows: string[][] = [];
  const summary = CONFIGS.map((c) => {
    const rs = sessions.filter((r) => r.shape === c.shape && r.searcher === c.searcher && r.noiseAware === c.noiseAware);
    const label = [c.shape, c.searcher === 'random' ? 'random search' : c.searcher, c.shape === 'noisy' ? (c.noiseAware ? 'yes' : 'no') : '—'];
    if (!rs.length) {
      rows.push([...label, 'n/a (feature not built)', '', '', '', '', '']);
      return { ...c, seeds: 0 };
    }
    const reachedAt = rs.map((r) => r.reachedAt).filter((v): v is number => v !== null);
    const kept = rs.reduce((a, r) => a + r.kept, 0);
    const bad = rs.reduce((a, r) => a + r.notHoldingUp, 0);
    const s = {
      ...c, seeds: rs.length, medianBest: median(rs.map((r) => r.bestTrue)), reachedWithin1Pct: reachedAt.length,
      medianExperimentsToWithin1PctOfThoseThatGotThere: reachedAt.length ? median(reachedAt) : null,
      medianExperiments: median(rs.map((r) => r.experiments)), medianRuns: median(rs.map((r) => r.runs)),
      kept, keptNotHoldingUp: bad, shareNotHoldingUp: kept ? bad / kept : null,
    };
    const bests = rs.map((r) => r.bestTrue);
    rows.push([...label, s.medianBest.toFixed(4), `${quantile(bests, 0.25).toFixed(4)}–${quantile(bests, 0.75).toFixed(4)}`, `${reachedAt.length}/${rs.length}`, reachedAt.length ? String(median(reachedAt)) : 'not reached',
      `${s.medianExperiments}/${s.medianRuns}`, c.shape === 'noisy' ? (kept ? `${((100 * bad) / kept).toFixed(0)} % (${bad}/${kept})` : '— (0 kept)') : '—']);
    return s;
  });
  const { seeds, k } = meta.options;
  const table = formatTable(['shape', 'policy', 'noise-aware', 'median best', 'middle half', 'within 1 %', 'exps to 1 %', 'exps/runs', 'kept, not real'], rows);
  console.log(`\nAutoResearch search benchmark — optimum ${OPTIMUM.toFixed(4)} (lower is better), K = ${k} experiments, ${seeds} seeds, `
    + `noisy σ = ${NOISE_SD.noisy}; ${meta.machine.cpus} cores, ${meta.seconds} s\n`);
  console.log(table);
  console.log(`\n${pairedTable(sessions)}`);
  console.log(`\nshapes:\n${SHAPES.map((sh) => `  ${sh}: ${SHAPE_TEXT[sh]}`).join('\n')}`);
  console.log('\nmedian best: true (noise-free) value of the node each session calls best, median over seeds. within 1 %: seeds in which a kept'
    + ' node came within 1 % of the optimum; exps to 1 %: the median number of experiments it took them. exps/runs: medians; runs add the'
    + ' baseline and noise measurements. middle half: the 25th to 75th percentile of the seeds\' best. kept, not real: kept changes whose true value is no better than their parent\'s, all seeds.');
  if (!meta.options.noiseSupported) console.log('noise-aware decisions: n/a (feature not built in this engine)');
  mkdirSync(join('bench', 'results'), { recursive: true });
  // K = 30 is the table the README reports first; a longer session (`--k 60`) is stored beside it, not over it, and a
  // run of a few shapes where `--out` says.
  const out = process.argv.indexOf('--out');
  const file = out >= 0 ? process.argv[out + 1]! : k === 30 ? 'search.json' : `search-k${k}.json`;
  writeFileSync(join('bench', 'results', file), JSON.stringify({ benchmark: 'search', ...meta, summary, sessions }, null, 2) + '\n');
  console.log(`written: bench/results/${file}`);
}

/** Tree against greedy seed by seed (the same seed is the same proposer's draws): which found the better best. */
function pairedTable(sessions: readonly SessionResult[]): string {
  const rows: string[][] = [];
  for (const shape of SHAPES) {
    for (const noiseAware of shape === 'noisy' ? [false, true] : [false]) {
      const of = (searcher: Searcher) => new Map(sessions.filter((r) => r.shape === shape && r.searcher === searcher && r.noiseAware === noiseAware).map((r) => [r.seed, r.bestTrue]));
      const tree = of('tree');
      const greedy = of('greedy');
      const seeds = [...tree.keys()].filter((s) => greedy.has(s));
      if (!seeds.length) continue;
      const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9;
      const better = seeds.filter((s) => !same(tree.get(s)!, greedy.get(s)!) && tree.get(s)! < greedy.get(s)!).length;
      const worse = seeds.filter((s) => !same(tree.get(s)!, greedy.get(s)!) && tree.get(s)! > greedy.get(s)!).length;
      const ratio = median(seeds.map((s) => tree.get(s)! / greedy.get(s)!));
      rows.push([shape, noiseAware ? 'yes' : '—', `${better} / ${seeds.length - better - worse} / ${worse}`, ratio.toFixed(4)]);
    }
  }
  return `tree against greedy, seed by seed\n${formatTable(['shape', 'noise-aware', 'tree better / equal / worse', 'median ratio of bests (< 1: tree better)'], rows)}`;
}

async function main(): Promise<void> {
  const from = process.argv.indexOf('--from');
  if (from >= 0) {
    // Re-summarizes stored sessions (after a change to the table) without running them again.
    const stored = JSON.parse(readFileSync(process.argv[from + 1]!, 'utf8')) as Meta & { sessions: SessionResult[] };
    report({ started: stored.started, seconds: stored.seconds, machine: stored.machine, options: stored.options }, stored.sessions);
    return;
  }
  const SEEDS = process.argv.includes('--full') ? 10 : arg('seeds', 5);
  const K = arg('k', 30);
  const JOBS = arg('jobs', 2);
  const started = new Date();
  const machineBefore = machine();
  const noiseSupported = configFor({ shape: 'noisy', searcher: 'greedy', noiseAware: true, seed: 1 }, K) !== null;
  const specs: Spec[] = [];
  // Seed-major order: a run cut short still has every configuration on its first seeds.
  // `--seed N`: that seed alone (with TRACE=1, to read one session node by node).
  const only = process.argv.includes('--seed') ? arg('seed', 1) : null;
  for (let seed = only ?? 1; seed <= (only ?? SEEDS); seed++) for (const c of CONFIGS) specs.push({ ...c, seed });
  console.error(`search benchmark: ${CONFIGS.length} configurations × ${SEEDS} seeds, K = ${K}, ${JOBS} at a time, on ${machineBefore.cpus} cores`);
  let done = 0;
  const results = await pool(specs.map((s) => async () => {
    const r = await runOne(s, K);
    done++;
    if (r) console.error(`  [${done}/${specs.length}] ${s.shape} ${s.searcher}${s.noiseAware ? ' noise-aware' : ''} seed ${s.seed}: best ${r.bestTrue.toFixed(4)}, ${r.experiments} experiments, ${r.runs} runs, ${r.seconds.toFixed(1)} s`);
    return r;
  }), JOBS);
  report({
    started: started.toISOString(), seconds: Math.round((Date.now() - started.getTime()) / 1000), machine: { ...machineBefore, loadAverage1mAtEnd: machine().loadAverage1m },
    options: { seeds: SEEDS, k: K, jobs: JOBS, optimum: OPTIMUM, noiseSd: NOISE_SD, within: 0.01, noise: NOISE, noiseSupported },
  }, results.filter((r): r is SessionResult => r !== null));
}

await main();
