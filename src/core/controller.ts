// The research loop. The engine owns every rule: budget, scope, git, the decision and the record.
// Proposers only propose. Everything the controller learns goes to the journal first; results.tsv,
// the branch, the summary and the events are derived from it.
// The controller coordinates; the work is done in the rooms under session/, which share one SessionContext.
import { Emitter } from './events.js';
import { DisposableBase } from './lifecycle.js';
import { SessionModel } from './model.js';
import { sessionPaths, type InboxCommand, type SessionPaths } from './record/store.js';
import type { Hint, SessionState } from './types.js';
import { Commands } from './session/commands.js';
import { SessionContext, type ControllerEvent, type ControllerOptions, type Outcome } from './session/context.js';
import { Decisions } from './session/decisions.js';
import { Opening } from './session/opening.js';
import { GpuPacking } from './session/packing.js';
import { Proposals } from './session/proposals.js';
import { SessionRecord } from './session/record.js';
import { Recovery } from './session/recovery.js';
import { Reservations } from './session/reservations.js';
import { Runs } from './session/runs.js';
import { Scheduling } from './session/scheduling.js';
import { Spending } from './session/spending.js';

export type { ControllerEvent, ControllerOptions, Outcome } from './session/context.js';
export { applyOverride } from './session/decisions.js';
export { PreflightError } from './session/opening.js';
export { experimentLine } from './session/record.js';

export class Controller extends DisposableBase {
  private readonly _onEvent = this._register(new Emitter<ControllerEvent>());
  readonly onEvent = this._onEvent.event;

