// Early stopping, measured on the real engine: the same seeded stream of changes is run twice, prune off and prune
// on, by a Controller with the local executor, and every run is a real process that prints a learning curve over
// its wall-clock budget. Experiments per hour come from the two sessions' clocks; a stopped run's counterfactual
// (kept had it finished?) from the real judge on the final value its script would have printed.
//
// The population was fixed before anything was measured, and is not tuned to the targets. Each change acts on its
// parent's curve L(p) = floor + (10 − floor)·exp(−p/τ) (p: the share of training done, printed at that share of
// 85 % of the budget), every point times (1 + 0.4 % noise):
//   diverges        15 %  the parent's curve, then it blows up from p ∈ [0.05, 0.6] and prints nan
//   learns slowly   20 %  τ × [1.5, 4],   floor × [1.00, 1.02]
//   slow start      15 %  τ × [1.3, 2.0], floor × [0.96, 0.99]: some of these win late, some do not
//   better          15 %  τ × [0.8, 1.0], floor × [0.985, 0.998]
//   neutral         35 %  τ × [0.9, 1.1], floor × [0.995, 1.02]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PRUNE } from '../src/core/config.js';
import { heldBy, lateWins, type HeldBy } from '../src/core/judging/curves.js';
import { judge } from '../src/core/judging/judge.js';
import type { Proposal, ProposalRequest, Proposer } from '../src/core/proposers/proposer.js';
import { gauss } from '../src/core/random.js';
import type { ExperimentNode, Operator, ResearchConfig } from '../src/core/types.js';
import { benchRepo, type BenchRow, configOrNull, machine, type SessionRun, runSession } from './harness.js';
import { rng } from './webviewData.js';


export interface PruneBenchOptions {
  /** Experiments per session, after the baseline. */
  experiments: number;
  /** Seeds: each one runs prune off and prune on, side by side. */
  seeds: number;
  budgetSeconds: number;
}

export const POINTS = 20;
const START = 10;
const NOISE = 0.004;
export const BASELINE = { floor: 3, tau: 0.15 };

export type Kind = 'diverges' | 'slow' | 'slow start' | 'better' | 'neutral';
const MIX: [Kind, number][] = [['diverges', 0.15], ['slow', 0.2], ['slow start', 0.15], ['better', 0.15], ['neutral', 0.35]];
const RANGES: Record<Exclude<Kind, 'diverges'>, { tau: [number, number]; floor: [number, number] }> = {
  slow: { tau: [1.5, 4], floor: [1, 1.02] },
  'slow start': { tau: [1.3, 2], floor: [0.96, 0.99] },
  better: { tau: [0.8, 1], floor: [0.985, 0.998] },
  neutral: { tau: [0.9, 1.1], floor: [0.995, 1.02] },
};

export type Shape = 'exp' | 'power';

export interface Curve {
  floor: number;
  tau: number;
  /** The printed values, `nan` included; the last one is the final metric. */
  values: string[];
}

/** The training script: prints each value at its share of 85 % of the budget (from its process's start), then the metric. */
function script(kind: string, c: Curve): string {
  return `# curve: kind=${kind} floor=${c.floor} tau=${c.tau}
import os, time
V = [${c.values.map((v) => `"${v}"`).join(', ')}]
B = float(os.environ.get("AUTORESEARCH_BUDGET_SECONDS", "2"))
def started():
    # When this process was started: the interpreter's own start (0.25 s to 0.6 s on a loaded machine) counts too.
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        return time.monotonic() - max(0.0, up - ticks / os.sysconf("SC_CLK_TCK"))
    except Exception:
        return time.monotonic()
T0 = started()
for i, v in enumerate(V):
    time.sleep(max(0.0, T0 + 0.85 * B * (i + 1) / len(V) - time.monotonic()))
    print(f"step {i + 1}: val loss {v}", flush=True)
print(f"val_loss: {V[-1]}")
`;
}

/**
 * `noise`: each point's relative scatter (the benchmark's 0.4 %); `shape`: the benchmark's exponential, or a power law
 * floor + (START − floor)·(1 + 3p/τ)^−0.7 that keeps falling to the end (bench/pruneModel.ts tries both).
 */
