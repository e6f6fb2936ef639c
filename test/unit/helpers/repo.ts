// Real git repositories in temp folders for the engine's tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface TempRepo {
  root: string;
  write(path: string, content: string): void;
  commit(message?: string): string;
  git(...args: string[]): string;
  cleanup(): void;
}

const folders: string[] = [];
after(() => { for (const d of folders.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A temp folder holding `files` (no git), removed after the test file. */
export function tempFolder(files: Record<string, string>, prefix = 'ar-folder-'): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  folders.push(root);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  return root;
}

/** A fresh repo with the given files committed on `main`, removed after the test file (as tempFolder's folders are). */
export function scratchRepo(files: Record<string, string>): TempRepo {
  const r = tempRepo(files);
  folders.push(r.root);
  return r;
}

/** A fresh repo with the given files committed on `main`. */
export function tempRepo(files: Record<string, string>, { commit = true } = {}): TempRepo {
  const root = mkdtempSync(join(tmpdir(), 'ar-repo-'));
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'config', 'user.email', 'test@example.com');
  git(root, 'config', 'user.name', 'Test');
  git(root, 'config', 'commit.gpgsign', 'false');
  const repo: TempRepo = {
    root,
    write(path, content) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    },
    commit(message = 'commit') {
      git(root, 'add', '-A');
      git(root, 'commit', '-q', '-m', message);
      return git(root, 'rev-parse', 'HEAD');
    },
    git: (...args) => git(root, ...args),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
  for (const [p, c] of Object.entries(files)) repo.write(p, c);
  if (commit && Object.keys(files).length) repo.commit('baseline');
  return repo;
}

/**
 * A tiny "training script" whose metric is a known function of its hyperparameters, so a test knows
 * which edits improve it. Runs in ~30 ms.
 */
export const TOY_TRAIN = `import os
LR = 0.1
WIDTH = 4
ACT = "relu"  # choices: relu, gelu, tanh
loss = abs(LR - 0.4) + abs(WIDTH - 16) / 10 + (0.0 if ACT == "gelu" else 0.05)
print("step 1/1")
print(f"val_loss: {loss:.6f}")
print("peak_vram_mb: 2048.0")
`;

export const TOY_PREPARE = `# The evaluation: protected.
SPLIT = 0.9
`;

export function toyConfig(extra = ''): string {
  return `tag: t1
editable: [train.py]
readonly: [prepare.py]
run: python3 train.py
budget: 20s
metric:
  name: val_loss
  direction: minimize
maxExperiments: 6
proposer: mutate
policy: tree
seed: 3
${extra}`;
}
