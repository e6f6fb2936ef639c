// Who is working from where. A choice marks its parent and operator as taken so slots spread out over the tree;
// the edits being proposed, the hints being followed and the per-parent proposal locks are held here too.
import { createPolicy, exhaustedKey, mergeKey, type Choice, type Policy } from '../search/policy.js';
import type { Hint, Operator } from '../types.js';
import type { SessionContext } from './context.js';

/** A choice in progress: its parent is busy until the node is decided, its operator until the node is journaled. */
export interface Reservation {
  parentId: number;
  op: string;
  opHeld: boolean;
  parentHeld: boolean;
  hint: Hint | null;
  /** The proposal's editKey while it is proposed or queued, so no other slot proposes it from the same parent. */
  key: string | null;
  /** Releases the parent's proposal lock. */
  unlock: (() => void) | null;
}

export class Reservations {
  private readonly policy: Policy;
  private readonly exhausted = new Set<string>();
  private readonly busyParents = new Map<number, number>();
  private readonly busyOps = new Map<string, number>();
  private readonly pendingKeys = new Map<number, Set<string>>();
  private readonly parentLocks = new Map<number, Promise<void>>();
  private readonly reservedHints = new Set<number>();
  private pinned: number | undefined;

  constructor(private readonly ctx: SessionContext) {
    this.policy = createPolicy(ctx.config.policy, ctx.config.search);
  }

  /** The policy's next choice; `resultDue`: it may wait for a result that is coming (ChoiceContext.resultDue). */
  choose(resultDue = false): Choice | null {
    return this.policy.choose(this.ctx.model, {
      operators: this.ctx.options.proposer.operators, exhausted: this.exhausted, busyParents: this.busyParents, busyOps: this.busyOps, pinned: this.pinned, resultDue,
    });
  }

  /** Marks a choice as taken until its node is decided (busy parent) or journaled (busy operator), so slots spread out. */
  reserve(choice: Choice): Reservation {
    const { id } = choice.parent;
    if (this.pinned === id) this.pinned = undefined;
    const op = exhaustedKey(id, choice.operator);
    this.holdParent(id);
    increment(this.busyOps, op);
    return { parentId: id, op, opHeld: true, parentHeld: true, hint: null, key: null, unlock: null };
  }

  /** Ends the operator part of a reservation: its node is in the journal now (or never will be). */
  releaseOp(r: Reservation): void {
    if (r.opHeld) {
      r.opHeld = false;
      decrement(this.busyOps, r.op);
    }
    if (r.hint) {
      this.reservedHints.delete(r.hint.id);
      r.hint = null;
    }
    if (r.key !== null) {
      const keys = this.pendingKeys.get(r.parentId);
      keys?.delete(r.key);
      if (keys?.size === 0) this.pendingKeys.delete(r.parentId);
      r.key = null;
    }
    r.unlock?.();
    r.unlock = null;
  }

  release(r: Reservation): void {
    this.releaseOp(r);
    if (r.parentHeld) {
      r.parentHeld = false;
      this.releaseParent(r.parentId);
    }
  }

  /**
   * A prepared proposal moves onto another parent (Proposals.retarget): its parent, operator and edit are held there
   * from now on, so a choice made meanwhile sees the new parent busy and the edit taken.
   */
  move(r: Reservation, to: number, operator: Operator): void {
    if (r.key !== null) {
      const keys = this.pendingKeys.get(r.parentId);
      keys?.delete(r.key);
      if (keys?.size === 0) this.pendingKeys.delete(r.parentId);
      this.pendingKeys.set(to, (this.pendingKeys.get(to) ?? new Set()).add(r.key));
    }
    if (r.opHeld) decrement(this.busyOps, r.op);
    r.op = exhaustedKey(to, operator);
    if (r.opHeld) increment(this.busyOps, r.op);
    if (r.parentHeld) {
      this.releaseParent(r.parentId);
      this.holdParent(to);
    }
    r.parentId = to;
  }

  /** Holds a parent busy outside a reservation: an interrupted node's, until recovery decides it. */
  holdParent(id: number): void {
    increment(this.busyParents, id);
  }

  releaseParent(id: number): void {
    decrement(this.busyParents, id);
  }

  /** The next choice branches from `id`. */
  pin(id: number): void {
    this.pinned = id;
  }

  /** Improving `id` is worth trying again (a person kept it, or branches from it). */
  reopen(id: number): void {
    this.exhausted.delete(exhaustedKey(id, 'improve'));
  }

  /** The proposer has nothing new for this operator from this parent. */
  exhaust(parentId: number, operator: Operator): void {
    this.exhausted.add(exhaustedKey(parentId, operator));
  }

  /** Merging `from` onto `into` conflicts or brings nothing: not chosen again. */
  exhaustMerge(into: number, from: number): void {
    this.exhausted.add(mergeKey(into, from));
  }

  /** The oldest hint that no node has taken and no other proposal is following, held for this reservation. */
  takeHint(r: Reservation): Hint | null {
    const hint = this.ctx.model.hints.find((h) => h.takenBy === null && !this.reservedHints.has(h.id)) ?? null;
    if (hint) {
      this.reservedHints.add(hint.id);
      r.hint = hint;
    }
    return hint;
  }

  /** Edits that other slots are proposing, or hold ready, from this parent. */
  pendingFrom(parentId: number): Iterable<string> {
    return this.pendingKeys.get(parentId) ?? [];
  }

  isPending(parentId: number, key: string): boolean {
    return this.pendingKeys.get(parentId)?.has(key) ?? false;
  }

  /** Holds an edit as proposed from the reservation's parent until its node is journaled or dropped. */
  holdKey(r: Reservation, key: string): void {
    this.pendingKeys.set(r.parentId, (this.pendingKeys.get(r.parentId) ?? new Set()).add(key));
    r.key = key;
  }

  /** Waits for the parent's proposal lock; resolves to its release. */
  lockParent(id: number): Promise<() => void> {
    const prev = this.parentLocks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const chained = prev.then(() => held);
    this.parentLocks.set(id, chained);
    return prev.then(() => () => {
      release();
      if (this.parentLocks.get(id) === chained) this.parentLocks.delete(id);
    });
  }
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function decrement<K>(map: Map<K, number>, key: K): void {
  const left = (map.get(key) ?? 1) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}
