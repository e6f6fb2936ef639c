// The shared helpers of the model-backed proposers: SSE parsing, Retry-After, backoff, redaction, prices.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listPrice } from '../../../../src/core/proposers/prices.js';
import { addSecret, redact, redactKnown } from '../../../../src/core/proposers/secrets.js';
import { Deadline, httpModelError, ModelError, networkCause, parseRetryAfter, readSse, retryLine, withRetries } from '../../../../src/core/proposers/transport.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for (const p of parts) yield enc.encode(p);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('readSse', () => {
  it('joins multi-line data, keeps event names, skips comments, and copes with CRLF and events split across chunks', async () => {
    const events = await all(readSse(chunks(': keep-alive\r\n', 'event: message_start\r\ndata: {"a":', '1}\r\n\r\ndata: line one\ndata: line two\n', '\ndata: [DONE]\n\n')));
    assert.deepEqual(events, [
      { event: 'message_start', data: '{"a":1}' },
      { event: 'message', data: 'line one\nline two' },
      { event: 'message', data: '[DONE]' },
    ]);
  });

  it('yields a last event that has no blank line after it, and splits a UTF-8 character across chunks correctly', async () => {
    const bytes = new TextEncoder().encode('data: héllo');
    async function* split(): AsyncGenerator<Uint8Array> { yield bytes.slice(0, 8); yield bytes.slice(8); }
    assert.deepEqual(await all(readSse(split())), [{ event: 'message', data: 'héllo' }]);
  });
});

describe('parseRetryAfter', () => {
  const h = (m: Record<string, string>) => (k: string) => m[k];
  it('reads seconds, an HTTP date and retry-after-ms', () => {
    assert.equal(parseRetryAfter(h({ 'retry-after': '7' })), 7000);
    assert.equal(parseRetryAfter(h({ 'retry-after-ms': '1500', 'retry-after': '7' })), 1500);
    assert.equal(parseRetryAfter(h({ 'retry-after': 'Wed, 21 Oct 2015 07:28:10 GMT' }), Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
    assert.equal(parseRetryAfter(h({})), undefined);
    assert.equal(parseRetryAfter(h({ 'retry-after': 'soon' })), undefined);
  });
});

describe('withRetries', () => {
  const signal = new AbortController().signal;
  it('retries retryable errors only, and gives up on a Retry-After longer than it will wait', async () => {
    let n = 0;
    assert.equal(await withRetries(async () => { if (n++ < 2) throw new ModelError('503', { retryable: true }); return 'ok'; }, { retries: 3, signal, baseDelayMs: 1 }), 'ok');
    n = 0;
    await assert.rejects(withRetries(async () => { n++; throw new ModelError('400'); }, { retries: 3, signal, baseDelayMs: 1 }), /400/);
    assert.equal(n, 1);
    n = 0;
    await assert.rejects(withRetries(async () => { n++; throw new ModelError('429', { retryable: true, retryAfterMs: 3_600_000 }); }, { retries: 3, signal, maxRetryAfterMs: 60_000 }), /429/);
    assert.equal(n, 1);
  });

  it('a stop during the backoff ends it at once', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 30);
    const t0 = Date.now();
    await assert.rejects(withRetries(async () => { throw new ModelError('503', { retryable: true, retryAfterMs: 10_000 }); }, { retries: 3, signal: stop.signal }));
    assert.ok(Date.now() - t0 < 500);
  });
});

