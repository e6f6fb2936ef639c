// Where to expand next. `tree` exploits the best while its line pays, debugs crashes on that line, and when the
// line stalls merges what another line kept onto the best (merge.ts), grows another line, drafts a new one, or
// explores the open node with the highest value-plus-UCB score. `greedy` is the original loop: always extend the
// best so far.
import type { SessionModel } from '../model.js';
import type { ExperimentNode, Operator, PolicyKind } from '../types.js';
import { fmtNum } from '../../shared/format.js';

export interface Choice {
  parent: ExperimentNode;
  operator: Exclude<Operator, 'baseline' | 'manual' | 'rerun'>;
  /** A merge's second parent: its line's changes are brought onto `parent` by a three-way merge. */
  mergeFrom?: ExperimentNode;
  /** Chosen because it is the best: a proposal prepared for it moves onto a new best that appears meanwhile. */
  followsBest?: boolean;
  reason: string;
}

export interface ChoiceContext {
  /** Operators the proposer can carry out. */
  operators: ReadonlySet<Operator>;
  /** `${parentId}:${operator}` pairs for which the proposer said it has nothing new. */
  exhausted: ReadonlySet<string>;
  /** Parents being expanded right now by other slots: prefer different branches. */
  busyParents: ReadonlyMap<number, number>;
  /** `${parentId}:${operator}` choices being proposed or queued but not yet journaled as nodes. */
  busyOps?: ReadonlyMap<string, number>;
  /** A parent a person asked to branch from next. */
  pinned?: number;
  /**
   * Every slot is running and a proposal takes moments: a choice that turns on a result still to come may wait for it
   * (return null) instead of guessing, at the cost of a slot waiting one quick proposal.
   */
  resultDue?: boolean;
}

export interface Policy {
  readonly kind: PolicyKind;
  choose(model: SessionModel, ctx: ChoiceContext): Choice | null;
}

export function exhaustedKey(parentId: number, op: Operator): string {
  return `${parentId}:${op}`;
}

/** Merging `from` onto `into` was tried and conflicts (or has nothing to bring). */
export function mergeKey(into: number, from: number): string {
  return `${into}:merge:${from}`;
}

/** A node and its ancestors, by id. */
export function lineOf(model: SessionModel, n: ExperimentNode): Set<number> {
  const line = new Set<number>();
  for (let p: ExperimentNode | undefined = n; p && !line.has(p.id); p = p.parentId === null ? undefined : model.get(p.parentId)) line.add(p.id);
  return line;
}

function expandable(n: ExperimentNode): boolean {
  return n.status === 'keep' && n.metric !== null && Number.isFinite(n.metric);
}

/** Human-pinned parents come first under every policy. */
function pinnedChoice(model: SessionModel, ctx: ChoiceContext): Choice | null {
  if (ctx.pinned === undefined) return null;
  const n = model.get(ctx.pinned);
  if (!n) return null;
  const op = n.status === 'crash' && ctx.operators.has('debug') ? 'debug' : 'improve';
  if (ctx.exhausted.has(exhaustedKey(n.id, op))) return null;
  return { parent: n, operator: op, reason: `a person asked to branch from #${n.id}` };
}

export class GreedyPolicy implements Policy {
  readonly kind = 'greedy' as const;
  choose(model: SessionModel, ctx: ChoiceContext): Choice | null {
    const pinned = pinnedChoice(model, ctx);
    if (pinned) return pinned;
    const best = model.best;
    if (!best || ctx.exhausted.has(exhaustedKey(best.id, 'improve')) || !ctx.operators.has('improve')) return null;
    return { parent: best, operator: 'improve', followsBest: true, reason: `greedy: extend the best so far, #${best.id} (${fmtNum(best.metric)})` };
  }
}

export interface TreeOptions {
  drafts: number;
  debugDepth: number;
  patience: number;
}

/** How much an untried branch is worth against a better one (UCB's constant, on values scaled to 0..1). */
export const EXPLORATION = 0.3;

/**
 * Drafts beyond `search.drafts`, spent only once the best failed a second round of `patience` tries: in the search
 * simulator (100 seeds) they took the deceptive shape from 72 to 94 seeds within 1 % at K = 60 and the merge shape
 * from 52 to 69, for 72 to 69 on the ridge.
 */
