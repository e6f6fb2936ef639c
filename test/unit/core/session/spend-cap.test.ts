// The spend cap (issue 17, part 4): a session stops asking the proposer once its cost reaches maxCost (or maxTokens),
// lets what is running and what was already proposed finish and be recorded, ends saying how to raise the cap, and
// goes on once it is raised: through the inbox while it runs, or with `autoresearch cap` and `run` after it ended.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../../src/cli/main.js';
import { ConfigError, parseConfig } from '../../../../src/core/config.js';
import { Controller, type ControllerEvent } from '../../../../src/core/controller.js';
import { Journal, type JournalRecord } from '../../../../src/core/record/journal.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { SessionModel } from '../../../../src/core/model.js';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import { capReason, parseCapText, spendLine } from '../../../../src/core/spend.js';
import { postCommand, sessionPaths } from '../../../../src/core/record/store.js';
import { parseResults } from '../../../../src/core/record/results.js';
import type { ResearchConfig } from '../../../../src/core/types.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

// Each run takes a second, so a proposal made ahead is made while an experiment runs.
const SLOW_TRAIN = TOY_TRAIN.replace('import os', 'import os, time\ntime.sleep(1)');

/** The built-in proposer, billed like a model: every proposal costs $0.40 and 1,100 tokens. Test-only. */
class BilledProposer implements Proposer {
  readonly kind = 'fake-model';
  private readonly inner: MutateProposer;
  readonly operators: Proposer['operators'];
  calls = 0;
  /** Per call (1-based), whether some experiment was running when the proposal came back. */
  readonly runningAtReturn: boolean[] = [];

  constructor(seed: number, private readonly waitForRunOn = new Set<number>()) {
    this.inner = new MutateProposer({ seed });
    this.operators = this.inner.operators;
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const call = ++this.calls;
    const p = await this.inner.propose(req);
    // Made ahead while an experiment runs (pipeline 1), as a model's slow answer would be.
    for (let waited = 0; this.waitForRunOn.has(call) && waited < 5000 && !req.history.some((n) => n?.status === 'running'); waited += 20) await sleep(20);
    this.runningAtReturn[call] = req.history.some((n) => n?.status === 'running');
    if (!p) return null;
    return { ...p, proposer: { kind: this.kind, model: 'fake-1', tokensIn: 1000, tokensOut: 100, costUsd: 0.4 } };
  }

