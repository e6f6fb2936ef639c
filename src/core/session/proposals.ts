// From a choice to a node: the proposer is asked for one edit, which is held in memory until a slot is free, moved
// onto a new parent if its own lost its place meanwhile, then written into the slot's worktree, committed and journaled.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { faultPoint } from '../faults.js';
import { fmtDuration } from '../../shared/format.js';
import { merge3, nodeRef } from '../git.js';
import { checkProposal, checkScope } from '../protection/guard.js';
import { broughtChanges, mergeBase, mergeFiles, mergeLineByLine, mergeProposal, reconciledProposal } from '../search/merge.js';
import type { Choice } from '../search/policy.js';
import { ProposalError, type MergeRequest, type MergeSides, type Proposal } from '../proposers/proposer.js';
import type { ExperimentNode, Hint } from '../types.js';
import type { SessionContext, Slot } from './context.js';
import { invalid, invalidScope, type Decisions } from './decisions.js';
import type { SessionRecord } from './record.js';
import type { Reservation, Reservations } from './reservations.js';
import type { Runs } from './runs.js';
import type { HeldSpend, Spending } from './spending.js';

const MAX_PROPOSAL_FAILURES = 5;
const MAX_REPEATS = 2;
/** A fresh proposal is cheap when it takes under this share of the budget. */
const CHEAP_SHARE = 0.1;
/**
 * The tree may wait for a running result before a choice that turns on it (ChoiceContext.resultDue) when proposing
 * takes under this share of the budget: the slot then idles at most a fiftieth of a run (mutate's take milliseconds).
 */
export const WAIT_SHARE = 0.02;

/** A proposal held in memory until a slot is free to commit and run it. */
export interface Prepared {
  choice: Choice;
  proposal: Proposal;
  /** The edit: new contents by path, null for a deleted file; null when it could not be read back. */
  files: Record<string, string | Buffer | null> | null;
  /** Where it was proposed: a slot's own worktree (run in place) or a preparer's. */
  worktree: string;
  reservation: Reservation;
  retargetedFrom: { id: number; why: string } | null;
  /** What it cost, counted against the spend cap until its node (or a spend record) is journaled. */
  spent: HeldSpend;
}

export class Proposals {
  private readonly proposingAbort = new Set<AbortController>();
  private failuresInARow = 0;
  /** Seconds the last few proposals took to prepare, newest last. */
  private readonly proposing: number[] = [];
  /** Proposals dropped as repeats of an edit already made, by `${parent}:${operator}`. */
  private readonly repeats = new Map<string, number>();

  constructor(
    private readonly ctx: SessionContext, private readonly record: SessionRecord, private readonly decisions: Decisions,
    private readonly reservations: Reservations, private readonly runs: Runs, private readonly spending: Spending,
  ) {}

  /** Ends every proposal being asked for: the session stops, or the slots are done. */
  abortAll(): void {
    for (const a of this.proposingAbort) a.abort();
  }

  /**
   * Asks the proposer for one edit of the chosen parent, in `worktree` (checked out at the parent), and
   * holds it in memory. A failed proposal is journaled as an invalid node here; null means nothing to run.
   */
  async prepare(choice: Choice, reservation: Reservation, worktree: string): Promise<Prepared | null> {
    const { parent } = choice;
    // A slot's own worktree runs the proposal in place, so it gets the shared inputs; a preparer's does not need them.
    if (this.ctx.slots.some((s) => s.worktree === worktree)) await this.ctx.checkout(worktree, parent.commit!);
    else await this.ctx.lab.prepareWorktree(worktree, parent.commit!);
    // One proposal at a time per parent, until it is journaled or dropped: the next one sees it in the history
    // (what a model is told was tried) and among the tried edits, so no slot repeats it.
    reservation.unlock = await this.reservations.lockParent(parent.id);
    if (this.ctx.stopping || this.ctx.workersDone) return null;
    // At the spend cap no new proposal is asked; one asked before the cap was reached is still used.
    if (this.spending.reached()) return null;
    const started = Date.now();
    const prepared = await this.proposeIn(choice, reservation, worktree);
    if (prepared) this.proposing.push((Date.now() - started) / 1000);
    if (this.proposing.length > 5) this.proposing.shift();
    return prepared;
  }