  readonly paths: SessionPaths;
  readonly model = new SessionModel();
  private readonly ctx: SessionContext;
  private readonly sessionRecord: SessionRecord;
  private readonly commands: Commands;
  private readonly runs: Runs;
  private readonly proposals: Proposals;
  private readonly recovery: Recovery;
  private readonly scheduling: Scheduling;
  private readonly opening: Opening;
  private readonly spending: Spending;
  private readonly packing: GpuPacking;
  private releaseLock: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: ControllerOptions) {
    super();
    this.paths = sessionPaths(options.root, options.config.tag);
    const ctx = this.ctx = new SessionContext(options, this.paths, this.model, {
      emit: (e) => this._onEvent.fire(e), stop: () => this.stop(), pause: () => this.pause(), resume: () => this.resume(),
    });
    const reservations = new Reservations(ctx);
    const record = this.sessionRecord = new SessionRecord(ctx);
    const decisions = new Decisions(ctx, record);
    const spending = this.spending = new Spending(ctx, record);
    this.commands = new Commands(ctx, record, reservations, spending);
    const packing = this.packing = new GpuPacking(ctx);
    this.runs = new Runs(ctx, record, decisions, this.commands, packing);
    this.proposals = new Proposals(ctx, record, decisions, reservations, this.runs, spending);
    this.recovery = new Recovery(ctx, reservations, decisions, this.runs);
    this.scheduling = new Scheduling(ctx, reservations, this.proposals, this.runs, this.commands, spending, packing);
    this.opening = new Opening(ctx, record, this.commands);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Runs the session until it is done, stopped, or fails. Resumes from the journal when there is one. */
  async run(): Promise<Outcome> {
    const { ctx } = this;
    this.releaseLock = await this.opening.open();
    await this.packing.open();
    this.setState('running');
    this.commands.listen(this.options.inboxIntervalMs ?? 300);
    try {
      this.commands.applyEarly();
      this.commands.drainInbox();
      this.spending.atStart();
      // Recovery reserves the parents of interrupted nodes before the preparers look, so a resumed session
      // prepares what the session it replaces would have prepared while those nodes ran.
      const recovering = this.recovery.recover();
      // A preparer that fails ends the session like a failing slot would, instead of an unhandled rejection.
      const preparers = Array.from({ length: this.scheduling.pipelineCapacity }, (_, k) => this.scheduling.preparer(k).catch((e: Error) => {
        ctx.failReason ??= `internal error: ${e.stack ?? e}`;
        this.stop();
      }));
      try {
        await recovering;
        if (!ctx.stopping && !ctx.failReason) await this.runs.ensureBaseline();
        if (!ctx.stopping && !ctx.failReason) await Promise.all(ctx.slots.map((s) => this.scheduling.worker(s)));
      } finally {
        // The slots are done: proposals still being prepared are not needed any more, nor queued ones.
        ctx.workersDone = true;
        this.proposals.abortAll();
        this.scheduling.dropQueued();
        ctx.poke();
        await Promise.all(preparers);
      }
    } catch (e) {
      ctx.failReason = `internal error: ${(e as Error).stack ?? e}`;
    } finally {
      this.commands.unlisten();
    }
    return await this.finish();
  }

  private async finish(): Promise<Outcome> {
    const { ctx } = this;
    const state: Outcome['state'] = ctx.failReason ? 'failed' : ctx.stopping ? 'stopped' : 'done';
    const reason = ctx.failReason ?? (ctx.stopping ? 'stopped by request' : this.doneReason());
    await this.sessionRecord.settled();
    this.setState(state, reason);
    this.writeSummary();
    this.sessionRecord.close();
    this.closed = true;
    this.releaseLock?.();
    this.releaseLock = null;
    await this.scheduling.removeWorktrees();
    return { state, reason, best: this.model.best, model: this.model };
  }

  private doneReason(): string {
    const max = this.ctx.config.maxExperiments;
    if (max !== null && this.model.decidedCount >= max) return `reached ${max} experiment${max === 1 ? '' : 's'}`;
    const capped = this.spending.endReason;
    if (capped) return capped;
    return this.options.proposer.explainNothingNew?.() ?? 'the proposer has nothing new to try';
  }

  stop(): void {
    if (this.ctx.stopping || this.closed) return;
    this.ctx.stopping = true;
    this.setState('stopping');
    this.proposals.abortAll();
    for (const s of this.ctx.slots) s.abort?.abort();
    this.ctx.poke();
  }

  pause(): void {
    if (this.ctx.paused || this.ctx.stopping || this.closed) return;
    this.ctx.paused = true;
    this.setState('paused', 'no new experiment starts; running ones finish');
  }

  resume(): void {
    if (!this.ctx.paused || this.closed) return;
    this.ctx.paused = false;
    this.setState('running');
    this.ctx.poke();
  }

  get isPaused(): boolean {
    return this.ctx.paused;
  }

  override dispose(): void {
    this.stop();
    for (const s of this.ctx.slots) s.running?.dispose();
    super.dispose();
  }

  private setState(state: SessionState, reason?: string): void {
    if (this.sessionRecord.opened && !this.closed) this.sessionRecord.append({ type: 'state', state, reason, at: new Date().toISOString() });
    this.ctx.emit({ type: 'state', state, reason });
  }

  // ---- commands from people (session/commands.ts) -----------------------------------------

  /** Applies a command from the UI or another process. Throws with a message for the person when refused. */
  command(cmd: InboxCommand): void {
    this.commands.command(cmd);
  }

  addHint(text: string): Hint | null {
    return this.commands.addHint(text);
  }

  override(id: number, status: 'keep' | 'discard', reason: string): void {
    this.commands.override(id, status, reason);
  }

  branchFrom(id: number): void {
    this.commands.branchFrom(id);
  }

  /** Queues a re-run of a node's exact code, to see how much its metric moves by noise alone. */
  rerun(id: number): void {
    this.commands.rerun(id);
  }

  record(id: number, metric: number, memoryGb: number | null): void {
    this.commands.deliverRecord({ type: 'record', id, metric, memoryGb });
  }

  recordCrash(id: number, reason: string): void {
    this.commands.deliverRecord({ type: 'record-crash', id, reason });
  }

  writeSummary(): string {
    return this.sessionRecord.writeSummary();
  }
}
