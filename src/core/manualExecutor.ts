// For expensive runs launched elsewhere: the engine prepares the commit and worktree, then waits for a
// person (or their scheduler) to record the result with `autoresearch record <node> <value>`.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Executor, RunRequest, RunningExperiment } from './executor.js';
import type { RunResult } from './types.js';

interface Waiting {
  started: number;
  logPath: string;
  resolve: (r: RunResult) => void;
}

export class ManualExecutor implements Executor {
  readonly kind = 'manual';
  private readonly waiting = new Map<number, Waiting>();

  start(req: RunRequest): RunningExperiment {
    mkdirSync(dirname(req.logPath), { recursive: true });
    writeFileSync(req.logPath, [
      `[autoresearch] experiment #${req.nodeId} is ready for a manual run.`,
      `  code:    ${req.cwd}`,
      `  command: ${req.command}`,
      `When it finishes, record its result:`,
      `  autoresearch record ${req.nodeId} <value>            (or --crash "reason")`,
      '',
    ].join('\n'));
    let resolve!: (r: RunResult) => void;
    const result = new Promise<RunResult>((r) => { resolve = r; });
    const entry: Waiting = { started: Date.now(), logPath: req.logPath, resolve };
    this.waiting.set(req.nodeId, entry);
    const abort = () => this.finish(req.nodeId, { exitCode: null, signal: 'SIGTERM', timedOut: false });
    req.signal?.addEventListener('abort', abort, { once: true });
    return { pid: undefined, result, dispose: abort };
  }

  private finish(id: number, r: Omit<RunResult, 'wallMs' | 'logPath'>): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    w.resolve({ ...r, wallMs: Date.now() - w.started, logPath: w.logPath });
    return true;
  }

  /** Records a result; false when the node is not waiting. */
  record(id: number, metric: number, memoryGb: number | null = null): boolean {
    const w = this.waiting.get(id);
    if (w) appendFileSync(w.logPath, `[autoresearch] recorded by a person: ${metric}${memoryGb === null ? '' : ` (memory ${memoryGb} GB)`}\n`);
    return this.finish(id, { exitCode: 0, signal: null, timedOut: false, recorded: { metric, memoryGb } });
  }

  recordCrash(id: number, reason: string): boolean {
    const w = this.waiting.get(id);
    if (w) appendFileSync(w.logPath, `[autoresearch] recorded as crashed by a person: ${reason}\n`);
    return this.finish(id, { exitCode: 1, signal: null, timedOut: false });
  }

  pending(): number[] {
    return [...this.waiting.keys()];
  }

  dispose(): void {
    for (const id of [...this.waiting.keys()]) this.finish(id, { exitCode: null, signal: 'SIGTERM', timedOut: false });
  }
}
