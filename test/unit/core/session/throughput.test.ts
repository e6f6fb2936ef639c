// Parallel slots with their own GPUs, proposals prepared while experiments run, and no slot repeating another's edit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller, type ControllerEvent } from '../../../../src/core/controller.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import type { SessionModel } from '../../../../src/core/model.js';
import type { Proposal, ProposalRequest, Proposer } from '../../../../src/core/proposers/proposer.js';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import type { Operator } from '../../../../src/core/types.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

function toyRepo(): TempRepo {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE });
  repos.push(repo);
  return repo;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wraps a proposer: waits `delayMs` per proposal and notes whether an experiment was running when it was asked. */
class Watched implements Proposer {
  readonly kind = 'watched';
  readonly operators: ReadonlySet<Operator>;
  running = 0;
  starts = 0;
  readonly calls: { whileRunning: boolean; parent: number; operator: string }[] = [];
  constructor(private readonly inner: Proposer, private readonly delayMs: number) {
    this.operators = inner.operators;
  }
  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const call = { whileRunning: this.running > 0, parent: req.parent.id, operator: req.operator };
    this.calls.push(call);
    const starts = this.starts;
    await sleep(this.delayMs);
    // Overlapped a run: one was running when asked, started meanwhile, or still runs now.
    if (this.starts > starts || this.running > 0) call.whileRunning = true;
    return this.inner.propose(req);
  }
  dispose(): void {}
}

function session(repo: TempRepo, extra: string, proposer: Proposer & { running?: number; starts?: number }, replace: [string, string][] = []) {
  let text = toyConfig(extra);
  for (const [a, b] of replace) text = text.replace(a, b);
  const config = parseConfig(text);
  const c = new Controller({ root: repo.root, config, proposer, executor: new LocalExecutor(), platform: null });
  const events: ControllerEvent[] = [];
  const timed: { e: ControllerEvent; t: number }[] = [];
  c.onEvent((e) => {
    events.push(e);
    timed.push({ e, t: Date.now() });
    if (e.type === 'run-started' && proposer.running !== undefined) {
      proposer.running++;
      proposer.starts!++;
    }
    if (e.type === 'run-finished' && proposer.running !== undefined) proposer.running--;
  });
  return { c, events, timed, config };
}

describe('parallel slots', () => {
  it('gives slot i CUDA_VISIBLE_DEVICES = gpus[i % gpus.length] and runs in both slots', async () => {
    const repo = toyRepo();
    const { c } = session(repo, 'parallel: 2\ngpus: [3, "GPU-5"]\n', new MutateProposer({ seed: 1 }), [
      ['run: python3 train.py', 'run: echo "gpu=$CUDA_VISIBLE_DEVICES slot=$AUTORESEARCH_SLOT" && sleep 0.3 && python3 train.py'],
      ['maxExperiments: 6', 'maxExperiments: 5'],
    ]);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const slots = new Set<number>();
    for (const n of outcome.model.nodes) {
      if (!n.logPath) continue;
      const m = /gpu=(\S*) slot=(\d+)/.exec(readFileSync(n.logPath, 'utf8'));
      assert.ok(m, `#${n.id} printed its devices`);
      assert.equal(m[1], ['3', 'GPU-5'][Number(m[2]) % 2], `#${n.id} in slot ${m[2]}`);
      assert.equal(Number(m[2]), n.slot);
      slots.add(n.slot!);
    }
    assert.deepEqual([...slots].sort(), [0, 1]);
  });

  it('never runs the same edit of the same parent twice, even when slots propose from it at once', async () => {
    // A proposer that always offers the first untried of three edits: slots racing on one parent would collide.
    const values = ['0.2', '0.3', '0.4'];
    const same: Proposer = {
      kind: 'same', operators: new Set<Operator>(['draft', 'improve']),
      async propose(req) {
        await sleep(150);
        const v = values.find((x) => !req.triedFromParent.has(`lr=${x}`));
        if (!v) return null;
        const text = readFileSync(join(req.worktree, 'train.py'), 'utf8').replace(/^LR = .*$/m, `LR = ${v}`);
        return { description: `LR -> ${v}`, plan: 'try it', editKey: `lr=${v}`, files: { 'train.py': text }, proposer: { kind: 'same' } };
      },
      dispose() {},
    };
    const repo = toyRepo();
    const { c } = session(repo, 'parallel: 3\n', same, [['maxExperiments: 6', 'maxExperiments: 7']]);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const seen = new Set<string>();
    for (const n of outcome.model.nodes.slice(1)) {
      const key = `${n.parentId}/${n.editKey}`;
      assert.ok(!seen.has(key), `${key} ran twice`);
      seen.add(key);
    }
    assert.ok(outcome.model.childrenOf(0).length >= 3, 'the three slots each drafted a different edit from the baseline');
  });
});

