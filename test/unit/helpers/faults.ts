// Shared by the fault-injection suite (test/unit/faults-*.test.ts): toy sessions on real git repos, a
// scripted proposer, the real CLI as a child process, process checks through /proc, and the table of
// faults injected and survived that each file prints and adds to test-output/faults.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { after, it } from 'node:test';
import { parseConfig } from '../../../src/core/config.js';
import { Controller, type ControllerEvent, type Outcome } from '../../../src/core/controller.js';
import { createProposer } from '../../../src/core/factory.js';
import { LocalExecutor } from '../../../src/core/executors/localExecutor.js';
import { Journal, type JournalRecord } from '../../../src/core/record/journal.js';
import { SessionModel } from '../../../src/core/model.js';
import type { Proposal, ProposalRequest, Proposer } from '../../../src/core/proposers/proposer.js';
import { parseResults, type ResultsRow } from '../../../src/core/record/results.js';
import type { Operator } from '../../../src/core/types.js';
import { CLI, TSX } from './cli.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from './repo.js';

// ---- the table ---------------------------------------------------------------------------------

export interface FaultRow {
  file: string;
  fault: string;
  injected: string;
  outcome: string;
  survived: boolean;
  ms: number;
}

const rows: FaultRow[] = [];

/**
 * One fault case: a test named for the fault that passes only when the session came through. `body`
 * returns what happened, in a few words, for the table.
 */
export function fault(name: string, injected: string, body: () => Promise<string>, options: { timeout?: number } = {}): void {
  const file = basename(process.argv[1] ?? 'faults');
  it(name, { timeout: options.timeout ?? 120_000 }, async () => {
    const t0 = Date.now();
    try {
      const outcome = await body();
      rows.push({ file, fault: name, injected, outcome, survived: true, ms: Date.now() - t0 });
    } catch (e) {
      rows.push({ file, fault: name, injected, outcome: `FAILED: ${(e as Error).message.split('\n')[0]}`, survived: false, ms: Date.now() - t0 });
      throw e;
    }
  });
}

