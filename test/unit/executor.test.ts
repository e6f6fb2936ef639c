// The local and manual executors, with real processes: budgets, process trees, logs, aborts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunRequest } from '../../src/core/executor.js';
import { LocalExecutor } from '../../src/core/localExecutor.js';
import { ManualExecutor } from '../../src/core/manualExecutor.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-exec-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function req(command: string, over: Partial<RunRequest> = {}): RunRequest {
  n++;
  return { nodeId: n, tag: 't', cwd: dir, command, budgetSeconds: 10, graceSeconds: 1, slot: 2, logPath: join(dir, `logs/${n}.log`), ...over };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function allDead(pids: number[], ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pids.every((p) => !alive(p))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids.every((p) => !alive(p));
}

describe('local executor', () => {
  it('runs the command in the worktree with the budget and slot in the environment, logging everything', async () => {
    const chunks: string[] = [];
    const r = await new LocalExecutor().start(req('echo "budget=$AUTORESEARCH_BUDGET_SECONDS slot=$AUTORESEARCH_SLOT node=$AUTORESEARCH_NODE cwd=$(pwd)"; echo oops >&2', { onOutput: (c) => chunks.push(c) })).result;
    assert.equal(r.exitCode, 0);
    assert.equal(r.timedOut, false);
    const log = readFileSync(r.logPath, 'utf8');
    assert.match(log, new RegExp(`budget=10 slot=2 node=${n} cwd=${dir}`));
    assert.match(log, /oops/);
    assert.ok(chunks.join('').includes('budget=10'));
    assert.ok(r.wallMs >= 0 && r.wallMs < 5000);
  });

  it('records a non-zero exit code', async () => {
    const r = await new LocalExecutor().start(req('exit 7')).result;
    assert.equal(r.exitCode, 7);
  });

  it('kills a whole process tree that ignores SIGTERM when the budget is spent', async () => {
    const pids = join(dir, 'pids');
    const script = join(dir, 'stubborn.sh');
    writeFileSync(script, `trap '' TERM
for i in 1 2; do (trap '' TERM; sleep 100) & echo $! >> ${pids}; done
echo $$ >> ${pids}
while true; do sleep 0.1; done
`);
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req(`sh ${script}`, { budgetSeconds: 1, graceSeconds: 1 })).result;
    const took = Date.now() - t0;
    assert.equal(r.timedOut, true);
    assert.ok(took < 5000, `took ${took} ms`);
    const list = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.equal(list.length, 3);
    assert.ok(await allDead(list), `still alive: ${list.filter(alive).join(', ')}`);
    assert.match(readFileSync(r.logPath, 'utf8'), /budget of 1s reached/);
  });

  it('does not wait for children that outlive the leader, and ends them', async () => {
    const pidFile = join(dir, 'bg.pid');
    const t0 = Date.now();
    const r = await new LocalExecutor().start(req(`sleep 100 & echo $! > ${pidFile}; echo done`)).result;
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(r.exitCode, 0);
    assert.ok(await allDead([Number(readFileSync(pidFile, 'utf8'))]));
  });

  it('an abort (Stop) ends the tree at once', async () => {
    const ac = new AbortController();
    const run = new LocalExecutor().start(req('sleep 100', { signal: ac.signal }));
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const r = await run.result;
    assert.ok(Date.now() - t0 < 3000);
    assert.notEqual(r.exitCode, 0);
    assert.ok(run.pid && (await allDead([run.pid])));
  });

  it('reports a run that cannot start', async () => {
    const r = await new LocalExecutor().start(req('true', { cwd: join(dir, 'missing') })).result;
    assert.match(r.startError ?? '', /does not exist/);
  });
});

describe('manual executor', () => {
  it('waits for a recorded result, and tells the person how to record it', async () => {
    const m = new ManualExecutor();
    const run = m.start(req('python train.py'));
    assert.deepEqual(m.pending(), [n]);
    assert.match(readFileSync(join(dir, `logs/${n}.log`), 'utf8'), new RegExp(`autoresearch record ${n} <value>`));
    assert.equal(m.record(999, 1), false);
    assert.equal(m.record(n, 0.42, 3), true);
    const r = await run.result;
    assert.deepEqual(r.recorded, { metric: 0.42, memoryGb: 3 });
    assert.equal(r.exitCode, 0);
  });

  it('records a crash, and ends waiting runs on abort', async () => {
    const m = new ManualExecutor();
    const a = m.start(req('x'));
    const id = n;
    m.recordCrash(id, 'node lost');
    assert.equal((await a.result).exitCode, 1);
    assert.match(readFileSync(join(dir, `logs/${id}.log`), 'utf8'), /node lost/);
    const ac = new AbortController();
    const b = m.start(req('x', { signal: ac.signal }));
    ac.abort();
    assert.equal((await b.result).signal, 'SIGTERM');
    assert.ok(!existsSync(join(dir, 'nothing')));
  });
});
