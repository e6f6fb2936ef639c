// What every model-backed proposer shares: the chat backend contract, the proposer that turns a research
// prompt into one edit (with one retry that shows the model its mistake), retries with backoff that
// respect Retry-After, timeouts that also catch a stalled stream, SSE parsing, API keys and redaction.
// A key is only ever held in memory; every text that leaves a proposer goes through redact() first.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ConfigError, parseDuration, type ConfigIssue } from '../config.js';
import { AutoResearchError } from '../errors.js';
import { Emitter } from '../events.js';
import { commonGitDir } from '../git.js';
import { toDisposable, type Disposable } from '../lifecycle.js';
import { ProposalError, type Proposal, type ProposalRequest, type Proposer } from '../proposer.js';
import { sessionPaths } from '../store.js';
import type { Operator, ProposerInfo } from '../types.js';
import { applyEdits, EditError, editKeyFor, parseReply } from './editParser.js';
import { buildResearchPrompt, readEditableFiles, readLogHead, retryPrompt } from './prompt.js';

// ---- the backend contract ----------------------------------------------------------------------

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  signal: AbortSignal;
  /** A line for the person (a retry after a 429): the proposer passes it on as onDidLog. */
  log?: (message: string) => void;
}

export interface ChatReply {
  text: string;
  /** The model that answered, when the server says. */
  model?: string;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
  /** The reply stopped at the output limit. */
  truncated: boolean;
}

/** One model behind one API. It only answers; retries, timeouts and keys are its own business. */
export interface ChatBackend extends Disposable {
  readonly kind: string;
  /** The configured model, for the record. */
  readonly model: string;
  /** How many tokens the prompt may take. */
  inputBudget(signal: AbortSignal): Promise<number>;
  complete(request: ChatRequest): Promise<ChatReply>;
}

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

// ---- secrets -----------------------------------------------------------------------------------

const knownSecrets = new Set<string>();