  dispose(): void {
    this.inner.dispose?.();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function toyRepo(config: string): TempRepo {
  const repo = tempRepo({ 'train.py': SLOW_TRAIN, 'prepare.py': TOY_PREPARE });
  repos.push(repo);
  repo.write('autoresearch.config.yaml', config);
  repo.commit('config');
  return repo;
}

function configOf(repo: TempRepo): ResearchConfig {
  return parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
}

function session(repo: TempRepo, proposer: Proposer) {
  const c = new Controller({ root: repo.root, config: configOf(repo), proposer, executor: new LocalExecutor(), platform: null, inboxIntervalMs: 20 });
  const events: ControllerEvent[] = [];
  c.onEvent((e) => events.push(e));
  return { c, events };
}

function journal(repo: TempRepo): JournalRecord[] {
  return Journal.read(sessionPaths(repo.root, 't1').journal);
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('a session at its spend cap', () => {
  it('stops asking at the cap, lets the running experiment and the proposal already made finish, then goes on once raised', async () => {
    const repo = toyRepo(toyConfig('maxCost: 1\n'));
    const proposer = new BilledProposer(3, new Set([3]));
    const { c, events } = session(repo, proposer);
    // What was running when the cap was reached: the third proposal ($1.20) comes back while #2 runs.
    let runningAtCap: number[] = [];
    c.onEvent((e) => {
      if (e.type === 'log' && /spend cap reached/.test(e.message)) runningAtCap = c.model.nodes.filter((n) => n?.status === 'running').map((n) => n.id);
    });
    const first = await c.run();
    c.dispose();

    assert.equal(first.state, 'done', first.reason);
    assert.equal(first.reason, 'spend cap reached: $1.20 of $1.00 — raise it with `autoresearch cap --cost 2`, then go on with `autoresearch run`');
    assert.equal(proposer.calls, 3, 'no proposal asked after the cap');
    assert.deepEqual(runningAtCap, [2], 'the cap was reached while #2 ran');
    assert.ok(events.some((e) => e.type === 'log' && /No new proposal is asked; the one already made still runs/.test(e.message)));
    // Nothing lost: #2 finished and was decided, and #3, proposed before the cap held, was run and decided too.
    const m = first.model;
    assert.equal(m.nodes.length, 4);
    assert.deepEqual(m.undecided(), []);
    for (const n of m.nodes.slice(1)) {
      assert.ok(n.commit && n.finishedAt && n.metric !== null, `#${n.id} ran to its end: ${n.status} ${n.reason}`);
      assert.equal(n.proposer.costUsd, 0.4);
    }
    assert.equal(parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.length, 4);
    assert.deepEqual(m.spend, { tokensIn: 3000, tokensOut: 300, costUsd: 1.2, unpriced: 0 });

    // The journal says why it ended: a resumed session, `status` and the editor read it there.
    const replayed = SessionModel.fromRecords(journal(repo));
    assert.equal(replayed.state, 'done');
    assert.match(replayed.stateReason!, /^spend cap reached: \$1\.20 of \$1\.00/);
    const status = await cli('status', '--cwd', repo.root);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /Session t1: done \(spend cap reached: \$1\.20 of \$1\.00/);
    assert.match(status.out, /^ {2}model spend: \$1\.20 of \$1\.00 · 3\.3k tokens — cap reached: no new proposal is asked; raise it with `autoresearch cap --cost 2`$/m);

    // `run` on the capped session ends at once, saying so and how to raise it; nothing new is asked or run.
    const again = await cli('run', '--cwd', repo.root);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /Session t1 done: spend cap reached: \$1\.20 of \$1\.00 — raise it with `autoresearch cap --cost 2`, then go on with `autoresearch run`\./);
    assert.equal(SessionModel.fromRecords(journal(repo)).nodes.length, 4);

    // Raised with the CLI while no session runs: journaled at once, and the next run goes on under it.
    const raised = await cli('cap', '--cost', '2', '--cwd', repo.root);
    assert.equal(raised.code, 0, raised.err);
    assert.match(raised.out, /Spend cap of session t1 now \$1\.20 of \$2\.00/);
    assert.deepEqual(journal(repo).filter((r) => r.type === 'cap').map((r) => (r as { cap: unknown }).cap), [{ maxCost: 2 }]);

    const next = session(repo, proposer);
    const second = await next.c.run();
    next.c.dispose();
    assert.equal(second.state, 'done', second.reason);
    assert.match(second.reason, /^spend cap reached: \$2\.00 of \$2\.00 — raise it with `autoresearch cap --cost 4`/);
    assert.equal(proposer.calls, 5, 'two more proposals: $1.60, then $2.00 reaches the raised cap');
    assert.equal(second.model.nodes.length, 6);
    assert.deepEqual(second.model.undecided(), []);
    assert.equal(second.model.cap.maxCost, 2, 'the raise outlives the resume: the config still says 1');
  });

  it('goes on without ending when the cap is raised through the inbox while the last experiment runs', async () => {
    const repo = toyRepo(toyConfig('maxCost: 0.8\n').replace('maxExperiments: 6', 'maxExperiments: 4'));
    const proposer = new BilledProposer(5, new Set([2]));
    const { c, events } = session(repo, proposer);
    let raisedWhileRunning = false;
    c.onEvent((e) => {
      if (e.type === 'log' && /spend cap reached/.test(e.message) && !raisedWhileRunning) {
        raisedWhileRunning = c.model.nodes.some((n) => n?.status === 'running');
        // Another process (the CLI, the editor) writes the command; the controller reads its inbox.
        postCommand(sessionPaths(repo.root, 't1'), { type: 'cap', cap: { maxCost: 10 } });
      }
    });
    const outcome = await c.run();
    c.dispose();
    assert.ok(raisedWhileRunning);
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.equal(outcome.reason, 'reached 4 experiments');
    assert.equal(outcome.model.decidedCount, 4);
    assert.equal(outcome.model.cap.maxCost, 10);
    assert.ok(events.some((e) => e.type === 'log' && /^spend cap changed: \$0\.80 of \$10\.00/.test(e.message)));
    assert.ok(!journal(repo).some((r) => r.type === 'state' && /spend cap/.test(r.reason ?? '')), 'never ended at the cap');
  });

  it('counts tokens against maxTokens, and a proposal never run still counts', () => {
    const cap = { maxCost: null, maxTokens: 2000 };
    const spend = { tokensIn: 2000, tokensOut: 200, costUsd: 0, unpriced: 2 };
    assert.equal(capReason(spend, cap), 'spend cap reached: 2.2k of 2k tokens — raise it with `autoresearch cap --tokens 4000`');
    assert.equal(spendLine({ tokensIn: 0, tokensOut: 0, costUsd: 0, unpriced: 0 }, { maxCost: null, maxTokens: null }), null);
    // A proposal dropped unrun (the session ended, or it duplicated another) is journaled as spend, and counted.
    const base = { type: 'session', seq: 0, tag: 't', config: { ...parseConfig(toyConfig('maxTokens: 2k\n')) }, baseCommit: 'x', baseBranch: null, platform: null, startedAt: '2025-01-01T00:00:00Z' } as JournalRecord;
    const m = SessionModel.fromRecords([base, { type: 'spend', seq: 1, proposer: { kind: 'k', tokensIn: 1900, tokensOut: 150 }, why: 'not run', at: '2025-01-01T00:00:01Z' }]);
    assert.equal(spendLine(m.spend, m.cap), 'model spend: 2.05k of 2k tokens — cap reached: no new proposal is asked; raise it with `autoresearch cap --tokens 4000`');
  });

  it('keeps a raised cap across a resume, unless the config itself changed the cap since', () => {
    const cfg = (extra: string) => parseConfig(toyConfig(extra));
    const at = '2025-01-01T00:00:00Z';
    const records = [
      { type: 'session', tag: 't1', config: cfg('maxCost: 1\n'), baseCommit: 'x', baseBranch: null, platform: null, startedAt: at },
      { type: 'cap', cap: { maxCost: 2 }, at },
      { type: 'resume', at, pid: 1, config: cfg('maxCost: 1\n') },
    ].map((r, seq) => ({ ...r, seq }) as JournalRecord);
    assert.equal(SessionModel.fromRecords(records).cap.maxCost, 2, 'the config did not change: the person\'s raise holds');
    const edited = [...records, { type: 'resume', seq: 3, at, pid: 1, config: cfg('maxCost: 3\nmaxTokens: 1M\n') } as JournalRecord];
    assert.deepEqual(SessionModel.fromRecords(edited).cap, { maxCost: 3, maxTokens: 1_000_000 }, 'the config was edited since: its cap holds');
  });
});

describe('maxCost and maxTokens in the config, and `autoresearch cap`', () => {
  it('reads a cost in USD and a number of tokens, with k and M; left out or unlimited is no cap', () => {
    assert.deepEqual(pick(parseConfig(toyConfig('maxCost: 5\nmaxTokens: 2000000\n'))), { maxCost: 5, maxTokens: 2_000_000 });
    assert.deepEqual(pick(parseConfig(toyConfig('maxCost: "$2.50"\nmaxTokens: 500k\n'))), { maxCost: 2.5, maxTokens: 500_000 });
    assert.deepEqual(pick(parseConfig(toyConfig('maxCost: unlimited\nmaxTokens: 2M\n'))), { maxCost: null, maxTokens: 2_000_000 });
    assert.deepEqual(pick(parseConfig(toyConfig())), { maxCost: null, maxTokens: null });
  });

  it('refuses a cap that is not one, naming the key and what it expects', () => {
    for (const [extra, key] of [['maxCost: 0', 'maxCost'], ['maxCost: -3', 'maxCost'], ['maxCost: lots', 'maxCost'], ['maxTokens: 1.5', 'maxTokens'], ['maxTokens: 0', 'maxTokens'], ['maxTokens: [1]', 'maxTokens']]) {
      assert.throws(() => parseConfig(toyConfig(`${extra}\n`)), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.issues.length, 1, extra);
        assert.equal(e.issues[0]!.path, key);
        assert.match(e.issues[0]!.expected, key === 'maxCost' ? /a cost above 0 .*USD.*or unlimited/ : /a whole number of tokens above 0.*2M.*or unlimited/);
        return true;
      }, extra);
    }
  });

  it('`cap` refuses a bad value with exit 2, and a person\'s text reads as a cost or tokens', async () => {
    const r = await cli('cap', '--cost', 'ten', '--cwd', '/');
    assert.equal(r.code, 2);
    assert.match(r.err, /--cost: expected a cost above 0/);
    assert.deepEqual(parseCapText('$10'), { maxCost: 10 });
    assert.deepEqual(parseCapText('2M tokens'), { maxTokens: 2_000_000 });
    assert.deepEqual(parseCapText('unlimited'), { maxCost: null, maxTokens: null });
    assert.equal(parseCapText('soon'), undefined);
  });
});

function pick(c: ResearchConfig): { maxCost: number | null | undefined; maxTokens: number | null | undefined } {
  return { maxCost: c.maxCost, maxTokens: c.maxTokens };
}
