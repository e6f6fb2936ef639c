// The controller's side of cluster runs, with an executor that only records what it is asked to do: the
// job's handle is journaled once submitted; a session whose controller died reattaches to the handle
// instead of running the node again; a session that was stopped runs it again. (The Slurm executor
// itself is tested against a real Slurm in test/slurm.)
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import type { Executor, RunRequest, RunningExperiment } from '../../../../src/core/executors/executor.js';
import { Journal, type JournalRecord } from '../../../../src/core/record/journal.js';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import type { RunResult } from '../../../../src/core/types.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../../helpers/repo.js';

type Start = Extract<JournalRecord, { type: 'start' }>;

/** A pretend cluster: jobs get handles, runs of `hang` nodes never end on their own. */
class FakeCluster implements Executor {
  readonly kind = 'fake-cluster';
  readonly started: number[] = [];
  readonly reattached: { node: number; handle: string }[] = [];
  private readonly running = new Set<() => void>();
  constructor(private readonly hang: ReadonlySet<number> = new Set()) {}

  private run(req: RunRequest, handle: string, metric: number, ends: boolean): RunningExperiment {
    mkdirSync(dirname(req.logPath), { recursive: true });
    writeFileSync(req.logPath, `job ${handle}\nval_loss: ${metric}\n`);
    let resolve!: (r: RunResult) => void;
    const result = new Promise<RunResult>((r) => { resolve = r; });
    const done: RunResult = { exitCode: 0, signal: null, timedOut: false, wallMs: 1000, queuedMs: 250, logPath: req.logPath };
    const stop = () => resolve({ ...done, exitCode: null, signal: 'SIGTERM', failureReason: 'stopped' });
    this.running.add(stop);
    if (ends) setTimeout(() => resolve(done), 10);
    req.signal?.addEventListener('abort', stop, { once: true });
    return { pid: undefined, handle, submitted: new Promise((r) => setTimeout(r, 5)), result, dispose: stop };
  }

  start(req: RunRequest): RunningExperiment {
    this.started.push(req.nodeId);
    return this.run(req, `job-${req.nodeId}-${this.started.length}`, req.nodeId === 0 ? 1 : 0.5, !this.hang.has(req.nodeId));
  }

  reattach(req: RunRequest, handle: string): RunningExperiment {
    this.reattached.push({ node: req.nodeId, handle });
    return this.run(req, handle, 0.25, true);
  }

  dispose(): void {
    for (const stop of this.running) stop();
  }
}

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out');
}

function setup() {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'autoresearch.config.yaml': toyConfig().replace('maxExperiments: 6', 'maxExperiments: 1') });
  repos.push(repo);
  const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
  const journal = join(repo.root, '.autoresearch', 't1', 'journal.jsonl');
  const controller = (executor: Executor) => new Controller({ root: repo.root, config, proposer: new MutateProposer({ seed: config.seed }), executor, platform: null, inboxIntervalMs: 50 });
  const starts = () => Journal.read(journal).filter((r): r is Start & { seq: number } => r.type === 'start');
  return { repo, controller, starts, journal };
}

describe('cluster runs and the controller', () => {
  it('journals each job\'s handle, and a session whose controller died reattaches to it instead of running the node again', async () => {
    const { repo, controller, starts } = setup();
    const first = new FakeCluster(new Set([1]));
    const dead = controller(first);
    void dead.run();
    const start = await waitFor(() => starts().find((s) => s.id === 1));
    assert.equal(start.handle, 'job-1-2');
    assert.equal(starts().find((s) => s.id === 0)?.handle, 'job-0-1');
    // The controller is gone without a word (its locks go with its process).
    rmSync(join(repo.root, '.autoresearch', 't1', 'lock'));
    rmSync(join(repo.root, '.autoresearch', 'controller.lock'), { force: true });

    const second = new FakeCluster();
    const resumed = controller(second);
    const outcome = await resumed.run();
    resumed.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.deepEqual(second.reattached, [{ node: 1, handle: 'job-1-2' }]);
    assert.deepEqual(second.started, [], 'nothing was run again');
    const n1 = outcome.model.get(1)!;
    assert.equal(n1.metric, 0.25, 'judged from the reattached run');
    assert.equal(n1.queuedMs, 250);
    assert.equal(starts().filter((s) => s.id === 1).length, 1, 'the original start record stands');
    dead.dispose();
    first.dispose();
  });

  it('runs a stopped node again (a stopped run is not a result) instead of reattaching to its cancelled job', async () => {
    const { controller, starts } = setup();
    const first = new FakeCluster(new Set([1]));
    const c1 = controller(first);
    const done = c1.run();
    await waitFor(() => starts().find((s) => s.id === 1));
    c1.stop();
    assert.equal((await done).state, 'stopped');
    c1.dispose();

    const second = new FakeCluster();
    const c2 = controller(second);
    const outcome = await c2.run();
    c2.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.deepEqual(second.reattached, []);
    assert.deepEqual(second.started, [1]);
    assert.equal(outcome.model.get(1)!.metric, 0.5);
  });
});
