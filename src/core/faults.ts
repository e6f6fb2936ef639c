// Test-only fault injection. With AUTORESEARCH_FAULT=<phase>:<node> the controller SIGKILLs itself at that
// phase of that experiment, so the fault suite can prove a resume from each phase deterministically.
// Inert unless the variable is set; nothing else reads it.
export type FaultPhase = 'proposing' | 'committing' | 'running' | 'judging' | 'writing';

/**
 * proposing: the proposal is made, nothing applied or committed; committing: the commit and its ref exist,
 * the journal does not know the node; running: the start is journaled, the run goes on; judging: the
 * finish is journaled, no decision; writing: the decision is journaled, results.tsv and the branch are not.
 */
export function faultPoint(phase: FaultPhase, id: number): void {
  const fault = process.env.AUTORESEARCH_FAULT;
  if (fault && fault === `${phase}:${id}`) process.kill(process.pid, 'SIGKILL');
}
