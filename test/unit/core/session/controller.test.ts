// The whole loop on real git repos and real processes: tree shape, refs, results.tsv, the guard.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../../../src/core/config.js';
import { Controller, PreflightError, type ControllerEvent } from '../../../../src/core/controller.js';
import { LocalExecutor } from '../../../../src/core/executors/localExecutor.js';
import { MutateProposer } from '../../../../src/core/proposers/mutate.js';
import { PatchesProposer } from '../../../../src/core/proposers/patches.js';
import { parseResults } from '../../../../src/core/record/results.js';
import { SessionBusyError } from '../../../../src/core/record/store.js';
import { Journal } from '../../../../src/core/record/journal.js';
import { SessionModel } from '../../../../src/core/model.js';
import { sendCommand } from '../../../../src/core/offline.js';
import { applyBest } from '../../../../src/core/apply.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, toyConfig, type TempRepo } from '../../helpers/repo.js';

const repos: TempRepo[] = [];
after(() => { for (const r of repos) r.cleanup(); });

function toyRepo(configExtra = '', files: Record<string, string> = {}): TempRepo {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'README.md': '# toy\n', ...files });
  repos.push(repo);
  repo.write('autoresearch.config.yaml', toyConfig(configExtra));
  repo.commit('config');
  return repo;
}

function controllerFor(repo: TempRepo, opts: { proposer?: 'mutate' | 'patches'; configText?: string } = {}) {
  const config = parseConfig(opts.configText ?? readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8'));
  const proposer = opts.proposer === 'patches' ? new PatchesProposer({ dir: join(repo.root, 'patches') }) : new MutateProposer({ seed: config.seed });
  const c = new Controller({ root: repo.root, config, proposer, executor: new LocalExecutor(), platform: null });
  const events: ControllerEvent[] = [];
  c.onEvent((e) => events.push(e));
  return { c, events, config };
}

function patch(file: string, from: string, to: string, comment: string): string {
  return `# ${comment}\n--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-${from}\n+${to}\n`;
}

describe('a scripted session with the mutate proposer and the tree policy', () => {
  it('builds a tree of commits, refs for every node, results.tsv rows and the best branch, without touching the working tree', async () => {
    const repo = toyRepo();
    const head = repo.git('rev-parse', 'HEAD');
    const { c, events } = controllerFor(repo);
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done', outcome.reason);
    const nodes = outcome.model.nodes;
    assert.equal(outcome.model.decidedCount, 6);
    assert.equal(nodes.length, 7);

    // Every node is a commit whose parent is its parent node's commit, reachable under refs/autoresearch/t1/.
    for (const n of nodes.slice(1)) {
      const ref = repo.git('rev-parse', `refs/autoresearch/t1/nodes/${n.id}`);
      assert.equal(ref, n.commit);
      assert.equal(repo.git('rev-parse', `${n.commit}^`), nodes[n.parentId!]!.commit);
    }
    // Every experiment grew from a node that was kept (the tree expands kept nodes; no crash here to debug).
    assert.ok(nodes.slice(1).every((n) => nodes[n.parentId!]!.status === 'keep'), nodes.map((n) => `#${n.id}<${n.parentId} ${n.status}`).join(', '));
    assert.ok(nodes.every((n) => n.policyReason.length > 0));

    // The branch points at the best node, which is a keep.
    const best = outcome.best!;
    assert.equal(best.status, 'keep');
    assert.ok(best.metric! < nodes[0]!.metric!);
    assert.equal(repo.git('rev-parse', 'autoresearch/t1'), best.commit);

    // results.tsv: header, baseline first, one row per decided experiment, [EXP] lines in the contract format.
    const parsed = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8'));
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.metricName, 'val_loss');
    assert.equal(parsed.rows.length, 7);
    assert.equal(parsed.rows[0]!.description, 'baseline');
    assert.equal(parsed.rows[0]!.commit, head.slice(0, 7));
    const exp = events.filter((e) => e.type === 'experiment').map((e) => (e as { line: string }).line);
    assert.equal(exp.length, 7);
    for (const line of exp) assert.match(line, /^\[EXP\] t1 \d+ \| commit:[0-9a-f]{7} \| val_loss:\S+ \| mem:\S+GB \| status:(keep|discard|crash|invalid) \| .+$/);
    assert.match(exp[0]!, /mem:2\.0GB/);

    // The user's own checkout did not move and has no changes.
    assert.equal(repo.git('rev-parse', 'HEAD'), head);
    assert.equal(repo.git('status', '--porcelain', '--untracked-files=no'), '');
    assert.equal(repo.git('symbolic-ref', '--short', 'HEAD'), 'main');

    // The summary names the best commit.
    const summary = readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8');
    assert.ok(summary.includes(best.commit!.slice(0, 7)), summary);
    assert.match(summary, /## Next steps/);
  });

  it('greedy policy makes one straight line from the best so far', async () => {
    const repo = toyRepo('');
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('policy: tree', 'policy: greedy');
    const { c } = controllerFor(repo, { configText: text });
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.state, 'done');
    // Each node's parent is the best node at the time it was proposed: never a discarded one.
    for (const n of outcome.model.nodes.slice(1)) {
      const parent = outcome.model.get(n.parentId!)!;
      assert.equal(parent.status, 'keep', `#${n.id} grew from #${parent.id} (${parent.status})`);
      assert.match(n.policyReason, /greedy/);
    }
  });
});

