// The Slurm executor's parts that need no cluster: its config keys, the sbatch command line, the batch
// script (run for real with bash), the scheduler's output formats, and how crashes and queue time read.
// The executor against a real Slurm is the slurm tier (test/slurm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, parseConfig, parseSlurmMinutes } from '../../../../src/core/config.js';
import { createExecutor } from '../../../../src/core/factory.js';
import { Journal } from '../../../../src/core/record/journal.js';
import { judge } from '../../../../src/core/judging/judge.js';
import { SessionModel } from '../../../../src/core/model.js';
import { probeSandbox, sandboxArgs } from '../../../../src/core/protection/sandbox.js';
import { NEVER_STARTS, parseExitCode, parseScontrol, parseSlurmTime } from '../../../../src/core/executors/slurmJobInfo.js';
import { batchScript, CWD_EXIT, NO_SANDBOX_EXIT, jobTimeMinutes, sbatchArgs, scriptPath } from '../../../../src/core/executors/slurmScript.js';
import { buildSummary } from '../../../../src/core/report/summary.js';
import type { RunRequest } from '../../../../src/core/executors/executor.js';
import type { SlurmExecutorConfig } from '../../../../src/core/types.js';

const BASE = `tag: mar5
editable: train.py
run: python3 train.py
budget: 5m
metric: {name: val_loss}
`;

function issuesOf(yaml: string): ConfigError['issues'] {
  try {
    parseConfig(yaml);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues;
  }
  assert.fail('the config was accepted');
}

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ar-slurm-unit-'));
  dirs.push(d);
  return d;
}

function req(dir: string, extra: Partial<RunRequest> = {}): RunRequest {
  return { nodeId: 7, tag: 'mar5', cwd: join(dir, 'work tree'), command: 'python3 train.py', budgetSeconds: 300, graceSeconds: 5, slot: 1, logPath: join(dir, 'session', 'logs', '7.log'), ...extra };
}

