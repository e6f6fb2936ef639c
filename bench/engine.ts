// Benchmark of the research engine itself, every figure measured side by side in one run: its own overhead per
// experiment as the session grows, how busy it keeps the accelerator, how throughput scales with slots, how fast a
// big session loads, and how much memory it takes. Prints one table and writes it to bench/results/engine.json.
//   npm run bench [-- --rounds 3 --experiments 12 --repeats 3 --load-repeats 7 --prune-experiments 24 --prune-seeds 3 --prune-budget 2]
//   npm run bench -- --sandbox-only | --prune-only   (one group of rows alone; nothing written)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Journal } from '../src/core/record/journal.js';
import { SessionModel } from '../src/core/model.js';
import { loadSession } from '../src/core/offline.js';
import { parseResults } from '../src/core/record/results.js';
import { sessionPaths } from '../src/core/record/store.js';
import { fileSnapshot, sessionDto, sessionNodes } from '../src/core/report/snapshot.js';
import { arg, benchRepo, type BenchRow, configOrNull, dutyCycle, FixedCostProposer, formatTable, machine, median, runSession, sleep } from './harness.js';
import { buildSession, type SyntheticSession } from './synthetic.js';
import { pruneRows, type PruneBenchOptions } from './prune.js';
import { LocalExecutor } from '../src/core/executors/localExecutor.js';
import { DEFAULT_SANDBOX } from '../src/core/config.js';
import { probeSandbox, sandboxArgs } from '../src/core/protection/sandbox.js';
import { NetworkGate } from '../src/core/protection/networkGate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const TRAIN = 'X = 0\n';

function configYaml(o: { tag: string; run: string; max: number | 'unlimited'; policy?: 'tree' | 'greedy'; extra?: string }): string {
  return `tag: ${o.tag}
editable: [train.py]
readonly: []
run: ${JSON.stringify(o.run)}
budget: 60s
metric:
  name: val_loss
  direction: minimize
maxExperiments: ${o.max}
proposer: mutate
policy: ${o.policy ?? 'tree'}
seed: 1
${o.extra ?? ''}`;
}

/** The config a benchmark needs; throws for plain keys, returns null for a key this engine does not have yet. */
function config(o: Parameters<typeof configYaml>[0]) {
  return configOrNull(configYaml(o));
}

type Row = BenchRow;

const rows: Row[] = [];
function row(r: Row): void {
  rows.push(r);
  const v = r.median === null ? 'n/a' : fmt(r.median, r.unit);
  console.error(`  ${r.figure}: ${v}${r.note ? ` (${r.note})` : ''}`);
}