describe('pipelined proposals', () => {
  const runSlow: [string, string][] = [['run: python3 train.py', 'run: sleep 1 && python3 train.py'], ['maxExperiments: 6', 'maxExperiments: 3']];
  const DELAY = 600;

  /** Milliseconds from each run's end to the next run's start. */
  function gaps(events: { e: ControllerEvent; t: number }[]): number[] {
    const out: number[] = [];
    let finished: number | null = null;
    for (const { e, t } of events) {
      if (e.type === 'run-finished') finished = t;
      if (e.type === 'run-started' && finished !== null) {
        out.push(t - finished);
        finished = null;
      }
    }
    return out;
  }

  it('with pipeline: 0 the proposer is only asked while no experiment runs, and each run waits for it', async () => {
    const repo = toyRepo();
    const proposer = new Watched(new MutateProposer({ seed: 3 }), DELAY);
    const { c, timed } = session(repo, 'pipeline: 0\n', proposer, runSlow);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.ok(proposer.calls.length >= 3);
    assert.deepEqual(proposer.calls.filter((x) => x.whileRunning), []);
    const g = gaps(timed);
    assert.equal(g.length, 3);
    for (const x of g) assert.ok(x >= DELAY, `a run started ${x} ms after the previous one ended, sooner than a proposal takes`);
  });

  it('by default the next proposal is prepared while an experiment runs, and the run that follows starts without waiting for it', async () => {
    const repo = toyRepo();
    const proposer = new Watched(new MutateProposer({ seed: 3 }), DELAY);
    const { c, timed } = session(repo, '', proposer, runSlow);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.ok(proposer.calls.filter((x) => x.whileRunning).length >= 2, JSON.stringify(proposer.calls));
    // After the first experiment (proposed once the baseline was in), each proposal was ready before the slot was free.
    const g = gaps(timed);
    assert.equal(g.length, 3);
    for (const x of g.slice(1)) assert.ok(x < DELAY, `gaps ${g.join(', ')} ms: a run waited for its proposal`);
    // Every prepared proposal was committed on its parent: each node's commit's parent is its parent's commit.
    for (const n of outcome.model.nodes.slice(1)) {
      assert.equal(repo.git('rev-parse', `${n.commit}^`), outcome.model.get(n.parentId!)!.commit);
    }
    // The user's checkout is untouched and no preparer worktree is left behind.
    assert.equal(repo.git('status', '--porcelain', '--untracked-files=no'), '');
    assert.equal(repo.git('worktree', 'list').split('\n').length, 1);
  });

  it('greedy: a proposal prepared for a best that was beaten meanwhile is re-targeted onto the new best or dropped, never run on the old one', async () => {
    const repo = toyRepo();
    const proposer = new Watched(new MutateProposer({ seed: 5 }), 50);
    const { c, events } = session(repo, '', proposer, [['policy: tree', 'policy: greedy'], ['run: python3 train.py', 'run: sleep 0.3 && python3 train.py'], ['maxExperiments: 6', 'maxExperiments: 8']]);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    for (const n of m.nodes.slice(1)) {
      // One slot: every node before n was decided when n was committed, so its parent must be the best of them.
      let best = m.get(0)!;
      for (const o of m.nodes.slice(1, n.id)) if (o.status === 'keep' && o.metric! < best.metric!) best = o;
      assert.equal(n.parentId, best.id, `#${n.id} grew from #${n.parentId}, but the best then was #${best.id}`);
      assert.equal(repo.git('rev-parse', `${n.commit}^`), m.get(n.parentId!)!.commit);
    }
    const moved = events.filter((e) => e.type === 'log' && /re-targeted|dropped the prepared proposal/.test(e.message));
    assert.ok(moved.length >= 1, 'a prepared proposal had to move at least once');
    assert.ok(proposer.calls.some((x) => x.whileRunning));
  });

  /** Exploit nodes of a finished tree session, each with the best at the time it was committed. */
  function exploitsAndBests(m: SessionModel) {
    return m.nodes.slice(1).filter((n) => n.policyReason.startsWith('exploit the best')).map((n) => {
      let best = m.get(0)!;
      for (const o of m.nodes.slice(1, n.id)) if (o.status === 'keep' && o.metric! < best.metric!) best = o;
      return { n, best };
    });
  }

  it('tree: a proposal prepared to exploit the best follows a new best that appears meanwhile, or is proposed afresh when proposing is quick', async () => {
    const repo = toyRepo();
    const proposer = new Watched(new MutateProposer({ seed: 5 }), 50);
    const { c, events } = session(repo, '', proposer, [['run: python3 train.py', 'run: sleep 0.3 && python3 train.py'], ['maxExperiments: 6', 'maxExperiments: 8']]);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const exploits = exploitsAndBests(outcome.model);
    assert.ok(exploits.length >= 3, 'the tree exploited its best');
    const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    // A proposal takes well under a tenth of the 20 s budget: one that cannot follow the best is never run off it.
    for (const { n, best } of exploits) assert.equal(n.parentId, best.id, `#${n.id} exploited #${n.parentId}, but the best then was #${best.id} (${n.policyReason})`);
    assert.ok(!logs.some((l) => l.startsWith('kept the prepared proposal')), logs.join('\n'));
    assert.ok(logs.some((l) => /re-targeted the prepared proposal|dropped the prepared proposal .*; a fresh proposal \((?:\d+\.\d s|\d+ ms)\) costs less than a run where it no longer belongs$/.test(l)), `a prepared proposal had to move at least once:\n${logs.join('\n')}`);
  });

  it('tree: a draft, chosen because the best stalled, is proposed once the best\'s last try is decided, not beside it', async () => {
    const repo = toyRepo();
    const proposer = new Watched(new MutateProposer({ seed: 5 }), 50);
    const { c } = session(repo, 'search: {patience: 2, drafts: 3}\n', proposer, [['run: python3 train.py', 'run: sleep 0.3 && python3 train.py'], ['maxExperiments: 6', 'maxExperiments: 12']]);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const drafts = proposer.calls.filter((a) => a.operator === 'draft');
    assert.ok(drafts.length > 0, `the best stalled and a draft was asked for: ${JSON.stringify(proposer.calls)}`);
    // Exploits are prepared while a run goes (the pipeline); a draft waits for the result it turns on.
    assert.ok(proposer.calls.some((a) => a.operator === 'improve' && a.whileRunning), 'the pipeline prepared during runs');
    assert.deepEqual(drafts.filter((d) => d.whileRunning), [], 'no draft was asked for while an experiment ran');
  });

  it('tree: when proposing takes a tenth of the budget or more, a proposal that cannot follow the best runs where it was made', async () => {
    const repo = toyRepo();
    // 300 ms a proposal against a 2 s budget: a fresh one would keep the run waiting, as a model's would.
    const proposer = new Watched(new MutateProposer({ seed: 5 }), 300);
    const { c, events } = session(repo, '', proposer, [['run: python3 train.py', 'run: sleep 0.3 && python3 train.py'], ['maxExperiments: 6', 'maxExperiments: 8'], ['budget: 20s', 'budget: 2s']]);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    for (const { n, best } of exploitsAndBests(outcome.model)) {
      const stayed = logs.some((l) => l.startsWith(`kept the prepared proposal "${n.description}" on #${n.parentId}: the best moved`));
      assert.ok(n.parentId === best.id || stayed, `#${n.id} exploited #${n.parentId}, but the best then was #${best.id} (${n.policyReason})`);
    }
    assert.ok(!logs.some((l) => /costs less than a run/.test(l)), logs.join('\n'));
  });

  it('tree: a proposal prepared on a node a person discards while it waits is moved onto its kept ancestor', async () => {
    const repo = toyRepo();
    const ref: { controller?: Controller } = {};
    const edits: [RegExp, string][] = [[/^LR = .*$/m, 'LR = 0.4'], [/^WIDTH = .*$/m, 'WIDTH = 16'], [/^ACT = "relu"/m, 'ACT = "gelu"']];
    let calls = 0;
    const scripted: Proposer = {
      kind: 'scripted', operators: new Set<Operator>(['improve']),
      async propose(req) {
        const k = calls++;
        const edit = edits[k];
        if (!edit) return null;
        // The third proposal is prepared on #1 while #2 runs; a person discards #1 before a slot takes it.
        if (k === 2) {
          assert.equal(req.parent.id, 1);
          ref.controller!.override(1, 'discard', 'a person does not trust it');
        }
        const text = readFileSync(join(req.worktree, 'train.py'), 'utf8').replace(edit[0], edit[1]);
        return { description: edit[1], plan: 'scripted', editKey: edit[1], files: { 'train.py': text }, proposer: { kind: 'scripted' } };
      },
      dispose() {},
    };
    const { c, events } = session(repo, 'search: {drafts: 0}\n', scripted, [['run: python3 train.py', 'run: sleep 0.4 && python3 train.py'], ['maxExperiments: 6', 'maxExperiments: 3']]);
    ref.controller = c;
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    assert.equal(m.get(1)!.status, 'discard');
    assert.equal(m.get(1)!.decidedBy, 'human');
    const n3 = m.get(3)!;
    assert.equal(n3.description, 'ACT = "gelu"');
    assert.equal(n3.parentId, 0, 'moved off the discarded #1');
    assert.match(n3.policyReason, /re-targeted to #0 because #1 is now discard \(by a person\)/);
    // The commit holds the edit on #0's code, not #1's.
    const code = repo.git('show', `${n3.commit}:train.py`);
    assert.match(code, /^ACT = "gelu"/m);
    assert.match(code, /^LR = 0\.1$/m);
    assert.equal(repo.git('rev-parse', `${n3.commit}^`), m.get(0)!.commit);
    assert.ok(events.some((e) => e.type === 'log' && /re-targeted the prepared proposal "ACT = \"gelu\"" from #1 to #0/.test(e.message)));
  });
});