describe('slurm executor config', () => {
  it('accepts every key and normalises what Slurm reads', () => {
    const c = parseConfig(BASE + `executor:
  kind: slurm
  partition: gpu
  gres: gpu:a100:1
  cpusPerTask: 8
  mem: 32g
  time: 2h
  account: my-lab
  extraArgs: ["--qos=high", "--constraint=a100"]
  pollSeconds: 5
`);
    assert.deepEqual(c.executor, {
      kind: 'slurm', partition: 'gpu', gres: 'gpu:a100:1', cpusPerTask: 8, mem: '32G', time: '2h', timeMinutes: 120, account: 'my-lab',
      extraArgs: ['--qos=high', '--constraint=a100'], pollSeconds: 5,
    });
    assert.deepEqual(parseConfig(BASE + 'executor: slurm\n').executor, { kind: 'slurm', extraArgs: [] });
    assert.equal(createExecutor(c).kind, 'slurm');
  });

  it('refuses bad values with the key path, all at once, and keeps the engine\'s own sbatch options its own', () => {
    const issues = issuesOf(BASE + `executor:
  kind: slurm
  partition: "gpu queue"
  cpusPerTask: 0
  mem: lots
  time: soon
  account: 7
  gres: ""
  extraArgs: ["--qos=high", "--time=10", "-o", "/tmp/x", "qos"]
  pollSeconds: 0
  nodes: 2
`);
    const at = (path: string) => issues.find((i) => i.path === path)?.expected ?? `(no issue at ${path}: ${JSON.stringify(issues.map((i) => i.path))})`;
    assert.match(at('executor.partition'), /partition name/);
    assert.match(at('executor.cpusPerTask'), /integer from 1/);
    assert.match(at('executor.mem'), /megabytes, or a number with K, M, G or T/);
    assert.match(at('executor.time'), /time limit like 30m/);
    assert.match(at('executor.account'), /account name/);
    assert.match(at('executor.gres'), /gpu:1/);
    assert.match(at('executor.extraArgs[1]'), /the time limit comes from the budget; use executor\.time/);
    assert.match(at('executor.extraArgs[2]'), /the log goes to the node's log file/);
    assert.match(at('executor.extraArgs[3]'), /starting with -/);
    assert.match(at('executor.extraArgs[4]'), /starting with -/);
    assert.match(at('executor.pollSeconds'), />= 0\.1/);
    assert.match(at('executor.nodes'), /no such key/);
    assert.equal(issues.filter((i) => i.path === 'executor.extraArgs[0]').length, 0);
  });

  it('refuses a time limit shorter than the budget and its grace', () => {
    const issues = issuesOf(BASE + 'executor: {kind: slurm, time: "5"}\n');
    assert.deepEqual(issues.map((i) => i.path), ['executor.time']);
    assert.match(issues[0]!.expected, /at least the budget \(5m\) plus graceSeconds \(5s\).*6 or more minutes/);
    assert.equal((parseConfig(BASE + 'executor: {kind: slurm, time: "6"}\n').executor as SlurmExecutorConfig).timeMinutes, 6);
  });

  it('reads Slurm time limits and durations as whole minutes, rounded up', () => {
    const cases: [unknown, number | null][] = [
      ['90', 90], [90, 90], ['30:30', 31], ['1:30:00', 90], ['1-00:00:00', 1440], ['2-12', 3600], ['1-1:30', 1530], ['2h', 120], ['90s', 2], ['1h30m', 90],
      ['soon', null], ['0', null], ['', null], [-3, null], [null, null],
    ];
    for (const [v, m] of cases) assert.equal(parseSlurmMinutes(v), m, JSON.stringify(v));
  });
});

describe('slurm job', () => {
  it('gets a time limit of the budget and grace in whole minutes plus a minute, unless one is configured', () => {
    assert.equal(jobTimeMinutes(300, 5), 7);
    assert.equal(jobTimeMinutes(55, 5), 2);
    assert.equal(jobTimeMinutes(90, 5), 3);
    assert.equal(jobTimeMinutes(300, 5, 60), 60);
  });

  it('is submitted with the worktree as --chdir, the node log as --output, and the configured resources', () => {
    const dir = tmp();
    const r = req(dir);
    const script = scriptPath(r);
    assert.equal(script, join(dir, 'session', 'slurm', '7.sbatch'));
    assert.deepEqual(sbatchArgs(r, { partition: 'gpu', account: 'lab', gres: 'gpu:1', cpusPerTask: 4, mem: '16G', extraArgs: ['--qos=high'] }, script), [
      '--parsable', '--job-name=ar-mar5-7', `--chdir=${r.cwd}`, `--output=${r.logPath}`, '--open-mode=append', '--time=7',
      '--partition=gpu', '--account=lab', '--gres=gpu:1', '--cpus-per-task=4', '--mem=16G', '--qos=high', script,
    ]);
  });

  it('runs a batch script that exports AUTORESEARCH_*, runs the command in the worktree and records its exit code', () => {
    const dir = tmp();
    const r = req(dir, { command: `echo "it's $AUTORESEARCH_TAG #$AUTORESEARCH_NODE slot $AUTORESEARCH_SLOT budget $AUTORESEARCH_BUDGET_SECONDS in $(pwd)"; exit 4`, env: { EXTRA: 'a b' } });
    mkdirSync(r.cwd, { recursive: true });
    const file = join(dir, 'job.sh');
    writeFileSync(file, batchScript(r, ['--parsable']));
    const run = spawnSync('bash', [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, SLURM_JOB_ID: '42', SLURM_RESTART_COUNT: '1' } });
    assert.equal(run.status, 4);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0]!, /^\[autoresearch\] Slurm job 42 started on \S+ \(attempt 2\)$/);
    assert.equal(lines[1], `it's mar5 #7 slot 1 budget 300 in ${r.cwd}`);
    assert.equal(lines[2], '[autoresearch] the command exited with code 4');
    assert.match(readFileSync(file, 'utf8'), /^export EXTRA='a b'$/m);
  });

  it('runs the command in bubblewrap where it runs on the node, read-only outside the worktree; bare with a note, or not at all with sandbox: on, elsewhere', { skip: probeSandbox().ok ? false : 'no bubblewrap here' }, () => {
    const dir = tmp();
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'before\n');
    const base = req(dir, { command: `echo inside > here.txt; echo x >> ${outside}` });
    mkdirSync(base.cwd, { recursive: true });
    const sandbox = ['bwrap', ...sandboxArgs({ root: dir, gitCommonDir: join(dir, '.git'), worktree: base.cwd, protectedFiles: [], config: { mode: 'auto', network: true, writable: [] } })];
    const run = (r: typeof base, required = false) => {
      const file = join(dir, 'job.sh');
      writeFileSync(file, batchScript(r, [], required));
      return spawnSync('bash', [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, SLURM_JOB_ID: '42' } });
    };
    const inBox = run({ ...base, sandbox });
    assert.match(inBox.stdout, /^\[autoresearch\] sandbox: bubblewrap on \S+$/m);
    assert.match(inBox.stderr, /Read-only file system/);
    assert.equal(readFileSync(outside, 'utf8'), 'before\n');
    assert.equal(readFileSync(join(base.cwd, 'here.txt'), 'utf8'), 'inside\n');
    // A node without bubblewrap.
    const noBwrap = { ...base, sandbox: ['/nonexistent/bwrap', ...sandbox.slice(1)] };
    const bare = run(noBwrap);
    assert.match(bare.stdout, /^\[autoresearch\] no sandbox on \S+: bubblewrap cannot run there/m);
    assert.equal(readFileSync(outside, 'utf8'), 'before\nx\n');
    const refused = run(noBwrap, true);
    assert.equal(refused.status, NO_SANDBOX_EXIT);
    assert.match(refused.stdout, /sandbox: on, but bubblewrap cannot run on \S+/);
  });

  it('says the repository must be on a shared filesystem when the worktree is not there on the node', () => {
    const dir = tmp();
    const r = req(dir);
    const file = join(dir, 'job.sh');
    writeFileSync(file, batchScript(r, []));
    const run = spawnSync('bash', [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, SLURM_JOB_ID: '42' } });
    assert.equal(run.status, CWD_EXIT);
    assert.match(run.stdout, /cannot enter the worktree .*work tree on \S+: the repository must be on a filesystem the compute nodes share/);
  });

  it('reads scontrol, exit codes and times as Slurm prints them', () => {
    const line = 'JobId=12 JobName=ar-mar5-7 UserId=root(0) GroupId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=1 ExitCode=7:0 RunTime=00:00:03 TimeLimit=00:07:00 SubmitTime=2026-11-25T05:10:56 StartTime=2026-11-25T05:10:57 EndTime=Unknown NodeList=gpu[01-02] Command=/x/7.sbatch WorkDir=/repo/.autoresearch/worktrees/mar5/slot-1 StdOut=/repo/log 7.log Power=';
    const f = parseScontrol(line);
    assert.equal(f.JobState, 'FAILED');
    assert.equal(f.Restarts, '1');
    assert.equal(f.NodeList, 'gpu[01-02]');
    assert.equal(f.StdOut, '/repo/log 7.log');
    assert.equal(f.Power, '');
    assert.deepEqual(parseExitCode('7:0'), { exitCode: 7, signal: null });
    assert.deepEqual(parseExitCode('0:9'), { exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual(parseExitCode('0:15'), { exitCode: null, signal: 'SIGTERM' });
    assert.deepEqual(parseExitCode(''), { exitCode: null, signal: null });
    assert.equal(parseSlurmTime('2026-11-25T05:10:56'), new Date(2026, 10, 25, 5, 10, 56).getTime());
    assert.equal(parseSlurmTime('Unknown'), null);
    assert.match(NEVER_STARTS.PartitionTimeLimit!, /executor\.time/);
  });
});

