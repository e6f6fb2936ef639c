// Nodes a crash or a stop left undecided: the finished ones are judged, a cluster job left running is watched
// again, and the rest run again, before anything new is proposed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkScope } from '../protection/guard.js';
import { parentRunFor, type SessionModel } from '../model.js';
import type { ExperimentNode, Judgement } from '../types.js';
import type { SessionContext } from './context.js';
import { invalid, invalidScope, type Decisions } from './decisions.js';
import type { Reservations } from './reservations.js';
import type { Runs } from './runs.js';

export class Recovery {
  constructor(private readonly ctx: SessionContext, private readonly reservations: Reservations, private readonly decisions: Decisions, private readonly runs: Runs) {}

  /** Nodes left undecided by a crash or a stop: judge the finished ones, re-run the rest. */
  async recover(): Promise<void> {
    const pending = this.ctx.model.undecided();
    // Interrupted nodes hold their parents busy until decided, as they did before the controller died.
    const held = new Map(pending.filter((n) => n.parentId !== null && n.id !== 0).map((n) => {
      this.reservations.holdParent(n.parentId!);
      return [n.id, n.parentId!] as const;
    }));
    try {
      await this.recoverNodes(pending);
    } finally {
      for (const parentId of held.values()) this.reservations.releaseParent(parentId);
    }
  }

  private async recoverNodes(pending: ExperimentNode[]): Promise<void> {
    const { config, model, slots } = this.ctx;
    if (pending.length) this.ctx.log(`recovering ${pending.length} interrupted experiment(s): ${pending.map((n) => `#${n.id}`).join(', ')}`);
    const rerun: ExperimentNode[] = [];
    const reattach: ExperimentNode[] = [];
    const settle: { n: ExperimentNode; j: Judgement }[] = [];
    for (const n of pending) killOrphan(model, n.id, config.tag);
    for (const n of pending) {
      const violations = checkScope(n.changedFiles, config.editable, config.readonly);
      if (n.commit === null) this.decisions.decide(n, invalid(n.reason || 'the proposal failed'));
      else if (n.id !== 0 && violations.length) this.decisions.decide(n, invalidScope(violations));
      else if (n.finishedAt !== null && n.logPath && existsSync(n.logPath)) {
        const finish = model.lastFinish.get(n.id);
        if (finish && !finish.run.recorded) settle.push({ n, j: await this.decisions.judgeRun(n, finish.run) });
        else rerun.push(n);
      } else if (this.ctx.options.executor.reattach && leftBehind(model, n.id)) reattach.push(n);
      // A confirmation or a parent's run for a candidate still undecided is run by the candidate's settling, not twice.
      else if (!isOrphanConfirmation(model, n)) rerun.push(n);
    }
    // A cluster job a dead controller left behind is watched again in the slot (worktree) it runs in, never resubmitted;
    // a slot the new config no longer has lives until recovery is over.
    const slotOf = (n: ExperimentNode) => model.lastStart.get(n.id)!.slot;
    for (const i of new Set(reattach.map(slotOf))) {
      if (!slots.some((s) => s.index === i)) slots.push({ index: i, worktree: join(this.ctx.paths.worktrees, `slot-${i}`), running: null, abort: null, temporary: true });
    }
    // A confirmation run (or a parent's run for a candidate) that finished is decided before its candidate settles, so
    // the candidate's evidence has it and it does not run again.
    for (const s of settle.filter((x) => isOrphanConfirmation(model, x.n))) {
      settle.splice(settle.indexOf(s), 1);
      if (!this.ctx.stopping) await this.runs.settle(s.n, s.j, slots[0]!);
    }
    // Interrupted runs go again, one slot each, before anything new is proposed.
    const queue = rerun.filter((n) => n.id !== 0);
    await Promise.all(slots.map(async (slot) => {
      for (const n of reattach.filter((r) => slotOf(r) === slot.index)) {
        if (this.ctx.stopping) break;
        this.ctx.inFlight++;
        try {
          await this.runs.runNode(n, slot, model.lastStart.get(n.id)!.handle);
        } finally {
          this.ctx.inFlight--;
        }
      }
      // A finished candidate that was waiting for its confirmation run gets it now.
      for (let s = slot.temporary ? undefined : settle.shift(); s && !this.ctx.stopping; s = settle.shift()) {
        this.ctx.inFlight++;
        try {
          await this.runs.settle(s.n, s.j, slot);
        } finally {
          this.ctx.inFlight--;
        }
      }
      for (let n = slot.temporary ? undefined : queue.shift(); n && !this.ctx.stopping; n = queue.shift()) {
        this.ctx.inFlight++;
        try {
          await this.ctx.checkout(slot.worktree, n.commit!);
          await this.runs.runNode(n, slot);
        } finally {
          this.ctx.inFlight--;
        }
      }
    }));
    slots.splice(0, slots.length, ...slots.filter((s) => !s.temporary));
  }
}

/**
 * Ends the process group of a run whose controller died, if it is still alive. The group is only
 * killed when its leader's environment names this very node, so a reused pid is never touched.
 */
function killOrphan(model: SessionModel, id: number, tag: string): void {
  const pid = model.lastStart.get(id)?.pid;
  if (!pid) return;
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    if (!env.includes(`AUTORESEARCH_TAG=${tag}`) || !env.includes(`AUTORESEARCH_NODE=${id}`)) return;
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already, or not Linux: nothing to end.
  }
}

/**
 * The handle of a cluster job that a controller which died (not one that was stopped) left running or finished.
 * A stopped run is not a result: it runs again, and the executor makes sure its old job is not run twice.
 */
function leftBehind(model: SessionModel, id: number): string | undefined {
  const start = model.lastStart.get(id);
  if (!start?.handle) return undefined;
  return model.lastStopSeq > start.seq ? undefined : start.handle;
}

/**
 * A confirmation run, or a run of a parent's code for its child's evidence (parentRunKey), whose candidate is still
 * undecided: settling the candidate runs it.
 */
function isOrphanConfirmation(model: SessionModel, n: ExperimentNode): boolean {
  if (n.operator !== 'rerun' || n.parentId === null) return false;
  const candidate = n.editKey.startsWith('confirm:') ? n.parentId : parentRunFor(n);
  return candidate !== null && model.get(candidate)?.decidedBy === null;
}