const EXTRA_DRAFTS = 2;

/** Experiments of the best going at once before the tree looks elsewhere: one running and one being prepared. */
const BUSY_BEST = 2;

/**
 * The tree: exploit the best node while its line still pays (fewer than `patience` tries in a row without a keep).
 * When it stalls: merge the tip of another line onto it, continue another line that still pays, start a new line
 * (a draft from the baseline), go back to the best, and last choose among every open kept node by an explicit
 * score, UCB-style: how good its value is (scaled so the best is 0 and the worst kept node -1) plus
 * EXPLORATION × √(ln N / (1 + its tries)), N all tries. Unlike greedy, a stalled best is not the end of the session.
 * Crashes are debugged where they matter: a crash whose parent is the best or on the best's line, not one in a dead
 * branch.
 */
export class TreePolicy implements Policy {
  readonly kind = 'tree' as const;

  constructor(private readonly options: TreeOptions) {}

  choose(model: SessionModel, ctx: ChoiceContext): Choice | null {
    const pinned = pinnedChoice(model, ctx);
    if (pinned) return pinned;
    const root = model.baseline;
    if (!root || !expandable(root)) return null;
    const best = model.best ?? root;

    // 1. Debug a crash near the best: its parent is the best or an ancestor of it, the fix not tried yet, not too deep.
    const line = lineOf(model, best);
    if (ctx.operators.has('debug')) {
      for (const id of [...model.crashedIds].sort((a, b) => b - a)) {
        const n = model.get(id)!;
        if (n.decidedBy === null || ctx.exhausted.has(exhaustedKey(n.id, 'debug')) || ctx.busyOps?.has(exhaustedKey(n.id, 'debug'))) continue;
        if (model.childrenOf(n.id).some((c) => c.operator === 'debug')) continue;
        let depth = 0;
        let origin: ExperimentNode | undefined = n;
        for (; origin && origin.operator === 'debug'; origin = origin.parentId === null ? undefined : model.get(origin.parentId)) depth++;
        if (depth >= this.options.debugDepth || !origin || origin.parentId === null || !line.has(origin.parentId)) continue;
        return { parent: n, operator: 'debug', reason: `debug #${n.id}, a crash on the best's line (from #${origin.parentId}): ${n.reason}` };
      }
    }
    if (!ctx.operators.has('improve')) return null;

    // 2. Exploit the best while its line pays. One experiment of it may be going already: the next one is prepared
    // while it runs (the pipeline), as greedy does; a third waits, so parallel slots spread out.
    const bestFails = this.failuresInARow(model, best.id);
    const crowded = (ctx.busyParents.get(best.id) ?? 0) >= BUSY_BEST;
    if (expandable(best) && !ctx.exhausted.has(exhaustedKey(best.id, 'improve')) && bestFails < this.options.patience && !crowded) {
      return { parent: best, operator: 'improve', followsBest: true, reason: `exploit the best, #${best.id} (${fmtNum(best.metric)}): ${bestFails} of its tries in a row failed, fewer than patience ${this.options.patience}` };
    }

    // 2½. The choices below turn on results: whether the best still pays, which node is a line's tip. Made while an
    // experiment still runs, they would guess them (a draft prepared beside a child of the best that is then kept
    // starts a line that brings nothing; a line continued from a node whose running child is then kept forks it):
    // where the choice can wait for that result at little cost, it does.
    if (ctx.resultDue && !crowded) return null;

    const stalled = ctx.exhausted.has(exhaustedKey(best.id, 'improve')) ? `the best, #${best.id}, has nothing new to try` : crowded ? `the best, #${best.id}, has ${ctx.busyParents.get(best.id)} experiments going` : `the best, #${best.id}, stalled after ${bestFails} tries without a keep`;

    // 3. Merge: the tip of another line brings what it kept onto the best (what greedy cannot do). Tried as soon as the
    // best stalls, before that line grows further: a merge costs one experiment, and where the two lines changed
    // different settings it is the largest step there is.
    const from = crowded ? null : this.mergeCandidate(model, ctx, best, line);
    if (from) {
      return { parent: best, operator: 'merge', mergeFrom: from, reason: `merge (${stalled}): #${from.id} (${fmtNum(from.metric)}) kept a change on another branch; bring its line onto the best, #${best.id} (${fmtNum(best.metric)})` };
    }

    // 4. Another line that still pays: the tip (a kept node with no kept child) of another branch, fewer than
    // `patience` of its tries in a row failed; the best such tip first.
    let tip: ExperimentNode | null = null;
    for (const id of model.keptIds) {
      const n = model.get(id)!;
      if (n.id === root.id || line.has(n.id) || !expandable(n) || ctx.exhausted.has(exhaustedKey(n.id, 'improve')) || (ctx.busyParents.get(n.id) ?? 0) >= BUSY_BEST) continue;
      if (model.childrenOf(n.id).some((c) => c.status === 'keep') || !this.alive(model, ctx, n)) continue;
      if (!tip || model.better(n.metric!, tip.metric!)) tip = n;
    }
    if (tip) {
      return { parent: tip, operator: 'improve', reason: `continue another line (${stalled}): #${tip.id} (${fmtNum(tip.metric)}), ${this.failuresInARow(model, tip.id)} of its tries in a row failed, fewer than patience ${this.options.patience}` };
    }

    // 5. A new line: a draft from the baseline, while drafts are left.
    const drafting = this.drafting(model, ctx);
    if (drafting.ok) {
      return { parent: root, operator: 'draft', reason: `start a new line (${stalled}, and no other line pays): a draft from the baseline, ${drafting.why}` };
    }

    // 6. Every line stalled and no drafts left: back to the best, as greedy would.
    if (expandable(best) && !ctx.exhausted.has(exhaustedKey(best.id, 'improve')) && !crowded) {
      return { parent: best, operator: 'improve', followsBest: true, reason: `back to the best, #${best.id} (${fmtNum(best.metric)}): every line stalled and ${drafting.why}` };
    }

    // 7. Explore: the open kept node with the highest score (value plus how little it was tried).
    const all = [...model.keptIds].map((id) => model.get(id)!).filter((n) => expandable(n) && !ctx.exhausted.has(exhaustedKey(n.id, n.id === root.id && this.draftsLeft(model, ctx) ? 'draft' : 'improve')));
    // A node another slot is expanding only when nothing else is open: slots spread out.
    const free = all.filter((n) => !ctx.busyParents.has(n.id));
    const open = free.length ? free : all;
    if (!open.length) return null;
    const values = [...all, best].map((n) => n.metric!);
    const span = Math.max(...values) - Math.min(...values);
    const tries = new Map(open.map((n) => [n.id, this.tries(model, n.id)]));
    const total = [...tries.values()].reduce((a, b) => a + b, 0) + 1;
    const score = (n: ExperimentNode) => {
      const value = span > 0 ? -Math.abs(n.metric! - best.metric!) / span : 0;
      const bonus = EXPLORATION * Math.sqrt(Math.log(total) / (1 + tries.get(n.id)!));
      return { value, bonus, total: value + bonus };
    };
    let pick = open[0]!;
    for (const n of open.slice(1)) {
      const a = score(n).total;
      const b = score(pick).total;
      if (a > b || (a === b && n.id < pick.id)) pick = n;
    }
    const s = score(pick);
    const why = `${s.value.toFixed(2)} for its value + ${s.bonus.toFixed(2)} for ${tries.get(pick.id)} tries of ${total - 1}`;
    if (pick.id === root.id && this.draftsLeft(model, ctx)) {
      return { parent: root, operator: 'draft', reason: `explore (${stalled}): a new draft from the baseline scores highest, ${why}` };
    }
    return { parent: pick, operator: 'improve', reason: `explore (${stalled}): #${pick.id} (${fmtNum(pick.metric)}) scores highest, ${why}` };
  }

