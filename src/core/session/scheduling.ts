// The loops: each slot runs what comes next (a re-run a person asked for, a prepared proposal, or one it asks for
// itself), and the preparers keep proposals ready so a slot that finishes starts its next run at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Commands } from './commands.js';
import type { GpuPacking } from './packing.js';
import type { SessionContext, Slot } from './context.js';
import { WAIT_SHARE, type Prepared, type Proposals } from './proposals.js';
import type { Reservations } from './reservations.js';
import type { Runs } from './runs.js';
import type { Spending } from './spending.js';

export class Scheduling {
  private readonly ready: Prepared[] = [];
  private preparing = 0;

  constructor(
    private readonly ctx: SessionContext, private readonly reservations: Reservations, private readonly proposals: Proposals,
    private readonly runs: Runs, private readonly commands: Commands, private readonly spending: Spending, private readonly packing: GpuPacking,
  ) {}

  get pipelineCapacity(): number {
    return this.ctx.config.pipeline * this.ctx.config.parallel;
  }

  private maxReached(extra = 0): boolean {
    const max = this.ctx.config.maxExperiments;
    return max !== null && this.ctx.model.decidedCount + this.ctx.inFlight + extra >= max;
  }

  async worker(slot: Slot): Promise<void> {
    const { ctx, reservations } = this;
    while (!ctx.stopping) {
      if (ctx.paused) {
        await ctx.waitForChange();
        continue;
      }
      // Its GPU cannot hold this many runs (slotsPerGpu against the peak memory runs reported): the others go on.
      if (!this.packing.allows(slot)) return;
      const rerunId = this.commands.nextRerun();
      if (rerunId !== undefined) {
        await this.runs.runRerun(rerunId, slot);
        continue;
      }
      // A proposal prepared while this slot was running goes first: the slot starts its next run at once.
      const queued = this.ready.shift();
      if (queued) {
        ctx.poke();
        if (this.maxReached()) {
          ctx.log(`dropped the prepared proposal "${queued.proposal.description}" (#${queued.choice.parent.id}): the session reached ${ctx.config.maxExperiments} experiments`);
          this.proposals.dropPrepared(queued, `the session reached ${ctx.config.maxExperiments} experiments`);
          reservations.release(queued.reservation);
          continue;
        }
        ctx.inFlight++;
        try {
          await this.proposals.materialize(queued, slot);
        } finally {
          reservations.release(queued.reservation);
          ctx.inFlight--;
          ctx.poke();
        }
        continue;
      }
      if (this.maxReached(this.preparing)) {
        if (ctx.inFlight === 0 && this.preparing === 0) return;
        await ctx.waitForChange();
        continue;
      }
      // At the spend cap: what is proposed or running finishes (and runs, for a proposal already made); nothing new
      // is asked. Raised meanwhile, the loop goes on; else the session ends once all is done.
      if (this.spending.reached()) {
        if (ctx.inFlight === 0 && this.preparing === 0) {
          this.spending.end();
          return;
        }
        await ctx.waitForChange();
        continue;
      }
      if (ctx.config.pipeline > 0) {
        // The preparers propose; a slot only runs what they queue. One source of proposals keeps the order of
        // choices the same in a resumed session as in one never interrupted.
        if (ctx.inFlight === 0 && this.preparing === 0 && !reservations.choose()) return;
        await ctx.waitForChange();
        continue;
      }
      const choice = reservations.choose();
      if (!choice) {
        if (ctx.inFlight === 0 && this.preparing === 0) return;
        await ctx.waitForChange();
        continue;
      }
      const reservation = reservations.reserve(choice);
      ctx.inFlight++;
      try {
        const prepared = await this.proposals.prepare(choice, reservation, slot.worktree);
        if (prepared) await this.proposals.materialize(prepared, slot);
      } finally {
        reservations.release(reservation);
        ctx.inFlight--;
        ctx.poke();
      }
    }
  }

  /**
   * Prepares proposals ahead in its own worktree while the slots run, so a slot that finishes starts its next
   * run at once. What it prepares lives in memory until a slot takes it: the journal only ever holds nodes that
   * are about to run, so a killed controller loses a proposal's effort, never a result, and repeats nothing.
   */
  async preparer(k: number): Promise<void> {
    const { ctx, reservations } = this;
    const worktree = this.preparerWorktree(k);
    while (!ctx.stopping && !ctx.workersDone) {
      // Ahead for the slots that still take experiments: a GPU that holds fewer runs (slotsPerGpu) needs fewer ready.
      const full = this.ready.length + this.preparing >= this.ctx.config.pipeline * this.packing.activeSlots();
      if (ctx.paused || full || this.maxReached(this.ready.length + this.preparing) || this.commands.rerunsWaiting || this.spending.reached()) {
        await ctx.waitForChange();
        continue;
      }
      // Every slot running and proposing quick: the policy may wait for a result that decides its choice, since a
      // slot that finishes then waits only for a quick proposal.
      const choice = reservations.choose(ctx.inFlight >= ctx.slots.length && this.proposals.freshIsCheap(WAIT_SHARE).cheap);
      if (!choice) {
        await ctx.waitForChange();
        continue;
      }
      const reservation = reservations.reserve(choice);
      this.preparing++;
      let prepared: Prepared | null = null;
      try {
        prepared = await this.proposals.prepare(choice, reservation, worktree);
      } finally {
        this.preparing--;
        if (prepared && !ctx.stopping && !ctx.workersDone) this.ready.push(prepared);
        else {
          if (prepared) this.proposals.dropPrepared(prepared, 'the session was ending');
          reservations.release(reservation);
        }
        ctx.poke();
      }
    }
  }

  private preparerWorktree(k: number): string {
    return join(this.ctx.paths.worktrees, `prep-${k}`);
  }

  /** The slots are done: proposals still queued are not needed any more. */
  dropQueued(): void {
    if (this.ready.length) this.ctx.log(`${this.ready.length} prepared proposal(s) were not run: ${this.ready.map((p) => `"${p.proposal.description}"`).join(', ')}`);
    for (const p of this.ready.splice(0)) {
      this.proposals.dropPrepared(p, 'the session was ending');
      this.reservations.release(p.reservation);
    }
  }

  async removeWorktrees(): Promise<void> {
    const { lab } = this.ctx;
    for (const s of this.ctx.slots) await lab.removeWorktree(s.worktree).catch(() => undefined);
    for (let k = 0; k < this.pipelineCapacity; k++) {
      const wt = this.preparerWorktree(k);
      if (existsSync(wt)) await lab.removeWorktree(wt).catch(() => undefined);
    }
  }
}
