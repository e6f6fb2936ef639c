// The checks gate (`checks:` in the config): a candidate that wins on the metric is kept only when the checks pass
// in its worktree. Real sessions on real git repos with real processes: a failing check turns the keep into a
// discard with the reason and a log, the branch stays where it was, a stop during the checks keeps nothing.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../../../src/cli/main.js';
import { ConfigError, parseConfig } from '../../../../src/core/config.js';
import { configTemplate } from '../../../../src/core/configTemplate.js';
import type { SessionModel } from '../../../../src/core/model.js';
import type { ExperimentNode } from '../../../../src/core/types.js';
import { presentNode } from '../../../../src/extension/tree/nodePresentation.js';
import { faultRepo, inProcess, modelOf, ScriptedProposer, trainPy, withKeys } from '../../helpers/faults.js';
import { TOY_PREPARE, toyConfig } from '../../helpers/repo.js';

/** Checks that fail for a learning rate above 0.3; with `slowWhile`, they hang while that file exists (except on the baseline). */
function checkPy(slowWhile?: string): string {
  return `import os, re, sys, time
lr = float(re.search(r"LR = ([\\d.]+)", open("train.py").read()).group(1))
print(f"checking LR={lr}", flush=True)
${slowWhile ? `while lr != 0.1 and os.path.exists(${JSON.stringify(slowWhile)}):\n    time.sleep(0.05)\n` : ''}assert lr <= 0.3, f"LR {lr} is above the stable range"
print("1 passed")
`;
}

const byStep = (m: SessionModel, k: number): ExperimentNode => m.nodes.find((n) => n?.description === `step ${k}`)!;

async function cli(args: string[]): Promise<string> {
  const out: string[] = [];
  assert.equal(await main(args, { out: (t) => out.push(t), err: (t) => out.push(t), isTTY: false }), 0, out.join('\n'));
  return out.join('\n');
}

