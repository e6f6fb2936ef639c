// Detection: what a run could change outside its worktree, fingerprinted before and checked after every run,
// with or without the sandbox (without it, this is the protection; with it, a second look). It covers the
// protected files in the user's checkout (content and mode) and every ref of the repository. A change is undone
// and named; the engine's own ref writes during the run (another slot's decision) are told apart through the Lab.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../git.js';
import { listFiles, matchesAny } from '../glob.js';

export interface Fingerprint {
  /** Protected files of the user's checkout: their stat stamps. */
  files: Map<string, string>;
  /** Every ref of the repository: its commit. */
  refs: Map<string, string>;
}

/**
 * A file's size, mode, inode, mtime and ctime: no read of its content, so protected data of gigabytes costs a stat
 * per run. Any write or chmod moves ctime, which the writer cannot set back.
 */
function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${(st.mode & 0o7777).toString(8)}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return 'missing';
  }
}

export class TamperWatch {
  constructor(private readonly lab: Lab, private readonly readonly: readonly string[], private readonly tag: string) {}

  private protectedFiles(): string[] {
    return this.readonly.length ? listFiles(this.lab.root).filter((p) => matchesAny(p, this.readonly)) : [];
  }

  async take(): Promise<Fingerprint> {
    const files = new Map(this.protectedFiles().map((p) => [p, fileStamp(join(this.lab.root, p))]));
    return { files, refs: await this.refs() };
  }

  private async refs(): Promise<Map<string, string>> {
    const out = await this.lab.raw(['for-each-ref', '--format=%(refname) %(objectname)']);
    return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  }

  /**
   * What changed since `before` that the engine did not do, each put back: protected files from the checkout's
   * index, refs to where they were (a moved ref's new commit is kept under refs/autoresearch/<tag>/quarantine/).
   * Returns one phrase per change, for the node's reason.
   */
  async undo(before: Fingerprint, nodeId: number): Promise<string[]> {
    const changed: string[] = [];
    const files = new Set([...before.files.keys(), ...this.protectedFiles()]);
    const touched = [...files].filter((p) => fileStamp(join(this.lab.root, p)) !== (before.files.get(p) ?? 'missing')).sort();
    for (const p of touched) {
      if (before.files.has(p)) await this.lab.raw(['checkout', '--', p]).catch(() => undefined);
      changed.push(`${p} in your checkout`);
    }
    const after = await this.refs();
    const engine = this.lab.engineRefs;
    for (const ref of new Set([...before.refs.keys(), ...after.keys()])) {
      const expected = engine.has(ref) ? engine.get(ref) ?? undefined : before.refs.get(ref);
      const now = after.get(ref);
      if (now === expected) continue;
      if (now !== undefined) await this.lab.setRef(`refs/autoresearch/${this.tag}/quarantine/${nodeId}/${ref.replace(/^refs\//, '')}`, now).catch(() => undefined);
      if (expected === undefined) await this.lab.deleteRef(ref).catch(() => undefined);
      else await this.lab.setRef(ref, expected).catch(() => undefined);
      const short = ref.replace(/^refs\/heads\//, 'branch ');
      changed.push(expected === undefined ? `created ${short}` : now === undefined ? `deleted ${short}` : `moved ${short}`);
    }
    return changed;
  }
}