describe('the guard', () => {
  it('refuses an out-of-scope edit before running it, and records it as invalid', async () => {
    const repo = toyRepo('', {
      'patches/1-prepare.patch': patch('prepare.py', '# The evaluation: protected.', '# changed', 'edit the evaluation'),
      'patches/2-readme.patch': patch('README.md', '# toy', '# toy!', 'edit the readme'),
      'patches/3-lr.patch': patch('train.py', 'import os', 'import os  # ok', 'harmless edit'),
    });
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('proposer: mutate', 'proposer: {kind: patches, dir: patches}').replace('maxExperiments: 6', 'maxExperiments: 3');
    const { c } = controllerFor(repo, { proposer: 'patches', configText: text });
    const outcome = await c.run();
    c.dispose();
    const [, p1, p2, p3] = outcome.model.nodes;
    assert.equal(p1!.status, 'invalid');
    assert.match(p1!.reason, /prepare\.py \(protected\).*not run/);
    assert.equal(p1!.logPath, null, 'an invalid proposal never runs');
    assert.equal(p2!.status, 'invalid');
    assert.match(p2!.reason, /README\.md \(not editable\)/);
    assert.notEqual(p3!.status, 'invalid');
    // Invalid nodes are still commits, so their diff can be shown.
    assert.ok(repo.git('show', '--stat', p1!.commit!).includes('prepare.py'));
    const rows = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows;
    assert.deepEqual(rows.map((r) => r.status).slice(1, 3), ['invalid', 'invalid']);
  });

  it('catches a run that tampers with a protected file, undoes it, and marks the node invalid', async () => {
    const tamper = `import os  # tamper\nopen("prepare.py", "a").write("CHEAT = True\\n")`;
    const repo = toyRepo('', { 'patches/1-tamper.patch': patch('train.py', 'import os', tamper.split('\n')[0]!, 'tamper') });
    // The patch's new line plus a second line: write the patch by hand.
    writeFileSync(join(repo.root, 'patches/1-tamper.patch'), `# tamper with the evaluation\n--- a/train.py\n+++ b/train.py\n@@ -1 +1,2 @@\n-import os\n+import os\n+open("prepare.py", "a").write("CHEAT = True\\n")\n`);
    repo.commit('patch');
    // Detection: without the sandbox the write lands, is caught and undone (with it, escape.test.ts).
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('proposer: mutate', 'proposer: {kind: patches, dir: patches}').replace('maxExperiments: 6', 'maxExperiments: 1') + 'sandbox: off\n';
    const { c } = controllerFor(repo, { proposer: 'patches', configText: text });
    const outcome = await c.run();
    c.dispose();
    const n = outcome.model.get(1)!;
    assert.equal(n.status, 'invalid');
    assert.match(n.reason, /modified protected files: prepare\.py \(restored\)/);
    assert.ok(n.logPath && existsSync(n.logPath), 'it did run');
    assert.equal(readFileSync(join(repo.root, 'prepare.py'), 'utf8'), TOY_PREPARE);
    assert.equal(repo.git('show', `${n.commit}:prepare.py`) + '\n', TOY_PREPARE);
  });

  it('catches a run that rewrites results.tsv and restores the file', async () => {
    const repo = toyRepo();
    const target = join(repo.root, 'results.tsv');
    writeFileSync(join(repo.root, 'patches.tmp'), '');
    mkdirSync(join(repo.root, 'patches'), { recursive: true });
    writeFileSync(join(repo.root, 'patches/1-results.patch'), `# fake a result\n--- a/train.py\n+++ b/train.py\n@@ -1 +1,2 @@\n-import os\n+import os\n+open(${JSON.stringify(target)}, "w").write("forged")\n`);
    repo.commit('patch');
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('proposer: mutate', 'proposer: {kind: patches, dir: patches}').replace('maxExperiments: 6', 'maxExperiments: 1');
    const { c } = controllerFor(repo, { proposer: 'patches', configText: text });
    const outcome = await c.run();
    c.dispose();
    assert.equal(outcome.model.get(1)!.status, 'invalid');
    assert.match(outcome.model.get(1)!.reason, /results\.tsv/);
    const parsed = parseResults(readFileSync(target, 'utf8'));
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.rows.length, 2);
  });
});

