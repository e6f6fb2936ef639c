// Calling a model over the network: what a failed call is (ModelError: worth a retry, or waiting for a person), what
// an HTTP status or a failed connection means (one reading for every backend, with each backend's own hints), the
// caller's cancellation, retries with backoff that respect Retry-After, timeouts that also catch a stalled
// stream, and server-sent events.
import { fmtDuration, truncate } from '../../shared/format.js';
import { AutoResearchError } from '../errors.js';
import type { Disposable } from '../lifecycle.js';
import { redact } from './secrets.js';

/**
 * A failure talking to a model. `retryable`: worth another try after a pause (429, 5xx, a dropped
 * connection, a timeout). `blocked`: a person has to act (a missing or refused key, no quota, no consent).
 */
export class ModelError extends AutoResearchError {
  readonly retryable: boolean;
  readonly blocked: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  constructor(message: string, options: { retryable?: boolean; blocked?: boolean; status?: number; retryAfterMs?: number } = {}) {
    super('model', redact(message));
    this.name = 'ModelError';
    this.retryable = options.retryable ?? false;
    this.blocked = options.blocked ?? false;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A server's message cut to `n` characters, for a log line and a notification. */
export function clip(s: string, n = 300): string {
  return truncate(s, n);
}

/** The cause of a failed connection, in words: `connection refused (is the server running?)`, `host not found`. */
export function networkCause(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as { code?: string }).code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running?)', ENOTFOUND: 'host not found', ECONNRESET: 'the connection was reset',
    ETIMEDOUT: 'the connection timed out', EAI_AGAIN: 'DNS lookup failed', UND_ERR_SOCKET: 'the connection closed unexpectedly',
    UND_ERR_HEADERS_TIMEOUT: 'no response headers in time', UND_ERR_BODY_TIMEOUT: 'the body stalled',
  };
  return (code && words[code]) ?? cause?.message ?? (e as Error).message ?? String(e);
}

/** `cannot reach http://localhost:11434/v1/chat/completions: connection refused (is the server running?)`: worth a retry. */
export function unreachable(where: string, e: unknown): ModelError {
  return new ModelError(`cannot reach ${where}: ${clip(redact(networkCause(e)))}`, { retryable: true });
}

/** What a backend adds to the statuses whose fix depends on it. */
export interface StatusHints {
  /** 401 and 403: how to give the server a key it takes (`check the key in ANTHROPIC_API_KEY`). */
  key: string;
  /** 404: which settings name the model and the address. */
  notFound: string;
}

/** A status from a model's API: who sent it, its message, the raw body (to tell no quota from a rate limit). */
export interface HttpFailure {
  status: number;
  from: string;
  message: string;
  body?: string;
  retryAfterMs?: number;
}

/**
 * What an HTTP status from a model's API means, for every backend alike. A refused key, payment and an account with no
 * quota left wait for a person (`blocked`); 404 is the config's (the model or the address); 408, 409, 425, 429 and
 * 5xx are worth another try, after the server's Retry-After where it sent one; anything else goes up as it is.
 */
export function httpModelError(f: HttpFailure, hints: StatusHints): ModelError {
  const status = f.status;
  const head = `HTTP ${status} from ${f.from}: ${clip(redact(f.message))}`;
  if (status === 429 && /insufficient_quota|quota|billing/i.test(f.body ?? f.message)) return new ModelError(`${head} (the account has no quota left)`, { blocked: true, status });
  if (status === 401 || status === 403) return new ModelError(`${head} (${hints.key})`, { blocked: true, status });
  if (status === 402) return new ModelError(`${head} (payment required: check the account's billing)`, { blocked: true, status });
  if (status === 404) return new ModelError(`${head} (${hints.notFound})`, { status });
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) return new ModelError(head, { retryable: true, status, retryAfterMs: f.retryAfterMs });
  return new ModelError(head, { status });
}

