// One error type for what a person can cause or has to act on. Its kind says what went wrong; the CLI maps kinds to
// exit codes (src/cli/errors.ts) and the extension maps them to the actions that help (src/extension/errors.ts),
// each in one table, so a new kind cannot be thrown without both deciding what it means.

export type ErrorKind =
  /** The command line asks for something that is not there. */
  | 'usage'
  /** autoresearch.config.yaml is refused. */
  | 'config'
  /** The workspace cannot start this session as it stands (not a repository, a branch in the way, no editable file). */
  | 'preflight'
  /** Files the session uses have uncommitted changes: the baseline would not be what is on disk. */
  | 'uncommitted'
  /** A proposer or executor that this machine or host cannot provide. */
  | 'unavailable'
  /** `sandbox: on`, and no sandbox runs here. */
  | 'sandbox'
  /** No session of that tag is recorded here. */
  | 'no-session'
  /** Another controller runs the session. */
  | 'busy'
  /** Git refused. */
  | 'git'
  /** The best experiment cannot be brought onto the person's branch. */
  | 'apply'
  /** A results file with no row that can be read. */
  | 'unreadable'
  /** The proposer produced no usable edit. */
  | 'proposal'
  /** A model's edit cannot be applied to the files. */
  | 'edit'
  /** A call to a model failed. */
  | 'model';

/** An error whose kind is known; anything else that is thrown is `internal`: a bug, not the person's to fix. */
export class AutoResearchError extends Error {
  constructor(readonly kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AutoResearchError';
  }
}

/** The kind of anything thrown. */
export function errorKind(e: unknown): ErrorKind | 'internal' {
  if (e instanceof AutoResearchError) return e.kind;
  return 'internal';
}
