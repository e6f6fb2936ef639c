// The batch script of one experiment and the sbatch line that submits it: the AUTORESEARCH_* environment, the run
// command in the node's worktree (in bubblewrap where the compute node has it), and the marks the engine reads back
// from the log to tell when the command started, how it exited, or that the worktree was out of reach.
import { dirname, join } from 'node:path';
import { runEnvironment, type RunRequest } from './executor.js';

export interface SlurmOptions {
  partition?: string;
  gres?: string;
  cpusPerTask?: number;
  mem?: string;
  /** The job's time limit in minutes; by default derived from the budget (see jobTimeMinutes). */
  timeMinutes?: number;
  account?: string;
  extraArgs?: readonly string[];
  /** How often the scheduler is asked about running jobs. */
  pollMs?: number;
  /** How often the logs are read for progress. */
  tailMs?: number;
  /** `sandbox: on`: a node where bubblewrap cannot run fails the job instead of running it bare. */
  sandboxRequired?: boolean;
  /** Added to the environment of every Slurm command (SLURM_CONF, say). */
  env?: Record<string, string>;
}

/** The job's time limit: the budget and grace in whole minutes, rounded up, plus a minute of margin. */
export function jobTimeMinutes(budgetSeconds: number, graceSeconds: number, configured?: number): number {
  if (configured !== undefined) return configured;
  return Math.ceil((budgetSeconds + graceSeconds) / 60) + 1;
}

export function jobName(tag: string, nodeId: number): string {
  return `ar-${tag}-${nodeId}`;
}

/** Where the batch script of a run goes: the session's folder (the log's parent's parent), `slurm/<node>.sbatch`. */
export function scriptPath(req: RunRequest): string {
  return join(dirname(dirname(req.logPath)), 'slurm', `${req.nodeId}.sbatch`);
}

export function sbatchArgs(req: RunRequest, o: SlurmOptions, script: string): string[] {
  const args = ['--parsable', `--job-name=${jobName(req.tag, req.nodeId)}`, `--chdir=${req.cwd}`, `--output=${req.logPath}`, '--open-mode=append',
    `--time=${jobTimeMinutes(req.budgetSeconds, req.graceSeconds, o.timeMinutes)}`];
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (o.account) args.push(`--account=${o.account}`);
  if (o.gres) args.push(`--gres=${o.gres}`);
  if (o.cpusPerTask) args.push(`--cpus-per-task=${o.cpusPerTask}`);
  if (o.mem) args.push(`--mem=${o.mem}`);
  args.push(...(o.extraArgs ?? []), script);
  return args;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const CWD_EXIT = 97;
export const START_MARK = /^\[autoresearch\] Slurm job (\d+) started on (\S+) \(attempt (\d+)\)/m;
export const EXIT_MARK = /^\[autoresearch\] the command exited with code (\d+)\s*$/m;
export const CWD_MARK = /^\[autoresearch\] cannot enter the worktree .*$/m;

/** Exit code of a job that could not make the sandbox `sandbox: on` asks for. */
export const NO_SANDBOX_EXIT = 126;

/**
 * The command, in bubblewrap where it runs on the compute node (decided there, by running it once), else bare with a
 * line that says so; with `sandbox: on`, a node without it fails the job instead.
 */
function runLines(req: RunRequest, sandboxRequired: boolean): string[] {
  const bare = `/bin/sh -c ${shellQuote(req.command)} </dev/null`;
  if (!req.sandbox?.length) return [bare];
  const [bwrap, ...args] = req.sandbox;
  const probe = `${shellQuote(bwrap!)} --ro-bind / / --dev-bind /dev /dev --proc /proc --unshare-pid true >/dev/null 2>&1`;
  return [
    `if ${probe}; then`,
    '  echo "[autoresearch] sandbox: bubblewrap on $(hostname)"',
    `  ${[bwrap!, ...args, '/bin/sh', '-c', req.command].map(shellQuote).join(' ')} </dev/null`,
    'else',
    sandboxRequired
      ? `  echo "[autoresearch] sandbox: on, but bubblewrap cannot run on $(hostname); install it there or set sandbox: auto"; exit ${NO_SANDBOX_EXIT}`
      : '  echo "[autoresearch] no sandbox on $(hostname): bubblewrap cannot run there; protected files and refs are still checked after the run"',
    `  ${bare}`,
    'fi',
  ];
}

/** The batch script: the AUTORESEARCH_* variables, the run command in the worktree, and markers the engine reads back. */
export function batchScript(req: RunRequest, args: readonly string[], sandboxRequired = false): string {
  const env = { ...runEnvironment(req), PYTHONUNBUFFERED: '1' };
  return [
    '#!/bin/bash',
    `# AutoResearch experiment #${req.nodeId} of session ${req.tag}, submitted with:`,
    `#   sbatch ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a))).join(' ')}`,
    '# The engine watches this job by its id; cancelling it marks the experiment as crashed.',
    `echo "[autoresearch] Slurm job \${SLURM_JOB_ID} started on $(hostname) (attempt $(( \${SLURM_RESTART_COUNT:-0} + 1 )))"`,
    `cd -- ${shellQuote(req.cwd)} 2>/dev/null || { echo "[autoresearch] cannot enter the worktree ${req.cwd.replace(/["$`\\]/g, '\\$&')} on $(hostname): the repository must be on a filesystem the compute nodes share"; exit ${CWD_EXIT}; }`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    ...runLines(req, sandboxRequired),
    'status=$?',
    'echo "[autoresearch] the command exited with code ${status}"',
    'exit ${status}',
    '',
  ].join('\n');
}
