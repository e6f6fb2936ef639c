// Learning curves in a real session, and early stopping: a run clearly worse than its parent at the same point of
// the budget is stopped and discarded with the numbers; the baseline, a better run and a re-run never are.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../../../src/cli/main.js';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller } from '../../../../src/core/controller.js';
import type { Executor, RunningExperiment, RunRequest } from '../../../../src/core/executors/executor.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import type { RunResult } from '../../../../src/core/types.js';
import { faultRepo, inProcess, ScriptedProposer, withKeys } from '../../helpers/faults.js';

/**
 * A trainer that prints `step i: train loss …, val loss …` every 0.1 s for 15 steps, the loss falling from `start` to
 * `final`. A better run starts low (flat): on a busy machine its steps come late, and a falling curve read late is worse.
 */
/**
 * Python that paces a script's steps from its process's start, not from when its interpreter was ready: on a loaded
 * machine a python start takes 0.25 s to 0.6 s, and 15 steps of 0.1 s after it ran past the 2 s budget.
 */
const PACE = `import os as _os, time as _time
def _started():
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        return _time.monotonic() - max(0.0, up - ticks / _os.sysconf("SC_CLK_TCK"))
    except Exception:
        return _time.monotonic()
_T0 = _started()
def tick(i):
    _time.sleep(max(0.0, _T0 + 0.1 * (i + 1) - _time.monotonic()))
`;

function trainer(final: number, start = 4.0): string {
  return `import time
${PACE}for i in range(15):
    loss = ${final} + (${start} - ${final}) * (14 - i) / 14
    print(f"step {i}: train loss {loss:.4f}, val loss {loss:.4f}", flush=True)
    tick(i)
print(f"val_loss: {${final}:.4f}")
`;
}

/** trainer(final, start), except that the runs of the nodes in `bad` print a val loss of 40 at every step (their final line is the same). */
function trainerBadFor(final: number, bad: number[], start = 4.0): string {
  return `import os, time
${PACE}bad = os.environ.get("AUTORESEARCH_NODE") in (${bad.map((n) => `"${n}"`).join(', ')},)
for i in range(15):
    loss = 40.0 if bad else ${final} + (${start} - ${final}) * (14 - i) / 14
    print(f"step {i}: train loss {loss:.4f}, val loss {loss:.4f}", flush=True)
    tick(i)
print(f"val_loss: {${final}:.4f}")
`;
}

