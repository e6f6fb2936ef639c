// Claude through the Anthropic Messages API with the official SDK (streaming). The SDK's own retries are
// off: the shared backoff (Retry-After respected, Stop honoured) runs every backend the same way.
import type * as AnthropicSdk from '@anthropic-ai/sdk';
import type { ResearchConfig } from '../types.js';
import { ChatProposer, type ChatBackend, type ChatReply, type ChatRequest } from './llm.js';
import { costOf, listPrice, type Price } from './prices.js';
import { CHAT_KEYS, ProposerConfigReader, readChatSettings, type ChatSettings } from './proposerConfig.js';
import { redact, resolveApiKey, withholdFromChildren } from './secrets.js';
import { clip, Deadline, httpModelError, ModelError, parseRetryAfter, retryLine, unreachable, withRetries } from './transport.js';
import { requireKeyInEnvironment, type BackendDeps } from './openaiCompatible.js';

type Sdk = typeof AnthropicSdk;
type Client = InstanceType<Sdk['Anthropic']>;

export interface AnthropicSettings extends ChatSettings {
  model: string;
  apiKeyEnv: string;
  /** The API's address; the SDK's default (https://api.anthropic.com) when absent. */
  baseUrl?: string;
}

export const DEFAULT_ANTHROPIC_KEY_ENV = 'ANTHROPIC_API_KEY';

export class AnthropicBackend implements ChatBackend {
  readonly kind = 'anthropic';
  readonly model: string;
  private readonly price: Price | undefined;
  private client: { key: string; client: Client; sdk: Sdk } | null = null;

  constructor(private readonly s: AnthropicSettings, private readonly deps: BackendDeps = {}) {
    this.model = s.model;
    this.price = s.price ?? listPrice('anthropic', s.model);
  }

  async inputBudget(): Promise<number> {
    return this.s.contextTokens - this.s.maxTokens;
  }

  private async clientFor(key: string): Promise<{ client: Client; sdk: Sdk }> {
    if (this.client?.key === key) return this.client;
    // Loaded on first use: a session that never asks Claude never pays for the SDK.
    const sdk = await import('@anthropic-ai/sdk');
    const client = new sdk.Anthropic({
      apiKey: key, baseURL: this.s.baseUrl ?? 'https://api.anthropic.com', maxRetries: 0, timeout: this.s.timeoutMs + 5000, logLevel: 'off',
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
    });
    this.client = { key, client, sdk };
    return this.client;
  }

  async complete(req: ChatRequest): Promise<ChatReply> {
    const key = await resolveApiKey(this.kind, this.s.apiKeyEnv, req.signal);
    if (!key) throw new ModelError(`no API key: the environment variable ${this.s.apiKeyEnv} is not set`, { blocked: true });
    const { client, sdk } = await this.clientFor(key);
    return withRetries(() => this.once(client, sdk, req), {
      retries: this.s.retries, signal: req.signal, baseDelayMs: this.deps.retryBaseMs,
      onRetry: (e, ms, n) => req.log?.(retryLine(`${this.kind} ${this.model}`, e, n, this.s.retries, ms)),
    });
  }

  private async once(client: Client, sdk: Sdk, req: ChatRequest): Promise<ChatReply> {
    const deadline = new Deadline(req.signal, this.s.timeoutMs, this.s.idleTimeoutMs);
    const what = `${this.kind} ${this.model}`;
    try {
      const stream = client.messages.stream({
        model: this.s.model, max_tokens: req.maxTokens, system: req.system,
        messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      }, { signal: deadline.signal });
      stream.on('connect', () => deadline.touch());
      stream.on('streamEvent', () => deadline.touch());
      const message = await stream.finalMessage();
      const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      const u = message.usage;
      const cacheWrite = u.cache_creation_input_tokens ?? 0;
      const cacheRead = u.cache_read_input_tokens ?? 0;
      const tokensIn = u.input_tokens + cacheWrite + cacheRead;
      // Cache writes cost 1.25x, reads 0.1x the input price.
      const billedIn = u.input_tokens + 1.25 * cacheWrite + 0.1 * cacheRead;
      return { text, model: message.model, tokensIn, tokensOut: u.output_tokens, costUsd: costOf(this.price, billedIn, u.output_tokens), truncated: message.stop_reason === 'max_tokens' };
    } catch (e) {
      throw deadline.failure(e, what, (err) => this.toModelError(err, sdk));
    } finally {
      deadline.dispose();
    }
  }

  private toModelError(e: unknown, sdk: Sdk): unknown {
    if (e instanceof ModelError) return e;
    const base = this.s.baseUrl ?? 'https://api.anthropic.com';
    if (e instanceof sdk.APIUserAbortError) return e;
    if (e instanceof sdk.APIConnectionError) return unreachable(base, e.cause ?? e);
    if (e instanceof sdk.APIError && typeof e.status === 'number') {
      const headers = e.headers as Headers | Record<string, string> | undefined;
      const get = (h: string): string | null => (headers instanceof Headers ? headers.get(h) : headers?.[h] ?? null);
      return httpModelError({ status: e.status, from: base, message: e.apiMessage ?? e.message, retryAfterMs: parseRetryAfter(get) }, {
        key: `check the key in ${this.s.apiKeyEnv}`,
        notFound: `check proposer.model "${this.model}"${this.s.baseUrl ? ' and proposer.baseUrl' : ''}`,
      });
    }
    const message = (e as Error)?.message ?? String(e);
    if (e instanceof SyntaxError || (e as { cause?: unknown })?.cause instanceof SyntaxError || /\bJSON\b/.test(message)) {
      return new ModelError(`${base} did not answer in the Messages API's format (${clip(redact(message), 120)})`, { retryable: true });
    }
    if (e instanceof sdk.AnthropicError) return new ModelError(`${this.kind} ${this.model} at ${base}: ${clip(redact(message))}`, { retryable: true });
    return e;
  }

  dispose(): void {
    this.client = null;
  }
}

export const ANTHROPIC_KEYS = ['model', 'apiKeyEnv', 'baseUrl', ...CHAT_KEYS] as const;

/** Reads `proposer: {kind: anthropic, ...}`; a bad key throws a ConfigError naming `proposer.<key>`. */
export function readAnthropicSettings(config: ResearchConfig): AnthropicSettings {
  const r = new ProposerConfigReader(config.proposer as Record<string, unknown>, ANTHROPIC_KEYS);
  const model = r.string('model', true, 'claude-sonnet-4-6');
  const apiKeyEnv = r.envName('apiKeyEnv', DEFAULT_ANTHROPIC_KEY_ENV);
  const baseUrl = r.url('baseUrl', false, 'https://api.anthropic.com');
  const settings = readChatSettings(r, { contextTokens: 64_000, maxTokens: 8192 });
  r.done();
  return { ...settings, model: model!, apiKeyEnv: apiKeyEnv!, baseUrl };
}

export function createAnthropicProposer(config: ResearchConfig, _root: string, deps: BackendDeps = {}): ChatProposer {
  const settings = readAnthropicSettings(config);
  requireKeyInEnvironment(settings.apiKeyEnv);
  withholdFromChildren(settings.apiKeyEnv);
  return new ChatProposer({ kind: 'anthropic', backend: new AnthropicBackend(settings, deps), settings, onBlocked: deps.onBlocked, onLog: deps.onLog });
}
