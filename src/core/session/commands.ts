// Commands from people: the UI's calls, and the inbox other processes write to. Each is applied to the running
// session, or refused with a message for the person.
import type { SessionModel } from '../model.js';
import { InboxReader, type InboxCommand } from '../record/store.js';
import type { ExperimentNode, Hint } from '../types.js';
import type { SessionContext } from './context.js';
import { applyOverride } from './decisions.js';
import type { SessionRecord } from './record.js';
import type { Reservations } from './reservations.js';
import type { Spending } from './spending.js';

type RecordCommand = Extract<InboxCommand, { type: 'record' | 'record-crash' }>;

export class Commands {
  private inbox!: InboxReader;
  private inboxTimer: NodeJS.Timeout | null = null;
  private readonly early: InboxCommand[] = [];
  private readonly earlyRecords = new Map<number, RecordCommand>();
  private readonly rerunQueue: number[] = [];

  constructor(
    private readonly ctx: SessionContext, private readonly record: SessionRecord, private readonly reservations: Reservations,
    private readonly spending: Spending,
  ) {}

  openInbox(): void {
    this.inbox = new InboxReader(this.ctx.paths.inbox, (note) => this.ctx.log(`recovered: ${note}`, 'warn'));
  }

  /** Reads the inbox every `intervalMs` until unlisten(). */
  listen(intervalMs: number): void {
    this.inboxTimer = setInterval(() => this.drainInbox(), intervalMs);
  }

  unlisten(): void {
    if (this.inboxTimer) clearInterval(this.inboxTimer);
    this.inboxTimer = null;
  }

  /** Commands given while the session was still opening. */
  applyEarly(): void {
    this.applyCommands(this.early.splice(0));
  }

  drainInbox(): void {
    this.applyCommands(this.inbox.read());
  }

  private applyCommands(cmds: InboxCommand[]): void {
    for (const cmd of cmds) {
      try {
        this.command(cmd);
      } catch (e) {
        this.ctx.log(`command ${cmd.type} refused: ${(e as Error).message}`, 'warn');
      }
    }
  }

  /** Applies a command from the UI or another process. Throws with a message for the person when refused. */
  command(cmd: InboxCommand): void {
    // Commands given while the session is still opening are applied as soon as it is open.
    if (!this.record.opened) {
      this.early.push(cmd);
      return;
    }
    switch (cmd.type) {
      case 'hint': this.addHint(cmd.text); break;
      case 'override': this.override(cmd.id, cmd.status, cmd.reason); break;
      case 'record': this.deliverRecord({ type: 'record', id: cmd.id, metric: cmd.metric, memoryGb: cmd.memoryGb }); break;
      case 'record-crash': this.deliverRecord({ type: 'record-crash', id: cmd.id, reason: cmd.reason }); break;
      case 'branch': this.branchFrom(cmd.id); break;
      case 'rerun': this.rerun(cmd.id); break;
      case 'stop': this.ctx.stop(); break;
      case 'pause': this.ctx.pause(); break;
      case 'resume': this.ctx.resume(); break;
      case 'cap': this.spending.change(cmd.cap); break;
      case 'prune': this.setPrune(cmd.on); break;
    }
  }

  /** Early stopping on or off from now on, the running experiments included; journaled so a resume keeps it. */
  setPrune(on: boolean): void {
    if (this.ctx.model.pruneSet === on) return;
    this.record.append({ type: 'prune', on, at: new Date().toISOString() });
    this.ctx.log(on ? `early stopping on, by a person${this.ctx.config.prune ? '' : ' (the default rule: the config has none)'}` : 'early stopping off, by a person: every run gets its whole budget');
  }

  addHint(text: string): Hint | null {
    if (!this.record.opened) {
      this.early.push({ type: 'hint', text });
      return null;
    }
    const hint: Hint = { id: this.ctx.model.hints.length, text: text.trim(), addedAt: new Date().toISOString(), takenBy: null };
    if (!hint.text) throw new Error('A hypothesis needs some text.');
    this.record.append({ type: 'hint', hint });
    this.ctx.log(`hypothesis queued: ${hint.text}`);
    this.ctx.poke();
    return hint;
  }

  override(id: number, status: 'keep' | 'discard', reason: string): void {
    const n = requireDecided(this.ctx.model, id);
    if (status === 'keep' && (n.metric === null || !Number.isFinite(n.metric))) throw new Error(`#${id} has no metric (it ${n.status === 'crash' ? 'crashed' : 'did not run'}); only a node with a result can be kept.`);
    if (id === 0 && status === 'discard') throw new Error('The baseline is the reference every change is measured against; it cannot be discarded.');
    applyOverride((e) => this.record.append(e), this.ctx.model, id, status, reason);
    this.record.rewriteResults();
    void this.record.updateBranch();
    this.ctx.emit({ type: 'node-updated', node: n });
    this.reservations.reopen(id);
    this.ctx.poke();
  }

  branchFrom(id: number): void {
    const n = this.ctx.model.get(id);
    if (!n || n.commit === null) throw new Error(`There is no node #${id} with code to branch from.`);
    this.reservations.pin(id);
    this.reservations.reopen(id);
    this.ctx.log(`the next experiment branches from #${id}`);
    this.ctx.poke();
  }

  /** Queues a re-run of a node's exact code, to see how much its metric moves by noise alone. */
  rerun(id: number): void {
    const n = requireDecided(this.ctx.model, id);
    if (!n.commit) throw new Error(`#${id} has no code to re-run.`);
    this.rerunQueue.push(id);
    this.ctx.poke();
  }

  /** The next node a person asked to re-run, if any. */
  nextRerun(): number | undefined {
    return this.rerunQueue.shift();
  }

  get rerunsWaiting(): boolean {
    return this.rerunQueue.length > 0;
  }

  /** A manual result for a node that is waiting, or about to wait once the session reaches it again. */
  deliverRecord(cmd: RecordCommand): void {
    const { executor } = this.ctx.options;
    if (!executor.record || !executor.recordCrash) throw new Error('This session does not use the manual executor; its runs report their own results.');
    const delivered = cmd.type === 'record' ? executor.record(cmd.id, cmd.metric, cmd.memoryGb) : executor.recordCrash(cmd.id, cmd.reason);
    if (delivered) return;
    const n = this.ctx.model.get(cmd.id);
    if (!n || n.decidedBy !== null) throw new Error(`#${cmd.id} is not waiting for a manual result.`);
    // Recorded while the session was down: applied when the node's run is prepared again.
    this.earlyRecords.set(cmd.id, cmd);
  }

  /** The node's run has started: a result recorded for it while the session was down is delivered now. */
  deliverEarlyRecord(id: number): void {
    const early = this.earlyRecords.get(id);
    if (early) {
      this.earlyRecords.delete(id);
      queueMicrotask(() => this.applyCommands([early]));
    }
  }
}

function requireDecided(model: SessionModel, id: number): ExperimentNode {
  const n = model.get(id);
  if (!n) throw new Error(`There is no experiment #${id}.`);
  if (n.decidedBy === null) throw new Error(`#${id} has not been decided yet; wait for its run to finish.`);
  return n;
}
