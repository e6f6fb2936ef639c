// A whole session on a real Slurm, as a cluster user runs it: `executor: {kind: slurm}` and `parallel: 2`.
// Two jobs run at once; one experiment overruns its budget and one is cancelled from outside with scancel;
// the journal, results.tsv, the summary and Slurm's own records must all agree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSession } from '../../src/core/openSession.js';
import { Journal, type JournalRecord } from '../../src/core/record/journal.js';
import { parseResults } from '../../src/core/record/results.js';
import type { TempRepo } from '../unit/helpers/repo.js';
import { slurmConfig, toyStudy, toyTrain } from './fixtures.js';
import { completedJobs, jobState, processesIn, skipReason, useCluster, waitUntil } from './helpers.js';

type Start = Extract<JournalRecord, { type: 'start' }>;
type Finish = Extract<JournalRecord, { type: 'finish' }>;

describe('a session on a real Slurm', { skip: skipReason() }, () => {
  const cluster = useCluster();
  const repos: TempRepo[] = [];
  after(() => { for (const r of repos) r.cleanup(); });

  it('runs several experiments two jobs at a time; an overrun is cancelled at its budget and an outside scancel is a crash with Slurm\'s reason', { timeout: 180_000 }, async () => {
    const c = cluster();
    // #3 overruns its 8 s budget; #4 runs until the test cancels it from outside.
    const repo = toyStudy(toyTrain({ 3: 'hang', 4: 'hang' }, 2), slurmConfig({ parallel: 2, maxExperiments: 4, budget: '8s' }));
    repos.push(repo);
    // Opened as the CLI, the extension and the benchmarks open one: the executor is the one the config names.
    const session = await openSession({ root: repo.root, platform: null });
    assert.equal(session.config.executor.kind, 'slurm');
    const { controller } = session;
    const journalPath = join(repo.root, '.autoresearch', 't1', 'journal.jsonl');
    const starts = () => Journal.read(journalPath).filter((r): r is Start & { seq: number } => r.type === 'start');

    let cancelledJob = '';
    const outsider = (async () => {
      const start = await waitUntil('#4 to be submitted', 120_000, () => starts().find((s) => s.id === 4 && s.handle));
      await waitUntil('#4 to run', 30_000, () => jobState(c, start.handle!) === 'RUNNING' && readFileSync(start.logPath, 'utf8').includes('node=4'));
      cancelledJob = start.handle!;
      assert.equal(c.cmd('scancel', [cancelledJob]).status, 0);
    })();
    const outcome = await controller.run();
    session.dispose();
    await outsider;
    assert.equal(outcome.state, 'done', outcome.reason);

    const records = Journal.read(journalPath);
    const startOf = new Map(records.filter((r): r is Start & { seq: number } => r.type === 'start').map((r) => [r.id, r]));
    const finishOf = new Map(records.filter((r): r is Finish & { seq: number } => r.type === 'finish').map((r) => [r.id, r]));
    const nodes = outcome.model.nodes;
    assert.equal(nodes.length, 5);

    // Every run is exactly one Slurm job, journaled by its id, named for its node, in its slot's worktree.
    const jobs = completedJobs(c).filter((j) => j.name.startsWith('ar-t1-'));
    for (const n of nodes) {
      const mine = jobs.filter((j) => j.name === `ar-t1-${n.id}`);
      assert.equal(mine.length, 1, `#${n.id} has ${mine.length} jobs: ${JSON.stringify(jobs)}\n${readFileSync(n.logPath!, "utf8")}`);
      assert.equal(mine[0]!.id, startOf.get(n.id)?.handle, `#${n.id}'s journaled job id`);
      assert.equal(mine[0]!.workDir, join(repo.root, '.autoresearch', 'worktrees', 't1', `slot-${startOf.get(n.id)!.slot}`));
      assert.equal(typeof finishOf.get(n.id)?.run.queuedMs, 'number');
      assert.match(readFileSync(n.logPath!, 'utf8'), new RegExp(`^node=${n.id} slot=\\d budget=8 job=${mine[0]!.id}$`, 'm'));
    }

    // Two jobs at once: run intervals from the journal overlap, and both slots were used.
    const interval = (id: number) => [Date.parse(startOf.get(id)!.startedAt), Date.parse(finishOf.get(id)!.finishedAt)] as const;
    const overlapping = [[1, 2], [3, 4]].filter(([a, b]) => interval(a!)[0] < interval(b!)[1] && interval(b!)[0] < interval(a!)[1]);
    assert.deepEqual(overlapping, [[1, 2], [3, 4]], 'pairs of experiments that ran at the same time');
    assert.deepEqual(new Set([...startOf.values()].map((s) => s.slot)), new Set([0, 1]));

    // The decisions a user reads.
    for (const id of [0, 1, 2]) assert.ok(['keep', 'discard'].includes(nodes[id]!.status), `#${id} ${nodes[id]!.status}: ${nodes[id]!.reason}`);
    assert.equal(nodes[3]!.status, 'crash');
    // The reason also names the parent's time and what to change (decisions.ts).
    const stoppedAt = Number(/^timed out: still running after the 8s budget \(stopped at (\d+\.\d) s\); its parent #\d+ took (?:\d+ ms|\d+\.\d s|\d+:\d\d) of the 8s budget(?:, close to it: a run a little slower \(this change, or a busier machine\) runs past it\. Raise `budget` \(`budget: \d+s` is about twice the parent's time\)|: this change made the run much slower, or it hangs \(its log says which\)\. If that is what it costs, raise `budget`), or have the script stop in time \(it is told AUTORESEARCH_BUDGET_SECONDS\)$/.exec(nodes[3]!.reason)?.[1]);
    assert.ok(stoppedAt >= 8 && stoppedAt < 12, nodes[3]!.reason);
    assert.ok(nodes[3]!.timedOut);
    assert.equal(nodes[4]!.status, 'crash');
    assert.match(nodes[4]!.reason, new RegExp(`^Slurm job ${cancelledJob} was cancelled outside AutoResearch on localhost \\(JOB ${cancelledJob} ON localhost CANCELLED AT \\S+\\)$`));
    assert.equal(jobs.find((j) => j.id === cancelledJob)?.state, 'CANCELLED');
    assert.equal(jobs.find((j) => j.name === 'ar-t1-3')?.state, 'CANCELLED');

    const results = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8'));
    assert.deepEqual(results.rows.map((r) => r.status).slice(3), ['crash', 'crash']);
    const summary = readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8');
    // Durations as the shared formatter writes them: `4.2 s` under ten seconds, `1:05` above.
    // A duration as fmtDuration writes it: 745 ms, 2.9 s, 0:12.
    const d = String.raw`(?:\d+ ms|\d+\.\d s|\d+(?::\d\d)+)`;
    assert.match(summary, new RegExp(String.raw`^- Queue: ${d} waiting for the scheduler vs ${d} running \(4 jobs; longest wait ${d}, #\d\)$`, 'm'));
    assert.match(summary, new RegExp(`#4 \`[0-9a-f]{7}\` \\*\\*crash\\*\\*: .*: Slurm job ${cancelledJob} was cancelled outside AutoResearch`));
    assert.equal(c.cmd('squeue', ['-h']).stdout.trim(), '', 'nothing left in the queue');
    assert.deepEqual(processesIn(repo.root), [], 'nothing of the session still runs');
  });

  it('Stop cancels the running jobs; resumed, the session runs them again, since a stopped run is not a result', { timeout: 120_000 }, async () => {
    const c = cluster();
    const repo = toyStudy(toyTrain({ 1: 6, 2: 6 }, 1), slurmConfig({ parallel: 2, maxExperiments: 2, budget: '60s', tag: 't2' }));
    repos.push(repo);
    const journalPath = join(repo.root, '.autoresearch', 't2', 'journal.jsonl');
    const starts = () => Journal.read(journalPath).filter((r): r is Start & { seq: number } => r.type === 'start');
    const first = await openSession({ root: repo.root, platform: null });
    const running = first.controller.run();
    const stopped = await waitUntil('#1 and #2 to run', 60_000, () => {
      const s = [1, 2].map((id) => starts().find((r) => r.id === id && r.handle));
      return s.every((r) => r && jobState(c, r.handle!) === 'RUNNING') ? s as Start[] : null;
    });
    first.controller.stop();
    const outcome = await running;
    first.dispose();
    assert.equal(outcome.state, 'stopped');
    for (const s of stopped) assert.equal(jobState(c, s.handle!), 'CANCELLED', `#${s.id}'s job after Stop`);

    // The same nodes run again, as new jobs, and are judged.
    const second = await openSession({ root: repo.root, platform: null });
    const resumed = await second.controller.run();
    second.dispose();
    assert.equal(resumed.state, 'done', resumed.reason);
    const jobs = completedJobs(c).filter((j) => j.name.startsWith('ar-t2-'));
    for (const s of stopped) {
      const mine = jobs.filter((j) => j.name === `ar-t2-${s.id}`).sort((a, b) => Number(a.id) - Number(b.id));
      assert.deepEqual(mine.map((j) => j.state), ['CANCELLED', 'COMPLETED'], `#${s.id}'s jobs`);
      assert.equal(mine[0]!.id, s.handle);
      assert.ok(['keep', 'discard'].includes(resumed.model.get(s.id)!.status));
    }
  });
});