export function curve(floor: number, tau: number, r: () => number, diverge?: { at: number; rate: number }, noise = NOISE, shape: Shape = 'exp'): Curve {
  const values: string[] = [];
  for (let i = 1; i <= POINTS; i++) {
    const p = i / POINTS;
    let v = floor + (START - floor) * (shape === 'exp' ? Math.exp(-p / tau) : (1 + (3 * p) / tau) ** -0.7);
    if (diverge && p > diverge.at) v *= Math.exp(diverge.rate * (p - diverge.at));
    v *= 1 + noise * gauss(r);
    values.push(v > 50 || values.at(-1) === 'nan' ? 'nan' : v.toFixed(4));
  }
  return { floor, tau, values };
}

/** One change to a parent's curve, from the stream `r`: the same number of draws whatever it is. */
export function drawChange(parent: { floor: number; tau: number }, r: () => number, noise = NOISE, shape: Shape = 'exp'): { kind: Kind; c: Curve } {
  const u = r();
  let acc = 0;
  const kind = MIX.find(([, w]) => (acc += w) > u)?.[0] ?? 'neutral';
  const a = r();
  const b = r();
  const diverge = { at: 0.05 + 0.55 * r(), rate: 5 + 15 * r() };
  if (kind === 'diverges') return { kind, c: curve(parent.floor, parent.tau, r, diverge, noise, shape) };
  const range = RANGES[kind];
  const lerp = ([lo, hi]: [number, number], t: number) => lo + (hi - lo) * t;
  return { kind, c: curve(Number((parent.floor * lerp(range.floor, a)).toFixed(5)), Number((parent.tau * lerp(range.tau, b)).toFixed(5)), r, undefined, noise, shape) };
}

/**
 * Changes drawn from one seeded stream, each applied to the parent's curve read from its train.py. Every proposal
 * takes the same number of draws, so two sessions with the same seed see the same changes in the same order.
 */
export class CurveProposer implements Proposer {
  readonly kind = 'bench-curves';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
  /**
   * By editKey: what the change was, the final value its run prints when it runs to the end, and the share of the
   * budget at which it first prints nan (null if it never does).
   */
  readonly made = new Map<string, { kind: Kind; final: number; nanAt: number | null }>();
  private readonly r: () => number;
  private count = 0;

  constructor(seed: number) {
    this.r = rng(seed);
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const r = this.r;
    const text = readFileSync(join(req.worktree, 'train.py'), 'utf8');
    const m = /floor=([\d.e-]+) tau=([\d.e-]+)/.exec(text);
    if (!m) throw new Error(`the parent's train.py has no curve line: ${text.slice(0, 80)}`);
    const { kind, c } = drawChange({ floor: Number(m[1]), tau: Number(m[2]) }, r);
    const n = ++this.count;
    const editKey = `train.py:curve ${n}`;
    const nan = c.values.indexOf('nan');
    this.made.set(editKey, { kind, final: Number(c.values.at(-1)), nanAt: nan < 0 ? null : (0.85 * (nan + 1)) / POINTS });
    return { description: `${kind} (${n})`, plan: `A synthetic change: ${kind}.`, editKey, files: { 'train.py': script(kind, c) }, proposer: { kind: this.kind } };
  }

  dispose(): void {
    // Nothing held.
  }
}

function configYaml(tag: string, o: PruneBenchOptions, seed: number, prune: boolean): string {
  return `tag: ${tag}
editable: [train.py]
readonly: []
run: "python3 train.py"
budget: ${o.budgetSeconds}s
metric:
  name: val_loss
  direction: minimize
maxExperiments: ${o.experiments}
proposer: mutate
seed: ${seed}
progress: '^step \\d+: val loss (\\S+)'
prune: ${prune ? 'on' : 'off'}
`;
}

interface SessionFigures {
  experiments: number;
  /** From the first experiment's start to the last decision. */
  wallMs: number;
  stopped: number;
  /** Stopped runs the judge would have kept had they run to the end. */
  wronglyStopped: number;
  wrongKinds: string[];
  /** Why each of those was stopped, as the engine recorded it. */
  wrongReasons: string[];
  /** What the stopped runs were, by kind of change. */
  stoppedKinds: Map<string, number>;
  best: number;
  /**
   * Run time an oracle would have saved in this session: every run that was not kept stopped at the first point any
   * rule may stop it (minFraction of the budget, or its first nan if earlier). Only meaningful with prune off.
   */
  oracleSavedMs: number;
  /** Runs that ran past the budget (a loaded machine): crashes that are not the change's doing. */
  timedOut: number;
  /** Earlier attempts of this session that failed because the baseline ran past the budget. */
  retries: number;
  /** Where each stopped run was stopped, in shares of the budget, by kind of change. */
  stoppedAt: Map<string, number[]>;
  /**
   * The runs that were not kept and ran to the end (with prune on: the ones the rule let go): what held each back at
   * HELD_AT of the budget (see heldBy), by kind of change.
   */
  held: Map<HeldBy, Map<string, number>>;
}

