// A script that runs a fixed number of steps (nanoGPT's max_iters) and prints its validation loss inside the step
// lines as it goes, never finishing within the budget. With `atBudget: last` each run is judged on the last value it
// printed when the budget stopped it, so runs compare at equal time; without it such a run is a timeout, and the
// baseline's reason says the three ways out.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { TOY_PREPARE, tempRepo, type TempRepo } from '../../helpers/repo.js';
import { ScriptedProposer } from '../../helpers/faults.js';
import { budgetWithRoom } from '../../../../src/core/configTemplate.js';
import { baselineNearBudget, slowKeep, timeoutAdvice } from '../../../../src/core/session/decisions.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

/** nanoGPT's shape: max_iters far beyond the budget, an eval every eval_interval steps, no final metric line. */
function train(lr: number): string {
  return `import time
learning_rate = ${lr}
max_iters = 100000
eval_interval = 10
for it in range(max_iters):
    time.sleep(0.01)
    if it % eval_interval == 0:
        val = 1.0 + 3.0 / (1.0 + it * learning_rate)
        print(f"step {it}: train loss {val - 0.02:.4f}, val loss {val:.4f}", flush=True)
    elif it % 5 == 0:
        print(f"iter {it}: loss {1.0 + 3.0 / (1.0 + it * learning_rate):.4f}, time 10.00ms", flush=True)
`;
}

function session(atBudget: string, script = train(0.05)): { repo: TempRepo; controller: Controller } {
  const repo = tempRepo({
    'train.py': script, 'prepare.py': TOY_PREPARE,
    'autoresearch.config.yaml': `tag: t1
editable: [train.py]
readonly: [prepare.py]
run: python3 train.py
budget: 2s
graceSeconds: 0.5
${atBudget}metric:
  name: val_loss
  pattern: 'val loss (\\S+)'
maxExperiments: 1
policy: greedy
pipeline: 0
prune: off
`,
  });
  repos.push(repo);
  const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
  const controller = new Controller({ root: repo.root, config, proposer: new ScriptedProposer([train(0.2)]), executor: new LocalExecutor(), platform: null });
  return { repo, controller };
}

