// For expensive runs launched elsewhere: the engine prepares the commit and worktree, then waits for a
// person (or their scheduler) to record the result with `autoresearch record <node> <value>`.
// There is no budget timer: the person's run takes what it takes.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fmtMemory } from '../../shared/format.js';
import type { Executor, RunRequest, RunningExperiment } from './executor.js';
import type { RunResult } from '../types.js';

interface Waiting {
  started: number;
  logPath: string;
  resolve: (r: RunResult) => void;
  /** Detaches the abort listener once the run is settled. */
  detach: () => void;
}

function appendQuietly(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch {
    // The log is a courtesy here; the recorded result is what counts.
  }
}

export class ManualExecutor implements Executor {
  readonly kind = 'manual';
  private readonly waiting = new Map<number, Waiting>();

  start(req: RunRequest): RunningExperiment {
    // A node started again (a resumed session) replaces its older wait rather than orphaning it.
    this.finish(req.nodeId, { exitCode: null, signal: 'SIGTERM', timedOut: false });
    try {
      mkdirSync(dirname(req.logPath), { recursive: true });
      writeFileSync(req.logPath, [
        `[autoresearch] experiment #${req.nodeId} is ready for a manual run.`,
        `  code:    ${req.cwd}`,
        `  command: ${req.command}`,
        `When it finishes, record its result:`,
        `  autoresearch record ${req.nodeId} <value>            (or --crash "reason")`,
        '',
      ].join('\n'));
    } catch (e) {
      const startError = `cannot write the log ${req.logPath}: ${e instanceof Error ? e.message : String(e)}`;
      return { pid: undefined, result: Promise.resolve({ exitCode: null, signal: null, timedOut: false, wallMs: 0, logPath: req.logPath, startError }), dispose: () => undefined };
    }
    let resolve!: (r: RunResult) => void;
    const result = new Promise<RunResult>((r) => { resolve = r; });
    const id = req.nodeId;
    const abort = () => this.abort(id);
    const entry: Waiting = { started: Date.now(), logPath: req.logPath, resolve, detach: () => req.signal?.removeEventListener('abort', abort) };
    this.waiting.set(id, entry);
    if (req.signal?.aborted) abort();
    else req.signal?.addEventListener('abort', abort, { once: true });
    // Only this run's own wait: a later start for the same node is not this handle's to end.
    return { pid: undefined, result, dispose: () => { if (this.waiting.get(id) === entry) abort(); } };
  }

  private abort(id: number): void {
    const w = this.waiting.get(id);
    if (w) appendQuietly(w.logPath, '[autoresearch] stopped while waiting for a recorded result\n');
    this.finish(id, { exitCode: null, signal: 'SIGTERM', timedOut: false });
  }

  private finish(id: number, r: Omit<RunResult, 'wallMs' | 'logPath'>): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    w.detach();
    w.resolve({ ...r, wallMs: Date.now() - w.started, logPath: w.logPath });
    return true;
  }

  /** Records a person's result for a waiting node; false when that node is not waiting. */
  record(id: number, metric: number, memoryGb: number | null = null): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    appendQuietly(w.logPath, `[autoresearch] recorded by a person: ${metric}${memoryGb === null ? '' : ` (memory ${fmtMemory(memoryGb)})`}\n`);
    return this.finish(id, { exitCode: 0, signal: null, timedOut: false, recorded: { metric, memoryGb } });
  }

  /** Records that a waiting node's run crashed, and why; false when that node is not waiting. */
  recordCrash(id: number, reason: string): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    appendQuietly(w.logPath, `[autoresearch] recorded as crashed by a person: ${reason}\n`);
    // failureReason makes the person's words the judge's crash reason, instead of a bare "exit code 1".
    return this.finish(id, { exitCode: 1, signal: null, timedOut: false, failureReason: `recorded as crashed: ${reason}` });
  }

  /** The nodes waiting for a recorded result, in the order they started. */
  pending(): number[] {
    return [...this.waiting.keys()];
  }

  dispose(): void {
    for (const id of [...this.waiting.keys()]) this.abort(id);
  }
}
