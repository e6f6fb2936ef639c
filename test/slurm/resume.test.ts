// Losing the controller: the CLI is killed with SIGKILL while two Slurm jobs run. The jobs carry on; the
// resumed session finds them by the job ids in its journal, records the one that finished meanwhile,
// watches the one still running to its end, and never submits a node twice (Slurm's own records say so).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { Journal, type JournalRecord } from '../../src/core/record/journal.js';
import { SessionModel } from '../../src/core/model.js';
import { parseResults } from '../../src/core/record/results.js';
import type { TempRepo } from '../unit/helpers/repo.js';
import { slurmConfig, toyStudy, toyTrain } from './fixtures.js';
import { completedJobs, jobState, skipReason, useCluster, waitUntil } from './helpers.js';

const CLI = resolve('src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
type Start = Extract<JournalRecord, { type: 'start' }>;
type Finish = Extract<JournalRecord, { type: 'finish' }>;

function startCli(cwd: string) {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'run'], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, exited, output: () => out };
}

describe('a controller killed while its Slurm jobs run', { skip: skipReason() }, () => {
  const cluster = useCluster();
  const repos: TempRepo[] = [];
  after(() => { for (const r of repos) r.cleanup(); });

  it('is resumed by `autoresearch run`: finished jobs are recorded, running ones reattached, none resubmitted', { timeout: 180_000 }, async () => {
    const c = cluster();
    // #1 ends while no controller runs; #2 is still running when the session resumes.
    const repo = toyStudy(toyTrain({ 1: 3, 2: 12 }, 1), slurmConfig({ parallel: 2, maxExperiments: 3, budget: '60s' }));
    repos.push(repo);
    const journalPath = join(repo.root, '.autoresearch', 't1', 'journal.jsonl');
    const starts = () => Journal.read(journalPath).filter((r): r is Start & { seq: number } => r.type === 'start');

    const first = startCli(repo.root);
    const [s1, s2] = await waitUntil('#1 and #2 to run as Slurm jobs', 90_000, () => {
      const s = [1, 2].map((id) => starts().find((r) => r.id === id && r.handle));
      return s.every((r) => r && jobState(c, r.handle!) === 'RUNNING' && readFileSync(r.logPath, 'utf8').includes(`node=${r.id}`)) ? s as Start[] : null;
    });
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');

    // Nothing cancelled the jobs: #1 finishes on its own while #2 keeps running.
    await waitUntil('#1 to finish without a controller', 30_000, () => jobState(c, s1!.handle!) === 'COMPLETED');
    assert.equal(jobState(c, s2!.handle!), 'RUNNING');

    const second = startCli(repo.root);
    const { code } = await second.exited;
    assert.equal(code, 0, second.output());
    assert.match(second.output(), /recovering 2 interrupted experiment\(s\): #1, #2/);

    const records = Journal.read(journalPath);
    const model = SessionModel.fromRecords(records);
    assert.equal(model.nodes.length, 4);
    assert.equal(model.decidedCount, 3);
    const startRecords = records.filter((r): r is Start & { seq: number } => r.type === 'start');
    const finishOf = new Map(records.filter((r): r is Finish & { seq: number } => r.type === 'finish').map((r) => [r.id, r]));
    const jobs = completedJobs(c).filter((j) => j.name.startsWith('ar-t1-'));
    for (const n of model.nodes) {
      // One start record and one Slurm job per node, and they name the same job.
      const mine = startRecords.filter((r) => r.id === n.id);
      assert.equal(mine.length, 1, `#${n.id} was started ${mine.length} times`);
      const job = jobs.filter((j) => j.name === `ar-t1-${n.id}`);
      assert.deepEqual(job.map((j) => j.id), [mine[0]!.handle], `#${n.id}'s jobs in Slurm`);
      assert.equal(job[0]!.state, 'COMPLETED');
      assert.ok(['keep', 'discard'].includes(n.status), `#${n.id} ${n.status}: ${n.reason}`);
      assert.ok(Number.isFinite(n.metric), `#${n.id} has a metric`);
    }
    // #2's run time is its whole run, counted from when Slurm started it, not from the resume.
    assert.ok(finishOf.get(2)!.run.wallMs >= 11_000, `#2 ran ${finishOf.get(2)!.run.wallMs}ms`);
    assert.ok(finishOf.get(1)!.run.wallMs >= 2_000, `#1 ran ${finishOf.get(1)!.run.wallMs}ms`);
    assert.equal(readFileSync(s2!.logPath, 'utf8').match(/started on \S+ \(attempt/g)?.length, 1);
    assert.equal(parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.length, 4);
    assert.equal(c.cmd('squeue', ['-h']).stdout.trim(), '', 'nothing left in the queue');
    // What a user reads: run time and queue time apart.
    const show = spawnSync(process.execPath, ['--import', TSX, CLI, 'show', '2'], { cwd: repo.root, encoding: 'utf8' });
    assert.match(show.stdout, /time: 0:1\d \(\+(?:\d+ ms|\d+\.\d s|\d+:\d\d) in the queue\)/, show.stdout + show.stderr);
  });
});
