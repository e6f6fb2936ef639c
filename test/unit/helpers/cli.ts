// The real `autoresearch` CLI from source, as a child process, for the tests that drive it as a user does.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve('src/cli/main.ts');
// Resolved here: the CLI runs in temp repos where a bare 'tsx' would not resolve.
export const TSX = import.meta.resolve('tsx');

/** Runs the CLI in `cwd` to its end: exit code, stdout, stderr. */
export function cliSync(cwd: string, ...args: string[]): { code: number | null; out: string; err: string } {
  return cliSyncEnv({}, cwd, ...args);
}

/** cliSync with variables added to (or replacing) the environment: another PATH. */
export function cliSyncEnv(env: Record<string, string>, cwd: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