/** Shapes of keys that must never be written even when we were not told about them. */
const SECRET_SHAPES: readonly RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{12,}/g,
  /\b(?:ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /(\b[Bb]earer\s+)[A-Za-z0-9._~+/=-]{12,}/g,
  /((?:x-api-key|api-key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]{12,}/gi,
];

/** Remembers a secret so redact() removes it from everything written from now on. */
export function addSecret(secret: string | undefined): void {
  if (secret && secret.trim().length >= 6) knownSecrets.add(secret.trim());
}

/** The text with every known secret replaced by [REDACTED]; for code, where key-like shapes may be legitimate. */
export function redactKnown(text: string): string {
  let out = text;
  for (const s of [...knownSecrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('[REDACTED]');
  return out;
}

/** The text with every known secret and anything shaped like an API key replaced by [REDACTED]. */
export function redact(text: string): string {
  let out = redactKnown(text);
  for (const re of SECRET_SHAPES) out = out.replace(re, (m, prefix?: unknown) => (typeof prefix === 'string' && m.startsWith(prefix) ? `${prefix}[REDACTED]` : '[REDACTED]'));
  return out;
}

/** Values of the environment variables that look like credentials (`*_KEY`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v && v.length >= 8 && /(?:_KEY|^KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)/i.test(k) && !/^(?:TERM|COLORTERM|KEYMAP)$/.test(k))
    .map(([, v]) => v!);
}

/** Where a key can come from besides the environment: VS Code's SecretStorage registers one. */
export type ApiKeySource = (ref: { kind: string; env: string; signal?: AbortSignal }) => Promise<string | undefined> | string | undefined;

const keySources: ApiKeySource[] = [];

export function registerApiKeySource(source: ApiKeySource): Disposable {
  keySources.unshift(source);
  return toDisposable(() => {
    const i = keySources.indexOf(source);
    if (i >= 0) keySources.splice(i, 1);
  });
}

export function hasApiKeySources(): boolean {
  return keySources.length > 0;
}

const withheld = new Map<string, string>();

/**
 * Moves a key out of the process environment into memory, so that no child process (an experiment's
 * run, whose script the model edits; git; an agent) inherits it and can print it into a log.
 */
export function withholdFromChildren(env: string | undefined): void {
  if (!env) return;
  const value = process.env[env];
  if (!value) return;
  withheld.set(env, value);
  addSecret(value);
  delete process.env[env];
}

/** A key from the environment, or one withheld from it earlier. */
export function environmentKey(env: string): string | undefined {
  return process.env[env] || withheld.get(env) || undefined;
}

/** The key for a backend: registered sources first (SecretStorage), then the environment variable. */
export async function resolveApiKey(kind: string, env: string, signal?: AbortSignal): Promise<string | undefined> {
  for (const source of keySources) {
    const key = await source({ kind, env, signal });
    if (key) {
      addSecret(key);
      return key;
    }
  }
  const key = environmentKey(env);
  addSecret(key);
  return key;
}

// ---- retries and timeouts ----------------------------------------------------------------------

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
    this.total = setTimeout(() => this.expire(`no complete answer within ${formatMs(totalMs)}`), totalMs);
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.idleMs === null || this.controller.signal.aborted) return;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.expire(`no data for ${formatMs(this.idleMs!)}`), this.idleMs);
  }

  private expire(why: string): void {
    if (this.controller.signal.aborted) return;
    this.timedOut = why;
    const e = new Error(`timed out: ${why}`);
    e.name = 'TimeoutError';
    this.controller.abort(e);
  }

  /** The error to throw after the request failed under this deadline. */
  failure(e: unknown, what: string): unknown {
    if (this.parent.aborted) return abortError(this.parent);
    if (this.timedOut) return new ModelError(`${what} timed out: ${this.timedOut}`, { retryable: true });
    return e;
  }

  dispose(): void {
    clearTimeout(this.total);
    if (this.idle) clearTimeout(this.idle);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10}s`;
  return `${Math.round(ms / 6000) / 10}m`;
}

// ---- server-sent events ------------------------------------------------------------------------

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

// ---- cost --------------------------------------------------------------------------------------

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

// List prices (USD per million tokens) of the models whose price was known when this was written, by
// exact name (a dated snapshot of one counts too). Any other model has no cost unless `proposer.price`
// gives one: a cost that is not known is left out rather than guessed.
const ANTHROPIC_PRICES: Record<string, Price> = {
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
};
const OPENAI_PRICES: Record<string, Price> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'o3': { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
};

/** The list price of a model where it is known: some of Anthropic's models, and OpenAI's on api.openai.com. */
export function listPrice(kind: 'anthropic' | 'openai', model: string): Price | undefined {
  const table = kind === 'anthropic' ? ANTHROPIC_PRICES : OPENAI_PRICES;
  // `claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`, `claude-3-7-sonnet-latest`: the snapshot's base name.
  const base = model.toLowerCase().replace(/(?:-\d{8}|-\d{4}-\d{2}-\d{2}|-latest|@\d+)$/, '');
  return Object.hasOwn(table, base) ? table[base] : undefined;
}

export function costOf(price: Price | undefined, tokensIn: number | undefined, tokensOut: number | undefined): number | undefined {
  if (!price || tokensIn === undefined || tokensOut === undefined) return undefined;
  return (tokensIn * price.input + tokensOut * price.output) / 1e6;
}

// ---- config of the model-backed kinds ----------------------------------------------------------

/** Checks the keys of a `proposer:` mapping; collects every problem and throws one ConfigError naming `proposer.<key>`. */
export class ProposerConfigReader {
  private readonly issues: ConfigIssue[] = [];
  constructor(private readonly raw: Record<string, unknown>, private readonly known: readonly string[]) {
    for (const k of Object.keys(raw)) {
      if (k === 'kind' || known.includes(k)) continue;
      if (/^(?:api_?key|key|token|secret|password)$/i.test(k)) {
        this.issues.push({ path: `proposer.${k}`, value: '(hidden)', expected: `no key in the config (it would be recorded with the session); put it in an environment variable and name that variable with \`apiKeyEnv\`` });
      } else this.issues.push({ path: `proposer.${k}`, value: raw[k], expected: `no such key; known keys are kind, ${known.join(', ')}` });
    }
  }

  fail(key: string, value: unknown, expected: string): undefined {
    this.issues.push({ path: `proposer.${key}`, value, expected });
    return undefined;
  }

  string(key: string, required: boolean, example: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return required ? this.fail(key, v, `a non-empty string (e.g. ${example})`) : undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.fail(key, v, `a non-empty string (e.g. ${example})`);
    return v.trim();
  }

  url(key: string, required: boolean, example: string): string | undefined {
    const s = this.string(key, required, example);
    if (s === undefined) return undefined;
    try {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
      if (u.username || u.password || [...u.searchParams.keys()].some((k) => /key|token|secret|sig|password/i.test(k))) {
        return this.fail(key, '(hidden)', 'a URL without credentials in it (it is recorded with the session); put the key in an environment variable named by apiKeyEnv');
      }
    } catch {
      return this.fail(key, s, `an http(s) URL (e.g. ${example})`);
    }
    return s.replace(/\/+$/, '');
  }

  envName(key: string, fallback?: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) {
      // Never echo it: people paste the key itself here.
      return this.fail(key, '(hidden)', 'the NAME of an environment variable that holds the key (e.g. OPENAI_API_KEY), not the key itself');
    }
    return v;
  }

  number(key: string, fallback: number, min: number, max: number, integer = false): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(key, v, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return v;
  }

  optionalNumber(key: string, min: number, max: number): number | undefined {
    return this.raw[key] === undefined || this.raw[key] === null ? undefined : this.number(key, min, min, max);
  }

  duration(key: string, fallbackSeconds: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallbackSeconds * 1000;
    const d = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
    if (d === null) {
      this.fail(key, v, 'a duration like 90s, 5m or 1h');
      return fallbackSeconds * 1000;
    }
    return d * 1000;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.fail(key, v, 'true or false');
      return fallback;
    }
    return v;
  }

  price(key: string): Price | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (v === 0) return { input: 0, output: 0 };
    const ok = typeof v === 'object' && !Array.isArray(v) && ['input', 'output'].every((k) => typeof (v as Record<string, unknown>)[k] === 'number' && (v as Record<string, number>)[k]! >= 0)
      && Object.keys(v).every((k) => k === 'input' || k === 'output');
    if (!ok) return this.fail(key, v, 'USD per million tokens as {input: 3, output: 15}, or 0 for a free local model');
    return v as Price;
  }

  strings(key: string, fallback: string[]): string[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.trim() !== '')) {
      this.fail(key, v, 'a glob or a list of globs');
      return fallback;
    }
    return list as string[];
  }

  /** Throws the collected issues, if any. */
  done(): void {
    if (this.issues.length) throw new ConfigError(this.issues);
  }
}

