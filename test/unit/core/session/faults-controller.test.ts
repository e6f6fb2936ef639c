// Fault injection, the controller: the real CLI killed with SIGKILL at every phase of an experiment and
// resumed (same results.tsv rows, no duplicates, the same tree as a session never killed); a second
// controller on the same workspace; session files cut mid-line; the session branch moved by hand.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import type { FaultPhase } from '../../../../src/core/faults.js';
import { cli, fault, faultRepo, journalPath, modelOf, records, resultRows, ruleDecisions, running, shapeOf, waitFor, withKeys } from '../../helpers/faults.js';
import { toyConfig as toyConfigText, type TempRepo } from '../../helpers/repo.js';

// Node $FAULT_SLOW (when set) sleeps first, so a run is still going when its controller dies.
const RUN = 'if [ "$AUTORESEARCH_NODE" = "$FAULT_SLOW" ]; then sleep 30; fi; python3 train.py';
const config = withKeys({ run: `'${RUN}'`, maxExperiments: '3' });

let clean: Promise<{ repo: TempRepo; shape: string[]; rows: string[] }> | null = null;
/** The same session never killed: what every resumed one must equal. */
function reference() {
  clean ??= (async () => {
    const repo = faultRepo(config);
    const r = await cli(repo.root, ['run']).exit;
    assert.equal(r.code, 0, r.out + r.err);
    return { repo, shape: shapeOf(repo), rows: rowsOf(repo) };
  })();
  return clean;
}

/** results.tsv without the commit column (commits differ between two repos; their trees do not). */
function rowsOf(repo: TempRepo): string[] {
  return resultRows(repo).map((r) => `${r.metric}\t${r.memoryGb}\t${r.status}\t${r.description}`);
}

/** Processes still in the process group of `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/** What the journal must hold right after the kill, for each phase of node `id`. */
function checkKilledAt(repo: TempRepo, phase: FaultPhase, id: number): string {
  const recs = records(repo);
  const has = (type: string) => recs.some((r) => r.type === type && ('node' in r ? r.node.id : (r as { id?: number }).id) === id);
  const ref = repo.git('for-each-ref', '--format=%(refname)', `refs/autoresearch/t1/nodes/${id}`);
  const rows = resultRows(repo).length;
  switch (phase) {
    case 'proposing':
      assert.ok(!has('node') && ref === '', 'killed while proposing: no node, no commit');
      return 'no node, no ref';
    case 'committing':
      assert.ok(!has('node') && ref !== '', 'killed while committing: a commit and its ref, no node in the journal');
      return 'ref written, node not journaled';
    case 'running':
      assert.ok(has('start') && !has('finish'), 'killed while running');
      return 'run started, not finished';
    case 'judging':
      assert.ok(has('finish') && !has('decide'), 'killed while judging');
      return 'run finished, not decided';
    case 'writing':
      assert.ok(has('decide'), 'killed while writing');
      assert.equal(rows, id, 'decided in the journal, not yet in results.tsv');
      return 'decided, results.tsv not written';
  }
}

describe('faults: the controller killed with SIGKILL at every phase, then resumed', { concurrency: 3 }, () => {
  // The last case kills at the decision of the new best and resumes with nothing left to run: no later decision
  // moves the branch for it.
  const cases: [FaultPhase, number, number][] = [['proposing', 2, 3], ['committing', 2, 3], ['running', 2, 3], ['judging', 2, 3], ['writing', 2, 3], ['writing', 2, 2]];
  for (const [phase, id, max] of cases) {
    const resumeArgs = max === 3 ? ['run'] : ['run', '--max-experiments', String(max)];
    fault(`SIGKILL while ${phase} node ${id}, resume${max === 3 ? '' : ` to ${max}`}`, `AUTORESEARCH_FAULT=${phase}:${id} on \`autoresearch run\`, then \`autoresearch ${resumeArgs.join(' ')}\``, async () => {
      const ref = await reference();
      const repo = faultRepo(config);
      const killed = await cli(repo.root, ['run'], { AUTORESEARCH_FAULT: `${phase}:${id}`, ...(phase === 'running' ? { FAULT_SLOW: String(id) } : {}) }).exit;
      assert.equal(killed.signal, 'SIGKILL', `the controller was not killed: ${killed.code}\n${killed.out}${killed.err}`);
      const state = checkKilledAt(repo, phase, id);
      const orphan = phase === 'running' ? records(repo).find((r) => r.type === 'start' && r.id === id) : undefined;
      const orphanPid = orphan && orphan.type === 'start' ? orphan.pid : undefined;
      if (phase === 'running') assert.ok(orphanPid && running(orphanPid), 'the run outlived its controller');

      const resumed = await cli(repo.root, resumeArgs).exit;
      assert.equal(resumed.code, 0, resumed.out + resumed.err);
      assert.match(resumed.out, /resuming session t1/);
      // Nothing lost, nothing twice, the same tree as the session that was never killed.
      assert.deepEqual(shapeOf(repo), ref.shape.slice(0, max + 1));
      assert.deepEqual(rowsOf(repo), ref.rows.slice(0, max + 1));
      assert.deepEqual(ruleDecisions(repo), [0, 1, 2, 3].slice(0, max + 1));
      const m = modelOf(repo);
      assert.deepEqual(resultRows(repo).map((r) => r.commit), m.nodes.map((n) => n.commit!.slice(0, 7)));
      for (const n of m.nodes) assert.equal(repo.git('rev-parse', `refs/autoresearch/t1/nodes/${n.id}`), n.commit);
      assert.equal(repo.git('rev-parse', 'autoresearch/t1'), m.best!.commit, 'the branch points at the best');
      assert.deepEqual(readdirSync(join(repo.root, '.autoresearch/worktrees/t1')), [], 'no worktree left behind');
      assert.ok(!existsSync(join(repo.root, '.autoresearch/t1/lock')), 'the lock is released');
      if (orphanPid) assert.deepEqual(groupMembers(orphanPid), [], 'the dead controller\'s run was ended');
      return `${state}; resumed: ${m.decidedCount} decided, rows and tree equal${orphanPid ? ', orphan run killed' : ''}`;
    });
  }
});

