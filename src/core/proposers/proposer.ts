// The proposer contract: (node to expand, operator, history, notes) -> one edit of the editable files.
// A proposer never decides anything; the engine applies, guards, commits, runs and judges.
import { AutoResearchError } from '../errors.js';
import type { Disposable } from '../lifecycle.js';
import type { ExperimentNode, Hint, Operator, PlatformInfo, ProposerInfo, ResearchConfig } from '../types.js';

/** A file on the three sides of a merge: the common ancestor's, the target's (ours) and the other line's (theirs). */
export interface MergeSides {
  base: string | null;
  ours: string | null;
  theirs: string | null;
}

export interface ProposalRequest {
  /** The node being expanded; its code is checked out in `worktree`. */
  parent: ExperimentNode;
  operator: Operator;
  /** A git worktree at the parent's commit. Proposers read it; agent-style proposers may edit it in place. */
  worktree: string;
  /** Every node of the session so far, in id order. */
  history: readonly ExperimentNode[];
  /** editKeys already tried from this parent: a proposer must not return one of them again. */
  triedFromParent: ReadonlySet<string>;
  /** The research notes (program.md), or null. */
  notes: string | null;
  /** A hypothesis a person queued, to be tested by this proposal. */
  hint: Hint | null;
  config: ResearchConfig;
  platform: PlatformInfo | null;
  signal: AbortSignal;
  /**
   * When runs are sandboxed: bubblewrap and its arguments for a command that may write only this worktree (and the
   * agent's own config and cache folders); a proposer that runs a program (agent-cli) puts it after them.
   */
  sandbox?: string[];
  /** With operator `merge`: the other line, whose changes the three-way merge could not bring onto `parent` by itself. */
  merge?: MergeRequest;
}

/**
 * A merge that conflicts, handed to a proposer that reconciles: bring `from`'s line's changes since `base` onto the
 * parent's code (in the worktree), resolving the conflict, and change nothing else.
 */
export interface MergeRequest {
  /** The kept node of the other line. */
  from: ExperimentNode;
  /** Where the two lines parted: the common ancestor of `from` and the parent. */
  base: ExperimentNode;
  /** Every file `from`'s line changed since `base`, on the three sides (ours is the parent's). */
  files: Record<string, MergeSides>;
  /** Why the engine's merge stopped: `both lines changed the same lines of train.py`. */
  conflict: string;
  /** `git diff` from `base` to `from`: the changes to bring. */
  theirs: string;
  /** `git diff` from `base` to the parent, on the same files: what the parent's line did there. */
  ours: string;
}

export interface Proposal {
  /** One line, shown everywhere: `LR 0.01 -> 0.02`. */
  description: string;
  plan: string;
  /** A stable signature of the edit; equal edits from one parent have equal keys. */
  editKey: string;
  /** New contents by path relative to the worktree root; null deletes the file. Absent when the proposer edited the worktree itself. */
  files?: Record<string, string | null>;
  proposer: ProposerInfo;
}

/**
 * Thrown when a proposer tried and failed (unparseable reply, patch that does not apply): the node is recorded as invalid.
 * `editKey`, when given, is the signature of the edit that failed, so it counts as tried and is not offered again.
 */
export class ProposalError extends AutoResearchError {
  constructor(message: string, readonly proposer?: ProposerInfo, readonly editKey?: string) {
    super('proposal', message);
    this.name = 'ProposalError';
  }
}

export interface Proposer extends Disposable {
  readonly kind: string;
  /** The operators this proposer can carry out; the policy only asks for these. */
  readonly operators: ReadonlySet<Operator>;
  /**
   * Whether it can reconcile a merge that conflicts (a request with operator `merge` and `merge` set). A model can;
   * a proposer that draws edits from a list cannot, and a conflicting pair is then only marked as tried.
   */
  readonly reconcilesMerges?: boolean;
  /** Returns null when it has nothing new to try from this parent with this operator. */
  propose(request: ProposalRequest): Promise<Proposal | null>;
  /** Why it found nothing at all to try, when the user can act on it (where it looked, what it accepts); null otherwise. */
  explainNothingNew?(): string | null;
  /**
   * Before a new session runs anything: why it could never propose a change in this checkout (nothing to tune in the
   * editable files), or null. A proposer that cannot tell beforehand (a model) has none.
   */
  nothingToTune?(root: string, config: Pick<ResearchConfig, 'editable' | 'run'>): string | null;
}