/** The settings every chat backend shares. */
export interface ChatSettings {
  maxTokens: number;
  temperature?: number;
  /** The model's context window we may use (prompt and reply). */
  contextTokens: number;
  timeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
  price?: Price;
  transcripts: boolean;
}

export const CHAT_KEYS = ['maxTokens', 'temperature', 'contextTokens', 'timeout', 'idleTimeout', 'retries', 'price', 'transcripts'] as const;

export function readChatSettings(r: ProposerConfigReader, defaults: { contextTokens: number; maxTokens: number }): ChatSettings {
  const maxTokens = r.number('maxTokens', defaults.maxTokens, 256, 1_000_000, true);
  const contextTokens = r.number('contextTokens', defaults.contextTokens, 2048, 10_000_000, true);
  if (contextTokens <= maxTokens + 1024) r.fail('contextTokens', contextTokens, `more than maxTokens (${maxTokens}) + 1024: the prompt needs room too`);
  const timeoutMs = r.duration('timeout', 600);
  return {
    maxTokens,
    temperature: r.optionalNumber('temperature', 0, 2),
    contextTokens,
    timeoutMs,
    idleTimeoutMs: Math.min(timeoutMs, r.duration('idleTimeout', 180)),
    retries: r.number('retries', 4, 0, 20, true),
    price: r.price('price'),
    transcripts: r.boolean('transcripts', true),
  };
}

// ---- the proposer ------------------------------------------------------------------------------

/** What to do when the model needs a person (quota, consent, a refused key): retry once they acted, or fail the proposal. */
export type BlockedHandler = (error: ModelError, signal: AbortSignal) => Promise<'retry' | 'fail'>;

export interface ChatProposerOptions {
  kind: string;
  backend: ChatBackend;
  settings: Pick<ChatSettings, 'maxTokens' | 'temperature' | 'transcripts'>;
  /** Called when the model is blocked; without it the proposal fails with the model's message. */
  onBlocked?: BlockedHandler;
  onLog?: (message: string) => void;
}

