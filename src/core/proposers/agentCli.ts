// A coding agent on the command line (`claude -p`, `codex exec`, `aider --message`) as a proposer: the
// research prompt goes in through {prompt} or {promptFile}, the agent runs inside the node's worktree
// with stdin closed, and its change is read back from the worktree. The proposal carries no files: the
// engine's guard judges what the agent did like any other edit. Past the timeout, its whole process
// group is terminated, then killed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { execa } from 'execa';
import { fmtDuration, truncate } from '../../shared/format.js';
import { ProposalWorktree } from '../git.js';
import { matchesAny } from '../glob.js';
import { ProposalError, type Proposal, type ProposalRequest, type Proposer } from './proposer.js';
import type { Operator, ProposerInfo, ResearchConfig } from '../types.js';
import { editKeyFor } from './editParser.js';
import { ProposerConfigReader } from './proposerConfig.js';
import { addSecret, environmentSecrets, redact } from './secrets.js';
import { saveTranscript, Transcript } from './transcript.js';
import { abortError, isAbort } from './transport.js';
import { buildResearchPrompt, readEditableFiles, readLogHead } from './prompt.js';

export interface AgentCliSettings {
  /** A shell command line (placeholders are shell-quoted) or an argv list (placeholders replaced as they are). */
  command: string | string[];
  timeoutMs: number;
  /** Untracked files the agent writes for itself (chat history, caches), removed before the change is read. */
  scratch: string[];
  contextTokens: number;
  transcripts: boolean;
  /** What the record calls the agent; the program's name by default. */
  model: string;
}

