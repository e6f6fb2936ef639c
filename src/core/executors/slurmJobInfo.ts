// What Slurm says about a job, read: the states that wait or run, the pending reasons that mean it never starts,
// `scontrol show job -o` and `sacct` rows, Slurm's timestamps and `code:signal` exit codes, and slurmstepd's line
// when it cancels a job.
import { constants } from 'node:os';

/** What the scheduler knows about a job (scontrol, sacct or sacct -c). */
export interface JobInfo {
  id: string;
  state: string;
  reason: string;
  exitCode: string;
  name: string;
  workDir: string;
  restarts: number;
  submitMs: number | null;
  startMs: number | null;
  endMs: number | null;
  nodes: string;
  timeLimit: string;
}

/** States in which a job waits for resources (or for its begin time) and runs nothing. */
export const WAITING = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD', 'RESIZING']);
export const ACTIVE = new Set(['RUNNING', 'SUSPENDED', 'SIGNALING', 'STAGE_OUT', 'STOPPED']);

/**
 * Pending reasons that mean the job will never start as submitted: it is cancelled and classified
 * instead of waiting forever. Each maps to what a person should change.
 */
export const NEVER_STARTS: Record<string, string> = {
  PartitionConfig: 'the partition cannot satisfy the request (more CPUs, memory or GPUs than its nodes have); lower executor.cpusPerTask, mem or gres, or choose another partition',
  PartitionTimeLimit: "the job's time limit is above the partition's limit; use a shorter budget, set executor.time within the limit, or choose another partition",
  PartitionNodeLimit: "the request is outside the partition's node limits; choose another partition",
  BadConstraints: 'the constraints cannot be satisfied by any node; check executor.extraArgs and gres',
  InvalidAccount: 'the account is not valid for this user; check executor.account',
  InvalidQOS: 'the QOS is not valid for this user; check executor.extraArgs',
  AssocMaxWallDurationPerJobLimit: "the time limit is above what the account allows; use a shorter budget or set executor.time",
  QOSMaxWallDurationPerJobLimit: "the time limit is above what the QOS allows; use a shorter budget or set executor.time",
  AssocMaxCpuPerJobLimit: 'more CPUs than the account allows per job; lower executor.cpusPerTask',
  QOSMaxCpuPerJobLimit: 'more CPUs than the QOS allows per job; lower executor.cpusPerTask',
  AssocMaxGRESPerJob: 'more GPUs than the account allows per job; lower executor.gres',
  QOSMaxGRESPerJob: 'more GPUs than the QOS allows per job; lower executor.gres',
  DependencyNeverSatisfied: 'a dependency can never be satisfied; check executor.extraArgs',
  launch_failed_requeued_held: 'the job failed to launch on its node and the scheduler held it',
};

/** slurmstepd's line when it ends a job: `*** JOB 12 ON node CANCELLED AT <time> [DUE TO PREEMPTION] ***`. */
export const schedulerMark = (id: string) => new RegExp(`\\*\\*\\* JOB ${id} ON \\S+ CANCELLED AT \\S+(?: DUE TO ([A-Z ]+?))? \\*\\*\\*`, 'g');

/** `Key=Value Key=Value ...` from `scontrol show job -o`; values run to the next ` Key=`. */
export function parseScontrol(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][\w/:]*)=/g;
  const keys: { key: string; at: number; valueAt: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) keys.push({ key: m[1]!, at: m.index, valueAt: m.index + m[0].length });
  keys.forEach((k, i) => { out[k.key] = line.slice(k.valueAt, i + 1 < keys.length ? keys[i + 1]!.at : undefined).trim(); });
  return out;
}

/** Epoch ms from a Slurm timestamp (local time, `2024-05-01T12:00:00`), or null for Unknown/None/N/A. */
export function parseSlurmTime(s: string | undefined): number | null {
  if (!s || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(s)) return null;
  const t = new Date(s).getTime();
  return Number.isFinite(t) ? t : null;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n as number, name]));

/** Slurm's `code:signal` exit code. */
export function parseExitCode(s: string | undefined): { exitCode: number | null; signal: string | null } {
  const m = /^(\d+):(\d+)$/.exec(s ?? '');
  if (!m) return { exitCode: null, signal: null };
  const sig = Number(m[2]);
  if (sig > 0) return { exitCode: null, signal: SIGNAL_NAMES.get(sig) ?? `signal ${sig}` };
  return { exitCode: Number(m[1]), signal: null };
}

export function infoFromScontrol(line: string): JobInfo | null {
  const f = parseScontrol(line);
  if (!f.JobId) return null;
  return {
    id: f.JobId, state: (f.JobState ?? '').split(/\s/)[0]!, reason: f.Reason ?? 'None', exitCode: f.ExitCode ?? '', name: f.JobName ?? '',
    workDir: f.WorkDir ?? '', restarts: Number(f.Restarts ?? 0) || 0, submitMs: parseSlurmTime(f.SubmitTime), startMs: parseSlurmTime(f.StartTime),
    endMs: parseSlurmTime(f.EndTime), nodes: f.NodeList ?? '', timeLimit: f.TimeLimit ?? '',
  };
}

export const SACCT_FIELDS = 'JobIDRaw,JobName,State,ExitCode,Submit,Start,End,WorkDir,NodeList,Timelimit,Reason';

export function infoFromSacct(text: string, id: string): JobInfo | null {
  for (const line of text.split('\n')) {
    const [jobId, name, state, exitCode, submit, start, end, workDir, nodes, timeLimit, reason] = line.split('|');
    if (jobId !== id) continue;
    return {
      id, state: (state ?? '').split(/\s/)[0]!, reason: reason || 'None', exitCode: exitCode ?? '', name: name ?? '', workDir: workDir ?? '', restarts: 0,
      submitMs: parseSlurmTime(submit), startMs: parseSlurmTime(start), endMs: parseSlurmTime(end), nodes: nodes ?? '', timeLimit: timeLimit ?? '',
    };
  }
  return null;
}
