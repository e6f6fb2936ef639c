// A fresh copy of test/fixtures/charlm (a repository laid out like a public character-level GPT trainer) as a git
// repo, the way a new user has it: code committed; data prepared into git-ignored files; a .venv of their own.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempRepo, type TempRepo } from './repo.js';

export const CHARLM = resolve('test/fixtures/charlm');

/** The config a user writes for it (what `init --probe` proposes for the metric); `extra` lines are appended. */
export function charlmConfig(extra = ''): string {
  return `tag: t1
editable: [config/train_shakespeare_char.py]
readonly: [data/**]
run: .venv/bin/python train.py config/train_shakespeare_char.py
budget: 20s
metric:
  name: val_loss
  pattern: 'val loss (\\S+)'
  direction: minimize
maxExperiments: 4
proposer: mutate
policy: greedy
seed: 1
${extra}`;
}

export function charlmRepo(config = charlmConfig()): TempRepo {
  const repo = tempRepo({});
  cpSync(CHARLM, repo.root, { recursive: true });
  repo.write('autoresearch.config.yaml', config);
  repo.commit('baseline');
  // What the README tells a user to do once: prepare the data, make a virtual environment.
  execFileSync('python3', ['data/shakespeare_char/prepare.py'], { cwd: repo.root, stdio: 'ignore' });
  mkdirSync(join(repo.root, '.venv', 'bin'), { recursive: true });
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  symlinkSync(python, join(repo.root, '.venv', 'bin', 'python'));
  return repo;
}
