// The local and manual executors, with real processes: budgets, process trees, logs, aborts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import type { Executor, RunRequest } from '../../../../src/core/executors/executor.js';
import { judge } from '../../../../src/core/judging/judge.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { ManualExecutor } from '../../../../src/core/executors/manualExecutor.js';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import { fakeConfig } from '../../helpers/nodes.js';
import { toyConfig } from '../../helpers/repo.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-exec-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function req(command: string, over: Partial<RunRequest> = {}): RunRequest {
  n++;
  return { nodeId: n, tag: 't', cwd: dir, command, budgetSeconds: 10, graceSeconds: 1, slot: 2, logPath: join(dir, `logs/${n}/run.log`), ...over };
}

/** A zombie (exited, not yet reaped by an init that may never reap it) counts as dead. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function allDead(pids: number[], ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pids.every((p) => !alive(p))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids.every((p) => !alive(p));
}

function pidsIn(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split('\n').map(Number);
}

async function waitFor(file: string, lines: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(file) && readFileSync(file, 'utf8').trim().split('\n').length >= lines) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${file} never got ${lines} lines`);
}

describe('local executor', () => {
  it('runs the command in the worktree with the budget and slot in the environment, logging stdout and stderr', async () => {
    const chunks: string[] = [];
    const script = join(dir, 'train.py');
    writeFileSync(script, [
      'import os, sys',
      'print("budget=%s slot=%s node=%s tag=%s" % tuple(os.environ[k] for k in ("AUTORESEARCH_BUDGET_SECONDS", "AUTORESEARCH_SLOT", "AUTORESEARCH_NODE", "AUTORESEARCH_TAG")))',
      'print("unbuffered=%s extra=%s cwd=%s" % (os.environ.get("PYTHONUNBUFFERED"), os.environ.get("EXTRA"), os.getcwd()))',
      'print("oops", file=sys.stderr)',
      'print("val_loss: 0.25")',
    ].join('\n'));
    const t0 = Date.now();
    const run = new LocalExecutor().start(req(`python3 ${script}`, { env: { EXTRA: 'yes' }, onOutput: (c) => chunks.push(c) }));
    assert.ok(run.pid && run.pid > 0);
    const r = await run.result;
    const took = Date.now() - t0;
    assert.deepEqual([r.exitCode, r.signal, r.timedOut, r.startError], [0, null, false, undefined]);
    const log = readFileSync(r.logPath, 'utf8');
    assert.match(log, new RegExp(`^budget=10 slot=2 node=${n} tag=t$`, 'm'));
    assert.match(log, new RegExp(`^unbuffered=1 extra=yes cwd=${dir}$`, 'm'));
    assert.match(log, /^oops$/m);
    assert.match(log, /^val_loss: 0\.25$/m);
    assert.equal(chunks.join(''), log, 'onOutput saw exactly what the log holds');
    assert.ok(r.wallMs > 0 && r.wallMs <= took, `wallMs ${r.wallMs}, took ${took}`);
  });

  it('records a non-zero exit code', async () => {
    const r = await new LocalExecutor().start(req('echo failing; exit 7')).result;
    assert.deepEqual([r.exitCode, r.signal, r.timedOut], [7, null, false]);
    assert.equal(readFileSync(r.logPath, 'utf8'), 'failing\n');
  });

  it('has the whole output in the log when the result arrives', async () => {
    // Its budget is not what is tested: on a loaded machine (a training run beside the suite) printing took over 10 s.
    const r = await new LocalExecutor().start(req(`python3 -c "for i in range(200000): print('line', i)"; echo last`, { budgetSeconds: 120 })).result;
    assert.equal(r.timedOut, false);
    const lines = readFileSync(r.logPath, 'utf8').split('\n');
    assert.equal(lines.length, 200002);
    assert.equal(lines[199999], 'line 199999');
    assert.equal(lines[200000], 'last');
  });

  it('kills a whole process tree that ignores SIGTERM when the budget is spent', async () => {
    const pids = join(dir, 'stubborn.pids');
    const script = join(dir, 'stubborn.sh');
    writeFileSync(script, `trap '' TERM
for i in 1 2; do (trap '' TERM; sleep 100) & echo $! >> ${pids}; done
echo $$ >> ${pids}
echo started
while true; do sleep 0.1; done
`);
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req(`sh ${script}`, { budgetSeconds: 1, graceSeconds: 1 })).result;
    const took = Date.now() - t0;
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.notEqual(r.signal, null);
    assert.ok(took >= 1900 && took < 5000, `took ${took} ms: the children got their grace period, and no more`);
    const list = pidsIn(pids);
    assert.equal(list.length, 3);
    assert.ok(await allDead(list), `still alive: ${list.filter(alive).join(', ')}`);
    const log = readFileSync(r.logPath, 'utf8');
    assert.match(log, /^started$/m);
    assert.match(log, /budget of 1s reached: terminating the process group/);
  });

  it('a leader that ignores SIGTERM is killed after the grace period', async () => {
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req(`exec sh -c "trap '' TERM; while true; do sleep 0.1; done"`, { budgetSeconds: 0.5, graceSeconds: 0.5 })).result;
    assert.deepEqual([r.timedOut, r.exitCode, r.signal], [true, null, 'SIGKILL']);
    assert.ok(r.wallMs >= 900 && Date.now() - t0 < 3000, `wallMs ${r.wallMs}`);
  });

  it('a program that cleans up on SIGTERM gets the grace period to do it', async () => {
    const script = join(dir, 'graceful.py');
    writeFileSync(script, [
      'import signal, sys, time',
      'def stop(*_):',
      '    time.sleep(0.5)',
      '    print("saved checkpoint")',
      '    sys.exit(3)',
      'signal.signal(signal.SIGTERM, stop)',
      'print("training", flush=True)',
      'time.sleep(100)',
    ].join('\n'));
    const r = await new LocalExecutor().start(req(`python3 ${script}`, { budgetSeconds: 1, graceSeconds: 5 })).result;
    assert.equal(r.timedOut, true);
    assert.ok(r.wallMs < 4000, `wallMs ${r.wallMs}`);
    assert.match(readFileSync(r.logPath, 'utf8'), /training\n[^]*saved checkpoint/);
  });

  it('a tree that stops on SIGTERM is not waited on for the grace period', async () => {
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req('sleep 100 & sleep 100', { budgetSeconds: 1, graceSeconds: 30 })).result;
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
  });

  it('does not wait for a child that outlives the leader holding its output, and ends it', async () => {
    const pidFile = join(dir, 'bg-held.pid');
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req(`(trap '' TERM; sleep 100) & echo $! > ${pidFile}; echo done`)).result;
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    assert.deepEqual([r.exitCode, r.timedOut], [0, false]);
    assert.equal(readFileSync(r.logPath, 'utf8'), 'done\n');
    assert.ok(await allDead(pidsIn(pidFile)));
  });

  it('ends a child that outlives the leader with its output elsewhere', async () => {
    const pidFile = join(dir, 'bg-quiet.pid');
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req(`sleep 100 > /dev/null 2>&1 & echo $! > ${pidFile}; echo done`)).result;
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    assert.equal(r.exitCode, 0);
    assert.ok(await allDead(pidsIn(pidFile)));
  });

  it('an abort (Stop) ends the tree at once', async () => {
    const pidFile = join(dir, 'abort.pids');
    const ac = new AbortController();
    const run = new LocalExecutor().start(req(`sleep 100 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait`, { signal: ac.signal }));
    await waitFor(pidFile, 2);
    const t0 = Date.now();
    ac.abort();
    const r = await run.result;
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    assert.equal(r.timedOut, false);
    assert.equal(r.signal, 'SIGTERM');
    assert.match(readFileSync(r.logPath, 'utf8'), /stopped: terminating the process group/);
    assert.ok(await allDead([run.pid!, ...pidsIn(pidFile)]));
  });

  it('an abort kills what ignores SIGTERM after the grace period', async () => {
    const pidFile = join(dir, 'abort-stubborn.pids');
    const ac = new AbortController();
    const run = new LocalExecutor().start(req(`trap '' TERM; (trap '' TERM; sleep 100) & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; while true; do sleep 0.1; done`, { signal: ac.signal, graceSeconds: 0.5 }));
    await waitFor(pidFile, 2);
    const t0 = Date.now();
    ac.abort();
    const r = await run.result;
    assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(await allDead(pidsIn(pidFile)));
  });

  it('disposing the run, or the executor, ends the tree', async () => {
    const executor = new LocalExecutor();
    const a = executor.start(req('sleep 100'));
    const b = executor.start(req('sleep 100'));
    const t0 = Date.now();
    a.dispose();
    assert.equal((await a.result).signal, 'SIGTERM');
    executor.dispose();
    assert.equal((await b.result).signal, 'SIGTERM');
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(await allDead([a.pid!, b.pid!]));
  });

  it('a run aborted before it starts runs nothing', async () => {
    const marker = join(dir, 'never');
    const ac = new AbortController();
    ac.abort();
    const run = new LocalExecutor().start(req(`touch ${marker}`, { signal: ac.signal }));
    const r = await run.result;
    assert.equal(run.pid, undefined);
    assert.deepEqual([r.exitCode, r.signal], [null, 'SIGTERM']);
    assert.ok(!existsSync(marker));
  });

  it('reports a run that cannot start: a missing worktree, a log that cannot be written', async () => {
    const missing = await new LocalExecutor().start(req('true', { cwd: join(dir, 'missing') })).result;
    assert.match(missing.startError ?? '', /working folder .*missing does not exist/);
    assert.equal(missing.exitCode, null);
    assert.match(readFileSync(missing.logPath, 'utf8'), /could not start/);
    writeFileSync(join(dir, 'a-file'), '');
    const noLog = await new LocalExecutor().start(req('true', { logPath: join(dir, 'a-file', 'run.log') })).result;
    assert.match(noLog.startError ?? '', /cannot write the log/);
  });
});

describe('manual executor', () => {
  it('waits for a recorded result, and tells the person how to record it', async () => {
    const m = new ManualExecutor();
    const run = m.start(req('python train.py', { cwd: '/work/tree-3' }));
    const id = n;
    assert.deepEqual(m.pending(), [id]);
    const log = readFileSync(join(dir, `logs/${id}/run.log`), 'utf8');
    assert.match(log, new RegExp(`autoresearch record ${id} <value>`));
    assert.match(log, /python train\.py/);
    assert.match(log, /\/work\/tree-3/);
    let settled = false;
    void run.result.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'no budget: it waits');
    assert.equal(m.record(999, 1), false);
    assert.equal(m.record(id, 0.42, 3), true);
    const r = await run.result;
    assert.deepEqual(r.recorded, { metric: 0.42, memoryGb: 3 });
    assert.deepEqual([r.exitCode, r.signal, r.timedOut], [0, null, false]);
    assert.deepEqual(m.pending(), []);
    assert.equal(m.record(id, 0.1), false, 'only once');
  });

  it('records a crash with its reason, which the judge reports', async () => {
    const m = new ManualExecutor();
    const a = m.start(req('x'));
    const id = n;
    assert.equal(m.recordCrash(id, 'node lost'), true);
    const r = await a.result;
    assert.equal(r.exitCode, 1);
    assert.equal(r.recorded, undefined);
    const log = readFileSync(r.logPath, 'utf8');
    assert.match(log, /node lost/);
    const verdict = judge({ log, run: r, config: fakeConfig(), parentMetric: 1, isBaseline: false });
    assert.equal(verdict.status, 'crash');
    assert.match(verdict.reason, /node lost/);
  });

  it('ends waiting runs on abort, dispose, or a second start of the same node', async () => {
    const m = new ManualExecutor();
    const ac = new AbortController();
    const a = m.start(req('x', { signal: ac.signal }));
    const b = m.start(req('x'));
    const c = m.start(req('x'));
    const cid = n;
    assert.equal(m.pending().length, 3);
    ac.abort();
    const ra = await a.result;
    assert.deepEqual([ra.exitCode, ra.signal, ra.recorded], [null, 'SIGTERM', undefined]);
    b.dispose();
    assert.equal((await b.result).signal, 'SIGTERM');
    const again = m.start(req('x', { nodeId: cid }));
    assert.equal((await c.result).signal, 'SIGTERM', 'replaced by the new start');
    assert.deepEqual(m.pending(), [cid]);
    c.dispose();
    assert.deepEqual(m.pending(), [cid], 'the old handle does not end the new wait');
    m.dispose();
    assert.equal((await again.result).signal, 'SIGTERM');
    assert.deepEqual(m.pending(), []);
    const done = new AbortController();
    done.abort();
    assert.equal((await m.start(req('x', { signal: done.signal })).result).signal, 'SIGTERM');
  });
});

describe('an executor\'s optional capabilities', () => {
  /** A controller over `executor` that is never run: recording reaches the executor at once. */
  function controllerOver(executor: Executor): Controller {
    return new Controller({ root: dir, config: parseConfig(toyConfig('executor: manual\n')), proposer: new MutateProposer({ seed: 0 }), executor, platform: null });
  }

  it('a person\'s result reaches any executor that declares record and recordCrash, not only the manual one', () => {
    const heard: string[] = [];
    const executor: Executor = {
      kind: 'queue',
      start: () => { throw new Error('not started here'); },
      record: (id, metric, memoryGb) => { heard.push(`record ${id} ${metric} ${memoryGb}`); return true; },
      recordCrash: (id, reason) => { heard.push(`crash ${id} ${reason}`); return true; },
      dispose: () => undefined,
    };
    const c = controllerOver(executor);
    c.record(4, 0.25, null);
    c.recordCrash(5, 'node lost');
    c.dispose();
    assert.deepEqual(heard, ['record 4 0.25 null', 'crash 5 node lost']);
  });

  it('recording into a session whose executor declares no record is refused: its runs report their own results', () => {
    const local: Executor = new LocalExecutor();
    assert.equal(local.record, undefined);
    const c = controllerOver(local);
    assert.throws(() => c.record(1, 0.5, null), /does not use the manual executor; its runs report their own results/);
    c.dispose();
    local.dispose();
  });
});
