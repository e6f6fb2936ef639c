// The Anthropic proposer (official SDK, streaming) against an Anthropic-shaped server on 127.0.0.1:
// a streamed reply with usage and cost, 429 then success, 500s, a hang, garbage, Stop. No internet.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ConfigError } from '../../../../src/core/config.js';
import { createProposer } from '../../../../src/core/factory.js';
import { ProposalError, type ProposalRequest } from '../../../../src/core/proposers/proposer.js';
import { createAnthropicProposer } from '../../../../src/core/proposers/anthropic.js';
import type { BackendDeps } from '../../../../src/core/proposers/openaiCompatible.js';
import { anthropicServer, lastUserText, searchReplace, type FakeServer } from '../../fixtures/proposers/servers.js';
import { fakeConfig, fakeRequest } from '../../helpers/nodes.js';
import { tempRepo, type TempRepo } from '../../helpers/repo.js';
import { rejection } from '../../helpers/assertions.js';

const TRAIN = 'import os\nLR = 0.1\nWIDTH = 4\nprint("val_loss: 1.0")\n';
const KEY = 'sk-ant-api03-TESTKEY-0123456789abcdefghijklmnop';
const ENV = 'AR_TEST_ANTHROPIC_KEY';
const GOOD = searchReplace('train.py', 'WIDTH = 4', 'WIDTH = 16', 'PLAN: Widen the hidden layer to 16');