  /**
   * Whether a fresh proposal costs little against a run: the median of the last five took under a tenth of the budget
   * (a run's scale as the researcher set it). Then a prepared proposal that lost its place is proposed again instead of
   * run where it no longer belongs; under WAIT_SHARE, the tree may wait for a running result before a choice.
   */
  freshIsCheap(share = CHEAP_SHARE): { cheap: boolean; seconds: number } {
    const xs = [...this.proposing].sort((a, b) => a - b);
    const seconds = xs.length ? xs[Math.floor(xs.length / 2)]! : 0;
    return { cheap: seconds < share * this.ctx.config.budgetSeconds, seconds };
  }

  /** Asks the proposer; with `merge`, to reconcile a merge that conflicts (operator merge, the pair as the choice's). */
  private async proposeIn(choice: Choice, reservation: Reservation, worktree: string, merge?: MergeRequest): Promise<Prepared | null> {
    const { config, model } = this.ctx;
    const { parent, operator } = choice;
    if (operator === 'merge' && !merge) return await this.prepareMerge(choice, reservation, worktree);
    // A reconciliation tests no hypothesis: a queued hint waits for a proposal of its own.
    const hint = merge ? null : this.reservations.takeHint(reservation);
    const abort = new AbortController();
    this.proposingAbort.add(abort);
    let proposal: Proposal | null = null;
    let failure: string | null = null;
    let failedKey: string | null = null;
    let spent: HeldSpend | null = null;
    // Every edit already made from this parent, drafts or not: one made again would only be dropped below.
    const tried = model.editsFrom(parent.id);
    // Edits other slots are proposing, or hold ready, from this parent count as tried: no two slots run the same edit.
    for (const key of this.reservations.pendingFrom(parent.id)) tried.add(key);
    try {
      proposal = checkProposal(await this.ctx.options.proposer.propose({
        parent, operator, worktree, history: model.nodes, triedFromParent: tried,
        notes: this.readNotes(), hint, config, platform: model.platform, signal: abort.signal,
        sandbox: config.proposer.kind === 'agent-cli' ? this.ctx.protection.proposerSandbox(worktree) : undefined,
        ...(merge ? { merge } : {}),
      }));
      if (proposal) spent = this.spending.hold(proposal.proposer);
      faultPoint('proposing', model.nextId);
    } catch (e) {
      // A failed proposal cost what it cost: the error carries it, and its invalid node records it.
      if (e instanceof ProposalError && e.proposer) spent = this.spending.hold(e.proposer);
      if (this.ctx.stopping || abort.signal.aborted) {
        this.spending.drop(spent, 'the session stopped while it was proposed');
        return null;
      }
      failure = e instanceof ProposalError ? e.message : `the proposer failed: ${e instanceof Error ? e.message : String(e)}`;
      if (e instanceof ProposalError && e.editKey) failedKey = e.editKey;
    } finally {
      this.proposingAbort.delete(abort);
    }
    if (this.ctx.stopping || abort.signal.aborted) {
      this.spending.drop(spent, 'the session stopped while it was proposed');
      return null;
    }
    if (merge && (failure || !proposal)) {
      // A reconciliation that failed is not a failed experiment: the pair is tried, as for a merge no one reconciles.
      this.reservations.exhaustMerge(parent.id, merge.from.id);
      const why = failure ? `the proposer failed to reconcile it: ${failure}` : 'the proposer had no reconciliation';
      this.ctx.log(`no merge of #${merge.from.id} into #${parent.id}: ${merge.conflict}; ${why}`, failure ? 'warn' : 'info');
      this.spending.drop(spent, `merge of #${merge.from.id} into #${parent.id} not reconciled: ${why}`);
      return null;
    }
    if (merge && proposal) proposal = reconciledProposal(parent, merge, proposal);
    if (!proposal && !failure) {
      this.reservations.exhaust(parent.id, operator);
      this.ctx.log(`nothing new to ${operator} from #${parent.id}`);
      return null;
    }
    if (failure || !proposal) {
      const info = spent?.info ?? { kind: this.ctx.options.proposer.kind };
      await this.commitNode({ choice, hint, proposal: null, info, editKey: failedKey, changed: [], worktree: null, failure: failure ?? 'the proposer failed', reservation, spent });
      return null;
    }
    if (this.reservations.isPending(parent.id, proposal.editKey) || model.childrenOf(parent.id).some((c) => c.editKey === proposal.editKey)) {
      this.ctx.log(`dropped a proposal from #${parent.id} (${proposal.description}): the same edit is already queued or run from it`);
      this.spending.drop(spent, 'dropped: the same edit was already queued or run from its parent');
      // A proposer that keeps offering what was done is out of ideas here: the search must not ask it forever.
      const key = `${parent.id}:${operator}`;
      const repeats = (this.repeats.get(key) ?? 0) + 1;
      this.repeats.set(key, repeats);
      if (merge) this.reservations.exhaustMerge(parent.id, merge.from.id);
      else if (repeats >= MAX_REPEATS) {
        this.reservations.exhaust(parent.id, operator);
        this.ctx.log(`nothing new to ${operator} from #${parent.id}: the proposer offered edits already made ${repeats} times`);
      }
      return null;
    }
    this.reservations.holdKey(reservation, proposal.editKey);
    let files: Record<string, string | Buffer | null> | null = proposal.files ?? null;
    // An agent that edited its worktree in place: its edit is read back, so the slot that runs it can be elsewhere.
    if (!files) {
      try {
        files = {};
        for (const p of await this.ctx.lab.dirtyPaths(worktree)) {
          const abs = join(worktree, p);
          files[p] = existsSync(abs) ? readFileSync(abs) : null;
        }
      } catch (e) {
        files = null;
        this.ctx.log(`could not read back the proposal in ${worktree}: ${(e as Error).message}`, 'warn');
      }
    }
    return { choice, proposal, files, worktree, reservation, retargetedFrom: null, spent: spent! };
  }