/** Where the runs the rule let finish are asked what held them back: half the budget, well past minFraction. */
const HELD_AT = 0.5;

function figures(run: SessionRun, proposer: CurveProposer, config: ResearchConfig): SessionFigures {
  const isExperiment = (n: ExperimentNode) => n.id !== 0 && n.operator !== 'rerun';
  const starts = run.events.filter((e) => e.event.type === 'run-started' && isExperiment(e.event.node)).map((e) => e.at);
  const decided = run.events.filter((e) => e.event.type === 'experiment' && isExperiment(e.event.node));
  const model = run.outcome.model;
  let stopped = 0;
  const wrongKinds: string[] = [];
  const wrongReasons: string[] = [];
  const stoppedKinds = new Map<string, number>();
  let oracleSavedMs = 0;
  const stoppedAt = new Map<string, number[]>();
  const held = new Map<HeldBy, Map<string, number>>();
  // The late winners this session ended with, as the engine reads them (Runs.lateWins): an account, not a replay.
  const pairs = [];
  for (const n of model.nodes) {
    const p = n?.parentId === null || !n ? undefined : model.get(n.parentId);
    if (n?.status === 'keep' && n.curve && n.metric !== null && p?.curve && p.metric !== null) pairs.push({ child: n.curve, parent: p.curve, childFinal: n.metric, parentFinal: p.metric });
  }
  const late = lateWins(pairs, config.metric.direction);
  for (const n of model.nodes) {
    if (!n || !isExperiment(n) || n.status !== 'discard' || n.reason.startsWith('stopped early') || !n.curve) continue;
    const parentCurve = model.get(n.parentId!)?.curve ?? null;
    const why = heldBy({ curve: n.curve.filter((p) => p[0] <= HELD_AT), parent: parentCurve, direction: config.metric.direction, late, rule: DEFAULT_PRUNE });
    const kind = proposer.made.get(n.editKey)?.kind ?? 'unknown';
    const byKind = held.get(why ?? 'unread') ?? new Map<string, number>();
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    held.set(why ?? 'unread', byKind);
  }
  for (const n of model.nodes) {
    if (n && isExperiment(n) && n.status !== 'keep' && n.wallMs !== null) {
      const nanAt = proposer.made.get(n.editKey)?.nanAt ?? null;
      const stopAt = Math.min(DEFAULT_PRUNE.minFraction, nanAt ?? Infinity) * config.budgetSeconds * 1000;
      oracleSavedMs += Math.max(0, n.wallMs - stopAt);
    }
  }
  for (const n of model.nodes) {
    if (!n || !isExperiment(n) || !n.reason.startsWith('stopped early')) continue;
    stopped++;
    const made = proposer.made.get(n.editKey);
    if (!made) throw new Error(`#${n.id} was not proposed by the benchmark`);
    stoppedKinds.set(made.kind, (stoppedKinds.get(made.kind) ?? 0) + 1);
    const at = /stopped early at (\d+) %/.exec(n.reason);
    if (at) stoppedAt.set(made.kind, [...(stoppedAt.get(made.kind) ?? []), Number(at[1]) / 100]);
    const parentMetric = model.get(n.parentId!)?.metric ?? null;
    const j = judge({
      log: `val_loss: ${made.final}\n`, run: { exitCode: 0, signal: null, timedOut: false, wallMs: n.wallMs ?? 0, logPath: '' }, config, parentMetric,
      isBaseline: false, band: model.noiseBand(), netLines: 0,
    });
    if (j.status === 'keep') {
      wrongKinds.push(made.kind);
      wrongReasons.push(`#${n.id} (${made.kind}, would have ended at ${made.final}): ${n.reason}`);
    }
  }
  return {
    experiments: decided.length, wallMs: decided.at(-1)!.at - Math.min(...starts), stopped, wronglyStopped: wrongKinds.length, wrongKinds, wrongReasons, stoppedKinds,
    best: model.best?.metric ?? NaN, oracleSavedMs, timedOut: model.nodes.filter((n) => n && isExperiment(n) && n.timedOut).length, retries: 0,
    stoppedAt, held,
  };
}