let server: FakeServer;
let repo: TempRepo;
before(async () => {
  server = await anthropicServer();
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
  const config = fakeConfig({ proposer: { kind: 'anthropic', baseUrl: server.url, model: 'claude-haiku-4-5', apiKeyEnv: ENV, retries: 0, timeout: '5s', ...extra } });
  return { proposer: createAnthropicProposer(config, repo.root, { retryBaseMs: 5, ...deps }), config };
}

function req(config: ReturnType<typeof proposerFor>['config'], partial: Partial<ProposalRequest> = {}): ProposalRequest {
  return fakeRequest(repo.root, { config, ...partial });
}

describe('anthropic', () => {
  it('streams the reply through the SDK, with the key in its header, and records tokens and the list-price cost', async () => {
    server.script.push({ type: 'reply', text: GOOD, usage: { tokensIn: 2000, tokensOut: 100 }, chunk: 7, model: 'claude-haiku-4-5-20251001' });
    const { proposer, config } = proposerFor();
    const p = await proposer.propose(req(config));
    assert.ok(p);
    assert.deepEqual(p.files, { 'train.py': TRAIN.replace('WIDTH = 4', 'WIDTH = 16') });
    assert.equal(p.description, 'Widen the hidden layer to 16');
    // claude-haiku-4-5 lists at $1 in / $5 out per million tokens.
    assert.deepEqual(p.proposer, { kind: 'anthropic', model: 'claude-haiku-4-5-20251001', tokensIn: 2000, tokensOut: 100, costUsd: (2000 * 1 + 100 * 5) / 1e6 });
    const r = server.requests[0]!;
    assert.equal(r.path, '/v1/messages');
    // SDK 1.x sends the key as a bearer token; older ones used x-api-key.
    assert.ok(r.headers['x-api-key'] === KEY || r.headers.authorization === `Bearer ${KEY}`, JSON.stringify(r.headers));
    assert.ok(r.headers['anthropic-version']);
    assert.equal(r.body.stream, true);
    assert.equal(r.body.model, 'claude-haiku-4-5');
    assert.match(String(r.body.system), /research agent of AutoResearch/);
    assert.equal((r.body.messages as unknown[]).length, 1);
    proposer.dispose();
  });

  it('429 then success: Retry-After respected', async () => {
    server.script.push({ type: 'status', status: 429, headers: { 'retry-after': '1' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } } });
    const { proposer, config } = proposerFor({ retries: 1 });
    const t0 = Date.now();
    assert.ok(await proposer.propose(req(config)));
    assert.ok(Date.now() - t0 >= 950);
    assert.equal(server.requests.length, 2);
  });

  it('500 and 529 every time: retried, then a ProposalError with the API message', async () => {
    server.script.push({ type: 'status', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    server.responder = () => ({ type: 'status', status: 500, body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } });
    const { proposer, config } = proposerFor({ retries: 2 });
    const e = await rejection(proposer.propose(req(config)));
    assert.ok(e instanceof ProposalError);
    assert.match(e.message, /HTTP 500 from http:\/\/127\.0\.0\.1:\d+: Internal server error/);
    assert.equal(server.requests.length, 3);
  });

  it('a hang times out', async () => {
    server.script.push({ type: 'hang' });
    const { proposer, config } = proposerFor({ timeout: '1s' });
    const t0 = Date.now();
    const e = await rejection(proposer.propose(req(config)));
    assert.match(e.message, /anthropic claude-haiku-4-5 timed out: no complete answer within 1\.0 s/);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('garbage from the server is an error, not a crash', async () => {
    server.responder = () => ({ type: 'garbage', body: 'event: message_start\ndata: {oops\n\n', contentType: 'text/event-stream' });
    const { proposer, config } = proposerFor();
    const e = await rejection(proposer.propose(req(config)));
    assert.ok(e instanceof ProposalError, String(e));
    assert.match(e.message, /http:\/\/127\.0\.0\.1:\d+ did not answer in the Messages API's format/);
  });

  it('a bad key: not retried, redacted, and the variable named', async () => {
    server.responder = () => ({ type: 'status', status: 401, body: { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${KEY}` } } });
    const { proposer, config } = proposerFor({ retries: 3 });
    const e = await rejection(proposer.propose(req(config)));
    assert.equal(server.requests.length, 1);
    assert.match(e.message, /HTTP 401 .*invalid x-api-key \[REDACTED\] \(check the key in AR_TEST_ANTHROPIC_KEY\)/);
    assert.ok(!e.message.includes(KEY));
  });

  it('cannot reach the server: says so and how, in the words the other backends use', async () => {
    const closed = await anthropicServer();
    await closed.close();
    const config = fakeConfig({ proposer: { kind: 'anthropic', baseUrl: closed.url, model: 'claude-haiku-4-5', apiKeyEnv: ENV, retries: 0 } });
    const e = await rejection(createAnthropicProposer(config, repo.root).propose(req(config)));
    assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused \(is the server running\?\)/);
  });

  it('404 names the model setting and is not retried', async () => {
    server.responder = () => ({ type: 'status', status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'model: claude-nope' } } });
    const { proposer, config } = proposerFor({ retries: 2 });
    const e = await rejection(proposer.propose(req(config)));
    assert.equal(server.requests.length, 1);
    assert.match(e.message, /HTTP 404 .*model: claude-nope \(check proposer\.model "claude-haiku-4-5" and proposer\.baseUrl\)/);
  });

  it('the model\'s bad edit gets one retry with the error', async () => {
    server.script.push({ type: 'reply', text: 'PLAN: oops\nno edit here' }, { type: 'reply', text: GOOD });
    const { proposer, config } = proposerFor();
    assert.ok(await proposer.propose(req(config)));
    assert.match(lastUserText(server.requests[1]!), /Your edit could not be used: the reply has no edit/);
  });

  it('Stop cancels at once', async () => {
    server.script.push({ type: 'hang' });
    const { proposer, config } = proposerFor({ timeout: '60s' });
    const stop = new AbortController();
    const pending = proposer.propose(req(config, { signal: stop.signal }));
    setTimeout(() => stop.abort(), 100);
    const t0 = Date.now();
    const e = await rejection(pending);
    assert.ok(!(e instanceof ProposalError), e.message);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('config: model required, the default key variable is ANTHROPIC_API_KEY', () => {
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      assert.throws(() => createProposer(fakeConfig({ proposer: { kind: 'anthropic' } }), repo.root), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /proposer\.model: got nothing, expected a non-empty string \(e\.g\. claude-sonnet-4-6\)/);
        return true;
      });
      assert.throws(() => createProposer(fakeConfig({ proposer: { kind: 'anthropic', model: 'claude-haiku-4-5' } }), repo.root), /proposer\.apiKeyEnv: got "ANTHROPIC_API_KEY", expected the name of an environment variable that is set/);
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
    }
  });
});
