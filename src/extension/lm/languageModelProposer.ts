// The `vscode-lm` proposer: VS Code's language models (Copilot or any installed provider) behind the
// engine's chat proposer. This module only touches VS Code through LanguageModelHost, so the host can be
// the real `vscode` API (register.ts) or a fake in plain Node tests.
import type * as vscode from 'vscode';
import type { ResearchConfig } from '../../core/types.js';
import { ChatProposer, type BlockedHandler, type ChatBackend, type ChatReply, type ChatRequest } from '../../core/proposers/llm.js';
import { ProposerConfigReader, readChatSettings, type ChatSettings } from '../../core/proposers/proposerConfig.js';
import { Deadline, ModelError, retryLine, withRetries } from '../../core/proposers/transport.js';

export const VSCODE_LM_KIND = 'vscode-lm';

/** The part of the `vscode` API the proposer uses. */
export interface LanguageModelHost {
  selectChatModels(selector: vscode.LanguageModelChatSelector): Thenable<vscode.LanguageModelChat[]>;
  userMessage(text: string): vscode.LanguageModelChatMessage;
  assistantMessage(text: string): vscode.LanguageModelChatMessage;
  /** A cancellation token that follows an AbortSignal. */
  cancellation(signal: AbortSignal): { token: vscode.CancellationToken; dispose(): void };
  /** `NoPermissions`, `Blocked`, `NotFound` for a vscode.LanguageModelError; undefined otherwise. */
  errorCode(e: unknown): string | undefined;
}

/** Which model: the config's selector first, then the one a person picked in VS Code, then any. */
export interface ModelChoice {
  vendor?: string;
  family?: string;
  id?: string;
  version?: string;
}

export interface VscodeLmSettings extends ChatSettings {
  selector: ModelChoice;
  justification: string;
}

export interface VscodeLmOptions {
  /** The model a person chose (quick pick or setting), used when the config names none. */
  chosenModel?: () => ModelChoice | undefined;
  onBlocked?: BlockedHandler;
  onLog?: (message: string) => void;
  retryBaseMs?: number;
}

function describeSelector(s: ModelChoice): string {
  const parts = Object.entries(s).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'any';
}

export class VscodeLmBackend implements ChatBackend {
  readonly kind = VSCODE_LM_KIND;
  private picked: vscode.LanguageModelChat | null = null;

  constructor(private readonly host: LanguageModelHost, private readonly s: VscodeLmSettings, private readonly options: VscodeLmOptions = {}) {}

  get model(): string {
    const m = this.picked;
    return m ? `${m.vendor}/${m.id}` : describeSelector(this.selector());
  }

  private selector(): ModelChoice {
    const fromConfig = this.s.selector;
    if (Object.values(fromConfig).some(Boolean)) return fromConfig;
    return this.options.chosenModel?.() ?? {};
  }

  /** The model to ask, chosen again each time (the user may have signed in, out, or picked another). */
  async pick(): Promise<vscode.LanguageModelChat> {
    const selector = this.selector();
    const models = await this.host.selectChatModels(selector);
    const model = models[0];
    if (!model) {
      throw new ModelError(`no VS Code language model matches (${describeSelector(selector)}): install and sign in to a provider such as GitHub Copilot, or choose another model`, { blocked: true });
    }
    this.picked = model;
    return model;
  }

  async inputBudget(): Promise<number> {
    const model = await this.pick();
    // The model's own limit, less room for what the estimate misses; the config may ask for less.
    return Math.max(2048, Math.min(Math.floor(model.maxInputTokens * 0.9), this.s.contextTokens));
  }

  async complete(req: ChatRequest): Promise<ChatReply> {
    return withRetries(() => this.once(req), {
      retries: this.s.retries, signal: req.signal, baseDelayMs: this.options.retryBaseMs,
      onRetry: (e, ms, n) => req.log?.(retryLine(`${this.kind} ${this.model}`, e, n, this.s.retries, ms)),
    });
  }

