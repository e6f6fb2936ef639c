// The executor contract: run one experiment's command under the budget. Local processes now; a cluster later.
import type { Disposable } from '../lifecycle.js';
import type { RunResult } from '../types.js';

export interface RunRequest {
  nodeId: number;
  tag: string;
  /** The node's worktree; the command runs here. */
  cwd: string;
  command: string;
  budgetSeconds: number;
  /** Seconds between terminate and kill once the budget is spent. */
  graceSeconds: number;
  slot: number;
  /** The full log (stdout and stderr, interleaved) goes here. */
  logPath: string;
  /** Extra environment (the engine adds AUTORESEARCH_* variables itself). */
  env?: Record<string, string>;
  /** Aborting ends the whole process tree at once (Stop). */
  signal?: AbortSignal;
  /** The sandbox to run the command in: bubblewrap and its arguments (sandbox.ts); the command goes after them. */
  sandbox?: string[];
  /** Called with each chunk of output as it arrives (progress in the UI). */
  onOutput?: (chunk: string) => void;
  /**
   * Called when the run's budget starts (epoch ms): a cluster job's when the scheduler starts it, after its wait in the
   * queue, and again when a requeued job runs again; a local process's as it is spawned. Learning curves count from
   * there, so a run that queued is compared with its parent at the same point of its own run.
   */
  onRunning?: (startMs: number) => void;
}

/** A run in progress. Disposing it ends its whole process tree. */
export interface RunningExperiment extends Disposable {
  readonly pid: number | undefined;
  /** The scheduler's id for the run (a Slurm job id), once submitted: journaled so a resumed controller finds it again. */
  readonly handle?: string;
  /** Settles once the run is submitted and `handle` is known (or submission failed); absent when start() is immediate. */
  readonly submitted?: Promise<void>;
  readonly result: Promise<RunResult>;
}

export interface Executor extends Disposable {
  readonly kind: string;
  /**
   * Where its runs can be fenced by the engine's bubblewrap sandbox: `here`, on this machine under the bubblewrap
   * the engine probed here; `on-nodes`, by each cluster job on its compute node, which decides whether bubblewrap
   * runs there. Absent: the runs happen where the engine cannot fence them (by hand), so detection alone guards them.
   */
  readonly sandboxed?: 'here' | 'on-nodes';
  start(request: RunRequest): RunningExperiment;
  /**
   * Watches a run that a previous controller started (its journaled handle) instead of starting it again:
   * a running job is followed to its end, a finished one yields its recorded result.
   */
  reattach?(request: RunRequest, handle: string): RunningExperiment;
  /**
   * Takes a person's result for node `id`'s run, which waits for one instead of reporting its own (the manual
   * executor); false when that node is not waiting. An executor without it has runs that report their own results.
   */
  record?(id: number, metric: number, memoryGb: number | null): boolean;
  /** Takes a person's word that node `id`'s waiting run crashed, and why; false when that node is not waiting. */
  recordCrash?(id: number, reason: string): boolean;
}

/** The environment every run gets, so a script can stop itself in time. */
export function runEnvironment(req: RunRequest): Record<string, string> {
  return {
    AUTORESEARCH_BUDGET_SECONDS: String(req.budgetSeconds),
    AUTORESEARCH_SLOT: String(req.slot),
    AUTORESEARCH_NODE: String(req.nodeId),
    AUTORESEARCH_TAG: req.tag,
    ...req.env,
  };
}