describe('slurm results', () => {
  const config = { metric: { name: 'val_loss', direction: 'minimize' as const, pattern: '^val_loss:\\s*(\\S+)' }, memory: { pattern: '^peak_vram_mb:\\s*(\\S+)', unit: 'mb' as const }, metrics: [], constraints: [], minDelta: 0, budgetSeconds: 60 };

  it('a run the scheduler ended is a crash with the scheduler\'s reason, even with a metric in its log', () => {
    const j = judge({ log: 'val_loss: 0.5\n', run: { exitCode: null, signal: 'SIGKILL', timedOut: true, wallMs: 1000, logPath: '', failureReason: 'the scheduler ended Slurm job 9 at its time limit of 00:02:00 (TIMEOUT)' }, config, parentMetric: null, isBaseline: true });
    assert.equal(j.status, 'crash');
    assert.equal(j.reason, 'the scheduler ended Slurm job 9 at its time limit of 00:02:00 (TIMEOUT)');
  });

  it('the summary reports queue wait apart from run time, and only for cluster runs', () => {
    const dir = tmp();
    const journal = Journal.open(join(dir, 'journal.jsonl'));
    const cfg = parseConfig(BASE + 'executor: slurm\n');
    journal.append({ type: 'session', tag: 'mar5', config: cfg, baseCommit: 'a'.repeat(40), baseBranch: 'main', platform: null, startedAt: new Date(Date.now() - 600_000).toISOString() });
    for (const [id, queued, wall] of [[0, 5_000, 60_000], [1, 95_000, 61_000], [2, 20_000, 59_000]] as const) {
      journal.append({ type: 'node', node: { id, parentId: id === 0 ? null : 0, operator: id === 0 ? 'baseline' : 'draft', commit: String(id).repeat(40), description: `n${id}`, plan: '', editKey: `k${id}`, changedFiles: [], policyReason: '', proposer: { kind: 'mutate' }, hint: null, createdAt: new Date().toISOString() } });
      journal.append({ type: 'finish', id, run: { exitCode: 0, signal: null, timedOut: false, wallMs: wall, queuedMs: queued, logPath: '' }, finishedAt: new Date().toISOString() });
      journal.append({ type: 'decide', id, status: 'keep', metric: 1 - id / 10, memoryGb: null, secondary: {}, reason: 'r', decidedBy: 'rule' });
    }
    const model = SessionModel.fromRecords(journal.records);
    journal.close();
    assert.equal(model.get(1)!.queuedMs, 95_000);
    assert.match(buildSummary(model), /^- Queue: 1:55 waiting for the scheduler vs 2:00 running \(2 jobs; longest wait 1:35, #1\)$/m);
    for (const n of model.nodes) delete n.queuedMs;
    assert.doesNotMatch(buildSummary(model), /Queue:/);
  });
});
