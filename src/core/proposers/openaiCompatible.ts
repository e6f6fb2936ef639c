// A chat model behind an OpenAI-compatible `/chat/completions` endpoint: OpenAI, Ollama, llama.cpp's
// server, vLLM, LM Studio, OpenRouter. Plain fetch with SSE streaming; no SDK. Servers differ in small
// ways (max_completion_tokens, stream_options, JSON instead of a stream); the backend adapts and remembers.
import { ConfigError } from '../config.js';
import type { ResearchConfig } from '../types.js';
import { ChatProposer, type BlockedHandler, type ChatBackend, type ChatReply, type ChatRequest } from './llm.js';
import { costOf, listPrice, type Price } from './prices.js';
import { CHAT_KEYS, ProposerConfigReader, readChatSettings, type ChatSettings } from './proposerConfig.js';
import { environmentKey, hasApiKeySources, redact, resolveApiKey, withholdFromChildren } from './secrets.js';
import { clip, Deadline, httpModelError, ModelError, parseRetryAfter, readSse, retryLine, unreachable, withRetries } from './transport.js';

export interface OpenAiCompatibleSettings extends ChatSettings {
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
  stream: boolean;
}

/** Hooks for hosts and tests: a fetch to use, the first backoff delay, a log line per retry. */
export interface BackendDeps {
  fetch?: typeof fetch;
  retryBaseMs?: number;
  onLog?: (message: string) => void;
  onBlocked?: BlockedHandler;
}

interface OpenAiChunk {
  model?: string;
  choices?: { delta?: { content?: string | null }; message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; cost?: number } | null;
  error?: unknown;
}

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string; code?: string; type?: string } | string; message?: string; detail?: string };
    const e = j.error;
    const msg = typeof e === 'string' ? e : e?.message ?? j.message ?? j.detail;
    if (msg) return String(msg);
  } catch {
    // Not JSON: the text itself.
  }
  return body.replace(/\s+/g, ' ').trim();
}

export class OpenAiCompatibleBackend implements ChatBackend {
  readonly kind = 'openai-compatible';
  readonly model: string;
  private readonly url: string;
  private maxTokensField: 'max_tokens' | 'max_completion_tokens' = 'max_tokens';
  private streamOptions = true;
  private readonly price: Price | undefined;

  constructor(private readonly s: OpenAiCompatibleSettings, private readonly deps: BackendDeps = {}) {
    this.model = s.model;
    this.url = /\/chat\/completions$/.test(s.baseUrl) ? s.baseUrl : `${s.baseUrl}/chat/completions`;
    let host = '';
    try {
      host = new URL(s.baseUrl).hostname;
    } catch {
      // Validated by the factory.
    }
    this.price = s.price ?? (host === 'api.openai.com' ? listPrice('openai', s.model) : undefined);
  }

  async inputBudget(): Promise<number> {
    return this.s.contextTokens - this.s.maxTokens;
  }

  async complete(req: ChatRequest): Promise<ChatReply> {
    let key: string | undefined;
    if (this.s.apiKeyEnv) {
      key = await resolveApiKey(this.kind, this.s.apiKeyEnv, req.signal);
      if (!key) throw new ModelError(`no API key: the environment variable ${this.s.apiKeyEnv} (named by proposer.apiKeyEnv) is not set`, { blocked: true });
    }
    return withRetries(() => this.once(req, key), {
      retries: this.s.retries, signal: req.signal, baseDelayMs: this.deps.retryBaseMs,
      onRetry: (e, ms, n) => req.log?.(retryLine(`${this.kind} ${this.model}`, e, n, this.s.retries, ms)),
    });
  }

  private body(req: ChatRequest): string {
    const messages = [{ role: 'system', content: req.system }, ...req.messages.map((m) => ({ role: m.role, content: m.content }))];
    const body: Record<string, unknown> = { model: this.s.model, messages, [this.maxTokensField]: req.maxTokens, stream: this.s.stream };
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (this.s.stream && this.streamOptions) body.stream_options = { include_usage: true };
    return JSON.stringify(body);
  }