describe('faults: workspace and session files', () => {
  fault('second controller on the same workspace', 'a second `autoresearch run` while the first runs', async () => {
    const repo = faultRepo(config);
    const first = cli(repo.root, ['run'], { FAULT_SLOW: '0' });
    await waitFor('the first controller to hold the lock', () => records(repo).some((r) => r.type === 'start' && r.id === 0), 60_000);
    const second = await cli(repo.root, ['run']).exit;
    assert.equal(second.code, 2, second.out + second.err);
    assert.match(second.err, new RegExp(`Cannot continue: Another AutoResearch controller \\(pid ${first.child.pid} on `));
    first.child.kill('SIGINT');
    const r1 = await first.exit;
    assert.equal(r1.code, 0, r1.out + r1.err);
    assert.equal(records(repo).filter((r) => r.type === 'resume').length, 0, 'the second never opened the journal');
    // The first is stopped; the session goes on from where it was.
    const again = await cli(repo.root, ['run']).exit;
    assert.equal(again.code, 0, again.out + again.err);
    assert.deepEqual(ruleDecisions(repo), [0, 1, 2, 3]);
    return `refused with exit 2 naming pid ${first.child.pid}; the first stopped cleanly and the session resumed to 3 decided`;
  });

  fault('second controller, another session, same workspace', '`autoresearch run --config t2.yaml` (tag t2) while t1 runs: both would write results.tsv', async () => {
    const repo = faultRepo(config, { 't2.yaml': config(toyConfigText()).replace('tag: t1', 'tag: t2') });
    const first = cli(repo.root, ['run'], { FAULT_SLOW: '0' });
    await waitFor('the first controller to run the baseline', () => existsSync(journalPath(repo)) && records(repo).some((r) => r.type === 'start' && r.id === 0), 60_000);
    const second = await cli(repo.root, ['run', '--config', 't2.yaml']).exit;
    assert.equal(second.code, 2, second.out + second.err);
    assert.match(second.err, new RegExp(`Another AutoResearch controller \\(pid ${first.child.pid} on .*\\) is running session "t1" in this workspace`));
    assert.ok(!existsSync(journalPath(repo, 't2')), 'the second started nothing');
    first.child.kill('SIGINT');
    assert.equal((await first.exit).code, 0);
    // With the first gone, the other session runs, and each session's rows are its own.
    const t2 = await cli(repo.root, ['run', '--config', 't2.yaml']).exit;
    assert.equal(t2.code, 0, t2.out + t2.err);
    assert.deepEqual(ruleDecisions(repo, 't2'), [0, 1, 2, 3]);
    assert.deepEqual(resultRows(repo).map((r) => r.status).filter((x) => x === 'invalid'), []);
    return `refused with exit 2 naming pid ${first.child.pid} and session t1; t2 ran after it, no run blamed for the other's writes`;
  });

  fault('journal and inbox cut mid-line', 'journal.jsonl truncated in the middle of #2\'s decision; inbox.jsonl with a whole hint and a torn one', async () => {
    const repo = faultRepo(withKeys({ maxExperiments: '2' }));
    const r = await cli(repo.root, ['run']).exit;
    assert.equal(r.code, 0, r.out + r.err);
    const path = journalPath(repo);
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf('"type":"decide","id":2');
    assert.ok(at > 0);
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const cutAt = Buffer.byteLength(text.slice(0, at + 20));
    truncateSync(path, cutAt);
    const kept = text.slice(0, lineStart).split('\n').filter(Boolean).length;
    const inbox = join(repo.root, '.autoresearch/t1/inbox.jsonl');
    appendFileSync(inbox, '{"type":"hint","text":"try a wider WIDTH"}\n{"type":"hint","text":"try a cosine sch');

    const resumed = await cli(repo.root, ['run', '--max-experiments', '3']).exit;
    assert.equal(resumed.code, 0, resumed.out + resumed.err);
    const log = resumed.out + resumed.err;
    assert.match(log, new RegExp(`recovered: journal line ${kept + 1}: dropped a partial last record`));
    assert.match(log, /recovered: inbox line 2: dropped a partial last command/);
    // Whole lines only, #2 decided once (again, from its finished run's log), the whole hint taken by #3.
    const after = readFileSync(path, 'utf8');
    assert.ok(after.endsWith('\n') && after.split('\n').filter(Boolean).every((l) => JSON.parse(l)));
    assert.deepEqual(ruleDecisions(repo), [0, 1, 2, 3]);
    const m = modelOf(repo);
    assert.equal(m.get(3)!.hint, 'try a wider WIDTH');
    assert.equal(resultRows(repo).length, 4);
    return `journal kept ${kept} whole records, reported line ${kept + 1}; node 2 judged again from its log; torn inbox line reported, whole hint taken`;
  });

  fault('journal cut inside its first record', 'a controller killed while writing the session\'s first record: journal.jsonl holds 50 bytes of it', async () => {
    const repo = faultRepo(withKeys({ maxExperiments: '1' }));
    mkdirSync(join(repo.root, '.autoresearch/t1'), { recursive: true });
    writeFileSync(journalPath(repo), '{"seq":0,"type":"session","tag":"t1","config":{"ta');
    const again = await cli(repo.root, ['run']).exit;
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(again.err, /recovered: journal line 1: dropped a partial last record \(50 bytes\)/);
    assert.match(again.out, /new session t1/);
    assert.deepEqual(ruleDecisions(repo), [0, 1]);
    assert.equal(resultRows(repo).length, 2);
    return 'reported, and started as the new session it was (nothing whole to resume); 1 decided';
  });

  fault('session branch moved by hand', 'while the session runs, `git branch -f autoresearch/t1` to a commit of the user\'s own', async () => {
    const repo = faultRepo(withKeys({ run: `'${RUN}'`, maxExperiments: '6' }));
    const session = cli(repo.root, ['run'], { FAULT_SLOW: '2' });
    await waitFor('experiment #2 to run', () => existsSync(journalPath(repo)) && records(repo).some((r) => r.type === 'start' && r.id === 2), 60_000);
    // The user commits something of their own on top of the base and points the session branch at it.
    const mine = repo.git('commit-tree', '-m', 'my own fix', '-p', 'main', 'main^{tree}');
    repo.git('branch', '-f', 'autoresearch/t1', mine);
    // Let #2 go on (its run sleeps until killed): stop it, then resume so the rest of the session runs.
    session.child.kill('SIGINT');
    const stopped = await session.exit;
    assert.equal(stopped.code, 0, stopped.out + stopped.err);
    const resumed = await cli(repo.root, ['run']).exit;
    assert.equal(resumed.code, 0, resumed.out + resumed.err);
    const m = modelOf(repo);
    assert.equal(m.decidedCount, 6);
    assert.ok(m.best && m.best.id !== 0, 'the session found something better after the move');
    // The user's commit is not overwritten; the engine says so, where the best is, and how to hand the branch back.
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), mine);
    assert.match(resumed.err, /autoresearch\/t1 was moved outside the session .*the best experiment is [0-9a-f]{7}.*git branch -D autoresearch\/t1/);
    for (const n of m.nodes) assert.equal(repo.git('rev-parse', `refs/autoresearch/t1/nodes/${n.id}`), n.commit);
    assert.equal(resultRows(repo).length, 7);
    // Handed back: the next session run moves it to the best again.
    repo.git('branch', '-D', 'autoresearch/t1');
    const more = await cli(repo.root, ['run', '--max-experiments', '7']).exit;
    assert.equal(more.code, 0, more.out + more.err);
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), modelOf(repo).best!.commit);
    return 'the user\'s commit left in place with a warning naming the best; all node refs and rows intact; deleting the branch hands it back';
  });
});
