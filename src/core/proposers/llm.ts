// The chat backend contract every model-backed proposer implements, and the proposer that turns a research prompt
// into one edit through it (with one retry that shows the model its mistake). Keys and redaction are in secrets.ts,
// retries, timeouts and streams in transport.ts, the `proposer:` keys in proposerConfig.ts.
import { Emitter } from '../events.js';
import type { Disposable } from '../lifecycle.js';
import { ProposalError, type Proposal, type ProposalRequest, type Proposer } from './proposer.js';
import type { Operator, ProposerInfo } from '../types.js';
import { applyEdits, EditError, editKeyFor, parseReply } from './editParser.js';
import { buildResearchPrompt, readEditableFiles, readLogHead, retryPrompt } from './prompt.js';
import type { ChatSettings } from './proposerConfig.js';
import { redact, redactKnown } from './secrets.js';
import { saveTranscript, Transcript } from './transcript.js';
import { abortError, isAbort, ModelError } from './transport.js';

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
  /** A model reads both sides of a merge that conflicts and can reconcile them. */
  readonly reconcilesMerges = true;
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

