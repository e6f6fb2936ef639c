// The proposer contract: (node to expand, operator, history, notes) -> one edit of the editable files.
// A proposer never decides anything; the engine applies, guards, commits, runs and judges.
import { AutoResearchError } from './errors.js';
import type { Disposable } from './lifecycle.js';
import type { ExperimentNode, Hint, Operator, PlatformInfo, ProposerInfo, ResearchConfig } from './types.js';

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
  /** Returns null when it has nothing new to try from this parent with this operator. */
  propose(request: ProposalRequest): Promise<Proposal | null>;
  /** Why it found nothing at all to try, when the user can act on it (where it looked, what it accepts); null otherwise. */
  explainNothingNew?(): string | null;
}
