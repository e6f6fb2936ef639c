// What the config wizard offers (src/extension/wizard/proposerChoices.ts): every proposer the extension runs, each
// writing a config the engine accepts with its own keys, and a minDelta suggested with the reason 0 is a poor default.
// Plain data: no VS Code needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../../../src/core/config.js';
import { checkMinDelta, configTemplate, fromRepositoryRoot, suggestMinDelta } from '../../../../src/core/configTemplate.js';
import { checkWrittenConfig, proposerChoices } from '../../../../src/extension/wizard/proposerChoices.js';

const base = { tag: 'w1', editable: ['train.py'], readonly: ['prepare.py'], run: 'python3 train.py', budget: '5m', metricName: 'val_loss', direction: 'minimize' as const, maxExperiments: 10 };

describe('the wizard\'s proposer choices', () => {
  it('offers the model proposers besides mutate and patches, with or without a VS Code model', () => {
    for (const lm of [true, false]) {
      assert.deepEqual(proposerChoices(lm).map((c) => c.kind), ['vscode-lm', 'anthropic', 'openai-compatible', 'agent-cli', 'mutate', 'patches']);
    }
    assert.match(proposerChoices(false)[0]!.description, /none is installed now/);
  });

  it('writes a config the engine accepts for each choice, with the suggested answers, the kind\'s keys included', () => {
    for (const choice of proposerChoices(true)) {
      const answers = Object.fromEntries(choice.questions.map((q) => [q.key, q.value]));
      for (const q of choice.questions) assert.equal(q.check(q.value), undefined, `${choice.kind}.${q.key}: the suggestion "${q.value}" is refused`);
      const text = configTemplate({ ...base, proposer: choice.kind, ...(choice.kind === 'patches' ? { patchesDir: answers.dir } : { proposerKeys: answers }), minDelta: 0.002 });
      checkWrittenConfig(text);
      const config = parseConfig(text);
      assert.equal(config.proposer.kind, choice.kind);
      assert.equal(config.minDelta, 0.002);
      const written = config.proposer as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(answers)) if (v) assert.equal(written[k], v, `${choice.kind}: ${k} not written`);
    }
  });

  it('refuses answers the proposer would fail on at start, and a written config the engine refuses', () => {
    const byKind = new Map(proposerChoices(true).map((c) => [c.kind, c]));
    const q = (kind: string, key: string) => byKind.get(kind as never)!.questions.find((x) => x.key === key)!;
    assert.match(q('agent-cli', 'command').check('claude -p')!, /\{prompt\}/);
    assert.match(q('openai-compatible', 'baseUrl').check('localhost:11434')!, /http/);
    assert.equal(q('openai-compatible', 'apiKeyEnv').check(''), undefined, 'a local server needs no key');
    assert.ok(q('anthropic', 'apiKeyEnv').check('my key'));
    const bad = configTemplate({ ...base, proposer: 'agent-cli', proposerKeys: { command: 'aider --yes' } });
    assert.throws(() => checkWrittenConfig(bad), (e: unknown) => e instanceof ConfigError && /proposer\.command/.test(e.message));
  });
});

describe('the wizard\'s minDelta', () => {
  it('suggests half a percent of the parent\'s value where the script printed one, says what it comes to now, and why 0 is a poor default', () => {
    const s = suggestMinDelta(0.357536);
    assert.equal(s.value, '0.5%');
    assert.match(s.why, /−0\.1 % wobble from noise "wins"/);
    assert.match(s.why, /0\.5 % of the parent's value \(0\.0018 of the 0\.357536 your script printed\), which follows the metric/);
    // What the wizard writes is a config the engine reads as that share.
    const config = parseConfig(configTemplate({ ...base, proposer: 'mutate', minDelta: s.value }));
    assert.equal(config.minDelta, 0);
    assert.equal(config.minDeltaShare, 0.005);
  });

  it('suggests a small absolute step when no value is known, never 0', () => {
    assert.equal(suggestMinDelta(null).value, '0.001');
    assert.equal(suggestMinDelta(0).value, '0.001');
  });

  it('takes 0, a positive number or a share such as 0.5%, nothing else', () => {
    for (const good of ['0', '0.001', '0.5%', '1 %', '.5%']) assert.equal(checkMinDelta(good), undefined, `"${good}" refused`);
    for (const bad of ['', '-0.1', 'small', 'NaN', '-1%', '%', '0.5%%']) assert.ok(checkMinDelta(bad), `"${bad}" accepted`);
  });
  it('writes atBudget: last when the tried run was still going at the budget, and leaves it commented otherwise', () => {
    const at = configTemplate({ ...base, proposer: 'mutate', atBudget: 'last' });
    checkWrittenConfig(at);
    assert.equal(parseConfig(at).atBudget, 'last');
    assert.match(at, /^atBudget: last$/m);
    const plain = configTemplate({ ...base, proposer: 'mutate' });
    assert.equal(parseConfig(plain).atBudget, 'crash');
    assert.match(plain, /^# atBudget: last$/m);
  });
});

describe('a config written below the repository root (init and the wizard)', () => {
  it('names files from the root and runs in the folder, quoting a folder the shell would split', () => {
    const here = fromRepositoryRoot('/repo', '/repo/projects/chargpt');
    assert.equal(here.below, 'projects/chargpt');
    assert.equal(here.file('chargpt.py'), 'projects/chargpt/chargpt.py');
    assert.equal(here.run('python3 chargpt.py'), 'cd projects/chargpt && python3 chargpt.py');
    assert.equal(fromRepositoryRoot('/repo', "/repo/my project's").run('python3 t.py'), "cd 'my project'\\''s' && python3 t.py");
    const root = fromRepositoryRoot('/repo', '/repo');
    assert.deepEqual([root.below, root.file('train.py'), root.run('python3 train.py')], ['', 'train.py', 'python3 train.py']);
    // What the wizard writes from it parses, the run's `&&` quoted.
    const config = parseConfig(configTemplate({ ...base, editable: [here.file('chargpt.py')], readonly: [], run: here.run('python3 chargpt.py'), proposer: 'mutate' }));
    assert.deepEqual([config.editable, config.run], [['projects/chargpt/chargpt.py'], 'cd projects/chargpt && python3 chargpt.py']);
  });
});