  private async once(req: ChatRequest, key: string | undefined): Promise<ChatReply> {
    const f = this.deps.fetch ?? fetch;
    const deadline = new Deadline(req.signal, this.s.timeoutMs, this.s.idleTimeoutMs);
    const what = `${this.kind} ${this.model} at ${this.url}`;
    try {
      // A server that rejects a parameter it does not know gets the request again without it.
      for (let adapt = 0; ; adapt++) {
        let res: Response;
        try {
          res = await f(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: this.s.stream ? 'text/event-stream, application/json' : 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
            body: this.body(req),
            signal: deadline.signal,
          });
        } catch (e) {
          throw deadline.failure(e, what, (err) => unreachable(this.url, err));
        }
        deadline.touch();
        if (res.ok) return await this.read(res, deadline, what);
        const text = await res.text().catch(() => '');
        if (res.status === 400 && adapt < 2) {
          if (/max_completion_tokens/.test(text) && this.maxTokensField === 'max_tokens') {
            this.maxTokensField = 'max_completion_tokens';
            continue;
          }
          if (/stream_options/.test(text) && this.streamOptions) {
            this.streamOptions = false;
            continue;
          }
        }
        throw this.httpError(res, text, key);
      }
    } catch (e) {
      throw deadline.failure(e, what);
    } finally {
      deadline.dispose();
    }
  }

  private httpError(res: Response, body: string, key: string | undefined): ModelError {
    return httpModelError({
      status: res.status, from: this.url, message: errorText(body) || res.statusText || 'no message', body,
      retryAfterMs: parseRetryAfter((h) => res.headers.get(h)),
    }, {
      key: key ? `check the key in ${this.s.apiKeyEnv}` : 'the server wants a key: set proposer.apiKeyEnv to the name of the environment variable that holds it',
      notFound: `check proposer.baseUrl, which usually ends in /v1, and that the server has the model "${this.model}"`,
    });
  }

  private async read(res: Response, deadline: Deadline, what: string): Promise<ChatReply> {
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('text/event-stream') && res.body) return this.readStream(res.body, deadline, what);
    const text = await res.text();
    let j: OpenAiChunk;
    try {
      j = JSON.parse(text) as OpenAiChunk;
    } catch {
      throw new ModelError(`${what} did not answer in the OpenAI format (${type || 'no content type'}): ${clip(redact(text.replace(/\s+/g, ' ')), 200) || 'an empty body'}`, { retryable: true });
    }
    if (j.error) throw new ModelError(`${what} returned an error: ${clip(redact(errorText(JSON.stringify(j))))}`, { retryable: true });
    const choice = j.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== 'string') throw new ModelError(`${what} answered without a message (${clip(redact(text.replace(/\s+/g, ' ')), 200)})`, { retryable: true });
    return this.reply(content, j.model, j.usage, choice?.finish_reason === 'length');
  }

  private async readStream(body: ReadableStream<Uint8Array>, deadline: Deadline, what: string): Promise<ChatReply> {
    let text = '';
    let model: string | undefined;
    let usage: OpenAiChunk['usage'];
    let finish: string | null | undefined;
    let events = 0;
    let done = false;
    for await (const ev of readSse(body as unknown as AsyncIterable<Uint8Array>, () => deadline.touch())) {
      if (ev.data.trim() === '[DONE]') {
        done = true;
        break;
      }
      let chunk: OpenAiChunk;
      try {
        chunk = JSON.parse(ev.data) as OpenAiChunk;
      } catch {
        throw new ModelError(`${what} sent a stream event that is not JSON: ${clip(redact(ev.data), 200)}`, { retryable: true });
      }
      events++;
      if (chunk.error) throw new ModelError(`${what} reported an error mid-stream: ${clip(redact(errorText(JSON.stringify(chunk))))}`, { retryable: true });
      model ??= chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices?.[0];
      if (c?.delta?.content) text += c.delta.content;
      else if (c?.message?.content) text += c.message.content;
      if (c?.finish_reason) finish = c.finish_reason;
    }
    if (events === 0) throw new ModelError(`${what} sent an empty stream`, { retryable: true });
    if (!done && !finish) throw new ModelError(`${what} ended the stream before the answer was complete`, { retryable: true });
    return this.reply(text, model, usage, finish === 'length');
  }

  private reply(text: string, model: string | undefined, usage: OpenAiChunk['usage'], truncated: boolean): ChatReply {
    const tokensIn = usage?.prompt_tokens;
    const tokensOut = usage?.completion_tokens;
    const costUsd = typeof usage?.cost === 'number' ? usage.cost : costOf(this.price, tokensIn, tokensOut);
    return { text, model, tokensIn, tokensOut, costUsd, truncated };
  }

  dispose(): void {
    // Requests end with their signals.
  }
}

export const OPENAI_COMPATIBLE_KEYS = ['baseUrl', 'model', 'apiKeyEnv', 'stream', ...CHAT_KEYS] as const;

/** Reads `proposer: {kind: openai-compatible, ...}`; a bad key throws a ConfigError naming `proposer.<key>`. */
export function readOpenAiCompatibleSettings(config: ResearchConfig): OpenAiCompatibleSettings {
  const r = new ProposerConfigReader(config.proposer as Record<string, unknown>, OPENAI_COMPATIBLE_KEYS);
  const baseUrl = r.url('baseUrl', true, 'http://localhost:11434/v1');
  const model = r.string('model', true, 'qwen2.5-coder:32b');
  const apiKeyEnv = r.envName('apiKeyEnv');
  const stream = r.boolean('stream', true);
  const settings = readChatSettings(r, { contextTokens: 32_768, maxTokens: 8192 });
  r.done();
  return { ...settings, baseUrl: baseUrl!, model: model!, apiKeyEnv, stream };
}

/** Refuses to start when the key's environment variable is unset and nothing else can supply it. */
export function requireKeyInEnvironment(apiKeyEnv: string | undefined): void {
  if (!apiKeyEnv || environmentKey(apiKeyEnv) || hasApiKeySources()) return;
  throw new ConfigError([{ path: 'proposer.apiKeyEnv', value: apiKeyEnv, expected: `the name of an environment variable that is set; ${apiKeyEnv} is not (export ${apiKeyEnv}=<your key> before running)` }]);
}

export function createOpenAiCompatibleProposer(config: ResearchConfig, _root: string, deps: BackendDeps = {}): ChatProposer {
  const settings = readOpenAiCompatibleSettings(config);
  requireKeyInEnvironment(settings.apiKeyEnv);
  withholdFromChildren(settings.apiKeyEnv);
  return new ChatProposer({ kind: 'openai-compatible', backend: new OpenAiCompatibleBackend(settings, deps), settings, onBlocked: deps.onBlocked, onLog: deps.onLog });
}