const MAX_EDIT_ATTEMPTS = 2;

/**
 * A proposer that asks a chat model: research prompt in, plan and edit out. An edit that does not parse
 * or apply is shown back to the model once with the error; a second failure is a ProposalError, so the
 * node is recorded as a failed proposal and the loop goes on.
 */
export class ChatProposer implements Proposer {
  readonly kind: string;
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve', 'debug']);
  private readonly disposed = new AbortController();
  private readonly _onDidLog = new Emitter<string>();
  /** Lines worth showing while a proposal is under way: retries, waiting for the person. Redacted. */
  readonly onDidLog = this._onDidLog.event;

  constructor(private readonly options: ChatProposerOptions) {
    this.kind = options.kind;
  }

  get backend(): ChatBackend {
    return this.options.backend;
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const signal = AbortSignal.any([req.signal, this.disposed.signal]);
    const { backend, settings } = this.options;
    const info: ProposerInfo = { kind: this.kind, model: backend.model };
    const transcript = new Transcript(req, info);
    try {
      const files = readEditableFiles(req.worktree, req.config.editable, req.config.readonly);
      if (files.length === 0) throw new ProposalError(`no editable file found in the worktree of #${req.parent.id} (editable: ${req.config.editable.join(', ')})`, info);
      const budget = await this.unblocked(() => backend.inputBudget(signal), signal);
      const prompt = buildResearchPrompt({
        request: req, files, budgetTokens: budget, mode: 'reply',
        logHead: req.operator === 'debug' && req.parent.logPath ? readLogHead(req.parent.logPath) : null,
      });
      if (prompt.overBudget) throw new ProposalError(prompt.overBudget, info);
      transcript.add('System prompt', prompt.system);
      transcript.add('Prompt', prompt.user);
      const messages: ChatMessage[] = [{ role: 'user', content: prompt.user }];
      let lastError: EditError | null = null;
      for (let attempt = 1; attempt <= MAX_EDIT_ATTEMPTS; attempt++) {
        const reply = await this.ask({ system: prompt.system, messages, maxTokens: settings.maxTokens, temperature: settings.temperature, signal }, signal);
        addUsage(info, reply);
        transcript.add(`Reply ${attempt}${reply.truncated ? ' (cut off at the output limit)' : ''}`, reply.text);
        try {
          const parsed = parseReply(reply.text, { paths: files.map((f) => f.path), truncated: reply.truncated });
          const changes = applyEdits(files, parsed.edits, { editable: req.config.editable, readonly: req.config.readonly });
          // A key the model wrote into the code must not be committed; only known keys, so code is not mangled.
          for (const [path, content] of Object.entries(changes)) if (content !== null) changes[path] = redactKnown(content);
          const editKey = editKeyFor(changes);
          if (req.triedFromParent.has(editKey)) {
            const twin = req.history.find((n) => n.parentId === req.parent.id && n.editKey === editKey);
            throw new EditError(`this exact change was already tried from #${req.parent.id}${twin ? ` as #${twin.id} "${twin.description}" (${twin.status})` : ''}; propose a different change`, editKey);
          }
          const proposal: Proposal = { description: redact(parsed.description), plan: redact(parsed.plan), editKey, files: changes, proposer: info };
          transcript.succeed(`Accepted: ${proposal.description}\nFiles: ${Object.keys(changes).join(', ')}\nEdit key: ${editKey}`);
          return proposal;
        } catch (e) {
          if (!(e instanceof EditError)) throw e;
          lastError = e;
          transcript.add(`Problem with reply ${attempt}`, e.message);
          messages.push({ role: 'assistant', content: reply.text }, { role: 'user', content: retryPrompt(e.message, files.map((f) => f.path)) });
        }
      }
      throw new ProposalError(`the model's edit could not be used after ${MAX_EDIT_ATTEMPTS - 1} retry: ${lastError!.message}`, info, lastError!.editKey);
    } catch (e) {
      if (isAbort(e, signal)) throw signal.aborted ? abortError(signal) : e;
      const message = e instanceof ProposalError || e instanceof ModelError ? e.message : `${(e as Error).message ?? e}`;
      transcript.add('Failure', message);
      const where = await this.writeTranscript(req, transcript);
      throw new ProposalError(redact(`${message}${where ? ` (transcript: ${where})` : ''}`), info, e instanceof ProposalError ? e.editKey : undefined);
    } finally {
      if (transcript.successful) await this.writeTranscript(req, transcript);
    }
  }

  private ask(request: ChatRequest, signal: AbortSignal): Promise<ChatReply> {
    return this.unblocked(() => this.options.backend.complete({ ...request, log: (m) => this.log(m) }), signal);
  }

  private log(message: string): void {
    const m = redact(message);
    this.options.onLog?.(m);
    this._onDidLog.fire(m);
  }

  /** Runs a call to the model; when the model is blocked, waits for the person if the host can ask. */
  private async unblocked<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch (e) {
        if (isAbort(e, signal)) throw e;
        if (e instanceof ModelError && e.blocked && this.options.onBlocked) {
          this.log(`${this.kind}: ${e.message}; waiting for you`);
          if ((await this.options.onBlocked(e, signal)) === 'retry') continue;
        }
        throw e instanceof ModelError ? e : new ModelError(`${this.kind} ${this.options.backend.model}: ${(e as Error).message ?? e}`);
      }
    }
  }

  private async writeTranscript(req: ProposalRequest, t: Transcript): Promise<string | null> {
    return this.options.settings.transcripts ? saveTranscript(req, t) : null;
  }

  dispose(): void {
    this.disposed.abort();
    this.options.backend.dispose();
    this._onDidLog.dispose();
  }
}

