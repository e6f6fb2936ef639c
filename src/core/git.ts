// Git as the lab notebook: every node is a commit on its parent's commit, reachable under
// refs/autoresearch/<tag>/nodes/<id>; autoresearch/<tag> points at the best node. Experiments run
// in worktrees the engine owns, so the user's own working tree is never touched.
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AutoResearchError } from './errors.js';
import { isOutput } from './outputs.js';

export class GitError extends AutoResearchError {
  constructor(message: string) {
    super('git', message);
    this.name = 'GitError';
  }
}

const EXCLUDE_HEADER = '# AutoResearch: the session record at the root (results.tsv, the summary) stays out of git status';

/** The reflog message of every move of the session branch by the engine: how a move by hand is told apart. */
const BRANCH_MOVE = 'autoresearch: best node';

const FALLBACK_IDENTITY = ['-c', 'user.name=AutoResearch', '-c', 'user.email=autoresearch@localhost'];

/**
 * Runs git and resolves to its stdout; a non-zero exit rejects with git's stderr as the message. Plain
 * execFile, not simple-git: simple-git waits 50 ms after every command that prints nothing (update-ref,
 * checkout -q, commit -q), which was most of the engine's overhead per experiment.
 */
function runGit(cwd: string, args: string[], timeout = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, windowsHide: true, timeout }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || stdout.trim() || err.message));
      else resolve(stdout);
    });
  });
}

/** Runs git and resolves to its stdout as bytes (a file's contents, which may not be text). */
function runGitBytes(cwd: string, args: string[], timeout = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, windowsHide: true, timeout }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')}: ${stderr.toString().trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** What a git command that may fail printed, and whether it succeeded; cancelled by `signal` (then `aborted`). */
interface GitOutcome {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Why it failed when git said nothing (it could not start, or was killed). */
  failure: string;
  aborted: boolean;
}

function tryGit(cwd: string, args: string[], signal?: AbortSignal): Promise<GitOutcome> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, windowsHide: true, signal }, (err, stdout, stderr) => {
      const aborted = !!err && (err.name === 'AbortError' || !!signal?.aborted);
      resolve({ ok: !err, stdout: stdout ?? '', stderr: stderr ?? '', failure: err ? `git ${args.join(' ')} failed: ${err.message}` : '', aborted });
    });
    child.stdin?.end();
  });
}

/** Runs git with `input` on its stdin (`update-ref --stdin`); a non-zero exit rejects with git's stderr. */
function runGitWithInput(cwd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || stdout.trim() || err.message));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** The slice of git the Lab uses, bound to one folder. */
interface GitIn {
  raw(args: string[]): Promise<string>;
  revparse(args: string[]): Promise<string>;
}

function gitIn(cwd: string): GitIn {
  return { raw: (args) => runGit(cwd, args), revparse: async (args) => (await runGit(cwd, ['rev-parse', ...args])).trim() };
}

