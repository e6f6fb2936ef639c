// Where a session keeps its files, the lock that allows one controller per session, and the inbox
// through which other processes (a second CLI, the editor) hand commands to the running controller.
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AutoResearchError } from '../errors.js';
import { STATE_DIR } from '../files.js';
import type { CapChange } from '../spend.js';
import type { DecidedStatus } from '../types.js';

export interface SessionPaths {
  root: string;
  dir: string;
  journal: string;
  lock: string;
  /** One controller per workspace: results.tsv and the summary at the repo root are shared by its sessions. */
  workspaceLock: string;
  inbox: string;
  logs: string;
  worktrees: string;
  results: string;
  summary: string;
}

export function sessionPaths(root: string, tag: string): SessionPaths {
  const base = join(root, STATE_DIR);
  const dir = join(base, tag);
  return {
    root,
    dir,
    journal: join(dir, 'journal.jsonl'),
    lock: join(dir, 'lock'),
    workspaceLock: join(base, 'controller.lock'),
    inbox: join(dir, 'inbox.jsonl'),
    logs: join(dir, 'logs'),
    worktrees: join(base, 'worktrees', tag),
    results: join(root, 'results.tsv'),
    summary: join(root, 'autoresearch-summary.md'),
  };
}

/** The state folder ignores itself, so the user's `git status` stays clean. */
export function ensureStateDir(paths: SessionPaths): void {
  mkdirSync(paths.logs, { recursive: true });
  const ignore = join(paths.root, STATE_DIR, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** The session the holder runs (absent in locks written before workspace locks). */
  tag?: string;
}

export class SessionBusyError extends AutoResearchError {
  constructor(readonly holder: LockInfo, wanted?: string) {
    const other = holder.tag !== undefined && wanted !== undefined && holder.tag !== wanted;
    super('busy', other
      ? `Another AutoResearch controller (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}) is running session "${holder.tag}" in this workspace. Sessions in one workspace share results.tsv and the summary, so one runs at a time: stop it first.`
      : `Another AutoResearch controller (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}) is running this session. Stop it first, or use its window; commands like hint, keep, discard and record reach it while it runs.`);
    this.name = 'SessionBusyError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    if (info.host === hostname() && !alive(info.pid)) return null;
    return info;
  } catch {
    return null;
  }
}

/** Takes the session's lock or throws SessionBusyError naming the holder. A lock left by a dead process is taken over. */
export function acquireLock(path: string, tag?: string): () => void {
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...(tag !== undefined ? { tag } : {}) };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => {
        const held = readLock(path);
        if (held && held.pid === me.pid && held.host === me.host) rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(path);
      if (holder) throw new SessionBusyError(holder, tag);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`Could not take the session lock ${path}`);
}

/**
 * What a running controller holds: the workspace's lock (its sessions share results.tsv at the repo root, so two
 * controllers there would each take the other's writes for a run's tampering) and its session's lock (what other
 * processes look for to reach it). Throws SessionBusyError naming the holder of either.
 */
export function acquireControllerLocks(paths: SessionPaths, tag: string): () => void {
  const releaseWorkspace = acquireLock(paths.workspaceLock, tag);
  try {
    const releaseSession = acquireLock(paths.lock, tag);
    return () => {
      releaseSession();
      releaseWorkspace();
    };
  } catch (e) {
    releaseWorkspace();
    throw e;
  }
}

export type InboxCommand =
  | { type: 'hint'; text: string }
  | { type: 'override'; id: number; status: Extract<DecidedStatus, 'keep' | 'discard'>; reason: string }
  | { type: 'record'; id: number; metric: number; memoryGb: number | null }
  | { type: 'record-crash'; id: number; reason: string }
  | { type: 'branch'; id: number }
  | { type: 'rerun'; id: number }
  | { type: 'stop' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Raise (or lower, or lift with null) the spend cap; the session goes on under it. */
  | { type: 'cap'; cap: CapChange }
  /** Early stopping on or off from now on, whatever the config says (`autoresearch prune on|off`). */
  | { type: 'prune'; on: boolean };

export function postCommand(paths: SessionPaths, cmd: InboxCommand): void {
  mkdirSync(paths.dir, { recursive: true });
  // One short line per append: O_APPEND keeps concurrent writers from interleaving.
  appendFileSync(paths.inbox, JSON.stringify(cmd) + '\n');
}

/**
 * Drains the inbox: the file is renamed away before it is read, so each command is handled exactly
 * once, by whichever controller drains it, even across restarts.
 */
export class InboxReader {
  /** `report` hears of lines that were dropped (a writer killed mid-line, or not a command). */
  constructor(private readonly path: string, private readonly report: (note: string) => void = () => undefined) {}

  read(): InboxCommand[] {
    if (!existsSync(this.path)) return [];
    const draining = `${this.path}.${process.pid}.draining`;
    try {
      renameSync(this.path, draining);
    } catch {
      return [];
    }
    const text = readFileSync(draining, 'utf8');
    rmSync(draining, { force: true });
    const cmds: InboxCommand[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let cmd: unknown;
      try { cmd = JSON.parse(line); } catch { /* reported below */ }
      if (typeof cmd === 'object' && cmd !== null && typeof (cmd as { type?: unknown }).type === 'string') cmds.push(cmd as InboxCommand);
      else this.report(`inbox line ${i + 1}: dropped ${i === lines.length - 1 ? 'a partial last command' : 'an unreadable command'} (${Buffer.byteLength(line)} bytes${i === lines.length - 1 ? ', left by an interrupted write' : ''}): ${JSON.stringify(line.slice(0, 60))}`);
    });
    return cmds;
  }
}
