// Runs each experiment as a Slurm batch job. The job's working folder is the node's worktree and its
// output file is the node's log, so both must be on a filesystem the compute nodes share. The engine
// polls the scheduler itself (one squeue call for all its jobs), tails the log for progress, counts
// the budget from the moment the job is RUNNING (queue time is reported apart) and cancels it there;
// the job's time limit is only the backstop for a controller that died. A resumed controller finds
// its jobs again by the ids in the journal (`reattach`), so no node is ever submitted twice.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync, appendFileSync } from 'node:fs';
import { constants, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { readTail } from './files.js';
import { runEnvironment, type Executor, type RunRequest, type RunningExperiment } from './executor.js';
import type { RunResult, SlurmExecutorConfig } from './types.js';
import { fmtDuration } from '../shared/format.js';

export interface SlurmOptions {
  partition?: string;
  gres?: string;
  cpusPerTask?: number;
  mem?: string;
  /** The job's time limit in minutes; by default derived from the budget (see jobTimeMinutes). */
  timeMinutes?: number;
  account?: string;
  extraArgs?: readonly string[];
  /** How often the scheduler is asked about running jobs. */
  pollMs?: number;
  /** How often the logs are read for progress. */
  tailMs?: number;
  /** `sandbox: on`: a node where bubblewrap cannot run fails the job instead of running it bare. */
  sandboxRequired?: boolean;
  /** Added to the environment of every Slurm command (SLURM_CONF, say). */
  env?: Record<string, string>;
}

/** What the scheduler knows about a job (scontrol, sacct or sacct -c). */
export interface JobInfo {
  id: string;
  state: string;
  reason: string;
  exitCode: string;
  name: string;
  workDir: string;
  restarts: number;
  submitMs: number | null;
  startMs: number | null;
  endMs: number | null;
  nodes: string;
  timeLimit: string;
}

interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** States in which a job waits for resources (or for its begin time) and runs nothing. */
const WAITING = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD', 'RESIZING']);
const ACTIVE = new Set(['RUNNING', 'SUSPENDED', 'SIGNALING', 'STAGE_OUT', 'STOPPED']);

/**
 * Pending reasons that mean the job will never start as submitted: it is cancelled and classified
 * instead of waiting forever. Each maps to what a person should change.
 */
export const NEVER_STARTS: Record<string, string> = {
  PartitionConfig: 'the partition cannot satisfy the request (more CPUs, memory or GPUs than its nodes have); lower executor.cpusPerTask, mem or gres, or choose another partition',
  PartitionTimeLimit: "the job's time limit is above the partition's limit; use a shorter budget, set executor.time within the limit, or choose another partition",
  PartitionNodeLimit: "the request is outside the partition's node limits; choose another partition",
  BadConstraints: 'the constraints cannot be satisfied by any node; check executor.extraArgs and gres',
  InvalidAccount: 'the account is not valid for this user; check executor.account',
  InvalidQOS: 'the QOS is not valid for this user; check executor.extraArgs',
  AssocMaxWallDurationPerJobLimit: "the time limit is above what the account allows; use a shorter budget or set executor.time",
  QOSMaxWallDurationPerJobLimit: "the time limit is above what the QOS allows; use a shorter budget or set executor.time",
  AssocMaxCpuPerJobLimit: 'more CPUs than the account allows per job; lower executor.cpusPerTask',
  QOSMaxCpuPerJobLimit: 'more CPUs than the QOS allows per job; lower executor.cpusPerTask',
  AssocMaxGRESPerJob: 'more GPUs than the account allows per job; lower executor.gres',
  QOSMaxGRESPerJob: 'more GPUs than the QOS allows per job; lower executor.gres',
  DependencyNeverSatisfied: 'a dependency can never be satisfied; check executor.extraArgs',
  launch_failed_requeued_held: 'the job failed to launch on its node and the scheduler held it',
};

/** The job's time limit: the budget and grace in whole minutes, rounded up, plus a minute of margin. */
export function jobTimeMinutes(budgetSeconds: number, graceSeconds: number, configured?: number): number {
  if (configured !== undefined) return configured;
  return Math.ceil((budgetSeconds + graceSeconds) / 60) + 1;
}

export function jobName(tag: string, nodeId: number): string {
  return `ar-${tag}-${nodeId}`;
}

export function slurmOptions(c: SlurmExecutorConfig): SlurmOptions {
  return {
    partition: c.partition, gres: c.gres, cpusPerTask: c.cpusPerTask, mem: c.mem, timeMinutes: c.timeMinutes, account: c.account,
    extraArgs: c.extraArgs, pollMs: c.pollSeconds !== undefined ? c.pollSeconds * 1000 : undefined,
  };
}

/** Where the batch script of a run goes: the session's folder (the log's parent's parent), `slurm/<node>.sbatch`. */
export function scriptPath(req: RunRequest): string {
  return join(dirname(dirname(req.logPath)), 'slurm', `${req.nodeId}.sbatch`);
}

export function sbatchArgs(req: RunRequest, o: SlurmOptions, script: string): string[] {
  const args = ['--parsable', `--job-name=${jobName(req.tag, req.nodeId)}`, `--chdir=${req.cwd}`, `--output=${req.logPath}`, '--open-mode=append',
    `--time=${jobTimeMinutes(req.budgetSeconds, req.graceSeconds, o.timeMinutes)}`];
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (o.account) args.push(`--account=${o.account}`);
  if (o.gres) args.push(`--gres=${o.gres}`);
  if (o.cpusPerTask) args.push(`--cpus-per-task=${o.cpusPerTask}`);
  if (o.mem) args.push(`--mem=${o.mem}`);
  args.push(...(o.extraArgs ?? []), script);
  return args;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const CWD_EXIT = 97;
const START_MARK = /^\[autoresearch\] Slurm job (\d+) started on (\S+) \(attempt (\d+)\)/m;
const EXIT_MARK = /^\[autoresearch\] the command exited with code (\d+)\s*$/m;
const CWD_MARK = /^\[autoresearch\] cannot enter the worktree .*$/m;
/** slurmstepd's line when it ends a job: `*** JOB 12 ON node CANCELLED AT <time> [DUE TO PREEMPTION] ***`. */
const schedulerMark = (id: string) => new RegExp(`\\*\\*\\* JOB ${id} ON \\S+ CANCELLED AT \\S+(?: DUE TO ([A-Z ]+?))? \\*\\*\\*`, 'g');

/** Exit code of a job that could not make the sandbox `sandbox: on` asks for. */
export const NO_SANDBOX_EXIT = 126;

/**
 * The command, in bubblewrap where it runs on the compute node (decided there, by running it once), else bare with a
 * line that says so; with `sandbox: on`, a node without it fails the job instead.
 */
function runLines(req: RunRequest, sandboxRequired: boolean): string[] {
  const bare = `/bin/sh -c ${shellQuote(req.command)} </dev/null`;
  if (!req.sandbox?.length) return [bare];
  const [bwrap, ...args] = req.sandbox;
  const probe = `${shellQuote(bwrap!)} --ro-bind / / --dev-bind /dev /dev --proc /proc --unshare-pid true >/dev/null 2>&1`;
  return [
    `if ${probe}; then`,
    '  echo "[autoresearch] sandbox: bubblewrap on $(hostname)"',
    `  ${[bwrap!, ...args, '/bin/sh', '-c', req.command].map(shellQuote).join(' ')} </dev/null`,
    'else',
    sandboxRequired
      ? `  echo "[autoresearch] sandbox: on, but bubblewrap cannot run on $(hostname); install it there or set sandbox: auto"; exit ${NO_SANDBOX_EXIT}`
      : '  echo "[autoresearch] no sandbox on $(hostname): bubblewrap cannot run there; protected files and refs are still checked after the run"',
    `  ${bare}`,
    'fi',
  ];
}

/** The batch script: the AUTORESEARCH_* variables, the run command in the worktree, and markers the engine reads back. */
export function batchScript(req: RunRequest, args: readonly string[], sandboxRequired = false): string {
  const env = { ...runEnvironment(req), PYTHONUNBUFFERED: '1' };
  return [
    '#!/bin/bash',
    `# AutoResearch experiment #${req.nodeId} of session ${req.tag}, submitted with:`,
    `#   sbatch ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a))).join(' ')}`,
    '# The engine watches this job by its id; cancelling it marks the experiment as crashed.',
    `echo "[autoresearch] Slurm job \${SLURM_JOB_ID} started on $(hostname) (attempt $(( \${SLURM_RESTART_COUNT:-0} + 1 )))"`,
    `cd -- ${shellQuote(req.cwd)} 2>/dev/null || { echo "[autoresearch] cannot enter the worktree ${req.cwd.replace(/["$`\\]/g, '\\$&')} on $(hostname): the repository must be on a filesystem the compute nodes share"; exit ${CWD_EXIT}; }`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    ...runLines(req, sandboxRequired),
    'status=$?',
    'echo "[autoresearch] the command exited with code ${status}"',
    'exit ${status}',
    '',
  ].join('\n');
}

