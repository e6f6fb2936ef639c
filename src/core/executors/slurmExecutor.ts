// Runs each experiment as a Slurm batch job. The job's working folder is the node's worktree and its
// output file is the node's log, so both must be on a filesystem the compute nodes share. The engine
// polls the scheduler itself (one squeue call for all its jobs), tails the log for progress, counts
// the budget from the moment the job is RUNNING (queue time is reported apart) and cancels it there;
// the job's time limit is only the backstop for a controller that died. A resumed controller finds
// its jobs again by the ids in the journal (`reattach`), so no node is ever submitted twice.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync, appendFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { readTail } from '../files.js';
import type { Executor, RunRequest, RunningExperiment } from './executor.js';
import { ACTIVE, infoFromSacct, infoFromScontrol, NEVER_STARTS, parseExitCode, SACCT_FIELDS, schedulerMark, WAITING, type JobInfo } from './slurmJobInfo.js';
import { batchScript, CWD_MARK, EXIT_MARK, jobName, jobTimeMinutes, sbatchArgs, scriptPath, START_MARK, type SlurmOptions } from './slurmScript.js';
import type { RunResult, SlurmExecutorConfig } from '../types.js';
import { fmtDuration } from '../../shared/format.js';

/** The executor's options from the config's `executor:` block. */
export function slurmOptions(c: SlurmExecutorConfig): SlurmOptions {
  return {
    partition: c.partition, gres: c.gres, cpusPerTask: c.cpusPerTask, mem: c.mem, timeMinutes: c.timeMinutes, account: c.account,
    extraArgs: c.extraArgs, pollMs: c.pollSeconds !== undefined ? c.pollSeconds * 1000 : undefined,
  };
}

interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
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
    this.req.onRunning?.(start);
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
  readonly sandboxed = 'on-nodes';
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
        if (e?.killed) return resolve({ code: 124, stdout, stderr: `${cmd} did not answer within ${fmtDuration(timeoutMs)}` });
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
