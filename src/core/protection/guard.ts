// The guard: a proposal may only touch editable files, and a run may not change protected ones.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { truncate } from '../../shared/format.js';
import { listFiles, matchesAny } from '../glob.js';
import { ProposalError, type Proposal } from '../proposers/proposer.js';

export interface ScopeViolation {
  path: string;
  why: 'protected' | 'not editable';
}

/** Which changed paths a proposal was not allowed to touch. Protected wins over editable. */
export function checkScope(changed: readonly string[], editable: readonly string[], readonly: readonly string[]): ScopeViolation[] {
  const out: ScopeViolation[] = [];
  for (const path of changed) {
    if (matchesAny(path, readonly)) out.push({ path, why: 'protected' });
    else if (!matchesAny(path, editable)) out.push({ path, why: 'not editable' });
  }
  return out;
}

export function describeViolations(v: readonly ScopeViolation[]): string {
  return v.map((x) => `${x.path} (${x.why})`).join(', ');
}

/** sha256 of every protected file in the worktree, by relative path; `skip`: shared inputs, guarded by their snapshot. */
export function hashProtected(worktree: string, readonly: readonly string[], skip: ReadonlySet<string> = new Set()): Map<string, string> {
  const hashes = new Map<string, string>();
  if (readonly.length === 0) return hashes;
  for (const path of listFiles(worktree)) {
    if (!matchesAny(path, readonly) || skip.has(path)) continue;
    // The mode too: a chmod that makes a protected file writable (or executable) is a change.
    const full = join(worktree, path);
    hashes.set(path, `${createHash('sha256').update(readFileSync(full)).digest('hex')}:${(statSync(full).mode & 0o7777).toString(8)}`);
  }
  return hashes;
}

/** Protected paths that a run changed, deleted or created. */
export function tamperedPaths(worktree: string, readonly: readonly string[], before: Map<string, string>, skip: ReadonlySet<string> = new Set()): string[] {
  const after = hashProtected(worktree, readonly, skip);
  const changed: string[] = [];
  for (const [path, hash] of before) if (after.get(path) !== hash) changed.push(path);
  for (const path of after.keys()) if (!before.has(path)) changed.push(path);
  return changed.sort();
}

/**
 * A file outside the worktree that only the engine writes (results.tsv). Size and mtime, not a hash,
 * so the check costs the same at 10 rows and at 100,000.
 */
export class WatchedFile {
  private stamp: string | null = null;
  constructor(readonly path: string) {}
  private current(): string | null {
    if (!existsSync(this.path)) return null;
    const st = statSync(this.path);
    return `${st.size}:${st.mtimeMs}`;
  }
  remember(): void {
    this.stamp = this.current();
  }
  changed(): boolean {
    return this.current() !== this.stamp;
  }
}

/**
 * The engine does not trust the shape of what a proposer returns (a model's tool call, a host's extension):
 * a proposal with missing or wrongly typed fields, or a file path that leaves the worktree (`../`, absolute,
 * `.git`), is refused as a ProposalError before anything is written. Returns the proposal as is otherwise.
 */
export function checkProposal(p: Proposal | null): Proposal | null {
  if (p === null || p === undefined) return null;
  const fail = (what: string): never => {
    throw new ProposalError(`the proposer returned a malformed proposal: ${what}`);
  };
  if (typeof p !== 'object' || Array.isArray(p)) fail(`expected an object, got ${describe(p)}`);
  const q = p as unknown as Record<string, unknown>;
  for (const key of ['description', 'plan', 'editKey'] as const) if (typeof q[key] !== 'string') fail(`${key} is ${describe(q[key])}, not text`);
  if (!(q.description as string).trim() || !(q.editKey as string)) fail('an empty description or editKey');
  const info = q.proposer as Record<string, unknown> | null;
  if (typeof info !== 'object' || info === null || typeof info.kind !== 'string') fail(`proposer is ${describe(q.proposer)}, not {kind, ...}`);
  if (q.files !== undefined) {
    if (typeof q.files !== 'object' || q.files === null || Array.isArray(q.files)) fail(`files is ${describe(q.files)}, not a mapping of paths`);
    for (const [path, content] of Object.entries(q.files as Record<string, unknown>)) {
      const norm = posix.normalize(path.replace(/\\/g, '/'));
      if (!path || isAbsolute(path) || posix.isAbsolute(norm) || norm === '..' || norm.startsWith('../') || norm === '.' || norm.split('/')[0] === '.git') fail(`the path ${JSON.stringify(path)} is outside the worktree`);
      if (content !== null && typeof content !== 'string') fail(`the content of ${path} is ${describe(content)}, not text or null`);
    }
  }
  return p;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the text ${JSON.stringify(truncate(v, 41))}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