function fmt(v: number, unit: string): string {
  if (unit === 'ms') return `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
  if (unit === 'x') return `${v.toFixed(2)}×`;
  if (unit === 'MB') return `${v.toFixed(0)} MB`;
  if (unit === '/h') return `${v.toFixed(0)}/h`;
  if (unit === '%') return `${v.toFixed(1)} %`;
  return v.toFixed(2);
}

// ---- a. overhead per experiment ---------------------------------------------------------------------------

/** Resumes the session for `count` more experiments with a no-op run and an instant proposer; returns cycle minus run time per experiment. */
async function overheadRound(s: SyntheticSession, count: number): Promise<number[]> {
  const decided = loadSession(s.repo.root, s.tag).model.decidedCount;
  const cfg = config({ tag: s.tag, run: 'echo val_loss: 9', max: decided + count, extra: pipelineOff })!;
  const { events, outcome } = await runSession(s.repo.root, cfg, new FixedCostProposer());
  if (outcome.state !== 'done') throw new Error(`overhead session ended ${outcome.state}: ${outcome.reason}`);
  const out: number[] = [];
  let prev: number | null = null;
  for (const { at, event } of events) {
    if (event.type !== 'experiment') continue;
    // The first experiment after a resume also creates the slot's worktree: a one-off, not a per-experiment cost.
    if (prev !== null) out.push(at - prev - (event.node.wallMs ?? 0));
    prev = at;
  }
  return out;
}

// ---- b. duty cycle, c. slots -----------------------------------------------------------------------------

async function dutyRun(pipeline: 0 | 1, experiments: number): Promise<number | null> {
  const cfg = config({ tag: 'duty', run: 'sleep 2 && echo val_loss: 1', max: experiments, policy: 'greedy', extra: `pipeline: ${pipeline}\n` });
  if (!cfg) return null;
  const repo = benchRepo({ 'train.py': TRAIN });
  try {
    const { runWindows, outcome } = await runSession(repo.root, cfg, new FixedCostProposer(1000));
    if (outcome.state !== 'done') throw new Error(`duty session ended ${outcome.state}: ${outcome.reason}`);
    return dutyCycle(runWindows.filter((w) => w.id !== 0)).ratio;
  } finally {
    repo.cleanup();
  }
}

async function slotsRun(slots: number, perSlot: number): Promise<number> {
  const cfg = config({ tag: 'slots', run: 'sleep 2 && echo val_loss: 1', max: slots * perSlot, extra: `parallel: ${slots}\n` })!;
  const repo = benchRepo({ 'train.py': TRAIN });
  try {
    const { runWindows, outcome } = await runSession(repo.root, cfg, new FixedCostProposer());
    if (outcome.state !== 'done') throw new Error(`slots session ended ${outcome.state}: ${outcome.reason}`);
    const runs = runWindows.filter((w) => w.id !== 0);
    const { wall } = dutyCycle(runs);
    return runs.length / (wall / 1000);
  } finally {
    repo.cleanup();
  }
}

// ---- d. loading ---------------------------------------------------------------------------------------------

function timeLoad(s: SyntheticSession): { replay: number; snapshot: number } {
  const t0 = performance.now();
  const { model } = loadSession(s.repo.root, s.tag);
  const t1 = performance.now();
  const session = sessionDto(model);
  const nodes = sessionNodes(model);
  const t2 = performance.now();
  if (nodes.length < s.nodes || session.bestId === null) throw new Error('the loaded session is incomplete');
  return { replay: t1 - t0, snapshot: t2 - t1 };
}

function resultsText(rowsCount: number): string {
  const out = ['commit\tval_loss\tmemory_gb\tstatus\tdescription\n'];
  const statuses = ['keep', 'discard', 'discard', 'discard', 'crash', 'discard', 'invalid'];
  for (let i = 0; i < rowsCount; i++) {
    const status = statuses[i % statuses.length]!;
    const metric = status === 'crash' ? 0 : 1 - i / (rowsCount * 2) + (i % 13) / 1000;
    out.push(`${(0x1000000 + i * 7919).toString(16).slice(-7)}\t${metric.toFixed(6)}\t${(12 + (i % 5)).toFixed(1)}\t${status}\tWIDTH ${i % 512} -> ${(i % 512) * 2}: double the width\n`);
  }
  return out.join('');
}

// ---- e. memory (in a child process, so it measures one engine alone) ---------------------------------------

interface MemoryReport {
  peakRssMb: number;
  peakHeapMb: number;
  nodes: number;
}

async function memoryChild(root: string, tag: string, extra: number): Promise<void> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 5);
  const { model } = loadSession(root, tag);
  const cfg = config({ tag, run: 'echo val_loss: 9', max: model.decidedCount + extra, extra: pipelineOff })!;
  const { outcome } = await runSession(root, cfg, new FixedCostProposer());
  sample();
  clearInterval(timer);
  // maxRSS is the kernel's own high-water mark, in kilobytes: it sees peaks between samples.
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const report: MemoryReport = { peakRssMb: peakRss / 2 ** 20, peakHeapMb: peakHeap / 2 ** 20, nodes: outcome.model.nodes.length };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function measureMemory(s: SyntheticSession, extra: number): MemoryReport {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/engine.ts', '--memory-child', s.repo.root, s.tag, String(extra)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as MemoryReport;
}

// ---- main -----------------------------------------------------------------------------------------------------

const pipelineSupported = configOrNull(configYaml({ tag: 'probe', run: 'true', max: 1, extra: 'pipeline: 0\n' })) !== null;
/** Overhead is measured with nothing prepared ahead, so every part of the engine's work is on the clock. */
const pipelineOff = pipelineSupported ? 'pipeline: 0\n' : '';

/**
 * The sandbox's cost per experiment: the same trivial run (`true`) started bare and in bubblewrap, interleaved so
 * both see the same machine, wall time from start to result. Null where bubblewrap cannot run here.
 */
async function sandboxRuns(count: number): Promise<{ bare: number[]; sandboxed: number[]; hosts: number[] } | null> {
  const probe = probeSandbox();
  if (!probe.ok) return null;
  const root = mkdtempSync(join(tmpdir(), 'ar-bench-sandbox-'));
  const worktree = join(root, 'wt');
  mkdirSync(worktree);
  writeFileSync(join(worktree, 'prepare.py'), '# protected\n');
  const executor = new LocalExecutor();
  const argv = [probe.bwrap, ...sandboxArgs({ root, gitCommonDir: join(root, '.git'), worktree, protectedFiles: ['prepare.py'], config: DEFAULT_SANDBOX })];
  const bare: number[] = [];
  const sandboxed: number[] = [];
  // With `network: [hosts]`, as the product does it: a proxy opened for the run, a bridge started inside, closed after.
  const hosts: number[] = [];
  const hostsArgv = [probe.bwrap, ...sandboxArgs({ root, gitCommonDir: join(root, '.git'), worktree, protectedFiles: ['prepare.py'], config: { ...DEFAULT_SANDBOX, network: ['huggingface.co'] } })];
  try {
    for (let i = 0; i < count; i++) {
      for (const kind of ['bare', 'sandboxed', 'hosts'] as const) {
        const t0 = performance.now();
        const gate = kind === 'hosts' ? await NetworkGate.open(['huggingface.co']) : undefined;
        const sandbox = kind === 'bare' ? undefined : gate ? [...hostsArgv, ...gate.sandboxArgs(), ...gate.launcher()] : argv;
        const run = executor.start({ nodeId: i, tag: 'bench', cwd: worktree, command: 'true', budgetSeconds: 30, graceSeconds: 1, slot: 0, logPath: join(root, 'logs', `${i}.log`), sandbox });
        const result = await run.result;
        run.dispose();
        gate?.close();
        if (result.exitCode !== 0) throw new Error(`the ${kind} run failed: ${JSON.stringify(result)}`);
        ({ bare, sandboxed, hosts })[kind].push(performance.now() - t0);
      }
    }
  } finally {
    executor.dispose();
    rmSync(root, { recursive: true, force: true });
  }
  return { bare, sandboxed, hosts };
}

function sandboxRows(r: Awaited<ReturnType<typeof sandboxRuns>>, count: number): void {
  if (!r) {
    row({ id: 'sandbox.overhead', figure: 'sandbox start-up per experiment (bubblewrap − bare)', unit: 'ms', median: null, samples: [], target: '≤ 50 ms', pass: null, note: `n/a (${(probeSandbox() as { reason?: string }).reason ?? 'no sandbox'})` });
    return;
  }
  const diffs = r.sandboxed.map((v, i) => v - r.bare[i]!);
  row({ id: 'sandbox.bare', figure: `a trivial run started bare (${count} runs)`, unit: 'ms', median: median(r.bare), samples: r.bare, target: '', pass: null });
  row({ id: 'sandbox.bwrap', figure: `the same run in the sandbox (${count} runs, interleaved)`, unit: 'ms', median: median(r.sandboxed), samples: r.sandboxed, target: '', pass: null });
  row({ id: 'sandbox.overhead', figure: 'sandbox start-up per experiment (bubblewrap − bare)', unit: 'ms', median: median(diffs), samples: diffs, target: '≤ 50 ms', pass: median(diffs) <= 50 });
  // Opt-in: the proxy and its bridge (a Node start inside the sandbox) cost more; reported, not held to the default's target.
  const hostDiffs = r.hosts.map((v, i) => v - r.bare[i]!);
  row({ id: 'sandbox.network-hosts', figure: 'start-up with `network: [hosts]` (proxy + bridge − bare)', unit: 'ms', median: median(hostDiffs), samples: hostDiffs, target: '', pass: null });
}

/** Early stopping's scale: `--quick` makes it small enough to try, not to trust. */
function pruneOptions(): PruneBenchOptions {
  const quick = process.argv.includes('--quick');
  // --prune-budget: a loaded machine's python start (0.25 s at load 8 on 2 cores) can push a 2 s run past its budget.
  return { experiments: arg('prune-experiments', quick ? 10 : 24), seeds: arg('prune-seeds', quick ? 2 : 3), budgetSeconds: arg('prune-budget', 2) };
}

async function main(): Promise<void> {
  if (process.argv.includes('--sandbox-only')) {
    sandboxRows(await sandboxRuns(30), 30);
    console.log(formatTable(['figure', 'median', 'target', 'result'], rows.map((r) => [r.figure, r.median === null ? (r.note ?? 'n/a') : fmt(r.median, r.unit), r.target || '—', r.pass === null ? '—' : r.pass ? 'pass' : 'MISSED'])));
    return;
  }
  if (process.argv.includes('--prune-only')) {
    const before = machine();
    console.error(`early-stopping benchmark on ${before.cpus} cores (${before.cpuModel}), load ${before.loadAverage1m}`);
    for (const r of await pruneRows(pruneOptions())) row(r);
    console.log(`\nAutoResearch early stopping — ${before.cpus} cores, load ${before.loadAverage1m} → ${machine().loadAverage1m}\n`);
    console.log(formatTable(['figure', 'median', 'target', 'result'], rows.map((r) => [r.figure, r.median === null ? (r.note ?? 'n/a') : fmt(r.median, r.unit), r.target || '—', r.pass === null ? '—' : r.pass ? 'pass' : 'MISSED'])));
    for (const r of rows) if (r.note && r.median !== null) console.log(`  ${r.figure}: ${r.note}`);
    return;
  }
  const ROUNDS = arg('rounds', 3);
  const PER_ROUND = arg('experiments', 12);
  const REPEATS = arg('repeats', 3);
  const LOAD_REPEATS = arg('load-repeats', 7);
  // --quick: small sessions for trying the benchmark out; the figures are only meaningful at full size.
  const SIZES = process.argv.includes('--quick') ? [10, 100, 1_000] : [10, 1_000, 10_000];
  const started = new Date();
  const machineBefore = machine();
  console.error(`engine benchmark on ${machineBefore.cpus} cores (${machineBefore.cpuModel}), load ${machineBefore.loadAverage1m}`);

  const sessions: SyntheticSession[] = [];
  try {
    for (const size of SIZES) {
      const t0 = performance.now();
      sessions.push(buildSession(size, config({ tag: `n${size}`, run: 'echo val_loss: 9', max: 'unlimited', extra: pipelineOff })!, { 'train.py': TRAIN }));
      console.error(`  built a ${size.toLocaleString('en-US')}-node session in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const big = sessions[sessions.length - 1]!;
    const bigName = `${big.nodes.toLocaleString('en-US')}-node`;

    // d. Loading, before anything is added to the big session.
    const loads = Array.from({ length: LOAD_REPEATS }, () => timeLoad(big));
    row({ id: 'load.replay', figure: `load ${bigName} session: journal read + replay`, unit: 'ms', median: median(loads.map((l) => l.replay)), samples: loads.map((l) => l.replay), target: '', pass: null });
    row({ id: 'load.snapshot', figure: `load ${bigName} session: snapshot DTOs`, unit: 'ms', median: median(loads.map((l) => l.snapshot)), samples: loads.map((l) => l.snapshot), target: '', pass: null });
    const totals = loads.map((l) => l.replay + l.snapshot);
    row({ id: 'load.total', figure: `load ${bigName} session: total`, unit: 'ms', median: median(totals), samples: totals, target: '≤ 1000 ms', pass: median(totals) <= 1000 });
    {
      // A model replay alone, without reading the file: what the editor does with records it already has.
      const records = Journal.read(sessionPaths(big.repo.root, big.tag).journal);
      const t = Array.from({ length: LOAD_REPEATS }, () => { const t0 = performance.now(); SessionModel.fromRecords(records); return performance.now() - t0; });
      console.error(`  (model replay of ${records.length.toLocaleString('en-US')} records without parsing: ${median(t).toFixed(1)} ms)`);
    }
    const tsvPath = join(big.repo.root, 'big-results.tsv');
    writeFileSync(tsvPath, resultsText(100_000));
    const parses = Array.from({ length: LOAD_REPEATS }, () => {
      const t0 = performance.now();
      const parsed = parseResults(readFileSync(tsvPath, 'utf8'));
      const snap = fileSnapshot(parsed, tsvPath, 'results.tsv');
      if (snap.nodes.length !== 100_000 || parsed.errors.length) throw new Error('the results.tsv did not parse whole');
      return performance.now() - t0;
    });
    row({ id: 'load.tsv', figure: 'parse 100,000-row results.tsv (read, parse, snapshot)', unit: 'ms', median: median(parses), samples: parses, target: '', pass: null });

    // e. Memory, each in its own process: the 10-node session is the reference for the runtime's own share.
    const memSmall = measureMemory(sessions[0]!, 10);
    const memBig = measureMemory(big, 10);
    row({ id: 'memory.rss10', figure: 'peak RSS, 10-node session (runtime + engine)', unit: 'MB', median: memSmall.peakRssMb, samples: [memSmall.peakRssMb], target: '', pass: null });
    row({ id: 'memory.rss10k', figure: `peak RSS, ${bigName} session`, unit: 'MB', median: memBig.peakRssMb, samples: [memBig.peakRssMb], target: '', pass: null });
    row({ id: 'memory.heap10k', figure: `peak JS heap, ${bigName} session`, unit: 'MB', median: memBig.peakHeapMb, samples: [memBig.peakHeapMb], target: '', pass: null, note: `10-node session: ${memSmall.peakHeapMb.toFixed(0)} MB` });

    // a. Overhead: rounds go through the sizes in turn, so machine noise falls on all of them alike.
    const overhead = new Map<number, number[]>(SIZES.map((s) => [s, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of sessions) overhead.get(s.nodes)!.push(...await overheadRound(s, PER_ROUND));
    }
    for (const size of SIZES) {
      const m = median(overhead.get(size)!);
      row({ id: `overhead.${size}`, figure: `engine overhead per experiment, ${size.toLocaleString('en-US')} nodes`, unit: 'ms', median: m, samples: overhead.get(size)!, target: '≤ 150 ms', pass: m <= 150 });
    }
    const ratio = median(overhead.get(big.nodes)!) / median(overhead.get(SIZES[0]!)!);
    row({ id: 'overhead.ratio', figure: `overhead ${big.nodes.toLocaleString('en-US')} nodes / ${SIZES[0]} nodes`, unit: 'x', median: ratio, samples: [ratio], target: '≤ 1.50×', pass: ratio <= 1.5 });
  } finally {
    for (const s of sessions) s.repo.cleanup();
  }

  // b. Duty cycle: the two modes alternate per repeat.
  const duty: Record<0 | 1, number[]> = { 0: [], 1: [] };
  let dutyMissing = false;
  for (let r = 0; r < REPEATS && !dutyMissing; r++) {
    for (const p of [0, 1] as const) {
      const v = await dutyRun(p, 6);
      if (v === null) dutyMissing = true;
      else duty[p].push(v);
    }
  }
  if (dutyMissing) {
    for (const p of [0, 1] as const) row({ id: `duty.${p}`, figure: `accelerator duty cycle, ${p ? 'pipelined' : 'one at a time'}`, unit: '', median: null, samples: [], target: p ? '≥ 0.95' : '≈ 0.67', pass: null, note: 'n/a (feature not built)' });
  } else {
    const serial = median(duty[0]);
    const piped = median(duty[1]);
    row({ id: 'duty.0', figure: 'accelerator duty cycle, one at a time (pipeline: 0)', unit: '', median: serial, samples: duty[0], target: '≈ 0.67 (reference)', pass: null });
    row({ id: 'duty.1', figure: 'accelerator duty cycle, pipelined (pipeline: 1)', unit: '', median: piped, samples: duty[1], target: '≥ 0.95', pass: piped >= 0.95 });
  }

  // c. Slots: 1, 2 and 4 in turn per repeat; each ratio is to the 1-slot throughput of the same repeat.
  const ratios = new Map<number, number[]>([[2, []], [4, []]]);
  for (let r = 0; r < REPEATS; r++) {
    const one = await slotsRun(1, 4);
    for (const n of [2, 4]) ratios.get(n)!.push((await slotsRun(n, 4)) / one);
    await sleep(100);
  }
  for (const n of [2, 4]) {
    const m = median(ratios.get(n)!);
    row({ id: `slots.${n}`, figure: `throughput, ${n} slots / 1 slot`, unit: 'x', median: m, samples: ratios.get(n)!, target: `≥ ${(0.9 * n).toFixed(2)}×`, pass: m >= 0.9 * n });
  }

  // e. The sandbox: the same run bare and in bubblewrap, side by side.
  sandboxRows(await sandboxRuns(30), 30);

  // f. Early stopping: the same seeded changes with prune off and on, side by side.
  for (const r of await pruneRows(pruneOptions())) row(r);

  // The table reads in the order of the issue: overhead, duty cycle, slots, loading, memory, sandbox, early stopping.
  const order = ['overhead', 'duty', 'slots', 'load', 'memory', 'sandbox', 'prune'];
  rows.sort((a, b) => order.indexOf(a.id.split('.')[0]!) - order.indexOf(b.id.split('.')[0]!));
  const result = {
    benchmark: 'engine',
    started: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { ...machineBefore, loadAverage1mAtEnd: machine().loadAverage1m },
    options: { rounds: ROUNDS, experimentsPerRound: PER_ROUND, repeats: REPEATS, loadRepeats: LOAD_REPEATS, pipelineKey: pipelineSupported, prune: pruneOptions() },
    rows: rows.map((r) => ({ ...r, median: r.median === null ? null : Number(r.median.toFixed(3)), samples: r.samples.map((v) => Number(v.toFixed(3))) })),
  };
  const table = formatTable(['figure', 'median', 'target', 'result'], rows.map((r) => [
    r.figure, r.median === null ? (r.note ?? 'n/a') : fmt(r.median, r.unit), r.target || '—', r.pass === null ? '—' : r.pass ? 'pass' : 'MISSED',
  ]));
  console.log(`\nAutoResearch engine benchmark — ${machineBefore.cpus} cores, load ${machineBefore.loadAverage1m} → ${result.machine.loadAverage1mAtEnd}, ${result.seconds} s\n`);
  console.log(table);
  const missed = rows.filter((r) => r.pass === false);
  console.log(missed.length ? `\nMISSED: ${missed.map((r) => r.figure).join('; ')}` : '\nEvery target met.');
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(join('bench', 'results', 'engine.json'), JSON.stringify(result, null, 2) + '\n');
  console.log('written: bench/results/engine.json');
}

if (process.argv[2] === '--memory-child') {
  await memoryChild(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await main();
}
