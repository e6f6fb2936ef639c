// Shared by the slurm tier's files: one real cluster per file, run requests, waiting, and what the
// scheduler itself says about jobs (squeue, scontrol, sacct -c), so tests check Slurm, not the engine's word.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { RunRequest } from '../../src/core/executors/executor.js';
import { startCluster, unavailableReason, type Cluster } from './cluster.js';

/** The tier's skip reason, printed once, or false when the tier runs. */
export function skipReason(): string | false {
  const reason = unavailableReason();
  if (reason) process.stdout.write(`slurm tier skipped: ${reason}\n`);
  return reason ?? false;
}

/** Starts a fresh cluster before the file's tests and stops it after; its env goes into process.env for the CLI. */
export function useCluster(): () => Cluster {
  let cluster: Cluster | undefined;
  before(async () => {
    const s = await startCluster();
    if (s.skipped !== undefined) throw new Error(`the slurm tier cannot run here: ${s.skipped}`);
    cluster = s.cluster;
    Object.assign(process.env, cluster.env);
  });
  after(async () => { await cluster?.stop(); });
  return () => {
    assert.ok(cluster, 'the cluster is not set up');
    return cluster;
  };
}

export function scratch(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ar-slurm-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A run request in a scratch session folder: `<dir>/work` is the worktree, `<dir>/session/logs/<n>.log` the log. */
export function request(dir: string, nodeId: number, command: string, extra: Partial<RunRequest> = {}): RunRequest & { output: string[] } {
  const cwd = join(dir, 'work');
  mkdirSync(cwd, { recursive: true });
  const output: string[] = [];
  return {
    nodeId, tag: 'ex', cwd, command, budgetSeconds: 20, graceSeconds: 2, slot: 0, logPath: join(dir, 'session', 'logs', `${nodeId}.log`),
    onOutput: (c) => output.push(c), output, ...extra,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(100);
  }
}

/** The job's state as squeue shows it now ('' when squeue no longer lists it). */
export function jobState(c: Cluster, id: string): string {
  return c.cmd('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T']).stdout?.trim() ?? '';
}

export interface CompletedJob {
  id: string;
  name: string;
  state: string;
  exitCode: string;
  workDir: string;
}

/** Every job the cluster has finished, from the job completion file (sacct -c). */
export function completedJobs(c: Cluster): CompletedJob[] {
  const r = c.cmd('sacct', ['-c', '-n', '-P', '-o', 'JobIDRaw,JobName,State,ExitCode,WorkDir']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const [id, name, state, exitCode, workDir] = l.split('|');
    return { id: id!, name: name!, state: state!, exitCode: exitCode!, workDir: workDir! };
  });
}

/** Processes working inside `dir` (other tests may run the same script names on this machine). */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** Processes whose command line contains `marker` (to prove a cancelled job left nothing behind). */
export function processesWith(marker: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes(marker)).map((l) => l.trim());
}