  /**
   * The best kept node off the best's line whose changes the line does not have yet: not an ancestor of the best,
   * not merged into it before, not tried onto it (a conflict), and no other merge onto the best in flight.
   */
  private mergeCandidate(model: SessionModel, ctx: ChoiceContext, best: ExperimentNode, line: Set<number>): ExperimentNode | null {
    if (!best.commit || ctx.busyOps?.has(exhaustedKey(best.id, 'merge'))) return null;
    const merged = new Set<number>();
    for (const id of line) {
      const from = model.get(id)?.mergedFrom;
      if (from !== undefined) for (const a of lineOf(model, model.get(from)!)) merged.add(a);
    }
    for (const c of model.childrenOf(best.id)) if (c.mergedFrom !== undefined) merged.add(c.mergedFrom);
    let pick: ExperimentNode | null = null;
    for (const id of model.keptIds) {
      const n = model.get(id)!;
      if (!expandable(n) || !n.commit || line.has(n.id) || merged.has(n.id) || ctx.exhausted.has(mergeKey(best.id, n.id))) continue;
      // What a merge brings is the node's own line since it left the best's: nothing when it is the best's descendant.
      if (lineOf(model, n).has(best.id)) continue;
      // A line's tip brings its whole line; a node with a kept child is not a tip.
      if (model.childrenOf(n.id).some((c) => c.status === 'keep')) continue;
      if (!pick || model.better(n.metric!, pick.metric!) || (n.metric === pick.metric && n.id < pick.id)) pick = n;
    }
    return pick;
  }