/** `Key=Value Key=Value ...` from `scontrol show job -o`; values run to the next ` Key=`. */
export function parseScontrol(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][\w/:]*)=/g;
  const keys: { key: string; at: number; valueAt: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) keys.push({ key: m[1]!, at: m.index, valueAt: m.index + m[0].length });
  keys.forEach((k, i) => { out[k.key] = line.slice(k.valueAt, i + 1 < keys.length ? keys[i + 1]!.at : undefined).trim(); });
  return out;
}

/** Epoch ms from a Slurm timestamp (local time, `2024-05-01T12:00:00`), or null for Unknown/None/N/A. */
export function parseSlurmTime(s: string | undefined): number | null {
  if (!s || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(s)) return null;
  const t = new Date(s).getTime();
  return Number.isFinite(t) ? t : null;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n as number, name]));

/** Slurm's `code:signal` exit code. */
export function parseExitCode(s: string | undefined): { exitCode: number | null; signal: string | null } {
  const m = /^(\d+):(\d+)$/.exec(s ?? '');
  if (!m) return { exitCode: null, signal: null };
  const sig = Number(m[2]);
  if (sig > 0) return { exitCode: null, signal: SIGNAL_NAMES.get(sig) ?? `signal ${sig}` };
  return { exitCode: Number(m[1]), signal: null };
}

