// The research config: every bad key is refused with its path, the value and what was expected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig, parseDuration } from '../../../src/core/config.js';
import { configTemplate } from '../../../src/core/configTemplate.js';
import { AutoResearchError } from '../../../src/core/errors.js';

const MINIMAL = `tag: mar5
editable: train.py
run: python3 train.py
budget: 5m
metric: {name: val_loss}
`;

function issuesOf(yaml: string, overrides?: Parameters<typeof parseConfig>[1]): ConfigError['issues'] {
  try {
    parseConfig(yaml, overrides);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    // One error type: the CLI's and the extension's tables read its kind.
    assert.ok(e instanceof AutoResearchError && e.kind === 'config');
    return e.issues;
  }
  assert.fail('the config was accepted');
}

function refuses(yaml: string, path: string, expected?: RegExp): void {
  const issues = issuesOf(yaml);
  const hit = issues.find((i) => i.path === path);
  assert.ok(hit, `no issue at ${path}; got ${JSON.stringify(issues)}`);
  if (expected) assert.match(hit.expected, expected);
}

describe('research config', () => {
  it('fills sensible defaults for a minimal config', () => {
    const c = parseConfig(MINIMAL);
    assert.equal(c.tag, 'mar5');
    assert.deepEqual(c.editable, ['train.py']);
    assert.deepEqual(c.readonly, []);
    assert.equal(c.budgetSeconds, 300);
    assert.equal(c.budgetText, '5m');
    assert.deepEqual(c.metric, { name: 'val_loss', direction: 'minimize', pattern: '^val_loss:\\s*(\\S+)' });
    assert.equal(c.maxExperiments, 20);
    assert.deepEqual(c.proposer, { kind: 'mutate' });
    assert.equal(c.policy, 'tree');
    assert.deepEqual(c.executor, { kind: 'local' });
    assert.equal(c.parallel, 1);
    assert.equal(c.minDelta, 0);
    assert.equal(c.notes, null);
    assert.equal(c.minDeltaShare, undefined);
    const share = parseConfig(MINIMAL + 'minDelta: 0.5%\n');
    assert.equal(share.minDelta, 0);
    assert.equal(share.minDeltaShare, 0.005);
    assert.ok(new RegExp(c.metric.pattern, 'm').test('val_loss: 0.5'));
  });

  it('reads a full config', () => {
    const c = parseConfig(`tag: full
editable: [train.py, "model/**/*.py"]
readonly: [prepare.py]
run: python train.py
budget: 90
metric: {name: val_bpb, direction: maximize, pattern: 'bpb=(\\S+)'}
memory: {pattern: 'mem (\\S+)', unit: gb}
metrics: [{name: tok_s}]
constraints: ['memory_gb <= 40', 'tok_s >= 1000']
maxExperiments: unlimited
proposer: {kind: patches, dir: patches}
policy: greedy
executor: manual
parallel: 2
minDelta: 0.001
seed: 7
notes: program.md
graceSeconds: 2
search: {drafts: 5, debugDepth: 1, patience: 4}
`);
    assert.equal(c.budgetSeconds, 90);
    assert.equal(c.budgetText, '90s');
    assert.equal(c.metric.direction, 'maximize');
    assert.deepEqual(c.memory, { pattern: 'mem (\\S+)', unit: 'gb' });
    assert.deepEqual(c.metrics, [{ name: 'tok_s', pattern: '^tok_s:\\s*(\\S+)' }]);
    assert.deepEqual(c.constraints.map((x) => [x.metric, x.op, x.value]), [['memory_gb', '<=', 40], ['tok_s', '>=', 1000]]);
    assert.equal(c.maxExperiments, null);
    assert.deepEqual(c.proposer, { kind: 'patches', dir: 'patches' });
    assert.deepEqual(c.search, { drafts: 5, debugDepth: 1, patience: 4 });
  });

  it('the template written by init parses back to the values it was given', () => {
    const text = configTemplate({ tag: 'x1', editable: ['train.py'], readonly: ['prepare.py'], run: 'python3 train.py', budget: '2m', metricName: 'val_loss', direction: 'maximize', maxExperiments: 12, proposer: 'mutate', policy: 'greedy', notes: 'program.md' });
    const c = parseConfig(text);
    assert.equal(c.tag, 'x1');
    assert.deepEqual(c.readonly, ['prepare.py']);
    assert.equal(c.budgetSeconds, 120);
    assert.equal(c.metric.direction, 'maximize');
    assert.equal(c.maxExperiments, 12);
    assert.equal(c.policy, 'greedy');
    assert.equal(c.notes, 'program.md');
    assert.match(text, /^# /m, 'commented');
  });

  it('reads gpus, pipeline and noise, with their defaults', () => {
    const d = parseConfig(MINIMAL);
    assert.deepEqual(d.gpus, []);
    assert.equal(d.pipeline, 1);
    assert.equal(d.noise, null);
    assert.equal(d.atBudget, 'crash');
    assert.equal(parseConfig(MINIMAL + 'atBudget: last\n').atBudget, 'last');
    const c = parseConfig(MINIMAL + 'parallel: 3\ngpus: [0, 1, "GPU-3f2a"]\npipeline: 0\nnoise: {repeats: 3}\n');
    assert.deepEqual(c.gpus, ['0', '1', 'GPU-3f2a']);
    assert.equal(c.pipeline, 0);
    assert.deepEqual(c.noise, { repeats: 3, z: 2, confirm: true, maxRuns: 6 });
    assert.deepEqual(parseConfig(MINIMAL + 'noise: {repeats: 5, z: 1.5, confirm: false}\n').noise, { repeats: 5, z: 1.5, confirm: false, maxRuns: 10 });
    assert.deepEqual(parseConfig(MINIMAL + 'noise: {repeats: 3, maxRuns: 20}\n').noise, { repeats: 3, z: 2, confirm: true, maxRuns: 20 });
    assert.deepEqual(parseConfig(MINIMAL + 'noise: {repeats: 3, maxRuns: 24, effect: 1}\n').noise, { repeats: 3, z: 2, confirm: true, maxRuns: 24, effect: 1 });
    assert.deepEqual(parseConfig(MINIMAL + 'gpus: 2\n').gpus, ['2']);
    // alpha in place of z: the config holds the one-look z for it (1.645 for 5 %); the session raises it for the looks.
    for (const alpha of ['0.05', '5%']) {
      const a = parseConfig(MINIMAL + `noise: {repeats: 3, alpha: ${alpha}}\n`).noise!;
      assert.deepEqual({ ...a, z: Number(a.z.toFixed(3)) }, { repeats: 3, z: 1.645, confirm: true, maxRuns: 6, alpha: 0.05 });
    }
  });

  const bad: [string, string, string, RegExp?][] = [
    ['gpus empty', MINIMAL + 'gpus: []\n', 'gpus', /non-empty list/],
    ['gpus negative', MINIMAL + 'gpus: [0, -1]\n', 'gpus[1]', /integer >= 0/],
    ['gpus fraction', MINIMAL + 'gpus: [0.5]\n', 'gpus[0]', /GPU index/],
    ['gpus with slurm', MINIMAL + 'gpus: [0]\nexecutor: {kind: slurm}\n', 'gpus', /executor\.gres/],
    ['pipeline', MINIMAL + 'pipeline: -1\n', 'pipeline', /integer from 0/],
    ['noise', MINIMAL + 'noise: 3\n', 'noise', /mapping \{repeats, z or alpha, confirm, maxRuns, effect\}/],
    ['noise.alpha', MINIMAL + 'noise: {repeats: 3, alpha: 0.5}\n', 'noise.alpha', /from 0\.01 to 0\.25, or 1% to 25%/],
    ['noise.alpha a word', MINIMAL + 'noise: {repeats: 3, alpha: low}\n', 'noise.alpha', /share/],
    ['noise.alpha beside z', MINIMAL + 'noise: {repeats: 3, z: 2, alpha: 0.05}\n', 'noise.z', /z or alpha, not both/],
    ['noise.effect', MINIMAL + 'noise: {repeats: 3, effect: 0}\n', 'noise.effect', /> 0/],
    ['noise.maxRuns', MINIMAL + 'noise: {repeats: 3, maxRuns: 0}\n', 'noise.maxRuns', /from 1/],
    ['noise.repeats', MINIMAL + 'noise: {repeats: 1}\n', 'noise.repeats', /from 2/],
    ['noise.repeats missing', MINIMAL + 'noise: {z: 2}\n', 'noise.repeats', /integer/],
    ['noise.z', MINIMAL + 'noise: {repeats: 3, z: 0}\n', 'noise.z', /> 0/],
    ['noise.confirm', MINIMAL + 'noise: {repeats: 3, confirm: maybe}\n', 'noise.confirm', /true or false/],
    ['atBudget', MINIMAL + 'atBudget: keep\n', 'atBudget', /crash, last/],
    ['noise unknown key', MINIMAL + 'noise: {repeats: 3, sigma: 2}\n', 'noise.sigma', /no such key/],
    ['tag', MINIMAL.replace('tag: mar5', 'tag: "bad tag"'), 'tag', /git branch/],
    ['tag missing', MINIMAL.replace('tag: mar5\n', ''), 'tag'],
    ['editable', MINIMAL.replace('editable: train.py', 'editable: []'), 'editable'],
    ['editable with ..', MINIMAL.replace('editable: train.py', 'editable: [../train.py]'), 'editable[0]', /relative/],
    ['readonly also editable', MINIMAL + 'readonly: [train.py]\n', 'readonly[0]', /not also editable/],
    ['run', MINIMAL.replace('run: python3 train.py', 'run: ""'), 'run'],
    ['budget', MINIMAL.replace('budget: 5m', 'budget: soon'), 'budget', /90s, 5m/],
    ['budget zero', MINIMAL.replace('budget: 5m', 'budget: 0s'), 'budget'],
    ['metric', MINIMAL.replace('metric: {name: val_loss}', 'metric: val_loss'), 'metric', /mapping/],
    ['metric.name', MINIMAL.replace('{name: val_loss}', '{name: "val loss"}'), 'metric.name'],
    ['metric.direction', MINIMAL.replace('{name: val_loss}', '{name: val_loss, direction: lower}'), 'metric.direction', /minimize, maximize/],
    ['metric.pattern no group', MINIMAL.replace('{name: val_loss}', "{name: val_loss, pattern: 'val_loss: \\S+'}"), 'metric.pattern', /exactly one capture group/],
    ['metric.pattern two groups', MINIMAL.replace('{name: val_loss}', "{name: val_loss, pattern: '(a)(b)'}"), 'metric.pattern', /it has 2/],
    ['metric.pattern bad regex', MINIMAL.replace('{name: val_loss}', "{name: val_loss, pattern: '(unclosed'}"), 'metric.pattern', /valid regular expression/],
    ['metric unknown key', MINIMAL.replace('{name: val_loss}', '{name: val_loss, goal: low}'), 'metric.goal', /no such key/],
    ['memory.unit', MINIMAL + 'memory: {unit: tb}\n', 'memory.unit', /mb, gb/],
    ['metrics duplicate', MINIMAL + 'metrics: [{name: val_loss}]\n', 'metrics[0].name', /unique/],
    ['constraints', MINIMAL + "constraints: ['memory <= x']\n", 'constraints[0]'],
    ['constraints unknown metric', MINIMAL + "constraints: ['speed > 3']\n", 'constraints[0]', /memory_gb, val_loss/],
    ['maxExperiments 0', MINIMAL + 'maxExperiments: 0\n', 'maxExperiments', /positive integer or "unlimited"/],
    ['maxExperiments -1', MINIMAL + 'maxExperiments: -1\n', 'maxExperiments'],
    ['maxExperiments 1.5', MINIMAL + 'maxExperiments: 1.5\n', 'maxExperiments'],
    ['maxExperiments lots', MINIMAL + 'maxExperiments: lots\n', 'maxExperiments'],
    ['proposer.kind', MINIMAL + 'proposer: genius\n', 'proposer.kind', /mutate, patches/],
    ['proposer.dir', MINIMAL + 'proposer: patches\n', 'proposer.dir'],
    ['policy', MINIMAL + 'policy: random\n', 'policy', /tree, greedy/],
    ['executor.kind', MINIMAL + 'executor: kubernetes\n', 'executor.kind', /local, manual, slurm/],
    ['parallel', MINIMAL + 'parallel: 0\n', 'parallel'],
    ['minDelta', MINIMAL + 'minDelta: -1\n', 'minDelta', />= 0/],
    ['minDelta share', MINIMAL + 'minDelta: half a percent\n', 'minDelta', /such as 0\.5%/],
    ['seed', MINIMAL + 'seed: 1.5\n', 'seed', /integer/],
    ['notes', MINIMAL + 'notes: /etc/passwd\n', 'notes', /relative/],
    ['graceSeconds', MINIMAL + 'graceSeconds: 0\n', 'graceSeconds'],
    ['search.patience', MINIMAL + 'search: {patience: 0}\n', 'search.patience'],
    ['unknown key', MINIMAL + 'budgte: 5m\n', 'budgte', /no such key; known keys are tag, editable/],
  ];
  for (const [name, yaml, path, expected] of bad) {
    it(`refuses a bad ${name} at ${path}`, () => refuses(yaml, path, expected));
  }

  it('reports every bad key at once, with the value it got', () => {
    const issues = issuesOf(MINIMAL.replace('budget: 5m', 'budget: soon') + 'policy: random\nparallel: -2\n');
    assert.deepEqual(issues.map((i) => i.path).sort(), ['budget', 'parallel', 'policy']);
    const err = new ConfigError(issues);
    assert.match(err.message, /policy: got "random", expected one of tree, greedy/);
  });

  it('refuses YAML that does not parse, with the line', () => {
    const issues = issuesOf('tag: x\neditable: [train.py\nrun: y\n');
    assert.equal(issues[0]!.path, '(file)');
    assert.match(String(issues[0]!.value), /line \d+/);
  });

  it('validates command-line overrides the same way', () => {
    assert.equal(issuesOf(MINIMAL, { proposer: 'bogus' })[0]!.path, 'proposer.kind');
    assert.equal(parseConfig(MINIMAL, { maxExperiments: null }).maxExperiments, null);
    assert.equal(parseConfig(MINIMAL, { policy: 'greedy' }).policy, 'greedy');
  });

  it('parses durations', () => {
    const table: [string | number, number | null][] = [['90s', 90], ['5m', 300], ['1h', 3600], ['1h30m', 5400], ['2.5m', 150], ['300', 300], [45, 45], ['500ms', 0.5], ['', null], ['5 minutes', null], ['-5s', null], [0, null], ['m', null]];
    for (const [text, want] of table) assert.equal(parseDuration(text), want, String(text));
  });
});
