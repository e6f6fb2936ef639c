// Runs an experiment as a local process group: the log goes to a file as it arrives, the budget ends
// the whole tree (SIGTERM, then SIGKILL after the grace period), and nothing it forked outlives it.
import { createWriteStream, mkdirSync, openSync, readdirSync, readFileSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { runEnvironment, type Executor, type RunRequest, type RunningExperiment } from './executor.js';
import type { RunResult } from '../types.js';

/** setTimeout overflows (fires at once) past this many milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Once the leader is gone and its processes killed (its group and any that left it), how long reading what is
 * left in the output pipes may take. Only a process that scrubbed its environment can still hold them; a loaded
 * machine may need seconds to read a chatty run's last megabytes, which must not be cut from the log.
 */
const DRAIN_MS = 10_000;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

let runCounter = 0;

/**
 * Kills what a run started in a session of its own (setsid, a daemon), out of reach of the group kill:
 * every process that still carries the run's id in its environment. Linux only (/proc); a no-op elsewhere.
 */
function killStragglers(runId: string): void {
  const mark = Buffer.from(`\0AUTORESEARCH_RUN_ID=${runId}\0`);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return;
  }
  for (const p of pids) {
    try {
      // A leading NUL so the first variable matches too.
      if (Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${p}/environ`)]).includes(mark)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // Gone, or another user's process: not ours.
    }
  }
}

// Process groups of runs in flight: if the controller itself exits first, they go with it.
const liveGroups = new Set<number>();
let exitHook = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of liveGroups) killGroup(p, 'SIGKILL');
  });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A timer that can be awaited and cancelled, so none outlives the run. */
function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => {
    done = resolve;
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => { clearTimeout(timer); done(); } };
}

function spawn(req: RunRequest, runId: string) {
  const options = {
    cwd: req.cwd, detached: true, stdin: 'ignore', buffer: false, reject: false,
    cleanup: false, forceKillAfterDelay: false, extendEnv: false,
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...runEnvironment(req), AUTORESEARCH_RUN_ID: runId },
  } as const;
  // In the sandbox, bubblewrap leads the process group and runs the shell inside it.
  if (req.sandbox?.length) return execa(req.sandbox[0]!, [...req.sandbox.slice(1), '/bin/sh', '-c', req.command], options);
  return execa(req.command, { ...options, shell: true });
}

function settled(req: RunRequest, result: Omit<RunResult, 'wallMs' | 'logPath'>): RunningExperiment {
  return { pid: undefined, result: Promise.resolve({ ...result, wallMs: 0, logPath: req.logPath }), dispose: () => undefined };
}

export class LocalExecutor implements Executor {
  readonly kind = 'local';
  readonly sandboxed = 'here';
  private readonly running = new Set<RunningExperiment>();

  start(req: RunRequest): RunningExperiment {
    // Opened synchronously so a log that cannot be written is a start error, not a run nobody can judge.
    let fd: number;
    try {
      mkdirSync(dirname(req.logPath), { recursive: true });
      fd = openSync(req.logPath, 'w');
    } catch (e) {
      return settled(req, { exitCode: null, signal: null, timedOut: false, startError: `cannot write the log ${req.logPath}: ${message(e)}` });
    }
    const log: WriteStream = createWriteStream('', { fd });
    log.on('error', () => undefined); // A full disk must not crash the controller; the judge sees what was written.
    const logClosed = new Promise<void>((resolve) => log.once('close', () => resolve()));
    const note = (text: string) => {
      if (!log.writableEnded) log.write(text);
      try { req.onOutput?.(text); } catch { /* the UI's trouble, not the run's */ }
    };
    const fail = (startError: string): RunningExperiment => {
      note(`[autoresearch] could not start: ${startError}\n`);
      log.end();
      const result = logClosed.then((): RunResult => ({ exitCode: null, signal: null, timedOut: false, wallMs: 0, logPath: req.logPath, startError }));
      return { pid: undefined, result, dispose: () => undefined };
    };

    let isDir = false;
    try { isDir = statSync(req.cwd).isDirectory(); } catch { /* missing */ }
    if (!isDir) return fail(`the working folder ${req.cwd} does not exist`);
    if (req.signal?.aborted) {
      note('[autoresearch] stopped before it started\n');
      log.end();
      const result = logClosed.then((): RunResult => ({ exitCode: null, signal: 'SIGTERM', timedOut: false, wallMs: 0, logPath: req.logPath }));
      return { pid: undefined, result, dispose: () => undefined };
    }

    const started = Date.now();
    // Marks every process of this run, including any that leave its process group.
    const runId = `${process.pid}-${++runCounter}-${started}`;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(req, runId);
    } catch (e) {
      return fail(message(e));
    }
    const pid = child.pid;
    if (pid) trackGroup(pid);
    try { req.onRunning?.(started); } catch { /* the caller's trouble, not the run's */ }
    // Handled below through 'exit'; execa's own promise must never reject unobserved.
    const finished = child.then((r) => r, (e: unknown) => e);
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

    // stdout and stderr go to the log in the order they arrive; each has its own decoder so a split character survives.
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer | string) => {
        if (!log.writableEnded) log.write(chunk);
        const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        if (text) try { req.onOutput?.(text); } catch { /* the UI's trouble, not the run's */ }
      });
      stream.on('error', () => undefined);
    }

    let timedOut = false;
    let ended = false;
    let terminating = false;
    const timers: NodeJS.Timeout[] = [];
    let graceOver!: () => void;
    const graceEnded = new Promise<void>((resolve) => { graceOver = resolve; });
    const kill = () => {
      killGroup(pid, 'SIGKILL');
      graceOver();
    };
    const terminate = (why: string) => {
      if (ended) return;
      // Asked again while terminating (a second Stop): no more grace.
      if (terminating) return kill();
      terminating = true;
      note(`\n[autoresearch] ${why}: terminating the process group\n`);
      killGroup(pid, 'SIGTERM');
      timers.push(setTimeout(kill, Math.min(MAX_TIMER_MS, Math.max(0, req.graceSeconds * 1000))));
    };
    if (Number.isFinite(req.budgetSeconds) && req.budgetSeconds > 0) {
      timers.push(setTimeout(() => {
        timedOut = true;
        terminate(`budget of ${req.budgetSeconds}s reached`);
      }, Math.min(MAX_TIMER_MS, req.budgetSeconds * 1000)));
    }
    const onAbort = () => terminate('stopped');
    req.signal?.addEventListener('abort', onAbort, { once: true });

    const result = (async (): Promise<RunResult> => {
      // The leader exiting is the end of the run; children still holding the pipes do not keep it going.
      const exit = await new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        // Only reached first when there was no process to exit: a spawn failure.
        void finished.then((r) => {
          const x = r as { exitCode?: number; signal?: string; originalMessage?: string; shortMessage?: string; message?: string };
          resolve({ code: x.exitCode ?? null, signal: x.signal ?? null, error: pid === undefined ? x.originalMessage || x.shortMessage || x.message || 'the process could not be spawned' : undefined });
        });
      });
      const wallMs = Date.now() - started;
      // The shell in front of the command dies at SIGTERM at once; what it started still gets its grace period,
      // until its output closes (it is gone) or the grace runs out.
      if (terminating) await Promise.race([closed, graceEnded]);
      ended = true;
      for (const t of timers) clearTimeout(t);
      req.signal?.removeEventListener('abort', onAbort);
      // Whatever the leader left behind goes with it, in its group or not.
      killGroup(pid, 'SIGKILL');
      if (pid) killStragglers(runId);
      if (pid) liveGroups.delete(pid);
      const drain = delay(DRAIN_MS);
      await Promise.race([closed, drain.promise]);
      drain.cancel();
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (exit.error && pid === undefined) note(`[autoresearch] could not start: ${exit.error}\n`);
      log.end();
      await logClosed;
      return {
        exitCode: exit.code, signal: exit.signal, timedOut, wallMs, logPath: req.logPath,
        ...(exit.error && pid === undefined ? { startError: exit.error } : {}),
      };
    })();

    const handle: RunningExperiment = {
      pid,
      result,
      dispose: () => {
        terminate('stopped');
        this.running.delete(handle);
      },
    };
    this.running.add(handle);
    void result.then(() => this.running.delete(handle));
    return handle;
  }

  dispose(): void {
    for (const r of [...this.running]) r.dispose();
  }
}

