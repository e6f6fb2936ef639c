// What both engine benchmarks share: real git repositories in temp folders, a Controller driven in-process
// with timestamps on its events, proposers that cost nothing (or a fixed time), statistics and the table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigError, parseConfig } from '../src/core/config.js';
import type { ControllerEvent, Outcome } from '../src/core/controller.js';
import { openSession } from '../src/core/openSession.js';
import type { Proposal, ProposalRequest, Proposer } from '../src/core/proposers/proposer.js';
import type { Operator, ResearchConfig } from '../src/core/types.js';

export function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 }).trim();
}

export interface BenchRepo {
  root: string;
  head: string;
  cleanup(): void;
}

/** A fresh repository with `files` committed on `main`. */
export function benchRepo(files: Record<string, string>): BenchRepo {
  const root = mkdtempSync(join(tmpdir(), 'ar-bench-'));
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['config', 'user.email', 'bench@example.com']);
  git(root, ['config', 'user.name', 'Bench']);
  git(root, ['config', 'commit.gpgsign', 'false']);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '-m', 'baseline']);
  return { root, head: git(root, ['rev-parse', 'HEAD']), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A config from YAML text; `null` when this engine does not know one of its keys yet (a feature not built). */
export function configOrNull(yaml: string): ResearchConfig | null {
  try {
    return parseConfig(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return null;
    throw e;
  }
}

export interface TimedEvent {
  at: number;
  event: ControllerEvent;
}

export interface SessionRun {
  outcome: Outcome;
  events: TimedEvent[];
  /** From the first run of an experiment (not the baseline or a noise measurement) starting to the last one ending. */
  runWindows: { id: number; start: number; end: number }[];
}

/** Runs (or resumes) a session to its end, opened as the CLI and the extension open one, and timestamps every event. */
export async function runSession(root: string, config: ResearchConfig, proposer: Proposer): Promise<SessionRun> {
  const session = await openSession({ root, config, proposer, platform: null });
  const events: TimedEvent[] = [];
  session.controller.onEvent((event) => events.push({ at: performance.now(), event }));
  let outcome: Outcome;
  try {
    outcome = await session.controller.run();
  } finally {
    session.dispose();
  }
  const started = new Map<number, number>();
  const runWindows: SessionRun['runWindows'] = [];
  for (const { at, event } of events) {
    if (event.type === 'run-started') started.set(event.node.id, at);
    else if (event.type === 'run-finished' && started.has(event.node.id)) runWindows.push({ id: event.node.id, start: started.get(event.node.id)!, end: at });
  }
  return { outcome, events, runWindows };
}

/** Time covered by at least one run, over the window from the first run's start to the last one's end. */
export function dutyCycle(windows: readonly { start: number; end: number }[]): { busy: number; wall: number; ratio: number } {
  if (!windows.length) return { busy: 0, wall: 0, ratio: NaN };
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  let busy = 0;
  let curStart = sorted[0]!.start;
  let curEnd = sorted[0]!.end;
  for (const w of sorted.slice(1)) {
    if (w.start > curEnd) {
      busy += curEnd - curStart;
      curStart = w.start;
      curEnd = w.end;
    } else curEnd = Math.max(curEnd, w.end);
  }
  busy += curEnd - curStart;
  const wall = Math.max(...sorted.map((w) => w.end)) - sorted[0]!.start;
  return { busy, wall, ratio: busy / wall };
}

/**
 * A proposer that writes a new value into train.py each time: as fast as a proposer can be, or taking
 * `delayMs` (a model thinking) while honouring the abort signal.
 */
export class FixedCostProposer implements Proposer {
  readonly kind = 'bench';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
  private count = 0;

  constructor(private readonly delayMs = 0, private readonly file = 'train.py') {}

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    if (this.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.delayMs);
        req.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
    const n = ++this.count;
    return {
      description: `X = ${n}`,
      plan: 'Set X to a new value (benchmark).',
      editKey: `${this.file}:X=${n}`,
      files: { [this.file]: `X = ${n}\n` },
      proposer: { kind: this.kind },
    };
  }

  dispose(): void {
    // Nothing held.
  }
}

export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    freeMemoryGb: Math.round(freemem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    git: git(tmpdir(), ['--version']),
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
  };
}

/** A plain-text table with aligned columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One row of the engine benchmark's table (what bench/engine.ts prints and writes; bench/prune.ts makes some). */
export interface BenchRow {
  id: string;
  figure: string;
  unit: string;
  median: number | null;
  /** What was measured, one value per repeat or experiment. */
  samples: number[];
  target: string;
  /** null: no target (reported only) or not measured. */
  pass: boolean | null;
  note?: string;
}
