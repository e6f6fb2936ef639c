// Inputs that git does not track (a prepared dataset, a .venv, downloaded weights) reach every experiment:
// its worktree gets a symbolic link to the user's copy, never a copy of the data. Protected inputs (those
// matching `readonly`) are linked to a snapshot the session owns instead, made once per session, so a run reads
// the same bytes but its writes never reach the user's copy; a snapshot a run changed is caught after the run
// and put back from the user's copy.
import { chmodSync, constants, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { statOrNull } from '../files.js';
import { listFiles, matchesAny } from '../glob.js';
import { ENGINE_OWN, isOutput } from '../outputs.js';

export interface SharedLink {
  /** Relative to the worktree (and to the user's checkout). */
  path: string;
  /** What the link points at: the user's copy, or the session's snapshot of a protected file. */
  target: string;
  /** For a protected file: the user's copy, from which the snapshot is made and restored. */
  source?: string;
}

export interface SharedPlan {
  links: SharedLink[];
  /** Git-ignored paths the automatic choice did not share because they look like outputs. */
  leftOut: string[];
  /** Shared paths that git does not ignore: kept out of every experiment's commit. */
  unignored: string[];
}

export interface PlanInput {
  /** The user's checkout. */
  root: string;
  /** Where the session keeps snapshots of protected inputs. */
  snapshotDir: string;
  /** The config's `shared` globs, or null for the automatic choice. */
  shared: readonly string[] | null;
  readonly: readonly string[];
  /** `git ls-files --others --directory`: ignored entries, and untracked ones that git does not ignore. */
  ignored: readonly string[];
  untracked: readonly string[];
}

/** The part of a glob before its first wildcard: `data/eval/` of `data/eval/**`. */
function staticPrefix(glob: string): string {
  const m = /[*?[{]/.exec(glob);
  return m ? glob.slice(0, m.index) : glob;
}

function isUnder(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/** Which untracked paths every experiment gets, and how: see the file's comment. Reads the user's checkout only. */
export function planShared(input: PlanInput): SharedPlan {
  const plan: SharedPlan = { links: [], leftOut: [], unignored: [] };
  const ignored = new Set(input.ignored.map((p) => p.replace(/\/+$/, '')));
  const entries: string[] = [];
  // The engine's own folder and files (results.tsv, the summary) are never an input, nor worth a word ("not shared, as
  // outputs a run writes: results.tsv" said a run writes it); a path inside a listed folder goes with it.
  for (const p of [...ignored]) {
    if (ENGINE_OWN.includes(p) || p.startsWith('.autoresearch/') || [...ignored].some((q) => q !== p && p.startsWith(`${q}/`))) ignored.delete(p);
  }
  if (input.shared === null) {
    for (const p of ignored) (isOutput(input.root, p) ? plan.leftOut : entries).push(p);
  } else {
    const globs = input.shared;
    const wanted = (p: string, dir: boolean): 'all' | 'inside' | 'no' => {
      if (matchesAny(p, globs) || (dir && matchesAny(`${p}/`, globs))) return 'all';
      return dir && globs.some((g) => staticPrefix(g).startsWith(`${p}/`)) ? 'inside' : 'no';
    };
    const visit = (p: string): void => {
      const st = statOrNull(join(input.root, p));
      if (!st) return;
      const verdict = wanted(p, st.isDirectory());
      if (verdict === 'all') entries.push(p);
      else if (verdict === 'inside') for (const name of readdirSync(join(input.root, p)).sort()) visit(`${p}/${name}`);
    };
    for (const p of [...ignored, ...input.untracked.map((u) => u.replace(/\/+$/, ''))]) if (!ENGINE_OWN.includes(p)) visit(p);
  }
  const readonlyPrefixes = input.readonly.map(staticPrefix);
  // An entry with protected files inside becomes a real folder of links, so each protected file can point at its snapshot.
  const add = (p: string): void => {
    const abs = join(input.root, p);
    const st = statOrNull(abs);
    if (!st) return;
    if (!st.isDirectory()) {
      if (matchesAny(p, input.readonly)) plan.links.push({ path: p, target: join(input.snapshotDir, p), source: abs });
      else plan.links.push({ path: p, target: abs });
      return;
    }
    const mayHoldProtected = readonlyPrefixes.some((prefix) => isUnder(prefix, p) || isUnder(p, prefix.replace(/\/$/, '')));
    if (!mayHoldProtected || !listFiles(abs).some((f) => matchesAny(`${p}/${f}`, input.readonly))) {
      plan.links.push({ path: p, target: abs });
      return;
    }
    for (const name of readdirSync(abs).sort()) add(`${p}/${name}`);
  };
  for (const p of entries.sort()) {
    add(p);
    if (!ignored.has(p) && ![...ignored].some((i) => isUnder(p, i))) plan.unignored.push(p);
  }
  return plan;
}

function stamp(path: string): string {
  try {
    const st = lstatSync(path);
    // ctime moves with any write or chmod and cannot be set back by the writer: a cheap, honest witness.
    return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

function linkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

/** Copies a protected input into the session's snapshot (a reflink where the file system has them), read-only. */
function snapshot(source: string, target: string): void {
  rmSync(target, { force: true });
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
  chmodSync(target, 0o444);
}

/** The shared inputs of one session: links them into worktrees and guards the protected ones. */
export class SharedInputs {
  private constructor(readonly plan: SharedPlan) {}

  /** Makes the snapshots of protected inputs; returns the bytes copied. */
  static create(plan: SharedPlan): { shared: SharedInputs; copiedBytes: number } {
    let copiedBytes = 0;
    for (const l of plan.links) {
      if (!l.source) continue;
      snapshot(l.source, l.target);
      copiedBytes += statSync(l.target).size;
    }
    return { shared: new SharedInputs(plan), copiedBytes };
  }

  get protectedPaths(): string[] {
    return this.plan.links.filter((l) => l.source).map((l) => l.path);
  }

  /**
   * Links every shared input into a worktree that git just checked out. A link already in place is kept; a path
   * the experiment's commit has (a file it now tracks) is left alone and returned.
   */
  link(worktree: string): string[] {
    const skipped: string[] = [];
    for (const l of this.plan.links) {
      const at = join(worktree, l.path);
      const current = linkTarget(at);
      if (current === l.target) continue;
      if (current !== null) rmSync(at, { force: true });
      else if (statOrNull(at)) {
        skipped.push(l.path);
        continue;
      }
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(l.target, at);
    }
    return skipped;
  }

  /** The state of the protected snapshots before a run. */
  stamps(): Map<string, string> {
    return new Map(this.plan.links.filter((l) => l.source).map((l) => [l.path, stamp(l.target)]));
  }

  /**
   * Protected inputs a run changed (the snapshot written, the link replaced or removed), each put back: the snapshot
   * made again from the user's copy and the link restored.
   */
  restoreTampered(worktree: string, before: Map<string, string>): string[] {
    const changed: string[] = [];
    for (const l of this.plan.links) {
      if (!l.source) continue;
      const at = join(worktree, l.path);
      if (linkTarget(at) === l.target && stamp(l.target) === before.get(l.path)) continue;
      changed.push(l.path);
      snapshot(l.source, l.target);
      rmSync(at, { recursive: true, force: true });
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(l.target, at);
    }
    return changed;
  }
}
