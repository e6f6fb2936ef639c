// Whole sessions through the CLI and the Controller with model-backed proposers on local fake servers:
// the tree grows from the model's edits, every node records model and tokens, the summary totals them,
// and a fake API key never lands in anything the session writes — even when the server echoes it, the
// model writes it into the code, and the training script prints its whole environment.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../../../src/cli/main.js';
import { SessionModel } from '../../../../src/core/model.js';
import { Journal } from '../../../../src/core/record/journal.js';
import { anthropicServer, openAiServer, promptOf, type Behaviour, type FakeServer, type Recorded } from '../../fixtures/proposers/servers.js';
import { TOY_PREPARE, TOY_TRAIN, tempRepo, type TempRepo } from '../../helpers/repo.js';

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups) await c(); });

/** A model that knows the toy script: each reply is the first idea not already tried from the node, read from the prompt. */
function toyModel(key: string): (req: Recorded, index: number) => Behaviour {
  return (req, index) => {
    const prompt = promptOf(req);
    const code = prompt.slice(prompt.lastIndexOf('# Current code of #'));
    const lr = Number(/^LR = (\S+)$/m.exec(code)?.[1] ?? '0.1');
    const width = Number(/^WIDTH = (\S+)$/m.exec(code)?.[1] ?? '4');
    const tried = prompt.slice(prompt.indexOf('# Already tried from'), prompt.indexOf('# Your task'));
    const round = (x: number) => Number(x.toFixed(3));
    const ideas: [string, string, string][] = [
      [`LR ${lr} -> ${round(lr + 0.1)}`, `LR = ${lr}`, `LR = ${round(lr + 0.1)}`],
      [`WIDTH ${width} -> ${width * 2}`, `WIDTH = ${width}`, `WIDTH = ${width * 2}`],
      [`LR ${lr} -> ${round(lr / 2)}`, `LR = ${lr}`, `LR = ${round(lr / 2)}`],
      ['Switch ACT to gelu', 'ACT = "relu"  # choices: relu, gelu, tanh', 'ACT = "gelu"  # choices: relu, gelu, tanh'],
    ];
    const idea = ideas.find(([d]) => !tried.includes(`"${d}"`)) ?? ideas[0]!;
    const auth = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '');
    // An evil or buggy server: it echoes the key it was sent into the plan...
    let replace = idea[2];
    // ...the model writes it into the code from its third answer on (a proposal prepared ahead may be dropped when it
    // cannot follow a new best, so one answer alone need not be committed), and makes the script print its environment.
    if (index >= 2) replace += `\nAPI_KEY = "${key}"\nprint(dict(os.environ))`;
    const text = `PLAN: ${idea[0]}\nThe server saw ${auth}; trying ${idea[0]} with key ${key}.\n\ntrain.py\n<<<<<<< SEARCH\n${idea[1]}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
    return { type: 'reply', text, usage: { tokensIn: 1000 + index, tokensOut: 50 }, model: 'toy-model-v1' };
  };
}

/** Every file under a folder, .git excluded. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === '.git') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

async function session(kind: 'openai-compatible' | 'anthropic', server: FakeServer, env: string, key: string): Promise<{ repo: TempRepo; out: string[]; err: string[]; code: number }> {
  const repo = tempRepo({ 'train.py': TOY_TRAIN, 'prepare.py': TOY_PREPARE, 'program.md': '# Notes\nTune the optimiser first.\n' });
  cleanups.push(repo.cleanup);
  const proposer = kind === 'anthropic'
    ? `{kind: anthropic, baseUrl: "${server.url}", model: claude-haiku-4-5, apiKeyEnv: ${env}, retries: 2, timeout: 10s}`
    : `{kind: openai-compatible, baseUrl: "${server.url}/v1", model: toy-model, apiKeyEnv: ${env}, retries: 2, timeout: 10s, price: {input: 1, output: 4}}`;
  repo.write('autoresearch.config.yaml', `tag: leak\neditable: [train.py]\nreadonly: [prepare.py]\nrun: python3 train.py\nbudget: 20s\nmetric: {name: val_loss, direction: minimize}\nmaxExperiments: 5\nproposer: ${proposer}\npolicy: tree\nnotes: program.md\n`);
  repo.commit('config');
  const out: string[] = [];
  const err: string[] = [];
  process.env[env] = key;
  const code = await main(['run', '--cwd', repo.root], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { repo, out, err, code };
}

function assertNoKey(repo: TempRepo, key: string, texts: string[]): void {
  const fragment = key.slice(8, 24);
  const written = filesUnder(repo.root);
  assert.ok(written.some((f) => f.endsWith('journal.jsonl')) && written.some((f) => f.endsWith('results.tsv')) && written.some((f) => f.endsWith('autoresearch-summary.md')));
  assert.ok(written.some((f) => /\/logs\/\d+\.log$/.test(f)) && written.some((f) => /\/proposals\/.*\.md$/.test(f)));
  for (const f of written) {
    const text = readFileSync(f, 'latin1');
    assert.ok(!text.includes(key) && !text.includes(fragment), `the key leaked into ${f}`);
  }
  const git = execFileSync('git', ['log', '-p', '--all', '--format=fuller'], { cwd: repo.root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const refs = execFileSync('git', ['for-each-ref'], { cwd: repo.root, encoding: 'utf8' });
  for (const [what, text] of [['git log -p --all', git], ['git refs', refs], ...texts.map((t, i) => [`output ${i}`, t] as [string, string])] as [string, string][]) {
    assert.ok(!text.includes(key) && !text.includes(fragment), `the key leaked into ${what}`);
  }
}

describe('a session with a model-backed proposer (CLI, Controller, fake server)', () => {
  it('openai-compatible: grows the tree from the model\'s edits, records usage, and never writes the key anywhere', async () => {
    const KEY = 'sk-leak-7Hq9ZxWv3Lp2Nr8Tk5YbQ1Md';
    const server = await openAiServer();
    cleanups.push(() => server.close());
    server.responder = toyModel(KEY);
    // The first call fails with the key echoed in the error body, then succeeds on the retry.
    server.script.push({ type: 'status', status: 500, body: { error: { message: `internal error for Bearer ${KEY}` } } });
    const { repo, out, err, code } = await session('openai-compatible', server, 'AR_LEAK_OPENAI_KEY', KEY);
    assert.equal(code, 0, [...out, ...err].join('\n'));
    assert.equal(process.env.AR_LEAK_OPENAI_KEY, undefined, 'the key is withheld from child processes');

    const journal = Journal.open(join(repo.root, '.autoresearch', 'leak', 'journal.jsonl'));
    const model = new SessionModel();
    for (const r of journal.records) model.apply(r);
    journal.close();
    const nodes = model.nodes.filter((n) => n.id !== 0);
    assert.equal(nodes.length, 5);
    assert.ok(nodes.some((n) => n.status === 'keep'), 'some idea improved the metric');
    for (const n of nodes) {
      assert.equal(n.proposer.kind, 'openai-compatible');
      assert.equal(n.proposer.model, 'toy-model-v1');
      assert.ok(n.proposer.tokensIn! >= 1000 && n.proposer.tokensOut === 50, JSON.stringify(n.proposer));
      assert.ok(n.proposer.costUsd! > 0);
    }
    // The model saw the history: no description is repeated from one parent.
    const seen = new Set<string>();
    for (const n of nodes) {
      assert.ok(!seen.has(`${n.parentId}:${n.description}`), `repeated ${n.description} from #${n.parentId}`);
      seen.add(`${n.parentId}:${n.description}`);
    }
    assert.match(readFileSync(join(repo.root, 'autoresearch-summary.md'), 'utf8'), /Proposer usage: [\d.]+k? tokens in, 250 out, \$0\.\d{2,4}\b/);
    // The planted key was replaced in the code that was committed and run.
    const planted = nodes.find((n) => repo.git('show', `${n.commit}:train.py`).includes('API_KEY'));
    assert.ok(planted, 'the model\'s edit with the key was committed');
    assert.match(repo.git('show', `${planted.commit}:train.py`), /API_KEY = "\[REDACTED\]"/);
    assertNoKey(repo, KEY, [...out, ...err]);
  });

  it('anthropic: the same through the official SDK', async () => {
    const KEY = 'sk-ant-api03-LEAK-4Fh8Kd2Ls9Qw3Er7Ty6Ui';
    const server = await anthropicServer();
    cleanups.push(() => server.close());
    server.responder = toyModel(KEY);
    server.script.push({ type: 'status', status: 429, headers: { 'retry-after': '0' }, body: { type: 'error', error: { type: 'rate_limit_error', message: `slow down, ${KEY}` } } });
    const { repo, out, err, code } = await session('anthropic', server, 'AR_LEAK_ANTHROPIC_KEY', KEY);
    assert.equal(code, 0, [...out, ...err].join('\n'));
    assert.ok(out.some((l) => /^\[EXP\] leak 5 \| commit:[0-9a-f]{7} \| val_loss:/.test(l)), out.join('\n'));
    assertNoKey(repo, KEY, [...out, ...err]);
  });
});