describe('preflight', () => {
  it('refuses uncommitted changes to editable files, saying what to do, and creates nothing', async () => {
    const repo = toyRepo();
    repo.write('train.py', TOY_TRAIN + '# local edit\n');
    const { c } = controllerFor(repo);
    await assert.rejects(c.run(), (e: Error) => e instanceof PreflightError && /Uncommitted changes.*train\.py.*Commit them/s.test(e.message));
    c.dispose();
    assert.equal(repo.git('branch', '--list', 'autoresearch/*'), '');
    assert.ok(!existsSync(join(repo.root, 'results.tsv')));
  });

  it('refuses to start when the proposer could never propose anything here, before the baseline runs', async () => {
    // Every setting of train.py is on the command line: mutate's edits could not reach the run.
    const repo = tempRepo({ 'train.py': 'import argparse\np = argparse.ArgumentParser()\np.add_argument("--lr", type=float, default=1e-3)\nargs = p.parse_args()\nprint(f"val_loss: {args.lr}")\n' });
    repos.push(repo);
    const config = parseConfig(toyConfig().replace('run: python3 train.py', 'run: python3 train.py --lr 0.01'));
    const c = new Controller({ root: repo.root, config, proposer: new MutateProposer({ seed: 0 }), executor: new LocalExecutor(), platform: null });
    await assert.rejects(c.run(), (e: Error) => e instanceof PreflightError && /^The mutate proposer has nothing to tune: the run command sets every setting .*\(in train\.py, lr \(--lr 0\.01\)\)\. .* Nothing was run\.$/.test(e.message));
    c.dispose();
    assert.ok(!existsSync(join(repo.root, '.autoresearch/t1/logs/0.log')), 'the baseline did not run');
    assert.equal(repo.git('branch', '--list', 'autoresearch/*'), '');
  });

  it('refuses a repository with no commits', async () => {
    const repo = tempRepo({ 'train.py': TOY_TRAIN }, { commit: false });
    repos.push(repo);
    const config = parseConfig(toyConfig());
    const c = new Controller({ root: repo.root, config, proposer: new MutateProposer({ seed: 0 }), executor: new LocalExecutor(), platform: null });
    await assert.rejects(c.run(), /no commits yet/);
    c.dispose();
  });

  it('refuses a second controller on the same session, naming the first', async () => {
    const repo = toyRepo();
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('run: python3 train.py', 'run: sleep 1 && python3 train.py').replace('maxExperiments: 6', 'maxExperiments: 1');
    const first = controllerFor(repo, { configText: text });
    const running = first.c.run();
    await new Promise((r) => setTimeout(r, 400));
    const second = controllerFor(repo, { configText: text });
    await assert.rejects(second.c.run(), (e: Error) => e instanceof SessionBusyError && e.message.includes(`pid ${process.pid}`));
    second.c.dispose();
    await running;
    first.c.dispose();
  });
});