function infoFromScontrol(line: string): JobInfo | null {
  const f = parseScontrol(line);
  if (!f.JobId) return null;
  return {
    id: f.JobId, state: (f.JobState ?? '').split(/\s/)[0]!, reason: f.Reason ?? 'None', exitCode: f.ExitCode ?? '', name: f.JobName ?? '',
    workDir: f.WorkDir ?? '', restarts: Number(f.Restarts ?? 0) || 0, submitMs: parseSlurmTime(f.SubmitTime), startMs: parseSlurmTime(f.StartTime),
    endMs: parseSlurmTime(f.EndTime), nodes: f.NodeList ?? '', timeLimit: f.TimeLimit ?? '',
  };
}

const SACCT_FIELDS = 'JobIDRaw,JobName,State,ExitCode,Submit,Start,End,WorkDir,NodeList,Timelimit,Reason';

function infoFromSacct(text: string, id: string): JobInfo | null {
  for (const line of text.split('\n')) {
    const [jobId, name, state, exitCode, submit, start, end, workDir, nodes, timeLimit, reason] = line.split('|');
    if (jobId !== id) continue;
    return {
      id, state: (state ?? '').split(/\s/)[0]!, reason: reason || 'None', exitCode: exitCode ?? '', name: name ?? '', workDir: workDir ?? '', restarts: 0,
      submitMs: parseSlurmTime(submit), startMs: parseSlurmTime(start), endMs: parseSlurmTime(end), nodes: nodes ?? '', timeLimit: timeLimit ?? '',
    };
  }
  return null;
}


