// The OpenAI-compatible proposer against a server on 127.0.0.1: streaming, JSON, 429 then success with
// Retry-After, 500s, a hang and a stalled stream that time out, garbage, a model that cannot produce a
// usable edit, Stop, and config errors. No internet.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ConfigError } from '../../../../src/core/config.js';
import { createProposer } from '../../../../src/core/factory.js';
import { ProposalError, type ProposalRequest } from '../../../../src/core/proposers/proposer.js';
import { registerApiKeySource } from '../../../../src/core/proposers/secrets.js';
import { createOpenAiCompatibleProposer, type BackendDeps } from '../../../../src/core/proposers/openaiCompatible.js';
import { lastUserText, openAiServer, promptOf, searchReplace, type FakeServer } from '../../fixtures/proposers/servers.js';
import { fakeConfig, fakeRequest } from '../../helpers/nodes.js';
import { tempRepo, type TempRepo } from '../../helpers/repo.js';
import { rejection } from '../../helpers/assertions.js';

const TRAIN = 'import os\nLR = 0.1\nWIDTH = 4\nprint("val_loss: 1.0")\n';
const KEY = 'sk-test-OPENAI-0123456789abcdefghij';
const ENV = 'AR_TEST_OPENAI_KEY';
const GOOD = searchReplace('train.py', 'LR = 0.1', 'LR = 0.2', 'PLAN: Double the learning rate');

let server: FakeServer;
let repo: TempRepo;
before(async () => {
  server = await openAiServer();
  repo = tempRepo({ 'train.py': TRAIN, 'prepare.py': 'SPLIT = 0.9\n' });
  process.env[ENV] = KEY;
});
after(async () => {
  await server.close();
  repo.cleanup();
  delete process.env[ENV];
});
afterEach(() => {
  server.script.length = 0;
  server.requests.length = 0;
  server.responder = () => ({ type: 'reply', text: GOOD, usage: { tokensIn: 100, tokensOut: 20 } });
});

function proposerFor(extra: Record<string, unknown> = {}, deps: BackendDeps = {}) {
  const config = fakeConfig({ proposer: { kind: 'openai-compatible', baseUrl: `${server.url}/v1`, model: 'fake-coder', apiKeyEnv: ENV, retries: 0, timeout: '5s', ...extra } });
  return { proposer: createOpenAiCompatibleProposer(config, repo.root, { retryBaseMs: 5, ...deps }), config };
}

function req(config: ReturnType<typeof proposerFor>['config'], partial: Partial<ProposalRequest> = {}): ProposalRequest {
  return fakeRequest(repo.root, { config, ...partial });
}