async function session(o: PruneBenchOptions, seed: number, prune: boolean): Promise<SessionFigures> {
  const config = configOrNull(configYaml(`prune-${prune ? 'on' : 'off'}-${seed}`, o, seed, prune));
  if (!config) throw new Error('this engine has no `progress:` or `prune:` key');
  // A baseline that runs past the 2 s budget on a loaded machine fails the session before anything is measured: it is
  // run again from scratch, the same seed, and the rows say how often.
  for (let attempt = 0; ; attempt++) {
    const proposer = new CurveProposer(seed);
    const repo = benchRepo({ 'train.py': script('baseline', curve(BASELINE.floor, BASELINE.tau, rng(seed + 1_000))) });
    try {
      const run = await runSession(repo.root, config, proposer);
      const base = run.outcome.model.baseline;
      if (run.outcome.state === 'failed' && base?.timedOut && attempt < 3) {
        console.error(`  prune ${prune ? 'on ' : 'off'}, seed ${seed}: the baseline ran past the budget (${base.wallMs} ms, load ${machine().loadAverage1m}); again`);
        continue;
      }
      if (run.outcome.state !== 'done') throw new Error(`the prune ${prune ? 'on' : 'off'} session ended ${run.outcome.state}: ${run.outcome.reason}`);
      return { ...figures(run, proposer, config), retries: attempt };
    } finally {
      repo.cleanup();
    }
  }
}