function readHead(path: string, max = 8192): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    return buf.subarray(0, readSync(fd, buf, 0, max, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function lastMatch(text: string, re: RegExp): RegExpExecArray | null {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let last: RegExpExecArray | null = null;
  for (let m = g.exec(text); m; m = g.exec(text)) last = m;
  return last;
}

const SHARED_FS = 'the repository (with its worktrees and logs under .autoresearch/) must be on a filesystem the compute nodes share';

type Cancel = { why: 'budget' } | { why: 'stop' } | { why: 'never-starts'; reason: string } | { why: 'requeued'; reason: string };

/** One experiment's job, from submission (or reattachment) to its result. */
class SlurmJob implements RunningExperiment {
  readonly pid = undefined;
  handle: string | undefined;
  readonly submitted: Promise<void>;
  readonly result: Promise<RunResult>;
  private resolveSubmitted!: () => void;
  private resolveResult!: (r: RunResult) => void;
  private done = false;
  private finishing = false;
  /** Start of the current wait in the queue (submission, or the last requeue). */
  private waitingSince: number;
  private queuedMs = 0;
  private runStart: number | null = null;
  private runEnd: number | null = null;
  private requeues = 0;
  private lastWait = '';
  private budgetTimer: NodeJS.Timeout | null = null;
  private cancel: Cancel | null = null;
  private cancelSentAt = 0;
  private offset = 0;
  /** The last line of the log read so far, when it has no newline yet. */
  private partial = '';
  /** The latest attempt whose start line was seen (Slurm counts restarts; attempt = restarts + 1). */
  private attempt = 0;
  /** The state of the last poll, so a cancel is only sent again while the job still runs or waits. */
  private lastState = '';
  private readonly notes: string[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private readonly onAbort = () => this.requestCancel({ why: 'stop' });

  constructor(private readonly exec: SlurmExecutor, readonly req: RunRequest, readonly opts: SlurmOptions) {
    this.waitingSince = Date.now();
    this.submitted = new Promise((r) => { this.resolveSubmitted = r; });
    this.result = new Promise((r) => { this.resolveResult = r; });
    if (req.signal?.aborted) this.cancel = { why: 'stop' };
    else req.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get active(): boolean {
    return !this.done && this.handle !== undefined;
  }

  dispose(): void {
    if (!this.done) this.requestCancel({ why: 'stop' });
  }

  /** Submits the job, unless a job for this very node is already queued (a controller that died right after sbatch). */
  async submit(): Promise<void> {
    const req = this.req;
    const stopped = () => this.cancel?.why === 'stop';
    try {
      if (stopped()) return this.end({ signal: 'SIGTERM', failureReason: 'stopped before it was submitted' });
      if (!existsSync(req.cwd)) return this.end({ startError: `the worktree ${req.cwd} does not exist` });
      const existing = await this.exec.findLiveJob(jobName(req.tag, req.nodeId), req.cwd);
      if (stopped() && !existing) return this.end({ signal: 'SIGTERM', failureReason: 'stopped before it was submitted' });
      if (existing) {
        this.note(`found Slurm job ${existing} already submitted for this experiment: watching it instead of submitting again`);
        return await this.adopt(existing);
      }
      const script = scriptPath(req);
      const args = sbatchArgs(req, this.opts, script);
      mkdirSync(dirname(script), { recursive: true });
      writeFileSync(script, batchScript(req, args.slice(0, -1), this.opts.sandboxRequired), { mode: 0o755 });
      mkdirSync(dirname(req.logPath), { recursive: true });
      // Written before the job exists: once it runs, only the job writes to its log (appends from two hosts can collide on NFS).
      writeFileSync(req.logPath, `[autoresearch] experiment #${req.nodeId}: sbatch ${args.slice(1).join(' ')}\n`);
      this.offset = 0;
      this.waitingSince = Date.now();
      const r = await this.exec.slurm('sbatch', args, 60_000);
      const id = r.code === 0 ? /^(\d+(?:_\d+)?)/.exec(r.stdout.trim())?.[1] : undefined;
      if (!id) {
        const why = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).slice(-2).join('; ') || `sbatch exited with ${r.code}`;
        this.note(`sbatch did not submit the job: ${why}`);
        return this.end({ startError: why });
      }
      this.handle = id;
      this.resolveSubmitted();
      this.exec.watch(this);
      if (this.cancel) void this.sendCancel();
    } catch (e) {
      this.end({ startError: (e as Error).message });
    }
  }

  /** Watches a job a previous controller submitted. */
  async adopt(id: string): Promise<void> {
    this.handle = id;
    this.resolveSubmitted();
    if (!/^\d+(_\d+)?$/.test(id)) return this.end({ failureReason: `"${id}" is not a Slurm job id; the experiment's job cannot be found again` });
    const info = await this.exec.jobInfo(id);
    const expected = jobName(this.req.tag, this.req.nodeId);
    // Forgotten by the scheduler: the log's own markers are all that is left.
    if (info === 'unknown') return this.finishFromLog(id);
    // Slurm does not answer now: watch the job by its id until it does.
    if (info === 'unreachable') return this.exec.watch(this);
    if (info.name && info.name !== expected) {
      return this.end({ failureReason: `Slurm job ${id} is no longer this experiment's job (the scheduler knows it as "${info.name}"); what became of the experiment is unknown` });
    }
    this.requeues = info.restarts;
    // Start lines already in the log belong to attempts that are over, or to this one if it runs or ran.
    this.attempt = info.restarts + (WAITING.has(info.state) ? 0 : 1);
    this.offset = Math.max(0, (existsSync(this.req.logPath) ? fstatSize(this.req.logPath) : 0) - 4096);
    if (info.submitMs !== null) this.waitingSince = info.submitMs;
    if (ACTIVE.has(info.state) || info.state === 'COMPLETING') {
      // Run time counts from when Slurm started it, however long ago; the wait before that is queue time.
      this.running(info.startMs ?? Date.now());
      if (info.state === 'COMPLETING') this.runEnd = Date.now();
    }
    this.exec.watch(this);
    if (this.cancel) void this.sendCancel();
  }

  /** One squeue row for this job, or null when squeue no longer lists it. */
  observe(row: { state: string; reason: string } | null): void {
    if (this.done || this.finishing) return;
    if (!row) return void this.finish();
    const { state, reason } = row;
    this.lastState = state;
    const now = Date.now();
    if (WAITING.has(state)) {
      if (this.runStart !== null) this.requeued(now);
      const wait = `${state === 'PENDING' ? 'pending' : state.toLowerCase()} (${reason})`;
      if (wait !== this.lastWait) {
        this.lastWait = wait;
        this.req.onOutput?.(`[autoresearch] Slurm job ${this.handle} ${wait}\n`);
      }
      const key = reason.replace(/[ ,].*$/, '');
      const hint = NEVER_STARTS[key] ?? NEVER_STARTS[reason.replace(/\s+/g, '_')];
      if (hint && !this.cancel) this.requestCancel({ why: 'never-starts', reason: `Slurm will not start job ${this.handle}: ${reason} (${hint})` });
      return;
    }
    if (ACTIVE.has(state)) {
      if (this.runStart === null) this.running(now);
      else if (this.runEnd !== null) this.runEnd = null;
      return;
    }
    if (state === 'COMPLETING') {
      if (this.runStart === null) this.running(now);
      this.runEnd ??= now;
      return;
    }
    if (state === 'PREEMPTED' && this.requeues === 0 && !this.cancel) return void this.requeueAfterPreemption();
    void this.finish();
  }

  private running(start: number): void {
    this.runStart = start;
    this.runEnd = null;
    this.queuedMs += Math.max(0, start - this.waitingSince);
    this.lastWait = '';
    this.req.onOutput?.(`[autoresearch] Slurm job ${this.handle} running\n`);
    const left = this.req.budgetSeconds * 1000 - (Date.now() - start);
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.budgetTimer = setTimeout(() => this.requestCancel({ why: 'budget' }), Math.max(0, left));
  }

  /** Back in the queue after running: the scheduler requeued it (preemption, node failure). Once is allowed. */
  private requeued(now: number): void {
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.budgetTimer = null;
    this.runStart = null;
    this.runEnd = null;
    this.waitingSince = now;
    this.requeues++;
    const why = this.schedulerMessage() ?? 'requeued by the scheduler';
    this.req.onOutput?.(`[autoresearch] Slurm job ${this.handle} was requeued (${why}); its budget starts again when it runs\n`);
    if (this.requeues > 1 && !this.cancel) this.requestCancel({ why: 'requeued', reason: `Slurm requeued job ${this.handle} a second time (${why}); an experiment is requeued once` });
  }

  private async requeueAfterPreemption(): Promise<void> {
    this.finishing = true;
    const r = await this.exec.slurm('scontrol', ['requeue', this.handle!], 30_000);
    this.finishing = false;
    if (r.code !== 0) {
      this.cancel = { why: 'requeued', reason: `Slurm preempted job ${this.handle} and would not requeue it: ${(r.stderr || r.stdout).trim()}` };
      return void this.finish();
    }
    this.requeued(Date.now());
  }

  private requestCancel(c: Cancel): void {
    if (this.done) return;
    // Stop wins over a budget or a classification: the run is not a result then.
    if (this.cancel && c.why !== 'stop') return;
    this.cancel = c;
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.budgetTimer = null;
    if (c.why === 'budget') this.req.onOutput?.(`[autoresearch] budget of ${this.req.budgetSeconds}s of run time reached: cancelling Slurm job ${this.handle}\n`);
    if (this.handle) void this.sendCancel();
  }

  async sendCancel(): Promise<void> {
    if (!this.handle || this.done) return;
    this.cancelSentAt = Date.now();
    await this.exec.slurm('scancel', [this.handle], 30_000);
  }

  /** Called each poll: a cancel that did not take (scheduler busy) is sent again. */
  retryCancel(): void {
    const live = WAITING.has(this.lastState) || ACTIVE.has(this.lastState);
    if (this.cancel && live && !this.done && !this.finishing && Date.now() - this.cancelSentAt > 10_000) void this.sendCancel();
  }

  /** New log output since the last read, to the progress callback. */
  tail(): void {
    if (this.done) return;
    try {
      const fd = openSync(this.req.logPath, 'r');
      try {
        const size = fstatSync(fd).size;
        if (size < this.offset) this.offset = 0;
        while (this.offset < size) {
          const buf = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
          const n = readSync(fd, buf, 0, buf.length, this.offset);
          if (n <= 0) break;
          this.offset += n;
          const text = this.decoder.write(buf.subarray(0, n));
          if (!text) continue;
          this.scanStarts(text);
          this.req.onOutput?.(text);
        }
      } finally {
        closeSync(fd);
      }
    } catch {
      // No log yet: the job has not started.
    }
  }

  /**
   * The job's own start line is the earliest sign that it runs (the budget starts there, not a poll later),
   * and a later attempt's line is a requeue even when no poll saw it wait in between.
   */
  private scanStarts(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > 4096) this.partial = '';
    for (const line of lines) {
      const m = START_MARK.exec(line);
      if (!m || m[1] !== this.handle) continue;
      const attempt = Number(m[3]);
      if (attempt <= this.attempt) continue;
      const now = Date.now();
      if (this.requeues < attempt - 1 && this.runStart !== null) this.requeued(now);
      this.requeues = Math.max(this.requeues, attempt - 1);
      this.attempt = attempt;
      if (this.runStart === null && !this.cancel) this.running(now);
    }
  }

  private schedulerMessage(): string | null {
    if (!this.handle) return null;
    const m = lastMatch(readTail(this.req.logPath, 64 * 1024), schedulerMark(this.handle));
    if (!m) return null;
    return m[1] ? `cancelled by the scheduler due to ${m[1].toLowerCase()}` : m[0].replace(/^\*+ | \*+$/g, '');
  }

  /** The job left the queue: read its end state from the scheduler (or, if forgotten, the log) and resolve. */
  async finish(): Promise<void> {
    if (this.done || this.finishing) return;
    this.finishing = true;
    try {
      const info = await this.exec.jobInfo(this.handle!);
      if (info === 'unreachable') return; // the next poll asks again
      if (info === 'unknown') return this.finishFromLog(this.handle!);
      if (WAITING.has(info.state) || ACTIVE.has(info.state) || info.state === 'COMPLETING') return; // not over after all
      this.tail();
      this.end(this.classify(info));
    } finally {
      this.finishing = false;
    }
  }

  private classify(info: JobInfo): Partial<RunResult> {
    const id = info.id;
    const { exitCode, signal } = parseExitCode(info.exitCode);
    const ran = this.runStart !== null || info.startMs !== null;
    const wallMs = this.runStart !== null ? (this.runEnd ?? Date.now()) - this.runStart
      : info.startMs !== null && info.endMs !== null ? Math.max(0, info.endMs - info.startMs) : 0;
    const queuedMs = this.runStart !== null ? this.queuedMs
      : info.startMs !== null && info.submitMs !== null ? this.queuedMs + Math.max(0, info.startMs - info.submitMs) : this.queuedMs + Math.max(0, Date.now() - this.waitingSince);
    const base = { exitCode, signal, wallMs, queuedMs };
    const log = readHead(this.req.logPath) + readTail(this.req.logPath, 64 * 1024);
    const cancel = this.cancel;
    if (cancel?.why === 'budget') {
      this.note(`budget of ${this.req.budgetSeconds}s of run time reached after ${fmtDuration(wallMs)}: cancelled Slurm job ${id} (${info.state})`);
      return { ...base, timedOut: true };
    }
    if (cancel?.why === 'stop') {
      this.note(`stopped: cancelled Slurm job ${id}`);
      return { ...base, exitCode: null, signal: 'SIGTERM', failureReason: 'stopped' };
    }
    if (cancel?.why === 'never-starts') {
      this.note(cancel.reason);
      return { ...base, startError: cancel.reason };
    }
    if (cancel?.why === 'requeued') {
      this.note(cancel.reason);
      return { ...base, failureReason: cancel.reason };
    }
    if (CWD_MARK.test(log)) return { ...base, failureReason: `${CWD_MARK.exec(log)![0].replace('[autoresearch] ', '')} (Slurm job ${id})` };
    const sched = this.schedulerMessage();
    const on = info.nodes && info.nodes !== '(null)' ? ` on ${info.nodes}` : '';
    let failureReason: string | undefined;
    switch (info.state) {
      case 'COMPLETED':
      case 'FAILED':
        if (!START_MARK.test(log) && !ran) failureReason = `Slurm job ${id} failed before it started (${info.state}, reason ${info.reason}); ${SHARED_FS}`;
        else if (!START_MARK.test(log)) failureReason = `Slurm job ${id} wrote nothing to its log ${this.req.logPath} (${info.state}${on}); ${SHARED_FS}`;
        else if (info.state === 'FAILED' && exitCode === null && !signal) failureReason = `Slurm job ${id} failed (${info.reason})`;
        break;
      case 'CANCELLED':
        failureReason = ran
          ? `Slurm job ${id} was cancelled outside AutoResearch${on} (${sched ?? 'scancel by a person, an administrator or the cluster'})`
          : `Slurm job ${id} was cancelled outside AutoResearch while it waited in the queue`;
        break;
      case 'TIMEOUT':
        failureReason = `the scheduler ended Slurm job ${id} at its time limit of ${info.timeLimit || `${jobTimeMinutes(this.req.budgetSeconds, this.req.graceSeconds, this.opts.timeMinutes)} min`} (TIMEOUT)`;
        break;
      case 'NODE_FAIL':
        failureReason = `the node running Slurm job ${id} failed (NODE_FAIL${on})`;
        break;
      case 'OUT_OF_MEMORY':
        failureReason = `Slurm job ${id} ran out of memory: it used more than its allocation${this.opts.mem ? ` (executor.mem ${this.opts.mem})` : ''} (OUT_OF_MEMORY)`;
        break;
      case 'PREEMPTED':
        failureReason = `Slurm preempted job ${id}${this.requeues ? ' again after one requeue' : ''} (PREEMPTED${on})`;
        break;
      case 'BOOT_FAIL':
        failureReason = `the node for Slurm job ${id} failed to boot (BOOT_FAIL)`;
        break;
      case 'DEADLINE':
        failureReason = `Slurm job ${id} reached its deadline (DEADLINE)`;
        break;
      default:
        failureReason = `Slurm job ${id} ended in state ${info.state} (reason ${info.reason})`;
    }
    if (failureReason) this.note(failureReason);
    return { ...base, timedOut: info.state === 'TIMEOUT', ...(failureReason ? { failureReason } : {}) };
  }

  /** The scheduler forgot the job (MinJobAge passed, no accounting): the log's exit marker is the record. */
  private finishFromLog(id: string): void {
    const log = readTail(this.req.logPath, 64 * 1024);
    const exit = lastMatch(log, EXIT_MARK);
    const wallMs = this.runStart !== null ? (this.runEnd ?? Date.now()) - this.runStart : 0;
    if (exit) return this.end({ exitCode: Number(exit[1]), signal: null, wallMs, queuedMs: this.queuedMs });
    const reason = `the scheduler no longer knows Slurm job ${id} and its log has no exit status; what became of the experiment is unknown`;
    this.note(reason);
    this.end({ failureReason: reason, wallMs, queuedMs: this.queuedMs });
  }

  /** An engine note for the log. Appended once the job is over: while it runs only the job writes there (appends from two hosts can collide on NFS). */
  private note(text: string): void {
    this.notes.push(text);
    this.req.onOutput?.(`[autoresearch] ${text}\n`);
  }

  private end(r: Partial<RunResult>): void {
    if (this.done) return;
    this.done = true;
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.req.signal?.removeEventListener('abort', this.onAbort);
    this.exec.unwatch(this);
    this.tail();
    if (this.notes.length) {
      try {
        mkdirSync(dirname(this.req.logPath), { recursive: true });
        appendFileSync(this.req.logPath, this.notes.map((n) => `[autoresearch] ${n}\n`).join(''));
      } catch {
        // The log folder is gone: the result still carries the reason.
      }
    }
    this.resolveSubmitted();
    this.resolveResult({
      exitCode: r.exitCode ?? null, signal: r.signal ?? null, timedOut: r.timedOut ?? false, wallMs: r.wallMs ?? 0, logPath: this.req.logPath,
      queuedMs: r.queuedMs ?? 0,
      ...(r.startError ? { startError: r.startError } : {}),
      ...(r.failureReason ? { failureReason: r.failureReason } : {}),
    });
  }
}

function currentUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers).
    return process.env.USER || undefined;
  }
}

function fstatSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

export class SlurmExecutor implements Executor {
  readonly kind = 'slurm';
  private readonly jobs = new Set<SlurmJob>();
  /** Every run not yet over, submitted or not: disposing the executor cancels them all. */
  private readonly live = new Set<SlurmJob>();
  private readonly opts: SlurmOptions;
  private pollTimer: NodeJS.Timeout | null = null;
  private tailTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private pollFailures = 0;

  constructor(opts: SlurmOptions = {}) {
    this.opts = { pollMs: 1000, tailMs: 250, ...opts };
  }

  start(req: RunRequest): RunningExperiment {
    const job = this.track(new SlurmJob(this, req, this.opts));
    void job.submit();
    return job;
  }

  reattach(req: RunRequest, handle: string): RunningExperiment {
    const job = this.track(new SlurmJob(this, req, this.opts));
    void job.adopt(handle);
    return job;
  }

  private track(job: SlurmJob): SlurmJob {
    this.live.add(job);
    void job.result.then(() => this.live.delete(job));
    return job;
  }

  dispose(): void {
    for (const j of [...this.live]) j.dispose();
  }

  /** Runs a Slurm command; never throws. */
  slurm(cmd: string, args: string[], timeoutMs = 30_000): Promise<CmdResult> {
    return new Promise((resolve) => {
      execFile(cmd, args, { env: { ...process.env, ...this.opts.env }, timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        if (e && e.code === 'ENOENT') return resolve({ code: 127, stdout: '', stderr: `${cmd} was not found: is this machine a Slurm login node (are the Slurm client commands on PATH)?` });
        if (e?.killed) return resolve({ code: 124, stdout, stderr: `${cmd} did not answer within ${timeoutMs / 1000}s` });
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** A queued or running job of this user with this name and working folder. */
  async findLiveJob(name: string, cwd: string): Promise<string | null> {
    const user = currentUser();
    const r = await this.slurm('squeue', ['-h', ...(user ? ['-u', user] : []), `--name=${name}`, '-o', '%i|%T|%Z'], 30_000);
    if (r.code !== 0) return null;
    for (const line of r.stdout.split('\n')) {
      const [id, state, dir] = line.split('|');
      if (id && dir === cwd && (WAITING.has(state!) || ACTIVE.has(state!))) return id;
    }
    return null;
  }

  /** The scheduler's record of a job: scontrol while it remembers it, then sacct, then sacct -c (no slurmdbd). */
  async jobInfo(id: string): Promise<JobInfo | 'unknown' | 'unreachable'> {
    const s = await this.slurm('scontrol', ['show', 'job', id, '-o'], 30_000);
    if (s.code === 0) {
      const info = infoFromScontrol(s.stdout.trim().split('\n')[0] ?? '');
      if (info) return info;
    }
    // A controller that does not answer is not a job that is gone: ask again later.
    if (s.code !== 0 && !/invalid job id/i.test(s.stderr)) return 'unreachable';
    for (const extra of [[], ['-c']]) {
      const a = await this.slurm('sacct', [...extra, '-j', id, '-n', '-P', '-X', '-o', SACCT_FIELDS], 30_000);
      if (a.code !== 0) continue;
      const info = infoFromSacct(a.stdout, id);
      if (info) return info;
    }
    return 'unknown';
  }

  watch(job: SlurmJob): void {
    this.jobs.add(job);
    this.pollTimer ??= setTimeout(() => void this.poll(), Math.min(this.opts.pollMs!, 250));
    this.tailTimer ??= setInterval(() => { for (const j of this.jobs) j.tail(); }, this.opts.tailMs);
  }

  unwatch(job: SlurmJob): void {
    this.jobs.delete(job);
    if (this.jobs.size === 0) {
      if (this.tailTimer) clearInterval(this.tailTimer);
      this.tailTimer = null;
    }
  }

  /** One squeue call for every watched job. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const jobs = [...this.jobs].filter((j) => j.active);
      if (jobs.length) {
        const ids = jobs.map((j) => j.handle!);
        const r = await this.slurm('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T|%r'], 30_000);
        const rows = new Map<string, { state: string; reason: string }>();
        const gone = r.code !== 0 && /Invalid job id/i.test(r.stderr);
        if (r.code === 0 || gone) {
          this.pollFailures = 0;
          for (const line of r.stdout.split('\n')) {
            const [id, state, reason] = line.trim().split('|');
            if (id && state) rows.set(id, { state, reason: reason ?? '' });
          }
          for (const j of jobs) {
            j.observe(rows.get(j.handle!) ?? null);
            j.retryCancel();
          }
        } else if (++this.pollFailures % 30 === 1) {
          // The controller may be restarting: keep polling; the budget timers keep running meanwhile.
          for (const j of jobs) j.req.onOutput?.(`[autoresearch] squeue failed (${(r.stderr || r.stdout).trim().split('\n')[0]}); retrying\n`);
        }
      }
    } finally {
      this.polling = false;
      this.pollTimer = this.jobs.size ? setTimeout(() => void this.poll(), this.opts.pollMs) : null;
    }
  }
}