  /**
   * The engine's own proposal for a merge: the other line's changes since it left the parent's, three-way. When that
   * conflicts, a proposer that reconciles merges is asked to; any other proposer leaves the pair as tried.
   */
  private async prepareMerge(choice: Choice, reservation: Reservation, worktree: string): Promise<Prepared | null> {
    const { model, lab } = this.ctx;
    const into = choice.parent;
    const from = choice.mergeFrom;
    if (!from?.commit || !into.commit) return null;
    const base = mergeBase(model, into, from);
    const sides: Record<string, MergeSides> = {};
    for (const path of await lab.changedFiles(base.commit!, from.commit)) {
      sides[path] = { base: await lab.show(base.commit!, path), ours: await lab.show(into.commit, path), theirs: await lab.show(from.commit, path) };
    }
    const r = mergeFiles(sides);
    if ('conflict' in r && this.ctx.options.proposer.reconcilesMerges) {
      const paths = Object.keys(sides);
      const [theirs, ours] = [await lab.diff(base.commit!, from.commit, paths), await lab.diff(base.commit!, into.commit, paths)];
      this.ctx.log(`merge of #${from.id} into #${into.id}: ${r.conflict}; asking the proposer to reconcile`);
      return await this.proposeIn(choice, reservation, worktree, { from, base, files: sides, conflict: r.conflict, theirs, ours });
    }
    if ('conflict' in r || Object.keys(r.files).length === 0) {
      this.reservations.exhaustMerge(into.id, from.id);
      const kind = this.ctx.options.proposer.kind;
      this.ctx.log(`no merge of #${from.id} into #${into.id}: ${'conflict' in r ? `${r.conflict}, and the ${kind} proposer does not reconcile merges (a model proposer does)` : `#${into.id} has its changes already`}`);
      return null;
    }
    const proposal = mergeProposal(into, from, base, r.files, broughtChanges(model, into, from, base));
    this.reservations.holdKey(reservation, proposal.editKey);
    return { choice, proposal, files: r.files, worktree, reservation, retargetedFrom: null, spent: this.spending.hold(proposal.proposer) };
  }

  /** A prepared proposal that will not run: its cost is journaled on its own. */
  dropPrepared(p: Prepared, why: string): void {
    this.spending.drop(p.spent, `"${p.proposal.description}" not run: ${why}`);
  }

  private readNotes(): string | null {
    if (!this.ctx.config.notes) return null;
    const p = join(this.ctx.lab.root, this.ctx.config.notes);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  /**
   * A prepared proposal whose parent changed while it waited: moved onto the node the search would pick now when
   * the edit still applies there (a three-way merge), else dropped. Never run blindly on a parent that lost its place.
   */
  private async retarget(p: Prepared): Promise<boolean> {
    const { config, model, lab } = this.ctx;
    const parent = model.get(p.choice.parent.id)!;
    const wanted = p.choice.operator === 'debug' ? 'crash' : 'keep';
    let target: ExperimentNode | undefined;
    let why: string;
    // The tree may run it where it was prepared when it cannot follow the best (its parent is still a kept node) and
    // a fresh proposal would keep the run waiting long: proposing takes a tenth of the budget or more (a model).
    let mayStay = false;
    let cheap = '';
    if (parent.status !== wanted) {
      why = `#${parent.id} is now ${parent.status}${parent.decidedBy === 'human' ? ' (by a person)' : ''}`;
      if (wanted === 'keep' && config.policy === 'greedy') target = model.best;
      else if (wanted === 'keep') for (let a = parent.parentId === null ? undefined : model.get(parent.parentId); a && !target; a = a.parentId === null ? undefined : model.get(a.parentId)) if (a.status === 'keep') target = a;
    } else if ((config.policy === 'greedy' || p.choice.followsBest) && model.best && model.best.id !== parent.id) {
      why = `the best moved from #${parent.id} to #${model.best.id} while it waited`;
      target = model.best;
      if (config.policy !== 'greedy') {
        const fresh = this.freshIsCheap();
        mayStay = !fresh.cheap;
        cheap = `; a fresh proposal (${fmtDuration(fresh.seconds * 1000)}) costs less than a run where it no longer belongs`;
      }
    } else {
      return true;
    }
    let moved = false;
    const drop = (reason: string): boolean => {
      if (mayStay) {
        if (moved) this.reservations.move(p.reservation, parent.id, p.choice.operator);
        this.ctx.log(`kept the prepared proposal "${p.proposal.description}" on #${parent.id}: ${why}, but ${reason}`);
        return true;
      }
      // Routine for the tree when proposing is quick; a warning when prepared work is lost for another cause.
      this.ctx.log(`dropped the prepared proposal "${p.proposal.description}" for #${parent.id}: ${why}; ${reason}${cheap}`, cheap ? 'info' : 'warn');
      this.dropPrepared(p, `${why}; ${reason}${cheap}`);
      return false;
    };
    if (!target?.commit) return drop('there is no kept node to move it to');
    if (!p.files) return drop('its edit could not be read back');
    if (model.childrenOf(target.id).some((c) => c.editKey === p.proposal.editKey) || this.reservations.isPending(target.id, p.proposal.editKey)) return drop(`#${target.id} already has this edit`);
    // Held on the target before the merge is read: a choice the preparer makes meanwhile sees the target busy and this
    // edit taken, as it will be once the node is journaled.
    this.reservations.move(p.reservation, target.id, p.choice.operator);
    moved = true;
    const merged: Record<string, string | Buffer | null> = {};
    for (const [path, theirs] of Object.entries(p.files)) {
      const base = await lab.show(parent.commit!, path);
      const ours = await lab.show(target.commit, path);
      if (base === ours) merged[path] = theirs;
      else if (theirs === null || base === null || ours === null) return drop(`${path} differs on #${target.id}`);
      else {
        // The same three-way merge as the merge operator's: git's, then line by line for settings one per line.
        const m = merge3(ours, base, theirs.toString()) ?? mergeLineByLine(ours, base, theirs.toString());
        if (m === null) return drop(`its edit of ${path} conflicts with #${target.id}'s code`);
        merged[path] = m;
      }
    }
    this.ctx.log(`re-targeted the prepared proposal "${p.proposal.description}" from #${parent.id} to #${target.id}: ${why}`);
    p.files = merged;
    p.retargetedFrom = { id: parent.id, why };
    p.choice = { ...p.choice, parent: target, reason: `${p.choice.reason}; re-targeted to #${target.id} because ${why}` };
    return true;
  }

  /** Puts a proposal's edit in the slot's worktree, commits and journals it, guards its scope, and runs it. */
  async materialize(p: Prepared, slot: Slot): Promise<void> {
    if (!(await this.retarget(p))) return;
    const { parent } = p.choice;
    let failure: string | null = null;
    let changed: string[] = [];
    try {
      if (p.worktree !== slot.worktree || p.retargetedFrom) {
        await this.ctx.checkout(slot.worktree, parent.commit!);
        if (p.files) for (const [path, content] of Object.entries(p.files)) writeOrDelete(join(slot.worktree, path), content);
      } else if (p.proposal.files) {
        for (const [path, content] of Object.entries(p.proposal.files)) writeOrDelete(join(slot.worktree, path), content);
      }
      changed = await this.ctx.lab.dirtyPaths(slot.worktree);
      if (changed.length === 0) {
        if (p.retargetedFrom) {
          this.ctx.log(`dropped the prepared proposal "${p.proposal.description}": #${parent.id} already has its edit`);
          this.dropPrepared(p, `#${parent.id} already has its edit`);
          return;
        }
        failure = 'the proposal changed nothing';
      }
    } catch (e) {
      failure = `the proposal could not be applied: ${(e as Error).message}`;
    }
    const node = await this.commitNode({ choice: p.choice, hint: p.reservation.hint, proposal: p.proposal, info: p.proposal.proposer, editKey: p.proposal.editKey, changed, worktree: slot.worktree, failure, reservation: p.reservation, spent: p.spent });
    if (!node || failure) return;
    this.failuresInARow = 0;
    const violations = checkScope(changed, this.ctx.config.editable, this.ctx.config.readonly);
    if (violations.length) {
      this.decisions.decide(node, invalidScope(violations));
      return;
    }
    await this.runs.runNode(node, slot);
  }

  /** Journals a node for a proposal (committed in `worktree`), or an invalid one for a failure. */
  private async commitNode(a: {
    choice: Choice; hint: Hint | null; proposal: Proposal | null; info: Proposal['proposer']; editKey: string | null; changed: string[];
    worktree: string | null; failure: string | null; reservation: Reservation; spent: HeldSpend | null;
  }): Promise<ExperimentNode | null> {
    const { lab, config } = this.ctx;
    const { parent, operator } = a.choice;
    const description = a.proposal?.description ?? `failed proposal (${operator} #${parent.id})`;
    let node: ExperimentNode;
    try {
      node = await this.record.addNode(async (id) => {
        let commit: string | null = null;
        if (!a.failure && a.worktree) {
          const merged = a.choice.mergeFrom ? `\nAutoResearch-Merged: ${a.choice.mergeFrom.id}` : '';
          commit = await lab.commitAll(a.worktree, `autoresearch(${config.tag}) #${id}: ${description}\n\n${a.proposal!.plan}\n\nAutoResearch-Node: ${id}\nAutoResearch-Parent: ${parent.id}${merged}\nAutoResearch-Operator: ${operator}`);
          await lab.setRef(nodeRef(config.tag, id), commit);
        }
        return {
          id, parentId: parent.id, ...(a.choice.mergeFrom ? { mergedFrom: a.choice.mergeFrom.id } : {}), operator, commit, description, plan: a.proposal?.plan ?? '', editKey: a.editKey ?? `failed:${id}`,
          changedFiles: a.changed, policyReason: a.choice.reason, proposer: a.info, hint: a.hint?.text ?? null, createdAt: new Date().toISOString(),
        };
      }, () => this.reservations.releaseOp(a.reservation));
    } catch (e) {
      this.spending.drop(a.spent, `"${description}" could not be recorded as a node`);
      throw e;
    }
    // The node's record holds the proposal's cost now.
    this.spending.settle(a.spent);
    if (a.failure) {
      this.decisions.decide(node, invalid(a.failure));
      // A proposer that fails every time (a missing folder, a model that is down) must not burn the session.
      if (++this.failuresInARow >= MAX_PROPOSAL_FAILURES) {
        this.ctx.failReason = `the proposer failed ${MAX_PROPOSAL_FAILURES} times in a row; last: ${a.failure}`;
        this.ctx.stop();
      }
    }
    return node;
  }
}

function writeOrDelete(path: string, content: string | Buffer | null): void {
  if (content === null) rmSync(path, { force: true });
  else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}