  private async once(req: ChatRequest): Promise<ChatReply> {
    const model = await this.pick();
    // VS Code has no system role for extensions: the rules lead the first user message.
    const messages = req.messages.map((m, i) => (m.role === 'user'
      ? this.host.userMessage(i === 0 ? `${req.system}\n\n${m.content}` : m.content)
      : this.host.assistantMessage(m.content)));
    const deadline = new Deadline(req.signal, this.s.timeoutMs, this.s.idleTimeoutMs);
    const cancel = this.host.cancellation(deadline.signal);
    const what = `${this.kind} ${model.vendor}/${model.id}`;
    try {
      const response = await model.sendRequest(messages, { justification: this.s.justification }, cancel.token);
      deadline.touch();
      let text = '';
      for await (const part of response.text) {
        text += part;
        deadline.touch();
      }
      if (deadline.signal.aborted) throw deadline.failure(new Error('cancelled'), what);
      const tokensIn = await this.count(model, messages, cancel.token);
      const tokensOut = await this.count(model, [text], cancel.token);
      return { text, model: `${model.vendor}/${model.id}`, tokensIn, tokensOut, truncated: false };
    } catch (e) {
      throw deadline.failure(e, what, (err) => this.toModelError(err, model));
    } finally {
      cancel.dispose();
      deadline.dispose();
    }
  }

  /** VS Code reports no usage; the model's own tokenizer counts it. */
  private async count(model: vscode.LanguageModelChat, parts: (string | vscode.LanguageModelChatMessage)[], token: vscode.CancellationToken): Promise<number | undefined> {
    try {
      let n = 0;
      for (const p of parts) n += await model.countTokens(p, token);
      return n;
    } catch {
      return undefined;
    }
  }

  private toModelError(e: unknown, model: vscode.LanguageModelChat): unknown {
    if (e instanceof ModelError) return e;
    const code = this.host.errorCode(e);
    const message = (e as Error)?.message ?? String(e);
    const name = `${model.name || model.id} (${model.vendor})`;
    if (code === 'NoPermissions') return new ModelError(`AutoResearch may not use ${name}: ${message || 'permission was not given'}. Allow it when VS Code asks (start the session again from a command), or choose another model`, { blocked: true });
    if (code === 'Blocked') return new ModelError(`${name} refused the request (quota or rate limit): ${message}`, { blocked: true });
    if (code === 'NotFound') return new ModelError(`${name} is no longer available: ${message}`, { retryable: false });
    return new ModelError(`${name} failed: ${message}`, { retryable: true });
  }

  dispose(): void {
    this.picked = null;
  }
}

// No maxTokens or temperature: VS Code's request options have no portable way to pass them.
export const VSCODE_LM_KEYS = ['vendor', 'family', 'id', 'version', 'model', 'justification', 'contextTokens', 'timeout', 'idleTimeout', 'retries', 'transcripts'] as const;

/** Reads `proposer: {kind: vscode-lm, vendor?, family?, id?, ...}`; `model` is an id or a family. */
export function readVscodeLmSettings(config: ResearchConfig): VscodeLmSettings {
  const r = new ProposerConfigReader(config.proposer as Record<string, unknown>, VSCODE_LM_KEYS);
  const selector: ModelChoice = {
    vendor: r.string('vendor', false, 'copilot'), family: r.string('family', false, 'gpt-4.1'),
    id: r.string('id', false, 'gpt-4.1'), version: r.string('version', false, '2025-04-14'),
  };
  const model = r.string('model', false, 'gpt-4.1');
  if (model && !selector.id && !selector.family) selector.family = model;
  const justification = r.string('justification', false, 'propose experiments') ?? 'AutoResearch asks the model to propose one change to your training script per experiment.';
  const settings = readChatSettings(r, { contextTokens: 64_000, maxTokens: 8192 });
  r.done();
  for (const k of Object.keys(selector) as (keyof ModelChoice)[]) if (!selector[k]) delete selector[k];
  return { ...settings, selector, justification };
}

/** The `vscode-lm` proposer over a host: the real `vscode` API in the extension, a fake in tests. */
export function createVscodeLmProposer(config: ResearchConfig, host: LanguageModelHost, options: VscodeLmOptions = {}): ChatProposer {
  const settings = readVscodeLmSettings(config);
  return new ChatProposer({ kind: VSCODE_LM_KIND, backend: new VscodeLmBackend(host, settings, options), settings, onBlocked: options.onBlocked, onLog: options.onLog });
}