describe('openai-compatible: a good reply', () => {
  it('streams the reply, applies the edit, records model, tokens and cost, and sends the key only in the header', async () => {
    server.script.push({ type: 'reply', text: GOOD, usage: { tokensIn: 1200, tokensOut: 80 }, chunk: 5, model: 'fake-coder-2025' });
    const { proposer, config } = proposerFor({ price: { input: 2, output: 8 } });
    const p = await proposer.propose(req(config));
    assert.ok(p);
    assert.deepEqual(p.files, { 'train.py': TRAIN.replace('LR = 0.1', 'LR = 0.2') });
    assert.equal(p.description, 'Double the learning rate');
    assert.match(p.plan, /loss is still falling/);
    assert.match(p.editKey, /^edit:[0-9a-f]{16}$/);
    assert.deepEqual(p.proposer, { kind: 'openai-compatible', model: 'fake-coder-2025', tokensIn: 1200, tokensOut: 80, costUsd: (1200 * 2 + 80 * 8) / 1e6 });
    const r = server.requests[0]!;
    assert.equal(r.path, '/v1/chat/completions');
    assert.equal(r.headers.authorization, `Bearer ${KEY}`);
    assert.equal(r.body.stream, true);
    assert.deepEqual(r.body.stream_options, { include_usage: true });
    assert.equal(r.body.model, 'fake-coder');
    const messages = r.body.messages as { role: string; content: string }[];
    assert.equal(messages[0]!.role, 'system');
    assert.match(messages[0]!.content, /Edit only the editable files: train\.py/);
    assert.match(promptOf(r), /# Current code of #0\n## train\.py\n```python\nimport os\nLR = 0\.1/);
    assert.ok(!JSON.stringify(r.body).includes(KEY));
    proposer.dispose();
  });

  it('reads a plain JSON answer from a server that does not stream', async () => {
    server.script.push({ type: 'reply', text: GOOD, usage: { tokensIn: 10, tokensOut: 5 }, stream: false });
    const { proposer, config } = proposerFor({ stream: false });
    const p = await proposer.propose(req(config));
    assert.equal(p?.proposer.tokensIn, 10);
    assert.equal(server.requests[0]!.body.stream, false);
  });

  it('switches to max_completion_tokens when the server asks for it (OpenAI reasoning models)', async () => {
    server.script.push({ type: 'status', status: 400, body: { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead." } } });
    const { proposer, config } = proposerFor({ maxTokens: 4000 });
    assert.ok(await proposer.propose(req(config)));
    assert.equal(server.requests[1]!.body.max_completion_tokens, 4000);
    assert.equal(server.requests[1]!.body.max_tokens, undefined);
  });
});

describe('openai-compatible: transport failures', () => {
  it('429 then success: waits as long as Retry-After says, then succeeds', async () => {
    server.script.push({ type: 'status', status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'Rate limit reached' } } });
    const logs: string[] = [];
    const { proposer, config } = proposerFor({ retries: 2 }, { onLog: (m) => logs.push(m) });
    const t0 = Date.now();
    const p = await proposer.propose(req(config));
    const waited = Date.now() - t0;
    assert.ok(p);
    assert.equal(server.requests.length, 2);
    assert.ok(waited >= 950, `waited only ${waited} ms`);
    assert.match(logs[0]!, /HTTP 429 .*Rate limit reached; retry 1 of 2 in 1\.0 s/);
  });

  it('500 every time: retries with backoff, then a ProposalError with the status and the server message', async () => {
    server.responder = () => ({ type: 'status', status: 500, body: { error: { message: 'upstream exploded' } } });
    const { proposer, config } = proposerFor({ retries: 2 });
    const e = await rejection(proposer.propose(req(config)));
    assert.ok(e instanceof ProposalError);
    assert.match(e.message, /HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: upstream exploded/);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(e.proposer, { kind: 'openai-compatible', model: 'fake-coder' });
  });

  it('a server that never answers times out, and so does a stream that stalls', async () => {
    server.script.push({ type: 'hang' }, { type: 'hang' });
    const { proposer, config } = proposerFor({ retries: 1, timeout: '1s' });
    const t0 = Date.now();
    const e = await rejection(proposer.propose(req(config)));
    assert.ok(e instanceof ProposalError);
    assert.match(e.message, /timed out: no complete answer within 1\.0 s/);
    assert.equal(server.requests.length, 2);
    assert.ok(Date.now() - t0 < 4000);

    server.script.push({ type: 'stall', text: 'PLAN: half an answ' });
    const stalled = proposerFor({ timeout: '30s', idleTimeout: '500ms' });
    const t1 = Date.now();
    const e2 = await rejection(stalled.proposer.propose(req(stalled.config)));
    assert.match(e2.message, /timed out: no data for 500 ms/);
    assert.ok(Date.now() - t1 < 3000);
  });

  it('garbage from the server: a clear error; retried like a transient failure', async () => {
    server.script.push({ type: 'garbage', body: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' });
    const { proposer, config } = proposerFor();
    const e = await rejection(proposer.propose(req(config)));
    assert.match(e.message, /did not answer in the OpenAI format \(text\/html\): <html><body>502 Bad Gateway/);

    server.script.push({ type: 'garbage', body: 'data: {not json\n\n', contentType: 'text/event-stream' });
    const again = proposerFor({ retries: 1 });
    assert.ok(await again.proposer.propose(req(again.config)));
    assert.equal(server.requests.length, 3);
  });

  it('cannot reach the server: says so and how', async () => {
    const closed = await openAiServer();
    await closed.close();
    const config = fakeConfig({ proposer: { kind: 'openai-compatible', baseUrl: `${closed.url}/v1`, model: 'm', retries: 0 } });
    const e = await rejection(createOpenAiCompatibleProposer(config, repo.root).propose(req(config)));
    assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: connection refused \(is the server running\?\)/);
  });

  it('401: not retried; names the variable, never the key', async () => {
    server.responder = () => ({ type: 'status', status: 401, body: { error: { message: `Incorrect API key provided: ${KEY}` } } });
    const { proposer, config } = proposerFor({ retries: 3 });
    const e = await rejection(proposer.propose(req(config)));
    assert.equal(server.requests.length, 1);
    assert.match(e.message, /HTTP 401 .*Incorrect API key provided: \[REDACTED\] \(check the key in AR_TEST_OPENAI_KEY\)/);
    assert.ok(!e.message.includes(KEY));
  });

  it('a blocked model waits for the person when the host can ask (then retries)', async () => {
    server.script.push({ type: 'status', status: 429, body: { error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } } });
    const asked: string[] = [];
    const { proposer, config } = proposerFor({}, { onBlocked: async (e) => { asked.push(e.message); return 'retry'; } });
    assert.ok(await proposer.propose(req(config)));
    assert.match(asked[0]!, /the account has no quota left/);
  });

  it('Stop cancels a request in flight at once', async () => {
    server.script.push({ type: 'hang' });
    const { proposer, config } = proposerFor({ timeout: '60s', retries: 3 });
    const stop = new AbortController();
    const pending = proposer.propose(req(config, { signal: stop.signal }));
    setTimeout(() => stop.abort(), 100);
    const t0 = Date.now();
    const e = await rejection(pending);
    assert.ok(!(e instanceof ProposalError), `a stop is not a failed proposal: ${e.message}`);
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(server.requests.length, 1);
  });
});

describe('openai-compatible: replies that do not give a usable edit', () => {
  it('shows the model its mistake once; a good second answer is used and both calls are counted', async () => {
    server.script.push(
      { type: 'reply', text: 'PLAN: x\ntrain.py\n<<<<<<< SEARCH\nLR = 0.01\n=======\nLR = 0.02\n>>>>>>> REPLACE\n', usage: { tokensIn: 100, tokensOut: 10 } },
      { type: 'reply', text: GOOD, usage: { tokensIn: 150, tokensOut: 12 } },
    );
    const { proposer, config } = proposerFor();
    const p = await proposer.propose(req(config));
    assert.equal(p?.proposer.tokensIn, 250);
    assert.equal(p?.proposer.tokensOut, 22);
    const retry = server.requests[1]!;
    const messages = retry.body.messages as { role: string; content: string }[];
    assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.match(lastUserText(retry), /^Your edit could not be used: block 1 for train\.py: the SEARCH text was not found in the file[\s\S]*LR = 0\.1/);
  });

  it('garbage from the model twice: a ProposalError after one retry, with the transcript kept', async () => {
    server.responder = () => ({ type: 'reply', text: 'Sure! I would love to help with your training script.' });
    const { proposer, config } = proposerFor();
    const e = await rejection(proposer.propose(req(config)));
    assert.ok(e instanceof ProposalError);
    assert.match(e.message, /the model's edit could not be used after 1 retry: the reply has no edit/);
    assert.equal(server.requests.length, 2);
    const m = /transcript: (\.autoresearch\/t1\/proposals\/[^)]+\.md)/.exec(e.message);
    assert.ok(m, e.message);
    const text = readFileSync(join(repo.root, m[1]!), 'utf8');
    assert.match(text, /## Reply 2\n[\s\S]*I would love to help/);
    assert.match(text, /## Failure/);
  });

  it('an edit already tried from this node is refused, and the key of the repeat is given so it counts as tried', async () => {
    const { proposer, config } = proposerFor();
    const first = await proposer.propose(req(config));
    assert.ok(first);
    server.requests.length = 0;
    const e = await rejection(proposer.propose(req(config, { triedFromParent: new Set([first.editKey]) })));
    assert.ok(e instanceof ProposalError);
    assert.equal(e.editKey, first.editKey);
    assert.match(lastUserText(server.requests[1]!), /this exact change was already tried from #0/);
  });

  it('writes a transcript of every proposal under .autoresearch/<tag>/proposals/', async () => {
    const { proposer, config } = proposerFor();
    await proposer.propose(req(config));
    const dir = join(repo.root, '.autoresearch', 't1', 'proposals');
    assert.ok(existsSync(dir));
    const files = readdirSync(dir).filter((f) => /-improve-from-0-[^/]+\.md$/.test(f));
    assert.ok(files.length > 0);
    const text = readFileSync(join(dir, files[files.length - 1]!), 'utf8');
    assert.match(text, /## Prompt\n[\s\S]*## Reply 1\n[\s\S]*## Result\n[\s\S]*Accepted: Double the learning rate/);
  });
});

describe('openai-compatible: config', () => {
  function configError(proposer: Record<string, unknown>): string {
    try {
      createProposer(fakeConfig({ proposer: { kind: 'openai-compatible', ...proposer } }), repo.root);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.message;
    }
    assert.fail('expected a ConfigError');
  }

  it('names every bad key by its path and never echoes a key', () => {
    const msg = configError({ baseURL: 'http://x', model: 7, apiKey: KEY, apiKeyEnv: KEY, temperature: 5, timeout: 'soon' });
    assert.match(msg, /proposer\.baseURL: got "http:\/\/x", expected no such key; known keys are kind, baseUrl, model/);
    assert.match(msg, /proposer\.baseUrl: got nothing, expected a non-empty string/);
    assert.match(msg, /proposer\.model: got 7/);
    assert.match(msg, /proposer\.apiKey: got "\(hidden\)", expected no key in the config/);
    assert.match(msg, /proposer\.apiKeyEnv: got "\(hidden\)", expected the NAME of an environment variable/);
    assert.match(msg, /proposer\.temperature: got 5, expected a number from 0 to 2/);
    assert.match(msg, /proposer\.timeout: got "soon", expected a duration/);
    assert.ok(!msg.includes(KEY));
  });

  it('refuses to start when the key variable is unset, unless a host can supply keys', () => {
    const msg = configError({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'AR_SURELY_UNSET_KEY' });
    assert.match(msg, /proposer\.apiKeyEnv: got "AR_SURELY_UNSET_KEY", expected the name of an environment variable that is set; AR_SURELY_UNSET_KEY is not \(export AR_SURELY_UNSET_KEY=<your key> before running\)/);
    const source = registerApiKeySource(() => undefined);
    try {
      assert.ok(createProposer(fakeConfig({ proposer: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'AR_SURELY_UNSET_KEY' } }), repo.root));
    } finally {
      source.dispose();
    }
  });

  it('a key source (VS Code SecretStorage) comes before the environment', async () => {
    const source = registerApiKeySource(({ env }) => (env === ENV ? 'sk-from-secret-storage-0123456789' : undefined));
    try {
      const { proposer, config } = proposerFor();
      await proposer.propose(req(config));
      assert.equal(server.requests[0]!.headers.authorization, 'Bearer sk-from-secret-storage-0123456789');
    } finally {
      source.dispose();
    }
  });
});