const PLACEHOLDER = /\{(prompt|promptFile)\}/;
/** Linux refuses a single argument longer than this (MAX_ARG_STRLEN), less some room. */
const MAX_ARG_BYTES = 120 * 1024;
const OUTPUT_TAIL = 64 * 1024;

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The program and arguments for one run: placeholders filled in, quoted for the shell when the template is a string. */
export function expandCommand(template: string | string[], values: { prompt: string; promptFile: string }): { file: string; args: string[]; shell: boolean } {
  if (Array.isArray(template)) {
    const args = template.map((a) => a.replace(/\{(prompt|promptFile)\}/g, (_, k: 'prompt' | 'promptFile') => values[k]));
    return { file: args[0]!, args: args.slice(1), shell: false };
  }
  // `"{prompt}"` and `'{prompt}'` are taken as {prompt}: the value is quoted here either way.
  const line = template.replace(/(["']?)\{(prompt|promptFile)\}\1/g, (_, _q, k: 'prompt' | 'promptFile') => shellQuote(values[k]));
  return { file: '/bin/sh', args: ['-c', line], shell: true };
}

function programName(template: string | string[]): string {
  const first = Array.isArray(template) ? template[0] ?? 'agent' : template.trim().split(/\s+/).find((w) => !/^\w+=/.test(w)) ?? 'agent';
  return basename(first.replace(/^["']|["']$/g, ''));
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claude Code's `--output-format json` result: the final message, its cost and tokens. */
export function readAgentResult(output: string): { text: string; costUsd?: number; tokensIn?: number; tokensOut?: number; model?: string } {
  const lines = output.trim().split('\n');
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 50; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l) as { type?: string; result?: unknown; total_cost_usd?: unknown; usage?: Record<string, unknown>; modelUsage?: Record<string, unknown> };
      if (typeof j.result !== 'string') continue;
      const n = (k: string) => (typeof j.usage?.[k] === 'number' ? (j.usage[k] as number) : 0);
      const tokensIn = j.usage ? n('input_tokens') + n('cache_creation_input_tokens') + n('cache_read_input_tokens') : undefined;
      const models = j.modelUsage ? Object.keys(j.modelUsage) : [];
      return {
        text: j.result, costUsd: typeof j.total_cost_usd === 'number' ? j.total_cost_usd : undefined, tokensIn,
        tokensOut: j.usage ? n('output_tokens') : undefined, model: models.length === 1 ? models[0] : undefined,
      };
    } catch {
      // Not the result line.
    }
  }
  return { text: output };
}

/** The one-line description and the plan from what the agent said last. */
export function describeAgentChange(text: string, changed: readonly string[]): { description: string; plan: string } {
  const clean = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();
  const lines = clean.split('\n');
  const planAt = lines.map((l) => /^\s*(?:[*_`]+)?PLAN(?:[*_`]+)?\s*:\s*(.+?)\s*$/i.exec(l)).reduce<RegExpExecArray | null>((last, m) => m ?? last, null);
  let description = planAt ? planAt[1]!.replace(/[*_`]+/g, '').trim() : '';
  if (!description) {
    const paragraphs = clean.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
    const last = paragraphs[paragraphs.length - 1]?.split('\n')[0]?.replace(/^[#*\s-]+/, '').trim() ?? '';
    description = last.length >= 8 ? last : `agent edit of ${changed.join(', ')}`;
  }
  description = truncate(description, 100);
  const plan = clean.length > 2000 ? `…${clean.slice(-1999)}` : clean;
  return { description, plan: plan || description };
}

interface Exit {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  startError?: string;
  tail: string;
}

export class AgentCliProposer implements Proposer {
  readonly kind = 'agent-cli';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve', 'debug']);
  /** A model reads both sides of a merge that conflicts and can reconcile them. */
  readonly reconcilesMerges = true;
  private readonly running = new Set<() => void>();

  constructor(private readonly s: AgentCliSettings, private readonly graceMs: number) {
    for (const secret of environmentSecrets()) addSecret(secret);
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const info: ProposerInfo = { kind: this.kind, model: this.s.model };
    const transcript = new Transcript(req, info);
    const files = readEditableFiles(req.worktree, req.config.editable, req.config.readonly);
    const prompt = buildResearchPrompt({
      request: req, files, budgetTokens: this.s.contextTokens, mode: 'agent',
      logHead: req.operator === 'debug' && req.parent.logPath ? readLogHead(req.parent.logPath) : null,
    });
    const text = `${prompt.system}\n\n${prompt.user}`;
    transcript.add('Prompt', text);
    const tmp = mkdtempSync(join(tmpdir(), 'autoresearch-agent-'));
    const fail = async (message: string, editKey?: string): Promise<never> => {
      transcript.add('Failure', message);
      const where = this.s.transcripts ? await saveTranscript(req, transcript) : null;
      throw new ProposalError(redact(`${message}${where ? ` (transcript: ${where})` : ''}`), info, editKey);
    };
    try {
      const promptFile = join(tmp, 'prompt.md');
      writeFileSync(promptFile, text, { mode: 0o600 });
      const cmd = expandCommand(this.s.command, { prompt: text, promptFile });
      if (cmd.args.some((a) => Buffer.byteLength(a) > MAX_ARG_BYTES)) {
        await fail(`the prompt (${Math.round(Buffer.byteLength(text) / 1024)} KB) is too long for one command-line argument; use {promptFile} in proposer.command instead of {prompt}, or lower proposer.contextTokens`);
      }
      const exit = await this.run(cmd, req, tmp);
      transcript.add(`Agent output (exit ${exit.code ?? exit.signal ?? 'none'})`, exit.tail);
      if (exit.aborted) throw abortError(req.signal);
      if (exit.startError) await fail(`the agent command could not start: ${exit.startError}`);
      if (exit.timedOut) await fail(`the agent did not finish within ${fmtDuration(this.s.timeoutMs)} (proposer.timeout) and its process group was killed; last output: ${lastLines(exit.tail)}`);
      if (exit.code !== 0) await fail(`the agent exited with ${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`}; last output: ${lastLines(exit.tail)}`);

      await this.undoCommits(req);
      const changes = await this.readChanges(req.worktree);
      const paths = Object.keys(changes).sort();
      if (paths.length === 0) await fail(`the agent exited 0 but changed nothing in the worktree; last output: ${lastLines(exit.tail)}`);
      const editKey = editKeyFor(changes);
      if (req.triedFromParent.has(editKey)) await fail(`the agent repeated a change already tried from #${req.parent.id}`, editKey);
      const result = readAgentResult(exit.tail);
      Object.assign(info, {
        ...(result.model ? { model: result.model } : {}), ...(result.tokensIn !== undefined ? { tokensIn: result.tokensIn } : {}),
        ...(result.tokensOut !== undefined ? { tokensOut: result.tokensOut } : {}), ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
      });
      const { description, plan } = describeAgentChange(result.text, paths);
      transcript.succeed(`Changed: ${paths.join(', ')}\nEdit key: ${editKey}\nDescription: ${description}`);
      if (this.s.transcripts) await saveTranscript(req, transcript);
      return { description: redact(description), plan: redact(plan), editKey, proposer: info };
    } catch (e) {
      if (isAbort(e, req.signal)) throw req.signal.aborted ? abortError(req.signal) : e;
      if (e instanceof ProposalError) throw e;
      return await fail(`the agent proposer failed: ${(e as Error).message ?? e}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Runs the agent as the leader of its own process group; returns once the leader has exited and the group is gone. */
  private async run(cmd: { file: string; args: string[] }, req: ProposalRequest, tmp: string): Promise<Exit> {
    let total = 0;
    let tail = '';
    let timedOut = false;
    let aborted = false;
    const timers: NodeJS.Timeout[] = [];
    // In the sandbox the agent may write only its worktree and its own folders; it reads the prompt from `tmp`.
    const [file, args] = req.sandbox?.length
      ? [req.sandbox[0]!, [...req.sandbox.slice(1), '--ro-bind', tmp, tmp, ...(isAbsolute(cmd.file) ? ['--ro-bind', cmd.file, cmd.file] : []), cmd.file, ...cmd.args]]
      : [cmd.file, cmd.args];
    const child = execa(file, args, {
      cwd: req.worktree, detached: true, stdin: 'ignore', all: true, buffer: false, reject: false, cleanup: false, forceKillAfterDelay: false,
      env: {
        ...process.env, NO_COLOR: '1', AUTORESEARCH_TAG: req.config.tag, AUTORESEARCH_PARENT: String(req.parent.id),
        AUTORESEARCH_OPERATOR: req.operator, AUTORESEARCH_PROMPT_FILE: join(tmp, 'prompt.md'),
      },
    });
    const pid = child.pid;
    let ended = false;
    const terminate = () => {
      if (ended) return;
      killGroup(pid, 'SIGTERM');
      timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), this.graceMs));
    };
    timers.push(setTimeout(() => {
      timedOut = true;
      terminate();
    }, this.s.timeoutMs));
    const onAbort = () => {
      aborted = true;
      terminate();
    };
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener('abort', onAbort, { once: true });
    this.running.add(onAbort);
    child.all?.on('data', (chunk: Buffer) => {
      const s = chunk.toString('utf8');
      total += chunk.length;
      tail = (tail + s).slice(-OUTPUT_TAIL);
    });
    let startError: string | undefined;
    const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        if (pid === undefined) startError = error.message;
        resolve({ code: null, signal: null });
      });
    });
    ended = true;
    for (const t of timers) clearTimeout(t);
    req.signal.removeEventListener('abort', onAbort);
    this.running.delete(onAbort);
    // Whatever the agent left running goes with it.
    if (pid) {
      killGroup(pid, 'SIGKILL');
      for (let i = 0; i < 50 && groupAlive(pid); i++) await new Promise((res) => setTimeout(res, 20));
    }
    child.all?.destroy();
    await child.catch(() => undefined);
    if (total > OUTPUT_TAIL) tail = `[… ${total - OUTPUT_TAIL} earlier bytes of output not kept]\n${tail}`;
    return { code: r.code, signal: r.signal, timedOut, aborted, startError, tail };
  }

  /** An agent that committed (aider does by default) leaves its change in commits: bring it back into the worktree. */
  private async undoCommits(req: ProposalRequest): Promise<void> {
    if (!req.parent.commit) return;
    const wt = new ProposalWorktree(req.worktree);
    const head = await wt.head();
    if (head !== null && head !== req.parent.commit) {
      const failed = await wt.resetSoftTo(req.parent.commit);
      if (failed !== null) throw new Error(`the agent moved HEAD and it could not be reset: ${failed}`);
    }
  }

  /** New contents by path of everything the agent changed (null: deleted), after removing its scratch files. */
  private async readChanges(worktree: string): Promise<Record<string, string | null>> {
    const status = await new ProposalWorktree(worktree).statusPorcelainZ();
    if (!status.ok) throw new Error(`git status failed in the worktree: ${status.error}`);
    const entries = status.out.split('\0').filter(Boolean);
    const changes: Record<string, string | null> = {};
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const code = e.slice(0, 2);
      const path = e.slice(3);
      if (code[0] === 'R' || code[0] === 'C') {
        const from = entries[++i];
        if (from && code[0] === 'R') changes[from] = null;
      }
      const top = path.split('/')[0]!;
      if (code === '??' && this.s.scratch.length && (matchesAny(path, this.s.scratch) || matchesAny(top, this.s.scratch))) {
        rmSync(join(worktree, top), { recursive: true, force: true });
        continue;
      }
      try {
        changes[path] = readFileSync(join(worktree, path)).toString('base64');
      } catch {
        changes[path] = null;
      }
    }
    return changes;
  }

  dispose(): void {
    for (const stop of [...this.running]) stop();
  }
}

function lastLines(text: string, n = 8): string {
  const lines = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim().split('\n').filter((l) => l.trim());
  const out = lines.slice(-n).join(' | ');
  return out ? (out.length > 600 ? `…${out.slice(-600)}` : out) : '(no output)';
}

export const AGENT_CLI_KEYS = ['command', 'timeout', 'scratch', 'contextTokens', 'transcripts', 'model'] as const;

export function readAgentCliSettings(config: ResearchConfig): AgentCliSettings {
  const r = new ProposerConfigReader(config.proposer as Record<string, unknown>, AGENT_CLI_KEYS);
  const raw = (config.proposer as Record<string, unknown>).command;
  let command: string | string[] | undefined;
  const example = 'claude -p {prompt} --permission-mode acceptEdits';
  if (typeof raw === 'string' && raw.trim()) command = raw.trim();
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((a) => typeof a === 'string') && (raw[0] as string).trim()) command = raw as string[];
  else r.fail('command', raw, `a command line with {prompt} or {promptFile} (e.g. ${example}), or a list of arguments`);
  if (command && !(Array.isArray(command) ? command.some((a) => PLACEHOLDER.test(a)) : PLACEHOLDER.test(command))) {
    r.fail('command', command, `a command that passes the prompt: {prompt} (the prompt as one argument) or {promptFile} (the path of a file holding it), e.g. ${example}`);
  }
  const timeoutMs = r.duration('timeout', 20 * 60);
  const scratch = r.strings('scratch', ['.aider*']);
  const contextTokens = r.number('contextTokens', 24_000, 2048, 10_000_000, true);
  const transcripts = r.boolean('transcripts', true);
  const model = r.string('model', false, 'claude-code');
  r.done();
  return { command: command!, timeoutMs, scratch, contextTokens, transcripts, model: model ?? programName(command!) };
}

export function createAgentCliProposer(config: ResearchConfig): AgentCliProposer {
  return new AgentCliProposer(readAgentCliSettings(config), Math.max(0, config.graceSeconds * 1000));
}