describe('learning curves and early stopping', () => {
  it('journals every run\'s curve; with prune on, stops a run worse than its parent at the same point', async () => {
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '2', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: '{minFraction: 0.25}' }), { 'train.py': trainer(1.0) });
    const events: { value?: number; parentValue?: number | null }[] = [];
    const s = inProcess(repo, new ScriptedProposer([trainer(0.9, 0.9), `import time\n${PACE}for i in range(15):\n    print(f"step {i}: val loss {40.0:.4f}", flush=True)\n    tick(i)\nprint("val_loss: 40.0")\n`]));
    s.controller.onEvent((e) => { if (e.type === 'run-progress' && e.value !== undefined) events.push(e); });
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const base = m.get(0)!;
    assert.ok(base.curve && base.curve.length >= 10, `the baseline's curve: ${JSON.stringify(base.curve)}`);
    assert.equal(m.get(1)!.status, 'keep', m.get(1)!.reason);
    const stopped = m.get(2)!;
    assert.equal(stopped.status, 'discard');
    const n = '[-\\d.e+]+';
    assert.match(stopped.reason, new RegExp(`^stopped early at \\d+ % of the budget: val_loss 40 vs ${n} for #1 at the same point, worse by ${n} \\(${n} at \\d+ %\\), more than the margin ${n}; improving by at most ${n} per tenth of the budget, it would end ${n} short of #1's 0\\.9$`));
    assert.ok(stopped.wallMs! < 1500, `it ran ${stopped.wallMs} ms of a 1.5 s script`);
    // Progress carries the latest value and the parent's at the same point.
    assert.ok(events.some((e) => e.value === 40 && typeof e.parentValue === 'number'));
  });

  it('does not stop a slow starter: far behind its parent half-way, but falling faster, it runs to the end and is kept', async () => {
    // L(p) = floor + (10 − floor)·exp(−p/τ) over 15 steps; the child learns 1.6 × slower towards a lower floor.
    const curve = (floor: number, tau: number) => `import math, time
${PACE}for i in range(15):
    loss = ${floor} + (10 - ${floor}) * math.exp(-(i + 1) / 15 / ${tau})
    print(f"step {i}: val loss {loss:.4f}", flush=True)
    tick(i)
print(f"val_loss: {loss:.4f}")
`;
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss (\\S+)'", prune: 'on' }), { 'train.py': curve(1.0, 0.15) });
    const outcome = await inProcess(repo, new ScriptedProposer([curve(0.8, 0.24)])).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.equal(outcome.reason, 'reached 1 experiment', 'one experiment, in the singular');
    const n = outcome.model.get(1)!;
    const parent = outcome.model.get(0)!.curve!;
    const half = n.curve!.find((p) => p[0] >= 0.4)!;
    const behind = half[1] - parent.find((p) => p[0] >= half[0])![1];
    assert.ok(behind > 0.3, `it was ${behind} behind at ${half[0]}: ${JSON.stringify(n.curve)} vs ${JSON.stringify(parent)}`);
    assert.equal(n.status, 'keep', n.reason);
    assert.ok(n.wallMs! >= 1400, `it ran its whole script: ${n.wallMs} ms`);
  });

  it('a person turns it off while a run goes: that run and the next get their whole budget; the journal keeps it', async () => {
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '2', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: '{minFraction: 0.25}' }), { 'train.py': trainer(1.0) });
    const s = inProcess(repo, new ScriptedProposer([trainer(0.9, 0.9), `import time\n${PACE}for i in range(15):\n    print(f"step {i}: val loss {40.0:.4f}", flush=True)\n    tick(i)\nprint("val_loss: 40.0")\n`]));
    s.controller.onEvent((e) => { if (e.type === 'run-started' && e.node.id === 2) s.controller.command({ type: 'prune', on: false }); });
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const n = outcome.model.get(2)!;
    assert.equal(n.status, 'discard');
    assert.match(n.reason, /^no improvement over parent 0\.9/, 'judged on its final metric, not stopped');
    assert.equal(outcome.model.pruneSet, false);
    assert.ok(s.events.some((e) => e.type === 'log' && /early stopping off, by a person/.test(e.message)));
    // The CLI turns it on again for the next `run`, journaled while no session runs; a word other than on/off is refused.
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), isTTY: false };
    assert.equal(await main(['prune', 'on', '--cwd', repo.root], io), 0);
    assert.match(out.join('\n'), /Early stopping on for session t1; `autoresearch run` goes on that way\./);
    assert.equal(await main(['prune', 'maybe', '--cwd', repo.root], io), 2);
    assert.match(out.join('\n'), /prune needs on or off: autoresearch prune off \(got "maybe"\)/);
    assert.match(readFileSync(join(repo.root, '.autoresearch/t1/journal.jsonl'), 'utf8'), /"type":"prune","on":false[^\n]*\n(.*\n)*.*"type":"prune","on":true/);
  });

  it('a person turns it on where the config says off: the default rule stops a run clearly worse than its parent', async () => {
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '2', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: 'off' }), { 'train.py': trainer(1.0) });
    const s = inProcess(repo, new ScriptedProposer([trainer(0.9, 0.9), `import time\n${PACE}for i in range(15):\n    print(f"step {i}: val loss {40.0:.4f}", flush=True)\n    tick(i)\nprint("val_loss: 40.0")\n`]));
    s.controller.command({ type: 'prune', on: true });
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.match(outcome.model.get(2)!.reason, /^stopped early at \d+ % of the budget/);
  });

  it('is on by default (issue 13: the benchmark stopped no run that would have been kept): a run clearly worse than its parent is stopped', async () => {
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'" }), { 'train.py': trainer(1.0) });
    const outcome = await inProcess(repo, new ScriptedProposer([trainer(3.0)])).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.match(outcome.model.get(1)!.reason, /^stopped early at \d+ % of the budget: val_loss [\d.]+ vs [\d.]+ for #0 at the same point/);
  });

  it('does not stop a run only slower per step than its parent, which ended by itself (a step count, not a time)', async () => {
    // The parent runs 15 steps of 0.04 s and ends at 30 % of the budget, level at 1.0 after its third step. The child
    // runs its 15 steps at 0.1 s each and stands at 2.0 all along, then ends at 0.95: compared at the same share of
    // the budget it looked lost, but the session judges it at its own end, which is better.
    const steps = (dt: number, value: string, final: number) => `import time
${PACE.replace('0.1 * (i + 1)', `${dt} * (i + 1)`)}for i in range(15):
    print(f"step {i}: val loss {${value}:.4f}", flush=True)
    tick(i)
print("val_loss: ${final}")
`;
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'" }), { 'train.py': steps(0.04, '4.0 if i < 2 else 1.0', 1.0) });
    const outcome = await inProcess(repo, new ScriptedProposer([steps(0.1, '2.0', 0.95)])).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const [base, child] = [outcome.model.get(0)!, outcome.model.get(1)!];
    assert.equal(base.curvePrinted, 15, 'the journal keeps how many points the parent printed');
    assert.equal(child.status, 'keep', child.reason);
    assert.equal(child.metric, 0.95);
  });

  it('with `prune: off` the same worse run goes to the end and is judged on its final metric', async () => {
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: 'off' }), { 'train.py': trainer(1.0) });
    const s = inProcess(repo, new ScriptedProposer([trainer(3.0)]));
    const outcome = await s.run();
    const n = outcome.model.get(1)!;
    assert.equal(n.status, 'discard');
    assert.match(n.reason, /^no improvement over parent 1/);
    assert.ok(n.curve && n.curve.length >= 10, 'curves are read without pruning too');
    // `autoresearch show` draws it.
    const out: string[] = [];
    assert.equal(await main(['show', '1', '--cwd', repo.root], { out: (t) => out.push(t), err: (t) => out.push(t), isTTY: false }), 0);
    const line = /^ {2}curve: ( *[▁▂▃▄▅▆▇█]+) {2}\d+ points, last 3 at \d+ % of the budget {3}parent: ( *[▁▂▃▄▅▆▇█]+)$/m.exec(out.join('\n'));
    assert.ok(line, out.join('\n'));
    // On one scale: it ended at 3, its parent at 1, from the same start, so its line ends higher.
    const bars = '▁▂▃▄▅▆▇█';
    assert.ok(bars.indexOf(line[1]!.at(-1)!) > bars.indexOf(line[2]!.at(-1)!), `${line[1]} vs ${line[2]}`);
  });
  it('never stops a noise measurement or a confirmation run, however far behind their parent\'s curve they are', async () => {
    // #0 baseline, #1 its noise repeat, #2 a new best, #3 #2's confirmation: #1 and #3 print 40 where their parent printed < 4.
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: '{minFraction: 0.25}', noise: '{repeats: 2, confirm: true}' }), { 'train.py': trainerBadFor(1.0, [1]) });
    const outcome = await inProcess(repo, new ScriptedProposer([trainerBadFor(0.9, [3], 0.9)])).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const shape = m.nodes.map((n) => `#${n.id} ${n.editKey} ${n.status}`).join(', ');
    assert.equal(m.nodes.length, 4, shape);
    assert.equal(m.get(0)!.status, 'keep', 'the baseline, which has no parent, ran and was kept');
    assert.match(m.get(1)!.editKey, /^noise:/);
    assert.equal(m.get(3)!.editKey, 'confirm:2');
    for (const id of [1, 3]) {
      const n = m.get(id)!;
      assert.ok(n.curve?.some((p) => p[1] === 40), `#${id} printed its bad curve: ${JSON.stringify(n.curve)}`);
      assert.doesNotMatch(n.reason, /stopped early/, `#${id}: ${n.reason}`);
      assert.ok(n.wallMs! >= 1400, `#${id} ran its whole script: ${n.wallMs} ms`);
    }
    assert.equal(m.get(2)!.status, 'keep', m.get(2)!.reason);
  });

  it('reads a run that waited in a queue on its own clock: a cluster job is compared with its parent from when it ran', async () => {
    // As a Slurm job waits for a node: the budget, and the curve, start when the scheduler starts it (onRunning), not
    // when it was submitted. Read from the submission, its points came 1.2 s of a 2 s budget late (at 67 % to 130 %),
    // behind its parent's at every point: only the hold for a run slower than a parent that ended by itself kept the
    // rule from stopping it, and a parent the budget ended has no such hold.
    class Queued implements Executor {
      readonly kind = 'queued';
      readonly sandboxed = 'here' as const;
      private readonly local = new LocalExecutor();
      start(req: RunRequest): RunningExperiment {
        let running: RunningExperiment | undefined;
        const result = new Promise<RunResult>((resolve, reject) => setTimeout(() => {
          req.onOutput?.('[queue] job 7 running\n');
          running = this.local.start(req);
          running.result.then(resolve, reject);
        }, req.nodeId === 0 ? 0 : 1200));
        return { pid: undefined, result, dispose: () => running?.dispose() };
      }
      dispose(): void {
        this.local.dispose();
      }
    }
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: '{minFraction: 0.25}' }), { 'train.py': trainer(1.0) });
    const config = parseConfig(readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
    const controller = new Controller({ root: repo.root, config, proposer: new ScriptedProposer([trainer(0.95)]), executor: new Queued(), platform: null });
    const outcome = await controller.run();
    controller.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const n = outcome.model.get(1)!;
    assert.equal(n.status, 'keep', n.reason);
    // Its first step prints 0.1 s after its python starts (up to 0.6 s on a loaded machine); read from the submission, 1.2 s more.
    assert.ok(n.curve && n.curve[0]![0] < 0.5, `its first point is early in its own run: ${JSON.stringify(n.curve)}`);
  });

  it('never stops a run whose parent printed no curve: it goes to the end and is judged on its final metric', async () => {
    // The baseline prints only its final `val_loss:` line, which the progress pattern does not read.
    const repo = faultRepo(withKeys({ budget: '2s', maxExperiments: '1', policy: 'greedy', progress: "'val loss ([\\d.]+)'", prune: '{minFraction: 0.25}' }), { 'train.py': 'print("val_loss: 1.0")\n' });
    const outcome = await inProcess(repo, new ScriptedProposer([trainerBadFor(3.0, [1])])).run();
    assert.equal(outcome.state, 'done', outcome.reason);
    assert.equal(outcome.model.get(0)!.curve ?? null, null);
    const n = outcome.model.get(1)!;
    assert.ok(n.curve?.some((p) => p[1] === 40 && p[0] >= 0.25), 'it was 40 past the minimum fraction');
    assert.equal(n.status, 'discard');
    assert.match(n.reason, /^no improvement over parent 1/);
    assert.ok(n.wallMs! >= 1400, `it ran its whole script: ${n.wallMs} ms`);
  });
});