/** `git merge-file`: `theirs`' change from `base` applied onto `ours`; null on a conflict. */
export function merge3(ours: string, base: string, theirs: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'ar-merge-'));
  try {
    const [o, b, t] = ['ours', 'base', 'theirs'].map((n) => join(dir, n)) as [string, string, string];
    writeFileSync(o, ours);
    writeFileSync(b, base);
    writeFileSync(t, theirs);
    const r = spawnSync('git', ['merge-file', '-p', '-q', o, b, t], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The top folder of the git repository that holds `dir`; undefined when it is in none. */
export async function repositoryRoot(dir: string): Promise<string | undefined> {
  try {
    return (await runGit(dir, ['rev-parse', '--show-toplevel'], 10_000)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The repository's common .git folder (every worktree shares it) seen from `dir`, absolute; null outside a repository. */
export async function commonGitDir(dir: string): Promise<string | null> {
  const r = await tryGit(dir, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  return r.ok && r.stdout.trim() ? r.stdout.trim() : null;
}

/** What a proposer may do with git in the worktree it was given; failures are returned, never thrown. */
export class ProposalWorktree {
  constructor(readonly path: string) {}

  /** The commit checked out, or null when git could not say. */
  async head(): Promise<string | null> {
    const r = await tryGit(this.path, ['rev-parse', 'HEAD']);
    return r.ok ? r.stdout.trim() : null;
  }

  /** Moves HEAD back to `commit`, keeping every change in the index and the files; the error when it cannot. */
  async resetSoftTo(commit: string): Promise<string | null> {
    const r = await tryGit(this.path, ['reset', '--soft', commit]);
    return r.ok ? null : r.stderr;
  }

  /** `git status --porcelain=v1 -z --untracked-files=all`, untracked files included. */
  async statusPorcelainZ(): Promise<{ ok: boolean; out: string; error: string }> {
    const r = await tryGit(this.path, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    return { ok: r.ok, out: r.stdout, error: r.stderr };
  }

  /**
   * `git apply` of the patch file at `patch` (only checked with `checkOnly`; `loose` for hand-written diffs: no context,
   * hunk counts off). Rejects with the signal's reason when cancelled; otherwise says whether it applied and what git said.
   */
  async applyPatch(patch: string, opts: { checkOnly: boolean; loose: boolean }, signal: AbortSignal): Promise<{ ok: boolean; message: string }> {
    const args = ['apply', ...(opts.checkOnly ? ['--check'] : []), '--whitespace=nowarn', ...(opts.loose ? ['--unidiff-zero', '--recount'] : []), patch];
    const r = await tryGit(this.path, args, signal);
    if (r.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the proposal was cancelled');
    const message = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
    return { ok: r.ok, message: message || r.failure };
  }
}

/** A file that differs between two commits (a rename is a delete and an add). */
export interface FileChange {
  status: 'A' | 'M' | 'D';
  path: string;
}

export function sessionBranch(tag: string): string {
  return `autoresearch/${tag}`;
}

export function nodeRef(tag: string, id: number): string {
  return `refs/autoresearch/${tag}/nodes/${id}`;
}

export class Lab {
  private identity: string[] | null = null;
  /** Every ref this Lab wrote (null: deleted), so a check after a run tells the engine's moves from a run's. */
  readonly engineRefs = new Map<string, string | null>();
  /** Paths `commitAll` leaves out (shared inputs that git does not ignore). */
  uncommitted: readonly string[] = [];
  private worktreeQueue: Promise<void> = Promise.resolve();

  private constructor(readonly root: string, private readonly git: GitIn) {}

  /** Opens the repository that holds `dir`; refuses a folder that is not in a git repo or has no commits. */
  static async open(dir: string): Promise<Lab> {
    const git = gitIn(dir);
    let root: string;
    try {
      root = (await git.revparse(['--show-toplevel'])).trim();
    } catch {
      throw new GitError(`${dir} is not inside a git repository. Run \`git init\` and commit your training code first: every experiment is a commit.`);
    }
    const lab = new Lab(root, gitIn(root));
    try {
      await lab.git.revparse(['--verify', 'HEAD^{commit}']);
    } catch {
      throw new GitError('The repository has no commits yet. Commit your training code first (`git add -A && git commit -m "baseline"`): the baseline experiment is that commit.');
    }
    return lab;
  }

  /** The repository's .git (the common one, which every worktree shares), as an absolute path. */
  async gitCommonDir(): Promise<string> {
    return (await this.git.raw(['rev-parse', '--path-format=absolute', '--git-common-dir'])).trim();
  }

  /**
   * Keeps files out of `git status` through the repository's own `.git/info/exclude` (never a tracked .gitignore):
   * the session's record files at the root. Lines already there are not added again.
   */
  async excludeLocally(paths: readonly string[]): Promise<string[]> {
    const file = join(await this.gitCommonDir(), 'info', 'exclude');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const have = new Set(text.split('\n').map((l) => l.trim()));
    const missing = paths.map((p) => `/${p.replace(/^\/+/, '')}`).filter((p) => !have.has(p));
    if (missing.length === 0) return [];
    mkdirSync(dirname(file), { recursive: true });
    const header = have.has(EXCLUDE_HEADER) ? [] : [EXCLUDE_HEADER];
    appendFileSync(file, `${text && !text.endsWith('\n') ? '\n' : ''}${[...header, ...missing].join('\n')}\n`);
    return missing;
  }

  /** Takes back lines that excludeLocally added (as it returned them); other lines stay as they are. */
  async unexcludeLocally(lines: readonly string[]): Promise<void> {
    const file = join(await this.gitCommonDir(), 'info', 'exclude');
    if (lines.length === 0 || !existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    const drop = new Set(lines);
    const kept = text.split('\n').filter((l) => !drop.has(l.trim()));
    const next = kept.join('\n');
    if (next !== text) writeFileSync(file, next);
  }

  async head(): Promise<string> {
    return (await this.git.revparse(['HEAD'])).trim();
  }

  async currentBranch(): Promise<string | null> {
    const name = (await this.git.raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim();
    return name || null;
  }

  /** Untracked entries of the user's checkout (a wholly untracked folder as `dir/`): the ignored ones, or the others. */
  async untracked(ignored: boolean): Promise<string[]> {
    const out = await this.git.raw(['ls-files', '--others', '--directory', '--exclude-standard', ...(ignored ? ['--ignored'] : []), '-z']);
    return out.split('\0').filter(Boolean);
  }

  /** Paths with uncommitted changes in the user's working tree (tracked changes and untracked files). */
  async dirtyPaths(cwd = this.root): Promise<string[]> {
    const out = await gitIn(cwd).raw(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    return parsePorcelainZ(out).filter((p) => !this.uncommitted.some((u) => p === u || p.startsWith(`${u}/`)));
  }

  async resolve(rev: string): Promise<string | null> {
    try {
      return (await this.git.raw(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  async setRef(ref: string, commit: string): Promise<void> {
    this.engineRefs.set(ref, commit);
    await this.git.raw(['update-ref', ref, commit]);
  }

  async deleteRef(ref: string): Promise<void> {
    this.engineRefs.set(ref, null);
    await this.git.raw(['update-ref', '-d', ref]);
  }

  /** Moves the session branch; refuses to move a branch the user has checked out. */
  async setBranch(branch: string, commit: string): Promise<void> {
    if ((await this.currentBranch()) === branch) return;
    const ref = `refs/heads/${branch}`;
    const at = await this.resolve(ref);
    if (at === commit) return;
    // Someone moved the branch since the engine last did (its newest reflog entry is not ours): moving it on would
    // silently drop what they put there.
    const last = at ? (await this.git.raw(['reflog', 'show', '-n', '1', '--format=%gs', ref]).catch(() => '')).trim() : '';
    if (last && last !== BRANCH_MOVE) {
      throw new GitError(`${branch} was moved outside the session (it is at ${at!.slice(0, 7)}, "${last}"), so the session leaves it there; the best experiment is ${commit.slice(0, 7)}. Delete the branch (\`git branch -D ${branch}\`) to hand it back to the session.`);
    }
    // Compare-and-swap: a move by someone else between the check and here fails instead of being overwritten.
    this.engineRefs.set(ref, commit);
    await this.git.raw(['update-ref', '-m', BRANCH_MOVE, ref, commit, at ?? '']);
  }

  /**
   * A worktree at `commit`, detached, with no leftovers from the previous experiment: ignored inputs and caches stay
   * (a dataset a run downloaded), ignored outputs go (isOutput: nanoGPT's out-shakespeare-char/ckpt.pt, which a run
   * with `init_from='resume'` would otherwise take up from the previous experiment), links (shared inputs) stay.
   */
  async prepareWorktree(path: string, commit: string): Promise<void> {
    if (existsSync(`${path}/.git`)) {
      const wt = gitIn(path);
      // --quiet also skips git's check for commits the old HEAD leaves behind, a walk over every ref (10,000 node refs: ~160 ms).
      await wt.raw(['checkout', '--quiet', '--detach', '--force', commit]);
      await wt.raw(['clean', '-fdq']);
      const ignored = (await wt.raw(['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z'])).split('\0').filter(Boolean);
      for (const entry of ignored) {
        const rel = entry.replace(/\/+$/, '');
        if (lstatSync(join(path, rel), { throwIfNoEntry: false })?.isSymbolicLink() !== false || !isOutput(path, rel)) continue;
        rmSync(join(path, rel), { recursive: true, force: true });
      }
      return;
    }
    // Worktrees are created one at a time: a prune running beside another add removes that add's half-made
    // entry, and the add fails (parallel slots and proposal preparers create theirs at once).
    const done = this.worktreeQueue.then(async () => {
      if (existsSync(path)) rmSync(path, { recursive: true, force: true });
      mkdirSync(dirname(path), { recursive: true });
      await this.git.raw(['worktree', 'prune']);
      await this.git.raw(['worktree', 'add', '--detach', '--force', path, commit]);
    });
    this.worktreeQueue = done.catch(() => undefined);
    await done;
  }

  /**
   * Moves a session's refs (its node refs and base) under `refs/autoresearch/<tag>/attempts/<attempt>/`, in one
   * transaction, so a new attempt can use the node ids again and every commit of the old one stays reachable.
   */
  async archiveRefs(tag: string, attempt: number): Promise<number> {
    const prefix = `refs/autoresearch/${tag}/`;
    const out = await this.git.raw(['for-each-ref', '--format=%(refname) %(objectname)', prefix]);
    const lines: string[] = [];
    for (const line of out.split('\n').filter(Boolean)) {
      const [ref, sha] = line.split(' ') as [string, string];
      const rest = ref.slice(prefix.length);
      if (rest.startsWith('attempts/')) continue;
      lines.push(`create ${prefix}attempts/${attempt}/${rest} ${sha}`, `delete ${ref} ${sha}`);
      this.engineRefs.set(`${prefix}attempts/${attempt}/${rest}`, sha);
      this.engineRefs.set(ref, null);
    }
    if (lines.length) await runGitWithInput(this.root, ['update-ref', '--stdin'], `${lines.join('\n')}\n`);
    return lines.length / 2;
  }

  async removeWorktree(path: string): Promise<void> {
    const done = this.worktreeQueue.then(async () => {
      await this.git.raw(['worktree', 'remove', '--force', path]).catch(() => undefined);
      rmSync(path, { recursive: true, force: true });
      await this.git.raw(['worktree', 'prune']).catch(() => undefined);
    });
    this.worktreeQueue = done.catch(() => undefined);
    await done;
  }

  /** Commits everything in the worktree (even an empty change) and returns the commit. */
  async commitAll(worktree: string, message: string): Promise<string> {
    const wt = gitIn(worktree);
    // The links to shared inputs are the engine's, never part of an experiment. Those git ignores need no pathspec
    // (naming an ignored path makes `git add` fail); the others (a link to a folder that `.venv/` matched, an input
    // git does not ignore) are excluded by name.
    const ignored = this.uncommitted.length
      ? new Set((await runGitWithInput(worktree, ['check-ignore', '--stdin'], `${this.uncommitted.join('\n')}\n`).catch(() => '')).split('\n'))
      : new Set<string>();
    await wt.raw(['add', '-A', '--', '.', ...this.uncommitted.filter((p) => !ignored.has(p)).map((p) => `:(exclude,literal)${p}`)]);
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
    const wt = gitIn(worktree);
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

  /** Files that differ between two commits, with how (renames as delete + add). */
  async fileChanges(from: string, to: string): Promise<FileChange[]> {
    const parts = (await this.git.raw(['diff', '--name-status', '--no-renames', '-z', from, to])).split('\0').filter(Boolean);
    const changes: FileChange[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const s = parts[i]![0];
      changes.push({ status: s === 'A' ? 'A' : s === 'D' ? 'D' : 'M', path: parts[i + 1]! });
    }
    return changes;
  }

  /** Every file in `commit`'s tree. */
  async filesAt(commit: string): Promise<string[]> {
    return (await this.git.raw(['ls-tree', '-r', '--name-only', '-z', commit])).split('\0').filter(Boolean);
  }

  /** A file's bytes as `commit` has it; rejects when the commit or the file is not there. */
  async readFileAt(commit: string, path: string): Promise<Buffer> {
    return runGitBytes(this.root, ['show', `${commit}:${path}`], 30_000);
  }

  /** Tracked files of the user's working tree changed since HEAD (untracked files left out). */
  async changedTrackedFiles(): Promise<string[]> {
    return (await this.git.raw(['status', '--porcelain', '-z', '--untracked-files=no'])).split('\0').filter(Boolean).map((l) => l.slice(3));
  }

  /** Writes `paths` as `commit` has them into the user's working tree; HEAD, the branch and the index stay put. */
  async checkOutFilesFrom(commit: string, paths: readonly string[]): Promise<void> {
    await this.git.raw(['restore', '--source', commit, '--worktree', '--', ...paths]);
  }

  /** `git show` of a commit as a person reads it: the header, the stat and the patch, no colour. */
  async showCommit(commit: string): Promise<string> {
    return this.git.raw(['show', '--stat', '--patch', '--format=fuller', '--no-color', commit]);
  }

  /** The tags of the sessions that have a branch (`autoresearch/<tag>`). */
  async sessionBranchTags(): Promise<Set<string>> {
    const out = await runGit(this.root, ['for-each-ref', '--format=%(refname:strip=3)', 'refs/heads/autoresearch/'], 5000);
    return new Set(out.split('\n').map((s) => s.trim()).filter(Boolean));
  }

  async raw(args: string[], cwd = this.root): Promise<string> {
    return gitIn(cwd).raw(args);
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