describe('a fixed-step script the budget stops', () => {
  it('with atBudget: last, every run is judged on the last value it printed, and the reason says so', async () => {
    const { repo, controller } = session('atBudget: last\n');
    const outcome = await controller.run();
    controller.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const [base, child] = [outcome.model.get(0)!, outcome.model.get(1)!];
    for (const n of [base, child]) {
      assert.ok(n.timedOut, `#${n.id} ran to the budget`);
      assert.ok(n.wallMs! >= 2000, `#${n.id} wall ${n.wallMs}`);
    }
    assert.equal(base.status, 'keep');
    assert.match(base.reason, /^baseline, its last value when the budget stopped it at \d+\.\d s$/);
    assert.ok(base.metric! > 1 && base.metric! < 4, `baseline ${base.metric}`);
    // Four times the learning rate falls faster: lower at the same time, so it is kept.
    assert.equal(child.status, 'keep', child.reason);
    assert.match(child.reason, /^val_loss \S+ < parent \S+ \(.*\), its last value when the budget stopped it at \d+\.\d s$/);
    assert.ok(child.metric! < base.metric!);
    assert.match(readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8'), /^- Time: .*; budget 2s per experiment, a run still going then judged on the last value it printed \(atBudget: last; 2 were\)$/m);
  });

  it('without it, the baseline times out, and its reason names atBudget: last among the ways out', async () => {
    const { controller } = session('');
    const outcome = await controller.run();
    controller.dispose();
    const base = outcome.model.get(0)!;
    assert.equal(base.status, 'crash');
    assert.match(base.reason, /^timed out: still running after the 2s budget \(stopped at \d+\.\d s\): the baseline must finish within the budget; raise `budget` in autoresearch.config.yaml, have the script stop in time \(it is told AUTORESEARCH_BUDGET_SECONDS\), or set `atBudget: last` to judge each run on the last value it printed when the budget stops it \(fixed-step scripts that print the metric as they go\)$/);
  });
});

describe('a baseline the budget stops before its first evaluation', () => {
  it('says it printed no metric by then, and does not offer atBudget: last, which would have nothing to judge', async () => {
    // ng-video-lecture's gpt.py on a CPU: the first `step 0: train loss …, val loss …` line takes longer than the budget.
    const { controller } = session('', 'import time\nprint("10.788929 M parameters", flush=True)\ntime.sleep(30)\nprint("step 0: train loss 4.2, val loss 4.2")\n');
    const outcome = await controller.run();
    controller.dispose();
    const base = outcome.model.get(0)!;
    assert.equal(base.status, 'crash');
    assert.match(base.reason, /: the baseline must finish within the budget, and it printed no `val_loss` before then \(its first evaluation comes later: fewer steps, a smaller model or fewer evaluation batches bring it within the budget\); raise `budget` in autoresearch\.config\.yaml, have the script stop in time \(it is told AUTORESEARCH_BUDGET_SECONDS\)$/);
    assert.doesNotMatch(base.reason, /atBudget/);
  });
});

describe('a kept change that brought the run close to the budget', () => {
  it('says how much slower it made the run, and what budget leaves its children room', () => {
    // ng-video-lecture on a CPU: batch_size 16 → 32 was kept at 2:46 of 3m, against the baseline's 1:30; its child timed out.
    const config = { budgetSeconds: 180, budgetText: '3m' };
    assert.equal(slowKeep({ id: 0, wallMs: 90_000 }, 166_000, config),
      'it took 2:46, 1.8× #0\'s 1:30 and 92 % of the 3m budget: part of its gain may be the extra compute, and a change on top that adds a little more time runs past the budget (`budget: 6m` is about twice this run)');
    // Slower but far from the budget, or close to it but no slower than its parent: nothing to say.
    assert.equal(slowKeep({ id: 0, wallMs: 30_000 }, 80_000, config), null);
    assert.equal(slowKeep({ id: 0, wallMs: 150_000 }, 160_000, config), null);
  });

  it('is said in the keep\'s reason', async () => {
    const script = (sleep: number, loss: number) => `import time\ntime.sleep(${sleep})\nprint("val_loss: ${loss}")\n`;
    const repo = tempRepo({
      'train.py': script(0.3, 2), 'prepare.py': TOY_PREPARE,
      'autoresearch.config.yaml': 'tag: t1\neditable: [train.py]\nreadonly: [prepare.py]\nrun: python3 train.py\nbudget: 3s\nmetric: {name: val_loss}\nmaxExperiments: 1\npolicy: greedy\npipeline: 0\nprune: off\n',
    });
    repos.push(repo);
    const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
    const controller = new Controller({ root: repo.root, config, proposer: new ScriptedProposer([script(2.2, 1)]), executor: new LocalExecutor(), platform: null });
    const outcome = await controller.run();
    controller.dispose();
    const child = outcome.model.get(1)!;
    assert.equal(child.status, 'keep', child.reason);
    assert.match(child.reason, /; it took \d\.\d s, \d+\.\d× #0's (?:\d+ ms|\d\.\d s) and \d+ % of the 3s budget: part of its gain may be the extra compute/);
  });
});

describe('a baseline close to the budget', () => {
  it('is said at once: the changes that make a run a little slower will run past it', () => {
    // nanoGPT on a CPU: the baseline took 2:29 of 3m, and three of the next ten runs timed out.
    const config = { budgetSeconds: 180, budgetText: '3m' };
    assert.equal(baselineNearBudget(149_000, config),
      'the baseline took 2:29, 83 % of the 3m budget: a change that makes a run a little slower (a wider model, a larger batch), or a busier machine, runs past it, and a run stopped at the budget is a crash that says nothing about its change. To give them room, stop the session, set `budget: 5m` (about twice the baseline) and start it again: it goes on with the new budget');
    assert.equal(baselineNearBudget(90_000, config), null);
  });

  it('warns as the baseline is decided, not with atBudget: last, where a run the budget stops is judged', async () => {
    const script = (sleep: number, loss: number) => `import time\ntime.sleep(${sleep})\nprint("val_loss: ${loss}")\n`;
    const warned = async (atBudget: string): Promise<string[]> => {
      const repo = tempRepo({
        // 3.4 s of a 5 s budget: past 60 % of it, and clear of it on a loaded machine, where a python start takes 0.6 s.
        'train.py': script(3.4, 2), 'prepare.py': TOY_PREPARE,
        'autoresearch.config.yaml': `tag: t1\neditable: [train.py]\nreadonly: [prepare.py]\nrun: python3 train.py\nbudget: 5s\n${atBudget}metric: {name: val_loss}\nmaxExperiments: 1\npolicy: greedy\npipeline: 0\nprune: off\n`,
      });
      repos.push(repo);
      const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
      const controller = new Controller({ root: repo.root, config, proposer: new ScriptedProposer([script(0.1, 1)]), executor: new LocalExecutor(), platform: null });
      const warns: string[] = [];
      controller.onEvent((e) => { if (e.type === 'log' && e.level === 'warn') warns.push(e.message); });
      await controller.run();
      controller.dispose();
      return warns;
    };
    const plain = await warned('');
    assert.equal(plain.filter((m) => m.startsWith('the baseline took')).length, 1, plain.join('\n'));
    assert.match(plain.find((m) => m.startsWith('the baseline took'))!, /^the baseline took \d\.\d s, \d+ % of the 5s budget: .* set `budget: \d+s` \(about twice the baseline\)/);
    assert.deepEqual((await warned('atBudget: last\n')).filter((m) => m.startsWith('the baseline took')), []);
  });
});

describe('what a timeout reason advises', () => {
  const config = { budgetSeconds: 40, budgetText: '40s' };

  it('near the budget: a little slower was enough, and a budget with room for it', () => {
    // karpathy/makemore at 0:34 of 40 s on a busy machine: its children timed out on changes that cost no time.
    assert.equal(timeoutAdvice({ id: 0, wallMs: 34_000 }, config),
      'its parent #0 took 0:34 of the 40s budget, close to it: a run a little slower (this change, or a busier machine) runs past it. ' +
      'Raise `budget` (`budget: 70s` is about twice the parent\'s time), or have the script stop in time (it is told AUTORESEARCH_BUDGET_SECONDS)');
    // Not atBudget: last: the parent ended by itself, and the change's value at the budget is from less training.
  });

  it('far from it: the change made the run much slower, or it hangs', () => {
    assert.match(timeoutAdvice({ id: 3, wallMs: 9_000 }, config),
      /^its parent #3 took 9\.0 s of the 40s budget: this change made the run much slower, or it hangs \(its log says which\)\. If that is what it costs, raise `budget`, or have the script stop in time \(it is told AUTORESEARCH_BUDGET_SECONDS\)$/);
  });

  it('a budget with room is about twice the run, in tens of seconds, or minutes from two', () => {
    assert.deepEqual([300, 31_000, 34_000, 55_000, 86_000, 250_000].map(budgetWithRoom), ['10s', '70s', '70s', '110s', '3m', '9m']);
  });
});
