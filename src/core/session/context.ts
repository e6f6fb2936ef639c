// What the rooms of a session share: its settings, its model, git and the protection once it is open, the slots,
// the few flags the loop turns on, and the way to tell the world. The controller makes one and hands it to each room.
import type { Executor, RunningExperiment } from '../executors/executor.js';
import { resolveNoise } from '../judging/chance.js';
import type { Lab } from '../git.js';
import type { SessionModel } from '../model.js';
import type { BeforeRun, Protection } from '../protection/protection.js';
import type { Proposer } from '../proposers/proposer.js';
import type { SandboxProbe } from '../protection/sandbox.js';
import type { SessionPaths } from '../record/store.js';
import type { ExperimentNode, PlatformInfo, ResearchConfig, RunResult, SessionState } from '../types.js';

export type ControllerEvent =
  | { type: 'node-added'; node: ExperimentNode }
  | { type: 'node-updated'; node: ExperimentNode }
  | { type: 'run-started'; node: ExperimentNode; slot: number; budgetSeconds: number }
  /** `value`, `parentValue`: the curve's latest value and the parent's at the same point; `point`: the curve point this output added, if any. */
  | { type: 'run-progress'; nodeId: number; elapsedMs: number; budgetMs: number; line: string; value?: number; parentValue?: number | null; point?: [fraction: number, value: number] }
  | { type: 'run-finished'; node: ExperimentNode }
  | { type: 'experiment'; line: string; node: ExperimentNode }
  | { type: 'state'; state: SessionState; reason?: string }
  | { type: 'report'; text: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface ControllerOptions {
  /** Any folder inside the user's repository; the repo root is found from it. */
  root: string;
  config: ResearchConfig;
  proposer: Proposer;
  executor: Executor;
  /** Skips probing python and nvidia-smi (tests). */
  platform?: PlatformInfo | null;
  /** How often the inbox of commands from other processes is read. */
  inboxIntervalMs?: number;
  /** Begin a new attempt of an existing session instead of resuming it (`run --restart`). */
  restart?: boolean;
  /** Replaces running bubblewrap once to see whether it works here (tests). */
  sandboxProbe?: () => SandboxProbe;
}

export interface Outcome {
  state: 'done' | 'stopped' | 'failed';
  reason: string;
  best: ExperimentNode | undefined;
  model: SessionModel;
}

export interface Slot {
  index: number;
  worktree: string;
  running: RunningExperiment | null;
  abort: AbortController | null;
  /** A slot only recovery uses: a reattached job's worktree beyond this config's `parallel`. */
  temporary?: boolean;
}

/** What the controller does for the rooms: tell the world, and steer the loop as a person would. */
export interface ControllerHooks {
  emit(e: ControllerEvent): void;
  stop(): void;
  pause(): void;
  resume(): void;
}

export class SessionContext {
  readonly config: ResearchConfig;
  /** The repository, once the session is open. */
  lab!: Lab;
  /** Shared inputs, the sandbox and the checks after each run, once the session is open. */
  protection!: Protection;
  readonly slots: Slot[] = [];
  stopping = false;
  paused = false;
  /** The slots are done: what the preparers still make is not needed. */
  workersDone = false;
  failReason: string | null = null;
  /** Nodes taken on and not decided yet: they count toward maxExperiments. */
  inFlight = 0;
  private wake: (() => void) | null = null;

  constructor(readonly options: ControllerOptions, readonly paths: SessionPaths, readonly model: SessionModel, private readonly hooks: ControllerHooks) {
    // `noise.alpha` becomes its z here, once, so the judge, the journal and every reader see the z the session uses.
    this.config = resolveNoise(options.config);
  }

  emit(e: ControllerEvent): void {
    this.hooks.emit(e);
  }

  /**
   * Waits for what runs in a slot (an experiment, its checks), then frees the slot and closes what the run held (its
   * network proxy), naming the hosts the sandbox refused it, however the run ended.
   */
  async awaitRun(slot: Slot, running: RunningExperiment, before: BeforeRun, nodeId: number): Promise<RunResult> {
    try {
      return await running.result;
    } finally {
      slot.running = null;
      slot.abort = null;
      running.dispose();
      const refused = this.protection.finished(before);
      if (refused.length) this.log(`#${nodeId}: the sandbox refused network access to ${refused.join(', ')}, not in sandbox.network`, 'warn');
    }
  }

  log(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    this.emit({ type: 'log', level, message });
  }

  stop(): void {
    this.hooks.stop();
  }

  pause(): void {
    this.hooks.pause();
  }

  resume(): void {
    this.hooks.resume();
  }

  poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => { prev?.(); resolve(); };
    });
  }

  /** A slot's worktree at `commit`, with the shared inputs linked in. */
  async checkout(worktree: string, commit: string): Promise<void> {
    await this.protection.checkout(worktree, commit);
  }
}