// Registered when this module loads, at the top level of the test file: after every test of the file.
after(() => {
  const file = basename(process.argv[1] ?? 'faults');
  const table = [
    `faults injected and survived (${file}): ${rows.filter((r) => r.survived).length} of ${rows.length}`,
    ...rows.map((r) => `  ${r.survived ? 'survived' : 'FAILED  '}  ${r.fault.padEnd(44)} ${`${(r.ms / 1000).toFixed(1)}s`.padStart(6)}  ${r.outcome}`),
  ].join('\n');
  console.log(table);
  // Each file writes its own part; faults.json is the union of the parts present.
  const dir = resolve('test-output', 'faults');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${file}.json`), JSON.stringify(rows, null, 2) + '\n');
  const all = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as FaultRow[]);
  writeFileSync(resolve('test-output', 'faults.json'), JSON.stringify({ injected: all.length, survived: all.filter((r) => r.survived).length, faults: all }, null, 2) + '\n');
});

// ---- toy sessions ------------------------------------------------------------------------------

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

/** A repo with the toy training script, its protected prepare.py and a config (toyConfig with replacements). */
export function faultRepo(edit: (config: string) => string = (c) => c, files: Record<string, string> = {}): TempRepo {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': edit(toyConfig()), ...files });
  repos.push(repo);
  return repo;
}

/**
 * Proposals one at a time, only when a slot is free, so node ids follow the proposer's calls and a killed session
 * can be compared with a clean one. (`pipeline` is recent; a config without it proposes one at a time anyway.)
 */
export const oneAtATime = ((): Record<string, string> => {
  try {
    parseConfig(`${toyConfig()}pipeline: 0\n`);
    return { pipeline: '0' };
  } catch {
    return {};
  }
})();

/** toyConfig's text with `key: value` lines replaced (or added) and extra lines appended. */
export function withKeys(keys: Record<string, string>): (config: string) => string {
  return (config) => {
    let text = config;
    for (const [k, v] of Object.entries({ ...oneAtATime, ...keys })) {
      const re = new RegExp(`^${k}:.*$`, 'm');
      text = re.test(text) ? text.replace(re, `${k}: ${v}`) : `${text}${k}: ${v}\n`;
    }
    return text;
  };
}

/** train.py with the toy's hyperparameters set; `extra` runs after the metric lines. */
export function trainPy(lr = 0.1, extra = ''): string {
  return TOY_TRAIN.replace('LR = 0.1', `LR = ${lr}`) + extra;
}

/** One step of a scripted proposer: the new train.py, or a raw proposal (garbage included), or a throw. */
export type Step = string | { proposal: unknown } | { throws: unknown } | { files: Record<string, string | null>; description?: string };

/** A proposer that plays a script, one step per call, then has nothing new to try. */
export class ScriptedProposer implements Proposer {
  readonly kind = 'scripted';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['improve']);
  calls = 0;
  constructor(private readonly steps: Step[]) {}

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const step = this.steps[this.calls++];
    if (step === undefined) return null;
    if (typeof step === 'string') return { description: `step ${this.calls}`, plan: 'scripted', editKey: `step:${this.calls}`, files: { 'train.py': step }, proposer: { kind: this.kind } };
    if ('throws' in step) throw step.throws;
    if ('proposal' in step) return step.proposal as Proposal;
    void req;
    return { description: step.description ?? `step ${this.calls}`, plan: 'scripted', editKey: `step:${this.calls}`, files: step.files, proposer: { kind: this.kind } };
  }

  dispose(): void {}
}

export interface InProcess {
  controller: Controller;
  events: ControllerEvent[];
  warnings: () => string[];
  run: () => Promise<Outcome>;
}

/** A controller on `repo`'s config in this process, with a local executor; the config's proposer unless one is given. */
export function inProcess(repo: TempRepo, proposer?: Proposer): InProcess {
  const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
  const controller = new Controller({ root: repo.root, config, proposer: proposer ?? createProposer(config, repo.root), executor: new LocalExecutor(), platform: null, inboxIntervalMs: 50 });
  const events: ControllerEvent[] = [];
  controller.onEvent((e) => events.push(e));
  return {
    controller,
    events,
    warnings: () => events.flatMap((e) => (e.type === 'log' && e.level !== 'info' ? [e.message] : [])),
    run: async () => {
      try {
        return await controller.run();
      } finally {
        controller.dispose();
      }
    },
  };
}

// ---- reading what a session left --------------------------------------------------------------

export function journalPath(repo: TempRepo, tag = 't1'): string {
  return join(repo.root, '.autoresearch', tag, 'journal.jsonl');
}

export function records(repo: TempRepo, tag = 't1'): JournalRecord[] {
  return Journal.read(journalPath(repo, tag));
}

export function modelOf(repo: TempRepo, tag = 't1'): SessionModel {
  return SessionModel.fromRecords(records(repo, tag));
}

export function resultRows(repo: TempRepo): ResultsRow[] {
  const parsed = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8'));
  if (parsed.errors.length) throw new Error(`results.tsv: ${JSON.stringify(parsed.errors)}`);
  return parsed.rows;
}

/** Node ids with a rule decision, in journal order: a node decided twice shows up twice. */
export function ruleDecisions(repo: TempRepo, tag = 't1'): number[] {
  return records(repo, tag).flatMap((r) => (r.type === 'decide' && r.decidedBy === 'rule' ? [r.id] : []));
}

/** The session as a comparable shape: id, parent, edit, status, metric, and the git tree of its code. */
export function shapeOf(repo: TempRepo, tag = 't1'): string[] {
  return modelOf(repo, tag).nodes.map((n) => `#${n.id}<${n.parentId} ${n.description} ${n.status} ${n.metric} tree:${n.commit ? repo.git('rev-parse', `${n.commit}^{tree}`).slice(0, 10) : '-'}`);
}

// ---- processes ----------------------------------------------------------------------------------

/** Whether a process runs: a killed one may linger as a zombie until reaped, which is not running. */
export function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}



export interface CliRun {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

/** The real `autoresearch` CLI as a child process, with extra environment (AUTORESEARCH_FAULT, say). */
const children = new Set<ChildProcess>();
// A test that fails half way must not leave a controller running.
after(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

export function cli(cwd: string, args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', ...env } });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((res) => {
    child.once('close', (code, signal) => res({ code, signal, out, err }));
  });
  return { child, output: () => out + err, exit };
}

export function fileText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