describe('httpModelError', () => {
  const hints = { key: 'check the key in K', notFound: 'check proposer.model "m"' };
  const at = (status: number, message = 'nope', body?: string) => httpModelError({ status, from: 'http://h/v1', message, body, retryAfterMs: 2000 }, hints);

  it('reads a status the same for every backend, with the backend\'s own hints', () => {
    const key = at(401);
    assert.equal(key.message, 'HTTP 401 from http://h/v1: nope (check the key in K)');
    assert.ok(key.blocked && !key.retryable && key.status === 401 && key.kind === 'model');
    assert.ok(at(403).blocked);
    assert.equal(at(402).message, 'HTTP 402 from http://h/v1: nope (payment required: check the account\'s billing)');
    assert.ok(at(402).blocked);
    const missing = at(404);
    assert.equal(missing.message, 'HTTP 404 from http://h/v1: nope (check proposer.model "m")');
    assert.ok(!missing.blocked && !missing.retryable);
    for (const s of [408, 409, 425, 429, 500, 529]) {
      const e = at(s);
      assert.ok(e.retryable && !e.blocked && e.retryAfterMs === 2000, String(s));
      assert.equal(e.message, `HTTP ${s} from http://h/v1: nope`);
    }
    const other = at(400);
    assert.ok(!other.retryable && !other.blocked && other.status === 400);
  });

  it('a 429 for an account with no quota waits for a person instead of retrying', () => {
    const e = at(429, 'You exceeded your current quota', '{"error":{"code":"insufficient_quota"}}');
    assert.ok(e.blocked && !e.retryable);
    assert.match(e.message, /\(the account has no quota left\)$/);
  });

  it('cuts a long message and never shows a key', () => {
    const e = at(500, `${'x'.repeat(400)} sk-ant-api03-SECRETSECRETSECRET0123456789`);
    assert.ok(e.message.length < 340 && e.message.endsWith('…'), e.message);
    assert.ok(!at(401, 'bad key sk-ant-api03-SECRETSECRETSECRET0123456789').message.includes('SECRETSECRET'));
  });

  it('names a failed connection\'s cause in words, and writes a retry line with the shared duration', () => {
    assert.equal(networkCause(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })), 'connection refused (is the server running?)');
    assert.equal(networkCause(new Error('something else')), 'something else');
    assert.equal(retryLine('anthropic m', new ModelError('HTTP 529 from x: overloaded'), 1, 2, 1234), 'anthropic m: HTTP 529 from x: overloaded; retry 1 of 2 in 1.2 s');
  });
});

describe('Deadline', () => {
  it('tells a timeout from a stop', async () => {
    const d = new Deadline(new AbortController().signal, 20, null);
    await new Promise((r) => setTimeout(r, 40));
    assert.ok(d.signal.aborted);
    const e = d.failure(new Error('aborted'), 'x');
    assert.ok(e instanceof ModelError && e.retryable && /x timed out: no complete answer within 20 ms/.test(e.message));
    d.dispose();
    const stop = new AbortController();
    const d2 = new Deadline(stop.signal, 10_000, 5_000);
    stop.abort();
    assert.ok(!(d2.failure(new Error('aborted'), 'x') instanceof ModelError));
    d2.dispose();
  });
});

describe('redact', () => {
  it('removes known secrets everywhere and key-shaped strings from messages, but leaves code alone', () => {
    addSecret('my-very-own-secret-value');
    assert.equal(redact('key=my-very-own-secret-value!'), 'key=[REDACTED]!');
    assert.equal(redact('Incorrect API key provided: sk-proj-abcdefghijklmnop1234'), 'Incorrect API key provided: [REDACTED]');
    assert.equal(redact('Authorization: Bearer abcdefghijklmnopqrstuvwxyz'), 'Authorization: Bearer [REDACTED]');
    assert.equal(redactKnown('authorization = request.headers["x"]  # my-very-own-secret-value'), 'authorization = request.headers["x"]  # [REDACTED]');
  });
});

describe('listPrice', () => {
  it('knows some models by exact name and their dated snapshots, and guesses nothing', () => {
    assert.deepEqual(listPrice('anthropic', 'claude-haiku-4-5-20251001'), { input: 1, output: 5 });
    assert.deepEqual(listPrice('openai', 'gpt-4o-2024-08-06'), { input: 2.5, output: 10 });
    assert.deepEqual(listPrice('openai', 'gpt-4o-mini'), { input: 0.15, output: 0.6 });
    assert.equal(listPrice('anthropic', 'claude-opus-4-8'), undefined);
    assert.equal(listPrice('openai', 'gpt-5-pro'), undefined);
    assert.equal(listPrice('openai', 'llama3.1:8b'), undefined);
  });
});
