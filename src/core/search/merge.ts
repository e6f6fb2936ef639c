// The merge operator: what one branch of the tree found, brought onto the best node of another by a three-way
// merge (git merge-file, file by file), so improvements found apart can be combined. The engine makes the edit
// itself; a conflict is not guessed at by the engine: a model proposer is asked to reconcile it, and with any other
// proposer (or when the model has nothing) the pair is marked as tried and the search goes on elsewhere.
import { merge3 } from '../git.js';
import type { SessionModel } from '../model.js';
import { lineOf } from './policy.js';
import type { MergeRequest, MergeSides, Proposal } from '../proposers/proposer.js';
import type { ExperimentNode } from '../types.js';

/** Where `from`'s line left `into`'s: its nearest ancestor on `into`'s line. */
export function mergeBase(model: SessionModel, into: ExperimentNode, from: ExperimentNode): ExperimentNode {
  const line = lineOf(model, into);
  let n = from;
  while (!line.has(n.id) && n.parentId !== null) n = model.get(n.parentId)!;
  return n;
}

/** The contents a merge writes onto `ours` (null deletes), or the first file that conflicts and why. */
export function mergeFiles(sides: Record<string, MergeSides>): { files: Record<string, string | null> } | { conflict: string } {
  const files: Record<string, string | null> = {};
  for (const [path, { base, ours, theirs }] of Object.entries(sides)) {
    if (ours === theirs || base === theirs) continue;
    if (base === ours) {
      files[path] = theirs;
      continue;
    }
    if (base === null || ours === null || theirs === null) return { conflict: `${path} is added or deleted on one side and changed on the other` };
    // git's merge calls edits to adjacent lines a conflict; settings one per line (a config, a block of constants)
    // are where both sides meet most, so line by line is tried when the edits kept every line in place.
    const merged = merge3(ours, base, theirs) ?? mergeLineByLine(ours, base, theirs);
    if (merged === null) return { conflict: `both lines changed the same lines of ${path}` };
    // Both lines made the same edit: the best has it already, and a merge of nothing would re-measure the best.
    if (merged !== ours) files[path] = merged;
  }
  return { files };
}

/**
 * A three-way merge of edits that replaced lines without adding or removing any (the three versions have as many
 * lines): each line is the side that changed it, or either when both made it the same. Null when a line was changed
 * differently on both sides, or when lines were added or removed (git's merge is the judge of those).
 */
export function mergeLineByLine(ours: string, base: string, theirs: string): string | null {
  const [o, b, t] = [ours, base, theirs].map((s) => s.split('\n'));
  if (o!.length !== b!.length || t!.length !== b!.length) return null;
  const out: string[] = [];
  for (let i = 0; i < b!.length; i++) {
    if (o![i] === t![i] || t![i] === b![i]) out.push(o![i]!);
    else if (o![i] === b![i]) out.push(t![i]!);
    else return null;
  }
  return out.join('\n');
}

/**
 * What a merge brings: the changes of `from`'s line since it left `into`'s (`base`), oldest first, less those the best's
 * line made as well (the same edit on both sides merges to nothing): `DROPOUT 0.2 → 0.1 (#119)`. `from`'s own change
 * alone would misname it where its line holds more, or where the best has that change already.
 */
export function broughtChanges(model: SessionModel, into: ExperimentNode, from: ExperimentNode, base: ExperimentNode): string {
  const since = (n: ExperimentNode): ExperimentNode[] => {
    const out: ExperimentNode[] = [];
    for (let p: ExperimentNode | undefined = n; p && p.id !== base.id; p = p.parentId === null ? undefined : model.get(p.parentId)) out.unshift(p);
    return out;
  };
  const ours = new Set(since(into).map((n) => n.editKey));
  // A merge on that line names what it brought itself.
  const changes = since(from).filter((n) => !ours.has(n.editKey)).map((n) => n.operator === 'merge' ? n.description.replace(/^merge #\d+ into #\d+(?: \([^)]*\))?: /, '') : `${n.description} (#${n.id})`);
  if (!changes.length) return from.description;
  return changes.length > 3 ? `${changes.slice(0, 3).join(', ')} and ${changes.length - 3} more` : changes.join(', ');
}

/** The engine's proposal for a clean merge; `brought` says what it brings (broughtChanges). */
export function mergeProposal(into: ExperimentNode, from: ExperimentNode, base: ExperimentNode, files: Record<string, string | null>, brought = from.description): Proposal {
  return {
    description: `merge #${from.id} into #${into.id}: ${brought}`,
    plan: `#${from.id} kept a change on another branch (from #${base.id}); bring that line's changes onto the best, #${into.id}, to see whether the improvements add up.`,
    editKey: `merge:${from.id}`,
    files,
    proposer: { kind: 'merge' },
  };
}

/** A proposer's reconciliation of a merge that conflicted, as a merge node: said to be the model's, the model's cost on it. */
export function reconciledProposal(into: ExperimentNode, merge: MergeRequest, p: Proposal): Proposal {
  const by = p.proposer.model ? `${p.proposer.kind} ${p.proposer.model}` : p.proposer.kind;
  return {
    ...p,
    description: `merge #${merge.from.id} into #${into.id} (reconciled by ${by}): ${merge.from.description}`,
    plan: `#${merge.from.id} kept a change on another branch (from #${merge.base.id}); the three-way merge onto the best, #${into.id}, conflicted (${merge.conflict}), so ${by} reconciled it: ${p.description.replace(/\.$/, '')}.${p.plan.trim() ? `\n\n${p.plan.trim()}` : ''}`,
    editKey: `merge:${merge.from.id}`,
  };
}
