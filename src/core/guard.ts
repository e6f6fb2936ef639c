// The guard: a proposal may only touch editable files, and a run may not change protected ones.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles, matchesAny } from './glob.js';

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

/** sha256 of every protected file in the worktree, by relative path. */
export function hashProtected(worktree: string, readonly: readonly string[]): Map<string, string> {
  const hashes = new Map<string, string>();
  if (readonly.length === 0) return hashes;
  for (const path of listFiles(worktree)) {
    if (matchesAny(path, readonly)) hashes.set(path, createHash('sha256').update(readFileSync(join(worktree, path))).digest('hex'));
  }
  return hashes;
}

/** Protected paths that a run changed, deleted or created. */
export function tamperedPaths(worktree: string, readonly: readonly string[], before: Map<string, string>): string[] {
  const after = hashProtected(worktree, readonly);
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