describe('people steer the search', () => {
  it('a human keep of a discarded node is journaled, shown in results.tsv, and makes it expandable', async () => {
    const repo = toyRepo();
    const { c } = controllerFor(repo);
    const outcome = await c.run();
    c.dispose();
    const discarded = outcome.model.nodes.find((n) => n.status === 'discard');
    assert.ok(discarded, 'the toy session discards something');
    await sendCommand(repo.root, 't1', { type: 'override', id: discarded.id, status: 'keep', reason: 'promising direction' });
    const model = SessionModel.fromRecords(Journal.read(join(repo.root, '.autoresearch/t1/journal.jsonl')));
    const n = model.get(discarded.id)!;
    assert.equal(n.status, 'keep');
    assert.equal(n.decidedBy, 'human');
    assert.equal(n.ruleStatus, 'discard');
    const row = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.find((r) => r.commit === n.commit!.slice(0, 7))!;
    assert.equal(row.status, 'keep');
    assert.match(row.description, /keep by human; rule said discard/);
  });

  it("undoing an override (back to the rule's status) restores the rule's own decision, not a human one", async () => {
    const repo = toyRepo();
    const { c } = controllerFor(repo);
    const outcome = await c.run();
    c.dispose();
    const discarded = outcome.model.nodes.find((n) => n.status === 'discard')!;
    const ruleReason = discarded.reason;
    await sendCommand(repo.root, 't1', { type: 'override', id: discarded.id, status: 'keep', reason: 'promising direction' });
    const r = await sendCommand(repo.root, 't1', { type: 'override', id: discarded.id, status: 'discard', reason: 'undid a keep' });
    assert.ok(r.delivered === 'applied' && r.restored, 'the outcome says the rule decides again');
    const records = Journal.read(join(repo.root, '.autoresearch/t1/journal.jsonl'));
    const last = records.filter((x) => x.type === 'decide' && x.id === discarded.id).at(-1)!;
    assert.ok(last.type === 'decide' && last.decidedBy === 'rule' && last.restored === true && last.reason === ruleReason, JSON.stringify(last));
    const n = SessionModel.fromRecords(records).get(discarded.id)!;
    assert.equal(n.status, 'discard');
    assert.equal(n.decidedBy, 'rule');
    assert.equal(n.reason, ruleReason);
    assert.equal(n.metric, discarded.metric, 'the measurement is the rule\'s, unchanged');
    const row = parseResults(readFileSync(join(repo.root, 'results.tsv'), 'utf8')).rows.find((x) => x.commit === n.commit!.slice(0, 7))!;
    assert.equal(row.status, 'discard');
    assert.doesNotMatch(row.description, /by human/);
    // A second override is a person's again.
    await sendCommand(repo.root, 't1', { type: 'override', id: discarded.id, status: 'keep', reason: 'on reflection' });
    assert.equal(SessionModel.fromRecords(Journal.read(join(repo.root, '.autoresearch/t1/journal.jsonl'))).get(discarded.id)!.decidedBy, 'human');
  });

  it('hints are taken first and recorded on the node that tests them', async () => {
    const repo = toyRepo();
    const text = readFileSync(join(repo.root, 'autoresearch.config.yaml'), 'utf8').replace('maxExperiments: 6', 'maxExperiments: 1');
    const { c } = controllerFor(repo, { configText: text });
    // Queue the hint before the run through the inbox path the CLI uses.
    const running = c.run();
    c.addHint('try a wider WIDTH');
    const outcome = await running;
    c.dispose();
    const n = outcome.model.get(1)!;
    assert.equal(n.hint, 'try a wider WIDTH');
    assert.match(n.description, /WIDTH/);
  });

  it('apply brings the best onto the user branch as one squashed commit or as the chain', async () => {
    const repo = toyRepo();
    const { c } = controllerFor(repo);
    const outcome = await c.run();
    c.dispose();
    const best = outcome.best!;
    assert.notEqual(best.id, 0);
    const res = await applyBest(repo.root, outcome.model, 't1', 'squash');
    assert.equal(res.commits.length, 1);
    assert.equal(readFileSync(join(repo.root, 'train.py'), 'utf8'), repo.git('show', `${best.commit}:train.py`) + '\n');
    repo.git('reset', '-q', '--hard', 'HEAD~1');
    const chain = await applyBest(repo.root, outcome.model, 't1', 'chain');
    assert.equal(chain.commits.length, outcome.model.pathTo(best.id).length - 1);
    // A dirty tree is refused.
    repo.write('train.py', 'dirty');
    await assert.rejects(applyBest(repo.root, outcome.model, 't1', 'squash'), /uncommitted changes/);
  });
});
