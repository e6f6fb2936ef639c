// The operating-system sandbox around every run: bubblewrap (Debian's `bubblewrap`, the sandbox Flatpak is built
// on). Inside it the whole file system is read-only except the run's worktree, a private /tmp and the paths the
// user declares writable; protected files stay read-only even inside the worktree; the user's checkout, the
// session's files under .autoresearch/ and the repository's .git cannot be written, while read-only git commands
// still work. Devices (GPUs) and the environment pass through. Where bubblewrap cannot run, the engine falls back
// to detection (see tamperWatch.ts) and says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import type { SandboxConfig } from '../types.js';

/** Caches that runs write and that are harmless to share (CUDA's compute cache, Triton's kernels, ~/.cache): writable when they exist. */
export const DEFAULT_WRITABLE = ['~/.cache', '~/.triton', '~/.nv'];

/** Where agent CLIs keep their settings, sessions and caches: writable for an agent-cli proposer when they exist. */
export const AGENT_WRITABLE = ['~/.config', '~/.local/share', '~/.local/state', '~/.claude', '~/.claude.json', '~/.codex', '~/.aider', '~/.gemini'];

export const BWRAP = 'bwrap';

export type SandboxProbe = { ok: true; bwrap: string } | { ok: false; reason: string };

/** Whether bubblewrap runs here: the binary is there and user namespaces are allowed. Decided by running it once. */
export function probeSandbox(bwrap = BWRAP): SandboxProbe {
  const r = spawnSync(bwrap, ['--ro-bind', '/', '/', '--dev-bind', '/dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, reason: missing ? `bubblewrap is not installed (no \`${bwrap}\` on PATH)` : `bubblewrap did not start: ${r.error.message}` };
  }
  if (r.status !== 0) return { ok: false, reason: `bubblewrap cannot make a sandbox here: ${(r.stderr || r.stdout).trim().split('\n')[0] || `exit code ${r.status}`}` };
  return { ok: true, bwrap };
}

/** How to get a sandbox where the probe failed, by platform. */
export function sandboxAdvice(platform = process.platform): string {
  if (platform === 'linux') return 'install bubblewrap (`sudo apt-get install bubblewrap`, `dnf install bubblewrap`) and allow unprivileged user namespaces';
  return `no sandbox is available on ${platform} yet`;
}

function expand(path: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(path);
}

export interface SandboxLayout {
  /** The user's checkout (its .git inside, or `gitCommonDir` elsewhere). */
  root: string;
  gitCommonDir: string;
  /** The run's worktree: its cwd, and the one place it may write. */
  worktree: string;
  /** Files in the worktree (relative) that stay read-only: the protected ones. */
  protectedFiles: readonly string[];
  config: SandboxConfig;
  /** More writable paths (an agent's own folders). */
  extraWritable?: readonly string[];
}

/** The bubblewrap arguments before the command: mounts apply in order, a later one over an earlier one. */
export function sandboxArgs(l: SandboxLayout): string[] {
  const args = [
    '--ro-bind', '/', '/',
    // All devices, so GPUs (/dev/nvidia*, /dev/dri) and /dev/shm work as outside.
    '--dev-bind', '/dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
  ];
  // A checkout under /tmp is hidden by the private /tmp: bind it again, read-only.
  args.push('--ro-bind', l.root, l.root);
  if (!l.gitCommonDir.startsWith(`${l.root}/`)) args.push('--ro-bind', l.gitCommonDir, l.gitCommonDir);
  for (const w of [...DEFAULT_WRITABLE, ...(l.extraWritable ?? []), ...l.config.writable]) {
    const p = expand(w);
    if (existsSync(p)) args.push('--bind', p, p);
  }
  args.push('--bind', l.worktree, l.worktree);
  for (const f of l.protectedFiles) {
    const p = join(l.worktree, f);
    if (existsSync(p)) args.push('--ro-bind', p, p);
  }
  // Off, or limited to hosts (the proxy that reaches them is added by networkGate.ts): a network namespace of its own.
  if (l.config.network !== true) args.push('--unshare-net');
  // No --new-session: the run stays in the executor's process group, so the budget's group kill reaches it. No
  // --die-with-parent: like an unsandboxed run it outlives a killed controller, and the next one ends it. Its own
  // PID namespace ends with it, so nothing it started survives it.
  args.push('--unshare-pid', '--chdir', l.worktree);
  return args;
}

/** One line for the session header and the summary: which protection is in force. */
export function describeProtection(active: boolean, config: SandboxConfig, reason?: string): string {
  if (active) {
    const writable = ['the worktree', 'a private /tmp', ...DEFAULT_WRITABLE.filter((w) => existsSync(expand(w))), ...config.writable];
    return `sandbox (bubblewrap): only ${writable.slice(0, -1).join(', ')} and ${writable.at(-1)} are writable; protected files, your checkout, .autoresearch/ and .git are read-only; ${describeNetwork(config.network)}`;
  }
  return `detection only${reason ? ` (${reason})` : ''}: protected files, the session's files and the repository's refs are checked after every run, and a change is undone and marks the run invalid`;
}

export function describeNetwork(network: SandboxConfig['network']): string {
  if (network === true) return 'network on';
  if (network === false) return 'network off';
  return `network only to ${network.join(', ')} (through the engine's proxy; other hosts are refused)`;
}