function python(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The early-stopping rows: experiments per hour off and on, their ratio, and the share of stopped runs that were winners. */
export async function pruneRows(o: PruneBenchOptions, log: (line: string) => void = (l) => console.error(l)): Promise<BenchRow[]> {
  const scale = `${o.seeds} × ${o.experiments} experiments, ${o.budgetSeconds} s budget`;
  if (!python()) {
    return [{ id: 'prune.ratio', figure: 'experiments per hour, prune on / off', unit: 'x', median: null, samples: [], target: '≥ 1.50×', pass: null, note: 'n/a (no python3 to run the synthetic trainers)' }];
  }
  const loadBefore = machine().loadAverage1m as number;
  const off: SessionFigures[] = [];
  const on: SessionFigures[] = [];
  for (let seed = 1; seed <= o.seeds; seed++) {
    // Off and on alternate, so a change in the machine's load falls on both.
    for (const prune of seed % 2 ? [false, true] : [true, false]) {
      const f = await session(o, seed, prune);
      (prune ? on : off).push(f);
      log(`  prune ${prune ? 'on ' : 'off'}, seed ${seed}: ${f.experiments} experiments in ${(f.wallMs / 1000).toFixed(1)} s, ${f.stopped} stopped (${[...f.stoppedKinds].map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}; ${f.wronglyStopped} would have been kept: ${f.wrongKinds.join(', ') || 'none'}), best ${f.best.toFixed(4)}`);
      for (const r of f.wrongReasons) log(`    ${r}`);
    }
  }
  const loadAfter = machine().loadAverage1m as number;
  const perHour = (f: SessionFigures) => (f.experiments / f.wallMs) * 3_600_000;
  const total = (fs: SessionFigures[]) => fs.reduce((s, f) => s + f.experiments, 0) / fs.reduce((s, f) => s + f.wallMs, 0) * 3_600_000;
  const ratios = on.map((f, i) => perHour(f) / perHour(off[i]!));
  const ratio = total(on) / total(off);
  // The ceiling: the off sessions again, with every run that was not kept cut where an oracle could first cut it.
  // Keeps are the same, so the tree and the stream of changes would be too.
  const offMs = off.reduce((s, f) => s + f.wallMs, 0);
  const ceiling = offMs / (offMs - off.reduce((s, f) => s + f.oracleSavedMs, 0));
  const ceilings = off.map((f) => f.wallMs / (f.wallMs - f.oracleSavedMs));
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}×`;
  const stopped = on.reduce((s, f) => s + f.stopped, 0);
  const wrong = on.reduce((s, f) => s + f.wronglyStopped, 0);
  const share = stopped ? (wrong / stopped) * 100 : 0;
  const experiments = on.reduce((s, f) => s + f.experiments, 0);
  const mean = (fs: SessionFigures[]) => fs.reduce((s, f) => s + f.best, 0) / fs.length;
  const sum = (fs: SessionFigures[], k: 'timedOut' | 'retries') => fs.reduce((s, f) => s + f[k], 0);
  const late = sum(off, 'timedOut') + sum(on, 'timedOut');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const stoppedAt = new Map<string, number[]>();
  for (const f of on) for (const [k, xs] of f.stoppedAt) stoppedAt.set(k, [...(stoppedAt.get(k) ?? []), ...xs]);
  const allStops = [...stoppedAt.values()].flat();
  const stopsNote = allStops.length ? `; stopped at a median ${pct(median(allStops))} of the budget (${[...stoppedAt].map(([k, xs]) => `${k} ${pct(median(xs))}`).join(', ')})` : '';
  // What held back the runs the rule let finish that were not kept, by reason and kind of change.
  const held = new Map<HeldBy, Map<string, number>>();
  for (const f of on) {
    for (const [why, kinds] of f.held) {
      const into = held.get(why) ?? new Map<string, number>();
      for (const [k, c] of kinds) into.set(k, (into.get(k) ?? 0) + c);
      held.set(why, into);
    }
  }
  const count = (m: Map<string, number> | undefined) => [...(m ?? new Map<string, number>()).values()].reduce((a, b) => a + b, 0);
  const finished = [...held.values()].reduce((a, m) => a + count(m), 0);
  const words: Record<HeldBy, string> = {
    level: 'level with their parent within the noise', margin: 'behind, within the margin only', pace: 'behind by more than the margin, but falling fast enough to reach the parent\'s final',
    'margin and pace': 'behind within the margin, and falling fast enough', once: 'behind at one point only', early: 'before minFraction', unread: 'nothing to compare',
    slower: 'slower per point than their parent, which ended by itself',
  };
  const heldNote = [...held].sort((a, b) => count(b[1]) - count(a[1])).map(([why, kinds]) => `${count(kinds)} ${words[why]} (${[...kinds].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`).join(', ')})`).join('; ');
  const retried = sum(off, 'retries') + sum(on, 'retries');
  const load = `load ${loadBefore} → ${loadAfter}${late ? `; ${late} runs (off ${sum(off, 'timedOut')}, on ${sum(on, 'timedOut')}) ran past the budget under load and count as crashes` : ''}${retried ? `; ${retried} sessions re-run after their baseline did` : ''}`;
  return [
    { id: 'prune.off', figure: `experiments per hour, prune off (${scale})`, unit: '/h', median: total(off), samples: off.map(perHour), target: '', pass: null },
    { id: 'prune.on', figure: 'experiments per hour, prune on (the same changes, side by side)', unit: '/h', median: total(on), samples: on.map(perHour), target: '', pass: null, note: `${stopped} of ${experiments} runs stopped early${stopsNote}` },
    {
      id: 'prune.ratio', figure: 'experiments per hour, prune on / off', unit: 'x', median: ratio, samples: ratios, target: '≥ 1.50×', pass: ratio >= 1.5,
      note: `per seed ${spread(ratios)}; ${Math.round((100 * (ratio - 1)) / Math.max(1e-9, ceiling - 1))} % of the oracle's gain; ${load}`,
    },
    {
      id: 'prune.ceiling', figure: `experiments per hour, an oracle that stops every run not kept at ${Math.round(DEFAULT_PRUNE.minFraction * 100)} % (or its first nan) / off`, unit: 'x',
      median: ceiling, samples: ceilings, target: '', pass: null,
      note: `per seed ${spread(ceilings)}: no rule that waits for ${Math.round(DEFAULT_PRUNE.minFraction * 100)} % does better on this population; ≥ 1.50× is ${ceiling >= 1.5 ? 'not ruled out, but this oracle knows at that point which runs will not be kept, and most of them are still level with their parent or falling fast there (next row)' : 'out of reach here'}`,
    },
    {
      id: 'prune.held', figure: `runs not kept that prune on let finish: level with their parent within the noise at ${Math.round(HELD_AT * 100)} % of the budget`, unit: '%',
      median: finished ? (count(held.get('level')) / finished) * 100 : null, samples: [], target: '', pass: null,
      note: `of ${finished}, at ${Math.round(HELD_AT * 100)} % of the budget: ${heldNote || 'none'}`,
    },
    {
      // Nothing stopped proves nothing: the row passes only on runs that were stopped.
      id: 'prune.wrong', figure: 'stopped runs that would have been kept had they finished', unit: '%', median: stopped ? share : null, samples: on.filter((f) => f.stopped).map((f) => (f.wronglyStopped / f.stopped) * 100),
      target: '≤ 2 %', pass: stopped ? share <= 2 : null, note: `${wrong} of ${stopped}${stopped ? '' : ' (none stopped: nothing to judge)'}; best val_loss reached ${mean(on).toFixed(4)} on vs ${mean(off).toFixed(4)} off; ${load}`,
    },
  ];
}