/** Whether an error is the caller's cancellation (Stop), not a failure. */
export function isAbort(e: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'APIUserAbortError');
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('the proposal was cancelled');
  e.name = 'AbortError';
  return e;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Milliseconds to wait from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`; undefined when absent. */
export function parseRetryAfter(get: (name: string) => string | null | undefined, now = Date.now()): number | undefined {
  const ms = get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.max(0, Number(ms));
  const v = get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.max(0, Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface RetryOptions {
  /** Extra attempts after the first. */
  retries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error goes up. */
  maxRetryAfterMs?: number;
  signal: AbortSignal;
  onRetry?: (error: ModelError, delayMs: number, attempt: number) => void;
}

/** Runs `attempt` until it succeeds, retrying ModelErrors marked retryable with exponential backoff and jitter. */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const base = o.baseDelayMs ?? 1000;
  const max = o.maxDelayMs ?? 30_000;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (isAbort(e, o.signal)) throw o.signal.aborted ? abortError(o.signal) : e;
      if (!(e instanceof ModelError) || !e.retryable || n >= o.retries) throw e;
      let delay = Math.min(max, base * 2 ** n) * (0.8 + Math.random() * 0.4);
      if (e.retryAfterMs !== undefined) {
        if (e.retryAfterMs > (o.maxRetryAfterMs ?? 15 * 60_000)) throw e;
        delay = Math.max(e.retryAfterMs, Math.min(delay, 250));
      }
      o.onRetry?.(e, delay, n + 1);
      await sleep(delay, o.signal);
    }
  }
}

/** `anthropic claude-sonnet-4-6: HTTP 529 …; retry 1 of 2 in 1.2 s`: what a backend logs before it waits to retry. */
export function retryLine(who: string, e: ModelError, attempt: number, retries: number, delayMs: number): string {
  return `${who}: ${e.message}; retry ${attempt} of ${retries} in ${fmtDuration(delayMs)}`;
}

/**
 * A signal that aborts when the caller aborts, when `totalMs` has passed, or when `idleMs` passes
 * without touch() (no byte from the server). `timedOut` says which.
 */
export class Deadline implements Disposable {
  private readonly controller = new AbortController();
  private readonly total: NodeJS.Timeout;
  private idle: NodeJS.Timeout | null = null;
  timedOut: string | null = null;
  private readonly onParentAbort = () => this.controller.abort(this.parent.reason);

  constructor(private readonly parent: AbortSignal, totalMs: number, private readonly idleMs: number | null) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.total = setTimeout(() => this.expire(`no complete answer within ${fmtDuration(totalMs)}`), totalMs);
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.idleMs === null || this.controller.signal.aborted) return;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.expire(`no data for ${fmtDuration(this.idleMs!)}`), this.idleMs);
  }

  private expire(why: string): void {
    if (this.controller.signal.aborted) return;
    this.timedOut = why;
    const e = new Error(`timed out: ${why}`);
    e.name = 'TimeoutError';
    this.controller.abort(e);
  }

  /**
   * The error to throw after the request failed under this deadline: the caller's cancellation, the timeout, else
   * what `otherwise` (the backend's own reading of its errors) makes of it.
   */
  failure(e: unknown, what: string, otherwise: (e: unknown) => unknown = (x) => x): unknown {
    if (this.parent.aborted) return abortError(this.parent);
    if (this.timedOut) return new ModelError(`${what} timed out: ${this.timedOut}`, { retryable: true });
    return otherwise(e);
  }

  dispose(): void {
    clearTimeout(this.total);
    if (this.idle) clearTimeout(this.idle);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Parses a text/event-stream body into events (multi-line data joined by \n); `onBytes` sees every chunk. */
export async function* readSse(body: AsyncIterable<Uint8Array>, onBytes?: () => void): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const flush = function* (): Generator<SseEvent> {
    if (data.length) yield { event: event || 'message', data: data.join('\n') };
    event = '';
    data = [];
  };
  const line = function* (l: string): Generator<SseEvent> {
    if (l === '') return yield* flush();
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  };
  for await (const chunk of body) {
    onBytes?.();
    buffer += decoder.decode(chunk, { stream: true });
    let m: RegExpExecArray | null;
    const re = /\r\n|\n|\r(?!$)/g;
    let start = 0;
    while ((m = re.exec(buffer))) {
      yield* line(buffer.slice(start, m.index));
      start = m.index + m[0].length;
    }
    buffer = buffer.slice(start);
  }
  buffer += decoder.decode();
  if (buffer) yield* line(buffer.replace(/\r$/, ''));
  yield* flush();
}
