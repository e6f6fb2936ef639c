// The Slurm executor against a real one-node Slurm: submission, logs streaming back, the budget counted
// from RUNNING, cancellation, the scheduler's own faults, preemption, and reattaching by job id.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { judge } from '../../src/core/judging/judge.js';
import { SlurmExecutor } from '../../src/core/executors/slurmExecutor.js';
import type { RunResult } from '../../src/core/types.js';
import { completedJobs, jobState, processesWith, request, scratch, skipReason, waitUntil } from './helpers.js';
import { useCluster } from './helpers.js';

const JUDGE = {
  metric: { name: 'val_loss', direction: 'minimize' as const, pattern: '^val_loss:\\s*(\\S+)' },
  memory: { pattern: '^peak_vram_mb:\\s*(\\S+)', unit: 'mb' as const }, metrics: [], constraints: [], minDelta: 0,
};

function verdict(run: RunResult, budgetSeconds: number) {
  return judge({ log: readFileSync(run.logPath, 'utf8'), run, config: { ...JUDGE, budgetSeconds }, parentMetric: null, isBaseline: true });
}

describe('the Slurm executor on a real Slurm', { skip: skipReason() }, () => {
  const cluster = useCluster();
  const dirs: { cleanup(): void }[] = [];
  const executors: SlurmExecutor[] = [];
  after(() => {
    for (const e of executors) e.dispose();
    for (const d of dirs) d.cleanup();
  });
  function setup(pollMs = 200) {
    const s = scratch();
    dirs.push(s);
    const ex = new SlurmExecutor({ pollMs, tailMs: 100, env: cluster().env });
    executors.push(ex);
    return { dir: s.dir, ex };
  }

  it('runs the command as a job in the worktree with the AUTORESEARCH_* variables, streams the log, and reads the exit code from Slurm', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const req = request(dir, 1, 'echo "cwd=$(pwd) node=$AUTORESEARCH_NODE slot=$AUTORESEARCH_SLOT budget=$AUTORESEARCH_BUDGET_SECONDS tag=$AUTORESEARCH_TAG"; echo tick-one; sleep 2; echo tick-two; exit 3', { slot: 1 });
    const seen: { text: string; at: number }[] = [];
    req.onOutput = (text) => seen.push({ text, at: Date.now() });
    const running = ex.start(req);
    await running.submitted;
    assert.match(running.handle ?? '', /^\d+$/);
    const run = await running.result;
    const ended = Date.now();

    assert.equal(run.exitCode, 3);
    assert.equal(run.timedOut, false);
    assert.equal(run.failureReason, undefined);
    assert.ok(run.wallMs >= 1500 && run.wallMs < 6000, `run time ${run.wallMs}ms`);
    assert.equal(typeof run.queuedMs, 'number');
    const log = readFileSync(req.logPath, 'utf8');
    assert.match(log, new RegExp(`cwd=${req.cwd} node=1 slot=1 budget=20 tag=ex`));
    assert.match(log, new RegExp(`\\[autoresearch\\] Slurm job ${running.handle} started on \\S+ \\(attempt 1\\)`));
    // The log streamed back while the job ran, not only at the end.
    const first = seen.find((s) => s.text.includes('tick-one'));
    assert.ok(first, `output seen: ${JSON.stringify(seen.map((s) => s.text))}`);
    assert.ok(ended - first.at > 1000, `tick-one arrived ${ended - first.at}ms before the end`);
    assert.equal(verdict(run, 20).reason, 'exit code 3');
    // What Slurm itself recorded: one job, named for the node, in the worktree, FAILED 3:0; the batch script is kept.
    const job = completedJobs(cluster()).find((j) => j.id === running.handle)!;
    assert.deepEqual([job.name, job.state, job.exitCode, job.workDir], ['ar-ex-1', 'FAILED', '3:0', req.cwd]);
    assert.ok(existsSync(join(dir, 'session', 'slurm', '1.sbatch')));
  });

  it('counts the budget from RUNNING: a job that waits in the queue still gets its whole budget, and the wait is reported apart', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const c = cluster();
    // Every CPU taken for 4 s: our job waits in the queue first.
    const blocker = c.cmd('sbatch', ['--parsable', '-c', String(c.cpus), '-o', '/dev/null', '--wrap', 'sleep 4']).stdout.trim();
    await waitUntil('the blocker to run', 10_000, () => jobState(c, blocker) === 'RUNNING');
    const t0 = Date.now();
    // The budget's start reaches the engine, which reads the run's learning curve from there.
    const ran: number[] = [];
    const run = await ex.start(request(dir, 2, 'sleep 2; echo "val_loss: 0.5"', { budgetSeconds: 3, onRunning: (at) => ran.push(at) })).result;
    const total = Date.now() - t0;
    assert.equal(ran.length, 1);
    assert.ok(ran[0]! - t0 >= 1500, `it ran ${ran[0]! - t0}ms after its submission, having waited ${run.queuedMs}ms`);
    assert.equal(run.timedOut, false, readFileSync(run.logPath, 'utf8'));
    assert.equal(run.exitCode, 0);
    assert.ok(total > 4000, `submit to end took ${total}ms, more than the 3 s budget`);
    assert.ok(run.queuedMs! >= 2000, `queued ${run.queuedMs}ms`);
    assert.ok(run.wallMs >= 1800 && run.wallMs < 3000, `ran ${run.wallMs}ms`);
    assert.equal(verdict(run, 3).status, 'keep');
  });

  it('cancels a job over its budget: a crash that says it timed out, and nothing the job started survives', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const req = request(dir, 3, "setsid sleep 313 & trap '' TERM; sleep 314; echo never", { budgetSeconds: 3 });
    const running = ex.start(req);
    const run = await running.result;
    assert.equal(run.timedOut, true);
    assert.ok(run.wallMs >= 3000 && run.wallMs < 4500, `stopped after ${run.wallMs}ms of run time`);
    const v = verdict(run, 3);
    assert.equal(v.status, 'crash');
    assert.match(v.reason, /^timed out: still running after the 3s budget/);
    assert.match(readFileSync(req.logPath, 'utf8'), /\[autoresearch\] budget of 3s of run time reached after [\d.]+ s: cancelled Slurm job \d+/);
    assert.equal(completedJobs(cluster()).find((j) => j.id === running.handle)?.state, 'CANCELLED');
    assert.deepEqual(processesWith('sleep 31'), []);
  });

  it('classifies a job cancelled from outside (scancel) as a crash with the scheduler\'s reason', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const c = cluster();
    const req = request(dir, 4, 'echo working; sleep 60');
    const running = ex.start(req);
    await running.submitted;
    await waitUntil('the job to run', 10_000, () => jobState(c, running.handle!) === 'RUNNING');
    assert.equal(c.cmd('scancel', [running.handle!]).status, 0);
    const run = await running.result;
    assert.equal(run.timedOut, false);
    assert.match(run.failureReason ?? '', new RegExp(`^Slurm job ${running.handle} was cancelled outside AutoResearch on localhost \\(JOB ${running.handle} ON localhost CANCELLED AT \\S+\\)$`));
    const v = verdict(run, 20);
    assert.equal(v.status, 'crash');
    assert.equal(v.reason, run.failureReason);
    assert.ok(readFileSync(req.logPath, 'utf8').includes(`[autoresearch] ${run.failureReason}`));
  });

  it('classifies a job Slurm will not start as a crash that says what to change', { timeout: 60_000 }, async () => {
    const { dir } = setup();
    // More CPUs than the node has: accepted, then pending forever (PartitionConfig).
    const big = new SlurmExecutor({ pollMs: 200, env: cluster().env, cpusPerTask: 64 });
    executors.push(big);
    const r1 = await big.start(request(dir, 5, 'echo hi')).result;
    const v1 = verdict(r1, 20);
    assert.equal(v1.status, 'crash');
    assert.match(v1.reason, /^could not start: Slurm will not start job \d+: PartitionConfig \(the partition cannot satisfy the request.*executor\.cpusPerTask/);
    // A partition that does not exist: sbatch refuses at once.
    const nope = new SlurmExecutor({ pollMs: 200, env: cluster().env, partition: 'nope' });
    executors.push(nope);
    const r2 = await nope.start(request(dir, 6, 'echo hi')).result;
    assert.match(verdict(r2, 20).reason, /^could not start: .*invalid partition specified: nope/i);
    // Nothing of either is left in the queue.
    assert.equal(cluster().cmd('squeue', ['-h']).stdout.trim(), '');
  });

  it('re-queues a preempted job once and gets its result; preempted a second time it is a crash', { timeout: 120_000 }, async () => {
    const { dir, ex } = setup();
    const c = cluster();
    const preempt = async (id: string) => {
      await waitUntil(`job ${id} to run`, 20_000, () => jobState(c, id) === 'RUNNING');
      // A job in the higher-tier partition needing every CPU preempts ours (PreemptMode=REQUEUE).
      c.cmd('sbatch', ['--parsable', '-p', 'urgent', '-c', String(c.cpus), '-o', '/dev/null', '--wrap', 'sleep 1']);
      // Requeued (PENDING), unless the executor already cancelled it for a second requeue.
      const state = await waitUntil(`job ${id} to be preempted`, 20_000, () => { const s = jobState(c, id); return s !== 'RUNNING' && s !== 'COMPLETING' && s; });
      // Slurm holds a requeued job back for a while (BeginTime); a test cannot wait two minutes for it.
      if (state === 'PENDING') c.cmd('scontrol', ['update', `JobId=${id}`, 'StartTime=now']);
    };

    const req = request(dir, 7, 'sleep 3; echo "val_loss: 0.25"', { budgetSeconds: 10 });
    const once = ex.start(req);
    await once.submitted;
    await preempt(once.handle!);
    const run = await once.result;
    assert.equal(run.exitCode, 0, readFileSync(req.logPath, 'utf8'));
    assert.equal(run.failureReason, undefined);
    assert.equal(verdict(run, 10).metric, 0.25);
    assert.ok(run.wallMs >= 2500 && run.wallMs < 6000, `the second attempt ran ${run.wallMs}ms`);
    const log = readFileSync(req.logPath, 'utf8');
    assert.match(log, /DUE TO PREEMPTION/);
    assert.match(log, /started on \S+ \(attempt 2\)/);
    assert.ok(req.output.some((o) => o.includes(`Slurm job ${once.handle} was requeued`)), 'the requeue is shown as progress');

    const req2 = request(dir, 8, 'sleep 20; echo "val_loss: 0.25"', { budgetSeconds: 30 });
    const twice = ex.start(req2);
    await twice.submitted;
    await preempt(twice.handle!);
    await preempt(twice.handle!);
    const run2 = await twice.result;
    assert.match(run2.failureReason ?? '', new RegExp(`^Slurm requeued job ${twice.handle} a second time \\(cancelled by the scheduler due to preemption\\); an experiment is requeued once$`));
    assert.equal(verdict(run2, 30).status, 'crash');
    assert.equal(jobState(c, twice.handle!), 'CANCELLED');
  });

  it('rides out a restart of slurmctld while its job runs, and still gets the result', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const c = cluster();
    const req = request(dir, 13, 'sleep 5; echo "val_loss: 0.125"');
    const running = ex.start(req);
    await running.submitted;
    await waitUntil('the job to run', 10_000, () => jobState(c, running.handle!) === 'RUNNING');
    // The controller daemon is away for 3 s (maintenance, a failover): squeue fails meanwhile.
    await c.restartController(3000);
    const run = await running.result;
    assert.equal(run.exitCode, 0, readFileSync(req.logPath, 'utf8'));
    assert.equal(run.failureReason, undefined);
    assert.equal(verdict(run, 20).metric, 0.125);
    assert.equal(completedJobs(c).find((j) => j.id === running.handle)?.state, 'COMPLETED');
  });

  it('Stop (abort) cancels the job, whether it runs or still waits in the queue', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const c = cluster();
    const runningAbort = new AbortController();
    const run1 = ex.start(request(dir, 11, 'echo up; sleep 60', { signal: runningAbort.signal }));
    await run1.submitted;
    await waitUntil('the job to run', 10_000, () => jobState(c, run1.handle!) === 'RUNNING');
    // Every CPU now taken: the next job waits in the queue, and is stopped there.
    const blocker = c.cmd('sbatch', ['--parsable', '-c', String(c.cpus), '-o', '/dev/null', '--wrap', 'sleep 30']).stdout.trim();
    const queuedAbort = new AbortController();
    const run2 = ex.start(request(dir, 12, 'echo never', { signal: queuedAbort.signal }));
    await run2.submitted;
    await waitUntil('the second job to wait', 10_000, () => jobState(c, run2.handle!) === 'PENDING');
    runningAbort.abort();
    queuedAbort.abort();
    const [r1, r2] = await Promise.all([run1.result, run2.result]);
    assert.equal(r1.signal, 'SIGTERM');
    assert.equal(r2.signal, 'SIGTERM');
    assert.equal(jobState(c, run1.handle!), 'CANCELLED');
    assert.equal(jobState(c, run2.handle!), 'CANCELLED');
    assert.equal(r2.wallMs, 0, 'a job stopped in the queue never ran');
    c.cmd('scancel', [blocker]);
    await waitUntil('the blocker to go', 15_000, () => !['RUNNING', 'COMPLETING'].includes(jobState(c, blocker)));
  });

  it('reattaches by job id: a queued job is watched until it runs and ends, a finished one gives its recorded result, and nothing is submitted', { timeout: 60_000 }, async () => {
    const { dir, ex } = setup();
    const c = cluster();
    const blocker = c.cmd('sbatch', ['--parsable', '-c', String(c.cpus), '-o', '/dev/null', '--wrap', 'sleep 3']).stdout.trim();
    await waitUntil('the blocker to run', 10_000, () => jobState(c, blocker) === 'RUNNING');
    const req = request(dir, 9, 'sleep 3; echo "val_loss: 0.75"; exit 0', { budgetSeconds: 20 });
    const first = ex.start(req);
    await first.submitted;
    const id = first.handle!;
    assert.equal(jobState(c, id), 'PENDING');
    const jobsBefore = c.cmd('squeue', ['-h', '-t', 'all', '-o', '%i']).stdout.trim().split('\n').length;

    // A second executor (a resumed controller) finds the queued job by its id and follows it to its end.
    const other = new SlurmExecutor({ pollMs: 200, env: c.env });
    executors.push(other);
    const watched = other.reattach(request(dir, 9, 'ignored: never submitted', { budgetSeconds: 20 }), id);
    assert.equal(watched.handle, id);
    const run = await watched.result;
    assert.equal(run.exitCode, 0);
    assert.ok(run.wallMs >= 2000, `run time ${run.wallMs}ms`);
    assert.ok(run.queuedMs! >= 1000, `queued ${run.queuedMs}ms`);
    assert.equal(verdict(run, 20).metric, 0.75);
    await first.result;

    // And once it is over, a third one reads the result Slurm recorded.
    const late = new SlurmExecutor({ pollMs: 200, env: c.env });
    executors.push(late);
    const recorded = await late.reattach(request(dir, 9, 'ignored', { budgetSeconds: 20 }), id).result;
    assert.equal(recorded.exitCode, 0);
    assert.ok(recorded.wallMs >= 2000 && recorded.wallMs <= 5000, `scheduler's run time ${recorded.wallMs}ms`);
    assert.equal(c.cmd('squeue', ['-h', '-t', 'all', '-o', '%i']).stdout.trim().split('\n').length, jobsBefore, 'no job was submitted');
    // A job id that is not this node's job is never adopted.
    const wrong = await late.reattach(request(dir, 10, 'ignored'), id).result;
    assert.match(wrong.failureReason ?? '', /is no longer this experiment's job \(the scheduler knows it as "ar-ex-9"\)/);
  });
});