function addUsage(info: ProposerInfo, r: ChatReply): void {
  if (r.model) info.model = r.model;
  if (r.tokensIn !== undefined) info.tokensIn = (info.tokensIn ?? 0) + r.tokensIn;
  if (r.tokensOut !== undefined) info.tokensOut = (info.tokensOut ?? 0) + r.tokensOut;
  if (r.costUsd !== undefined) info.costUsd = Math.round(((info.costUsd ?? 0) + r.costUsd) * 1e6) / 1e6;
}

/** The session's state folder (`<repo>/.autoresearch/<tag>`), found from a worktree of the repository. */
export async function sessionStateDir(worktree: string, tag: string): Promise<string | null> {
  const gitDir = await commonGitDir(worktree);
  return gitDir ? sessionPaths(dirname(gitDir), tag).dir : null;
}

/** Writes a transcript under `.autoresearch/<tag>/proposals/`; returns its path relative to the repository, or null. */
export async function saveTranscript(req: ProposalRequest, t: Transcript): Promise<string | null> {
  try {
    const dir = await sessionStateDir(req.worktree, req.config.tag);
    if (!dir) return null;
    const path = join(dir, 'proposals', t.fileName());
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, redact(t.text()));
    return relative(dirname(dirname(dir)), path);
  } catch {
    return null;
  }
}

/** The record of one proposal: prompt, replies, problems; written to `.autoresearch/<tag>/proposals/`. */
export class Transcript {
  private readonly parts: string[] = [];
  private readonly started = new Date();
  successful = false;

  constructor(private readonly req: ProposalRequest, private readonly info: ProposerInfo) {}

  add(title: string, body: string): void {
    this.parts.push(`## ${title}\n\n${fence(body)}\n`);
  }

  /** Records the accepted edit. */
  succeed(summary: string): void {
    this.successful = true;
    this.add('Result', summary);
  }

  fileName(): string {
    // The worktree (slot-N) keeps two slots expanding one node at once apart.
    return `${this.started.toISOString().replace(/[:.]/g, '-')}-${this.req.operator}-from-${this.req.parent.id}-${basename(this.req.worktree)}.md`;
  }

  text(): string {
    const i = this.info;
    const usage = [i.model && `model ${i.model}`, i.tokensIn !== undefined && `${i.tokensIn} tokens in`, i.tokensOut !== undefined && `${i.tokensOut} out`, i.costUsd !== undefined && `$${i.costUsd.toFixed(4)}`].filter(Boolean).join(', ');
    return `# ${this.req.operator} from #${this.req.parent.id} (${this.info.kind})\n\n${this.started.toISOString()}${usage ? ` · ${usage}` : ''}\n\n${this.parts.join('\n')}`;
  }
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`{3,}|~{3,}/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}text\n${text}\n${f}`;
}
