// Runs an experiment as a local process group: the log goes to a file as it arrives, the budget ends
// the whole tree (SIGTERM, then SIGKILL after the grace period), and nothing it forked outlives it.
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { runEnvironment, type Executor, type RunRequest, type RunningExperiment } from './executor.js';
import type { RunResult } from './types.js';

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalExecutor implements Executor {
  readonly kind = 'local';
  private readonly running = new Set<RunningExperiment>();

  start(req: RunRequest): RunningExperiment {
    mkdirSync(dirname(req.logPath), { recursive: true });
    const log = createWriteStream(req.logPath, { flags: 'w' });
    const started = Date.now();
    const timers: NodeJS.Timeout[] = [];
    let timedOut = false;
    let ended = false;

    if (!existsSync(req.cwd)) {
      const result = new Promise<RunResult>((resolve) => log.end(() => resolve({ exitCode: null, signal: null, timedOut: false, wallMs: 0, logPath: req.logPath, startError: `the working folder ${req.cwd} does not exist` })));
      const handle: RunningExperiment = { pid: undefined, result, dispose: () => undefined };
      return handle;
    }

    const child = execa(req.command, {
      shell: '/bin/sh', cwd: req.cwd, detached: true, stdin: 'ignore', all: true, buffer: false, reject: false,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...runEnvironment(req) }, cleanup: false, forceKillAfterDelay: false,
    });
    const pid = child.pid;

    const terminate = () => {
      if (ended) return;
      killGroup(pid, 'SIGTERM');
      timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), Math.max(0, req.graceSeconds * 1000)));
    };
    timers.push(setTimeout(() => {
      timedOut = true;
      log.write(`\n[autoresearch] budget of ${req.budgetSeconds}s reached: terminating the process group\n`);
      terminate();
    }, req.budgetSeconds * 1000));
    const onAbort = () => {
      log.write('\n[autoresearch] stopped: terminating the process group\n');
      killGroup(pid, 'SIGTERM');
      timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), 1000));
    };
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener('abort', onAbort, { once: true });

    child.all?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      req.onOutput?.(chunk.toString('utf8'));
    });

    const result = (async (): Promise<RunResult> => {
      let exitCode: number | null = null;
      let signal: string | null = null;
      let startError: string | undefined;
      try {
        // The leader exiting is the end of the run; children holding the pipe must not keep it going.
        const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
          child.once('exit', (code, sig) => resolve({ code, signal: sig }));
          child.once('error', (error) => resolve({ code: null, signal: null, error }));
        });
        exitCode = r.code;
        signal = r.signal;
        if (r.error && pid === undefined) startError = r.error.message;
      } finally {
        ended = true;
        for (const t of timers) clearTimeout(t);
        req.signal?.removeEventListener('abort', onAbort);
        // Whatever the leader left behind goes with it.
        if (pid) {
          killGroup(pid, 'SIGKILL');
          for (let i = 0; i < 50 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
        }
        child.all?.destroy();
        await child.catch(() => undefined);
        await new Promise<void>((r) => log.end(() => r()));
      }
      return { exitCode, signal, timedOut, wallMs: Date.now() - started, logPath: req.logPath, ...(startError ? { startError } : {}) };
    })();

    const handle: RunningExperiment = {
      pid,
      result,
      dispose: () => {
        if (!ended) onAbort();
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
