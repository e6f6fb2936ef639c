// Where to expand next. `tree` follows AIDE: a few independent drafts from the baseline, debug crashed
// nodes up to a depth, improve the most promising kept node, and backtrack to the best open branch when
// a line stops improving. `greedy` is the original loop: always extend the best so far.
import type { SessionModel } from './model.js';
import type { ExperimentNode, Operator, PolicyKind } from './types.js';

export interface Choice {
  parent: ExperimentNode;
  operator: Exclude<Operator, 'baseline' | 'manual' | 'rerun'>;
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
}

export interface Policy {
  readonly kind: PolicyKind;
  choose(model: SessionModel, ctx: ChoiceContext): Choice | null;
}

export function exhaustedKey(parentId: number, op: Operator): string {
  return `${parentId}:${op}`;
}

function expandable(n: ExperimentNode): boolean {
  return n.status === 'keep' && n.metric !== null && Number.isFinite(n.metric);
}

function fmt(v: number | null): string {
  return v === null ? 'n/a' : Number(v.toPrecision(6)).toString();
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
    return { parent: best, operator: 'improve', reason: `greedy: extend the best so far, #${best.id} (${fmt(best.metric)})` };
  }
}

export interface TreeOptions {
  drafts: number;
  debugDepth: number;
  patience: number;
}

export class TreePolicy implements Policy {
  readonly kind = 'tree' as const;
  private lastTarget: number | null = null;

  constructor(private readonly options: TreeOptions) {}

  choose(model: SessionModel, ctx: ChoiceContext): Choice | null {
    const pinned = pinnedChoice(model, ctx);
    if (pinned) return pinned;
    const root = model.baseline;
    if (!root || !expandable(root)) return null;

    // 1. Drafts: a few independent starting points from the baseline.
    const drafts = model.childrenOf(0).filter((c) => c.operator === 'draft').length + (ctx.busyOps?.get(exhaustedKey(0, 'draft')) ?? 0);
    if (drafts < this.options.drafts && ctx.operators.has('draft') && !ctx.exhausted.has(exhaustedKey(0, 'draft'))) {
      return { parent: root, operator: 'draft', reason: `draft ${drafts + 1} of ${this.options.drafts}: an independent change from the baseline` };
    }

    // 2. Debug: a crashed node, not too deep in a chain of fixes, that nobody has tried to fix yet.
    if (ctx.operators.has('debug')) {
      for (const id of [...model.crashedIds].sort((a, b) => a - b)) {
        const n = model.get(id)!;
        if (n.decidedBy === null || ctx.exhausted.has(exhaustedKey(n.id, 'debug')) || ctx.busyOps?.has(exhaustedKey(n.id, 'debug'))) continue;
        if (model.childrenOf(n.id).some((c) => c.operator === 'debug')) continue;
        let depth = 0;
        for (let p: ExperimentNode | undefined = n; p && p.operator === 'debug'; p = p.parentId === null ? undefined : model.get(p.parentId)) depth++;
        if (depth < this.options.debugDepth) return { parent: n, operator: 'debug', reason: `debug #${n.id}, which crashed: ${n.reason}` };
      }
    }

    // 3. Improve the most promising open node; a line is closed after `patience` tries in a row without a keep.
    if (!ctx.operators.has('improve')) return null;
    let best: ExperimentNode | null = null;
    let bestBusy: ExperimentNode | null = null;
    let closedBest: ExperimentNode | null = null;
    // Only kept nodes can be improved: the model indexes them, so a choice does not walk the whole tree.
    for (const id of model.keptIds) {
      const n = model.get(id)!;
      if (!expandable(n) || ctx.exhausted.has(exhaustedKey(n.id, 'improve'))) continue;
      // Ties go to the older node, whatever order the index holds them in.
      const beats = (o: ExperimentNode | null) => !o || model.better(n.metric!, o.metric!) || (n.metric === o.metric && n.id < o.id);
      if (this.failuresInARow(model, n.id) >= this.options.patience) {
        if (beats(closedBest)) closedBest = n;
        continue;
      }
      if (ctx.busyParents.has(n.id)) {
        if (beats(bestBusy)) bestBusy = n;
        continue;
      }
      if (beats(best)) best = n;
    }
    const target = best ?? bestBusy;
    if (target) {
      const previous = this.lastTarget === null ? undefined : model.get(this.lastTarget);
      let reason = `improve the most promising open node, #${target.id} (${fmt(target.metric)})`;
      if (previous && previous.id !== target.id && this.failuresInARow(model, previous.id) >= this.options.patience) {
        reason = `backtrack: #${previous.id}'s line stopped improving after ${this.options.patience} tries; best open branch is #${target.id} (${fmt(target.metric)})`;
      } else if (!best && bestBusy) {
        reason += ', already being expanded by another slot';
      }
      this.lastTarget = target.id;
      return { parent: target, operator: 'improve', reason };
    }
    // 4. Every line has stalled: keep digging at the best node while the proposer has ideas.
    if (closedBest) {
      this.lastTarget = closedBest.id;
      return { parent: closedBest, operator: 'improve', reason: `every branch has stalled; widening the search at the best node, #${closedBest.id} (${fmt(closedBest.metric)})` };
    }
    return null;
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