  /** A line's tip (a kept node with no kept child) that still pays: fewer than `patience` tries in a row failed. */
  private alive(model: SessionModel, ctx: ChoiceContext, n: ExperimentNode): boolean {
    return !ctx.exhausted.has(exhaustedKey(n.id, 'improve')) && this.failuresInARow(model, n.id) < this.options.patience;
  }

  private draftsLeft(model: SessionModel, ctx: ChoiceContext): boolean {
    return this.drafting(model, ctx).ok;
  }

  /**
   * Whether a draft is due, and why. The configured `drafts` are spent as lines stall (a draft that wins becomes the
   * best line and is exploited before another is drafted). Beyond them, up to EXTRA_DRAFTS more, only once going back
   * to the best did not pay either: it failed `patience` more tries in a row (twice patience in all), or has nothing
   * new. Where the best still pays on a second round (a ridge climbed in small steps) no more drafts are spent;
   * where it is a local optimum (a trap, one of two changes that only pay together), new lines are the way out.
   */
  private drafting(model: SessionModel, ctx: ChoiceContext): { ok: boolean; why: string } {
    const used = model.childrenOf(0).filter((c) => c.operator === 'draft').length + (ctx.busyOps?.get(exhaustedKey(0, 'draft')) ?? 0);
    const { drafts, patience } = this.options;
    const none = { ok: false, why: 'no drafts are left' };
    if (!ctx.operators.has('draft') || ctx.exhausted.has(exhaustedKey(0, 'draft'))) return none;
    if (used < drafts) return { ok: true, why: `draft ${used + 1} of ${drafts}` };
    if (drafts === 0 || used >= drafts + EXTRA_DRAFTS) return none;
    const best = model.best;
    if (!best) return none;
    const fails = this.failuresInARow(model, best.id);
    const spent = ctx.exhausted.has(exhaustedKey(best.id, 'improve')) ? `the best, #${best.id}, has nothing new to try` : fails >= 2 * patience ? `the best, #${best.id}, failed ${fails} tries in a row, twice patience ${patience}` : null;
    if (!spent) return { ok: false, why: `no drafts are left (drafts: ${drafts} spent; more only once the best fails ${2 * patience} tries in a row)` };
    return { ok: true, why: `draft ${used + 1}, beyond the ${drafts} configured (at most ${EXTRA_DRAFTS} more): ${spent}` };
  }

  /** Decided tries from a node (re-runs measure noise; they are not tries). */
  private tries(model: SessionModel, id: number): number {
    return model.childrenOf(id).filter((k) => k.decidedBy !== null && k.operator !== 'rerun').length;
  }

  /** Decided children of `id`, newest first, until the first keep. */
  private failuresInARow(model: SessionModel, id: number): number {
    const kids = model.childrenOf(id);
    let count = 0;
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i]!;
      // Re-runs measure noise; they are not tries.
      if (k.decidedBy === null || k.operator === 'rerun') continue;
      if (k.status === 'keep') break;
      count++;
    }
    return count;
  }
}

export function createPolicy(kind: PolicyKind, options: TreeOptions): Policy {
  return kind === 'greedy' ? new GreedyPolicy() : new TreePolicy(options);
}
