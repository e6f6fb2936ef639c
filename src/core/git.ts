// Git as the lab notebook: every node is a commit on its parent's commit, reachable under
// refs/autoresearch/<tag>/nodes/<id>; autoresearch/<tag> points at the best node. Experiments run
// in worktrees the engine owns, so the user's own working tree is never touched.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

const FALLBACK_IDENTITY = ['-c', 'user.name=AutoResearch', '-c', 'user.email=autoresearch@localhost'];

export function sessionBranch(tag: string): string {
  return `autoresearch/${tag}`;
}

export function nodeRef(tag: string, id: number): string {
  return `refs/autoresearch/${tag}/nodes/${id}`;
}

export class Lab {
  private identity: string[] | null = null;

  private constructor(readonly root: string, private readonly git: SimpleGit) {}

  /** Opens the repository that holds `dir`; refuses a folder that is not in a git repo or has no commits. */
  static async open(dir: string): Promise<Lab> {
    const git = simpleGit({ baseDir: dir });
    let root: string;
    try {
      root = (await git.revparse(['--show-toplevel'])).trim();
    } catch {
      throw new GitError(`${dir} is not inside a git repository. Run \`git init\` and commit your training code first: every experiment is a commit.`);
    }
    const lab = new Lab(root, simpleGit({ baseDir: root }));
    try {
      await lab.git.revparse(['--verify', 'HEAD^{commit}']);
    } catch {
      throw new GitError('The repository has no commits yet. Commit your training code first (`git add -A && git commit -m "baseline"`): the baseline experiment is that commit.');
    }
    return lab;
  }

  async head(): Promise<string> {
    return (await this.git.revparse(['HEAD'])).trim();
  }

  async currentBranch(): Promise<string | null> {
    const name = (await this.git.raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim();
    return name || null;
  }

  /** Paths with uncommitted changes in the user's working tree (tracked changes and untracked files). */
  async dirtyPaths(cwd = this.root): Promise<string[]> {
    const out = await simpleGit({ baseDir: cwd }).raw(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    return parsePorcelainZ(out);
  }

  async resolve(rev: string): Promise<string | null> {
    try {
      return (await this.git.raw(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  async setRef(ref: string, commit: string): Promise<void> {
    await this.git.raw(['update-ref', ref, commit]);
  }

  /** Moves the session branch; refuses to move a branch the user has checked out. */
  async setBranch(branch: string, commit: string): Promise<void> {
    if ((await this.currentBranch()) === branch) return;
    await this.git.raw(['update-ref', '-m', 'autoresearch: best node', `refs/heads/${branch}`, commit]);
  }

  /** A worktree at `commit`, detached, with no leftovers from the previous experiment (ignored files stay: data caches). */
  async prepareWorktree(path: string, commit: string): Promise<void> {
    if (existsSync(`${path}/.git`)) {
      const wt = simpleGit({ baseDir: path });
      await wt.raw(['checkout', '--detach', '--force', commit]);
      await wt.raw(['clean', '-fdq']);
      return;
    }
    if (existsSync(path)) rmSync(path, { recursive: true, force: true });
    mkdirSync(dirname(path), { recursive: true });
    await this.git.raw(['worktree', 'prune']);
    await this.git.raw(['worktree', 'add', '--detach', '--force', path, commit]);
  }

  async removeWorktree(path: string): Promise<void> {
    await this.git.raw(['worktree', 'remove', '--force', path]).catch(() => undefined);
    rmSync(path, { recursive: true, force: true });
    await this.git.raw(['worktree', 'prune']).catch(() => undefined);
  }

  /** Commits everything in the worktree (even an empty change) and returns the commit. */
  async commitAll(worktree: string, message: string): Promise<string> {
    const wt = simpleGit({ baseDir: worktree });
    await wt.raw(['add', '-A']);
    await wt.raw([...(await this.identityArgs()), 'commit', '--allow-empty', '--no-verify', '-q', '-m', message]);
    return (await wt.revparse(['HEAD'])).trim();
  }

  private async identityArgs(): Promise<string[]> {
    if (this.identity === null) {
      const email = (await this.git.raw(['config', 'user.email']).catch(() => '')).trim();
      this.identity = email ? [] : FALLBACK_IDENTITY;
    }
    return this.identity;
  }

  /** Puts files back as they are in `commit` and removes files that should not exist. */
  async restore(worktree: string, commit: string, paths: string[]): Promise<void> {
    const wt = simpleGit({ baseDir: worktree });
    for (const p of paths) {
      const tracked = (await wt.raw(['ls-tree', '--name-only', commit, '--', p])).trim() !== '';
      if (tracked) await wt.raw(['checkout', commit, '--', p]);
      else rmSync(`${worktree}/${p}`, { force: true });
    }
  }

  async diff(from: string, to: string, paths: string[] = []): Promise<string> {
    return this.git.raw(['diff', from, to, '--', ...paths]);
  }

  async show(commit: string, path: string): Promise<string | null> {
    try {
      return await this.git.raw(['show', `${commit}:${path}`]);
    } catch {
      return null;
    }
  }

  async changedFiles(from: string, to: string): Promise<string[]> {
    const out = await this.git.raw(['diff', '--name-only', '-z', from, to]);
    return out.split('\0').filter(Boolean);
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    try {
      await this.git.raw(['merge-base', '--is-ancestor', a, b]);
      return true;
    } catch {
      return false;
    }
  }

  async raw(args: string[], cwd = this.root): Promise<string> {
    return simpleGit({ baseDir: cwd }).raw(args);
  }

  async commitIdentityArgs(): Promise<string[]> {
    return this.identityArgs();
  }
}

/** `git status --porcelain=v1 -z` → paths (renames give both sides). */
export function parsePorcelainZ(out: string): string[] {
  const parts = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    paths.push(entry.slice(3));
    if (code[0] === 'R' || code[0] === 'C') {
      const from = parts[++i];
      if (from) paths.push(from);
    }
  }
  return paths;
}