describe('the checks gate', () => {
  it('discards a candidate better on the metric whose checks fail, keeps one whose checks pass, and runs them once per keep', async () => {
    const repo = faultRepo(
      withKeys({ readonly: '[prepare.py, check.py]', policy: 'greedy', maxExperiments: '3', checks: 'python3 check.py', noise: '{repeats: 2, confirm: true}' }),
      { 'check.py': checkPy() },
    );
    // LR 0.2 wins and passes; 0.35 wins by more and fails; 0.05 loses on the metric and is never checked.
    const s = inProcess(repo, new ScriptedProposer([trainPy(0.2), trainPy(0.35), trainPy(0.05)]));
    const outcome = await s.run();
    assert.equal(outcome.state, 'done', outcome.reason);
    const m = outcome.model;
    const passed = byStep(m, 1);
    const failed = byStep(m, 2);
    const worse = byStep(m, 3);

    assert.equal(passed.status, 'keep', passed.reason);
    assert.equal(passed.checks?.passed, true);
    assert.equal(failed.status, 'discard');
    assert.equal(failed.checks?.passed, false);
    const logPath = join(repo.root, '.autoresearch', 't1', 'logs', `${failed.id}.checks.log`);
    assert.equal(failed.reason.split(' (log: ')[0], 'checks failed: `python3 check.py` exit 1: AssertionError: LR 0.35 is above the stable range');
    assert.match(failed.reason, new RegExp(`\\(log: ${logPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); it had won on the metric: confirmed: `));
    assert.match(readFileSync(logPath, 'utf8'), /checking LR=0\.35[\s\S]*Traceback[\s\S]*AssertionError: LR 0\.35/);
    assert.equal(worse.status, 'discard');
    assert.match(worse.reason, /^no improvement over parent/);
    assert.equal(worse.checks, undefined);

    // Once per keep, after its confirmation run: the baseline, step 1 and step 2; never a repeat or a confirmation.
    const logs = readdirSync(join(repo.root, '.autoresearch', 't1', 'logs')).filter((f) => f.endsWith('.checks.log')).sort();
    assert.deepEqual(logs, [0, passed.id, failed.id].map((id) => `${id}.checks.log`).sort());
    assert.ok(m.nodes.some((n) => n?.editKey === `confirm:${failed.id}`), 'the failed candidate had its confirmation run first');

    // The branch and the best stay on the candidate that passed.
    assert.equal(m.best?.id, passed.id);
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), passed.commit);
    assert.equal(readFileSync(join(repo.root, 'prepare.py'), 'utf8'), TOY_PREPARE);

    // Where a person looks: the summary, `tree`, `show`, the Experiments view.
    const summary = readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8');
    assert.ok(summary.includes(`- Checks: \`python3 check.py\` in force before every keep: 2 candidate(s) that won on the metric checked, 1 turned away (#${failed.id})`), summary);
    assert.match(summary, new RegExp(`\\| #${failed.id} \\(from #${passed.id}\\) \\| .* \\| checks failed: \`python3 check\\.py\` exit 1`));
    const tree = await cli(['tree', '--cwd', repo.root]);
    assert.match(tree, new RegExp(`✗ #${failed.id} step 2: [\\d.]+ \\(-[\\d.]+\\) discard: checks failed \\(exit 1\\)$`, 'm'), tree);
    assert.match(tree, new RegExp(`#${passed.id} step 1: [\\d.]+ \\(-[\\d.]+\\) keep, checks passed$`, 'm'), tree);
    const show = await cli(['show', String(failed.id), '--cwd', repo.root]);
    assert.ok(show.includes(`  checks: failed, exit 1: AssertionError: LR 0.35 is above the stable range in `) && show.includes(`(log: ${logPath})`), show);
    const view = presentNode(failed, { model: m, active: false, now: Date.now() });
    assert.match(view.description ?? '', /checks failed/);
    assert.match(view.tooltip, /\| checks \| failed, exit 1: AssertionError/);
  });

  it('fails the session when the checks cannot run on the baseline (a command not found), without an engine crash', async () => {
    const repo = faultRepo(withKeys({ checks: 'no-such-checker-xyz --all', maxExperiments: '2' }));
    const proposer = new ScriptedProposer([trainPy(0.2)]);
    const outcome = await inProcess(repo, proposer).run();
    assert.equal(outcome.state, 'failed');
    assert.match(outcome.reason, /^the baseline was not usable: checks failed: `no-such-checker-xyz --all` exit 127 \(command not found\): .*not found \(log: .*0\.checks\.log\); they must pass on the code as committed: fix them, or change `checks` in autoresearch\.config\.yaml\. Then start again/);
    assert.equal(proposer.calls, 0, 'nothing was proposed on a baseline that fails its checks');
  });

  for (const sandbox of ['auto', 'off']) {
    it(`runs the checks fenced like a run (sandbox: ${sandbox}): they cannot change a protected file`, async () => {
      const repo = faultRepo(withKeys({ checks: `python3 -c "open('prepare.py', 'a').write('SPLIT = 1.0')"`, maxExperiments: '1', sandbox }));
      const outcome = await inProcess(repo, new ScriptedProposer([])).run();
      assert.equal(outcome.state, 'failed');
      assert.match(outcome.reason, /^the baseline was not usable: checks failed: `python3 -c .*` /);
      // In the sandbox the write is refused; without one it is found after the checks and undone.
      const expected = outcome.model.protection?.sandboxed ? /` exit 1: (PermissionError|OSError): \[Errno 30\] Read-only file system: 'prepare\.py' \(log: / : /` exit 0, but they modified protected files: prepare\.py \(restored\) \(log: /;
      assert.match(outcome.reason, expected);
      if (sandbox === 'off') assert.equal(outcome.model.protection?.sandboxed, false);
    });
  }

  it('keeps nothing when stopped during the checks, and checks the node again on resume', async () => {
    const repo = faultRepo(withKeys({ readonly: '[prepare.py, check.py]', policy: 'greedy', maxExperiments: '1', checks: 'python3 check.py' }));
    // The flag lies in the checkout, which the sandbox shows read-only; written after the commit, so git does not track it.
    const flag = join(repo.root, 'checks-hang.flag');
    repo.write('check.py', checkPy(flag));
    repo.commit('checks');
    writeFileSync(flag, '');
    const s = inProcess(repo, new ScriptedProposer([trainPy(0.2)]));
    s.controller.onEvent((e) => {
      if (e.type === 'log' && /^#[1-9]\d* would be kept; running the checks/.test(e.message)) setTimeout(() => s.controller.stop(), 300);
    });
    const t0 = Date.now();
    const stopped = await s.run();
    assert.equal(stopped.state, 'stopped', stopped.reason);
    assert.ok(Date.now() - t0 < 15_000, 'the hanging checks were ended by the stop');
    const node = byStep(stopped.model, 1);
    assert.equal(node.decidedBy, null, `undecided, not kept: ${node.status} ${node.reason}`);
    assert.equal(node.checks, undefined);
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), stopped.model.baseline!.commit);

    rmSync(flag);
    const resumed = await inProcess(repo, new ScriptedProposer([])).run();
    assert.equal(resumed.state, 'done', resumed.reason);
    const again = modelOf(repo).get(node.id)!;
    assert.equal(again.status, 'keep', again.reason);
    assert.equal(again.checks?.passed, true);
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), again.commit);
  });
});

describe('checks in the config', () => {
  const issues = (yaml: string) => {
    try {
      parseConfig(yaml);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.issues.map((i) => `${i.path}: ${i.expected}`);
    }
    return [];
  };

  it('is a non-empty command line, or absent', () => {
    assert.equal(parseConfig(toyConfig('checks: pytest -q tests/\n')).checks, 'pytest -q tests/');
    assert.equal(parseConfig(toyConfig()).checks, null);
    assert.equal(parseConfig(toyConfig('checks:\n')).checks, null);
    for (const bad of ['checks: ""', 'checks: "  "', 'checks: [pytest]', 'checks: 3', 'checks: {run: pytest}']) {
      assert.deepEqual(issues(toyConfig(`${bad}\n`)), ['checks: a non-empty string'], bad);
    }
  });

  it('is documented in the config the wizard writes, and reads back when uncommented', () => {
    const text = configTemplate({ tag: 'w', editable: ['train.py'], readonly: [], run: 'python train.py', budget: '5m', metricName: 'val_loss', direction: 'minimize', maxExperiments: 10, proposer: 'mutate' });
    assert.match(text, /^# checks: pytest -q tests\/$/m);
    assert.equal(parseConfig(text.replace(/^# checks: /m, 'checks: ')).checks, 'pytest -q tests/');
  });
});
