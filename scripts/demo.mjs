// `npm run demo`: the loop on a fresh copy of examples/quickstart (mutate proposer, tree policy).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve('dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'autoresearch-demo-'));
cpSync(resolve('examples/quickstart'), dir, { recursive: true });
rmSync(join(dir, '.autoresearch'), { recursive: true, force: true });
const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
git('init', '-q', '-b', 'main');
git('add', '-A');
git('-c', 'user.name=AutoResearch demo', '-c', 'user.email=demo@localhost', 'commit', '-q', '-m', 'quickstart baseline');

console.log(`AutoResearch demo in ${dir}\n`);
const run = spawnSync(process.execPath, [cli, 'run'], { cwd: dir, stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);
console.log('\nThe experiment tree:\n');
spawnSync(process.execPath, [cli, 'tree'], { cwd: dir, stdio: 'inherit' });
console.log(`
Look around:
  cd ${dir}
  cat results.tsv                 # one row per experiment, baseline first
  cat autoresearch-summary.md     # baseline vs best, what worked, what did not
  git log --oneline --graph autoresearch/quickstart   # the best line of commits
  node ${cli} show 1              # any experiment's decision and diff
`);
