// The research prompt: the notes, the rules, the node being expanded (its code and metric), the operator,
// and a compact history of the whole tree grouped by idea so nothing is proposed twice, trimmed to the
// model's context budget with the most relevant first. A queued hypothesis comes first, named as the
// one this experiment tests. A merge the engine could not make is a task of its own: both sides, the conflict, and
// what each line changed since they parted.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { listFiles, matchesAny } from '../glob.js';
import type { ProposalRequest } from './proposer.js';
import type { ExperimentNode, PlatformInfo, ResearchConfig } from '../types.js';
import { directionText, fmtMemory, fmtNum, fmtSigned, truncate } from '../../shared/format.js';
import { minDeltaText } from '../judging/judge.js';

export interface EditableFile {
  path: string;
  content: string;
}

export interface PromptInput {
  request: ProposalRequest;
  files: readonly EditableFile[];
  /** Tokens the system prompt and the user message may take together. */
  budgetTokens: number;
  /** `reply`: the model answers with SEARCH/REPLACE blocks or a whole file. `agent`: it edits the worktree itself. */
  mode: 'reply' | 'agent';
  /** The first lines of the crashed parent's log (debug); its tail is on the node. */
  logHead?: string | null;
}

export interface ResearchPrompt {
  system: string;
  user: string;
  tokens: number;
  /** Set when even the essentials (rules, task, code) do not fit the budget: what to do about it. */
  overBudget: string | null;
  /** Experiments in the history section, and those left out to fit. */
  historyShown: number;
  historyOmitted: number;
}

/** A rough count that errs high (code runs about 3 characters a token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

const MAX_FILE_BYTES = 512 * 1024;

/** The editable, unprotected text files of a worktree, in path order. */
export function readEditableFiles(worktree: string, editable: readonly string[], readonly: readonly string[] = []): EditableFile[] {
  const out: EditableFile[] = [];
  for (const path of listFiles(worktree)) {
    if (!matchesAny(path, editable) || matchesAny(path, readonly)) continue;
    try {
      const abs = join(worktree, path);
      if (statSync(abs).size > MAX_FILE_BYTES) continue;
      const buf = readFileSync(abs);
      if (buf.subarray(0, 8192).includes(0)) continue;
      out.push({ path, content: buf.toString('utf8') });
    } catch {
      // Unreadable: not something a model can edit.
    }
  }
  return out;
}

/** The first lines of a log (where the command line, the config and early errors are). */
export function readLogHead(path: string, lines = 30, maxBytes = 4096): string | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    const n = readSync(fd, buf, 0, maxBytes, 0);
    return buf.subarray(0, n).toString('utf8').split('\n').slice(0, lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

// ---- pieces --------------------------------------------------------------------------------------

const STATUS_WORD: Record<string, string> = { keep: 'kept', discard: 'discarded', crash: 'crashed', invalid: 'invalid', pending: 'queued', running: 'running now' };

function oneLine(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), max);
}

function delta(n: ExperimentNode, parent: ExperimentNode | undefined): string {
  if (n.metric === null || parent?.metric === null || parent?.metric === undefined || !Number.isFinite(n.metric)) return '';
  const d = n.metric - parent.metric;
  return ` (${fmtSigned(d)} vs #${parent.id})`;
}

/** `#7 kept 0.956 (−0.04 vs #3)`, `#9 crashed: exit code 1`, `#4 invalid: touched prepare.py`. */
export function nodeOutcome(n: ExperimentNode, byId: ReadonlyMap<number, ExperimentNode>): string {
  const word = STATUS_WORD[n.status] ?? n.status;
  const parent = n.parentId === null ? undefined : byId.get(n.parentId);
  const from = n.parentId === null ? '' : ` from #${n.parentId}`;
  if (n.status === 'keep' || n.status === 'discard') return `#${n.id} ${word} ${fmtNum(n.metric)}${delta(n, parent)}${from}${n.decidedBy === 'human' ? ' (by a person)' : ''}`;
  if (n.status === 'crash' || n.status === 'invalid') return `#${n.id} ${word}${from}: ${oneLine(n.reason || 'no reason recorded', 160)}`;
  return `#${n.id} ${word}${from}`;
}

function platformLine(p: PlatformInfo | null): string | null {
  if (!p) return null;
  const counts = new Map<string, number>();
  for (const g of p.gpus) {
    const name = `${g.name}${g.memoryMb ? ` (${Math.round(g.memoryMb / 1024)} GB)` : ''}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const gpus = counts.size
    ? `${p.accelerator.toUpperCase()}: ${[...counts].map(([n, c]) => `${c}× ${n}`).join(', ')}`
    : p.accelerator === 'mps' ? 'Apple GPU (MPS)' : 'CPU only, no GPU';
  const fw = Object.entries(p.frameworks).map(([k, v]) => `${k} ${v}`).join(', ');
  return [`${p.os}/${p.arch}`, gpus, p.python ? `Python ${p.python}` : null, fw || null, `${p.cpus} CPUs`, `${p.memoryGb} GB RAM`].filter(Boolean).join('; ');
}

/** The lineage of a node: baseline first. */
function pathTo(id: number, byId: ReadonlyMap<number, ExperimentNode>): ExperimentNode[] {
  const out: ExperimentNode[] = [];
  for (let n = byId.get(id); n; n = n.parentId === null ? undefined : byId.get(n.parentId)) {
    out.unshift(n);
    if (out.length > 1000) break;
  }
  return out;
}

const LANG: Record<string, string> = {
  '.py': 'python', '.ts': 'typescript', '.js': 'javascript', '.mjs': 'javascript', '.sh': 'bash', '.yaml': 'yaml', '.yml': 'yaml',
  '.json': 'json', '.toml': 'toml', '.md': 'markdown', '.c': 'c', '.h': 'c', '.cc': 'cpp', '.cpp': 'cpp', '.cu': 'cuda', '.rs': 'rust', '.jl': 'julia', '.r': 'r',
};

/** A fence longer than any run of backticks in the content. */
export function fenceFor(content: string): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

function codeBlock(f: EditableFile): string {
  const fence = fenceFor(f.content);
  return `## ${f.path}\n${fence}${LANG[extname(f.path).toLowerCase()] ?? ''}\n${f.content}${f.content.endsWith('\n') ? '' : '\n'}${fence}`;
}

/** Cuts text to about `tokens`, at a line boundary, saying so. */
function fitText(text: string, tokens: number, what: string): string {
  if (estimateTokens(text) <= tokens) return text;
  const chars = Math.max(0, tokens * 3 - 80);
  const cut = text.slice(0, chars);
  const at = cut.lastIndexOf('\n');
  return `${at > chars / 2 ? cut.slice(0, at) : cut}\n[… ${what} cut here to fit the context budget]`;
}

// ---- history -------------------------------------------------------------------------------------

export interface HistoryIdea {
  /** The description shared by every node of the idea. */
  description: string;
  nodes: ExperimentNode[];
  /** Where it is listed: the best outcome any of its nodes had. */
  group: 'kept' | 'discarded' | 'crashed' | 'rejected' | 'running';
  score: number;
  /** First sentence of the plan of a kept node: why it worked. */
  why: string | null;
}

function ideaKey(description: string): string {
  return description.toLowerCase().replace(/[`'"“”]/g, '').replace(/\s+/g, ' ').replace(/[.!;:,\s]+$/, '').trim();
}

function isFailedProposal(n: ExperimentNode): boolean {
  return n.commit === null && n.status === 'invalid';
}

/**
 * The experiments of the tree other than the baseline and the expanded node's own children (listed on
 * their own), grouped by idea, each scored for relevance to the node being expanded.
 */
export function historyIdeas(request: Pick<ProposalRequest, 'history' | 'parent'>): HistoryIdea[] {
  const byId = new Map(request.history.map((n) => [n.id, n]));
  const lineage = new Set(pathTo(request.parent.id, byId).map((n) => n.id));
  const maxId = Math.max(1, ...request.history.map((n) => n.id));
  const ideas = new Map<string, HistoryIdea>();
  const rank = { kept: 4, running: 3, crashed: 2, discarded: 1, rejected: 0 } as const;
  for (const n of request.history) {
    if (n.id === 0 || n.operator === 'baseline' || n.parentId === request.parent.id || isFailedProposal(n) || n.operator === 'rerun') continue;
    const group: HistoryIdea['group'] = n.status === 'keep' ? 'kept' : n.status === 'discard' ? 'discarded' : n.status === 'crash' ? 'crashed' : n.status === 'invalid' ? 'rejected' : 'running';
    let score = { kept: 50, running: 40, crashed: 30, discarded: 20, rejected: 10 }[group];
    if (lineage.has(n.id)) score += 40;
    else if (n.parentId !== null && lineage.has(n.parentId)) score += 25;
    score += (10 * n.id) / maxId;
    const key = ideaKey(n.description);
    const idea = ideas.get(key);
    if (!idea) {
      ideas.set(key, { description: oneLine(n.description, 120), nodes: [n], group, score, why: group === 'kept' ? firstSentence(n.plan) : null });
      continue;
    }
    idea.nodes.push(n);
    idea.score = Math.max(idea.score, score) + 2;
    if (rank[group] > rank[idea.group]) idea.group = group;
    if (group === 'kept' && !idea.why) idea.why = firstSentence(n.plan);
  }
  return [...ideas.values()];
}

function firstSentence(plan: string): string | null {
  const t = plan.replace(/\s+/g, ' ').trim();
  if (!t) return null;
  const m = /^(.{20,200}?[.!?])(\s|$)/.exec(t);
  return oneLine(m ? m[1]! : t, 200);
}

function ideaLine(idea: HistoryIdea, byId: ReadonlyMap<number, ExperimentNode>): string {
  // An idea tried many times: the first two and the latest two say enough.
  const n = idea.nodes;
  const shown = n.length > 4 ? [...n.slice(0, 2).map((x) => nodeOutcome(x, byId)), `… ${n.length - 4} more …`, ...n.slice(-2).map((x) => nodeOutcome(x, byId))] : n.map((x) => nodeOutcome(x, byId));
  const outcomes = shown.join('; ');
  const times = idea.nodes.length > 1 ? ` [tried ${idea.nodes.length}×]` : '';
  return `- ${idea.description}${times} — ${outcomes}${idea.why ? `\n  why it worked: ${idea.why}` : ''}`;
}

const GROUP_TITLES: [HistoryIdea['group'], string][] = [
  ['kept', 'Kept (improved on their parent)'],
  ['running', 'Being tried right now (do not duplicate)'],
  ['discarded', 'Discarded (ran fine, no improvement)'],
  ['crashed', 'Crashed (avoid the same mistake)'],
  ['rejected', 'Rejected by the engine (never ran)'],
];

/** The history section within `tokens`: the most relevant ideas, shown grouped by outcome. */
export function renderHistory(request: Pick<ProposalRequest, 'history' | 'parent'>, tokens: number): { text: string; shown: number; omitted: number } {
  const byId = new Map(request.history.map((n) => [n.id, n]));
  const ideas = historyIdeas(request).sort((a, b) => b.score - a.score || a.nodes[0]!.id - b.nodes[0]!.id);
  // Failed proposals from the expanded node itself are in its own list.
  const failed = request.history.filter((n) => isFailedProposal(n) && n.parentId !== request.parent.id);
  const total = ideas.reduce((s, i) => s + i.nodes.length, 0);
  if (total === 0 && failed.length === 0) return { text: '', shown: 0, omitted: 0 };
  const header = `# History of the search tree (${total} experiment${total === 1 ? '' : 's'} besides the baseline and the ones from this node, grouped by idea, most relevant first)`;
  let used = estimateTokens(header) + 40;
  const chosen: HistoryIdea[] = [];
  let omitted = 0;
  for (const idea of ideas) {
    const cost = estimateTokens(ideaLine(idea, byId)) + 1;
    if (used + cost > tokens) {
      omitted += idea.nodes.length;
      continue;
    }
    used += cost;
    chosen.push(idea);
  }
  const parts: string[] = [header];
  for (const [group, title] of GROUP_TITLES) {
    const list = chosen.filter((i) => i.group === group).sort((a, b) => a.nodes[0]!.id - b.nodes[0]!.id);
    if (list.length) parts.push(`## ${title}\n${list.map((i) => ideaLine(i, byId)).join('\n')}`);
  }
  if (failed.length) {
    const last = failed[failed.length - 1]!;
    const line = `## Proposals that failed before running\n${failed.length} (the latest, #${last.id}: ${oneLine(last.reason || 'no reason', 200)})`;
    if (used + estimateTokens(line) <= tokens) parts.push(line);
  }
  if (omitted) parts.push(`(${omitted} less relevant experiment${omitted === 1 ? '' : 's'} left out to fit the context.)`);
  if (chosen.length === 0 && parts.length === 1) return { text: '', shown: 0, omitted };
  return { text: parts.join('\n\n'), shown: total - omitted, omitted };
}

// ---- the prompt ----------------------------------------------------------------------------------

function rules(config: ResearchConfig, files: readonly EditableFile[]): string {
  const editable = files.length ? files.map((f) => f.path).join(', ') : config.editable.join(', ');
  const globs = config.editable.some((g) => /[*?[{]/.test(g)) ? ` (any file matching ${config.editable.join(', ')})` : '';
  const keep = config.minDelta > 0 || config.minDeltaShare ? ` by more than ${minDeltaText(config)}${config.minDeltaShare ? ' of its value' : ''}` : '';
  return [
    `1. Edit only the editable files: ${editable}${globs}.${config.readonly.length ? ` Never touch the protected files (${config.readonly.join(', ')}).` : ''}`,
    `2. Fixed budget: every run is stopped after ${config.budgetText} of wall-clock time (the script gets AUTORESEARCH_BUDGET_SECONDS=${config.budgetSeconds}). A run that is stopped, exits with an error or prints no metric counts as a crash.`,
    `3. One metric decides: \`${config.metric.name}\`, ${directionText(config.metric.direction)}. A change is kept only if it beats its parent${keep}. The script must keep printing the metric exactly as it does now.`,
    `4. No new dependencies: use only what the code already imports and the standard library; nothing to install or download.`,
    `5. Prefer simpler code: a tiny gain that adds a lot of complexity is not worth it; removing code for an equal result is a win.`,
    `6. One idea per experiment, so its effect can be measured. Never repeat an idea the history shows was already tried.`,
  ].join('\n');
}

const REPLY_FORMAT = (example: string) => `Reply format:
First a line \`PLAN: <what you change, at most 80 characters>\`, then at most three sentences on why you expect it to help.
Then the edit, as one or more SEARCH/REPLACE blocks, each preceded by the file's path on its own line:

${example}
<<<<<<< SEARCH
the exact lines to replace, copied from the current code
=======
the new lines
>>>>>>> REPLACE

Each SEARCH must copy the current code exactly (indentation included) and match exactly one place in that file; add a few unchanged lines around the change when needed to make it unique. Keep blocks small and list them in file order.
Alternatively, for a small file you rewrite, give its path on its own line and then ONE fenced code block with the complete new file; never leave parts out with "..." or "rest unchanged".`;

const AGENT_FORMAT = (files: string) => `How to work:
You run inside a git worktree that holds the code of the node being expanded. Edit the files in place; the engine reads your change from the worktree when you exit.
- Change only ${files}. Do not create, delete or edit other files, and do not commit.
- Do not run the training: the engine runs it under the budget. A quick syntax check is fine.
- When you are done, end your final message with one line \`PLAN: <what you changed, at most 80 characters>\`.`;

function system(config: ResearchConfig, files: readonly EditableFile[], mode: PromptInput['mode']): string {
  const intro = 'You are the research agent of AutoResearch, an autonomous ML research loop. Each turn you propose ONE change to the training code. The engine commits it, runs it under a fixed wall-clock budget, reads one metric and keeps the change only if the metric beats its parent; otherwise it is discarded and the search moves on. The search is a tree: you see the outcome of every experiment so far.';
  const format = mode === 'agent' ? AGENT_FORMAT(files.map((f) => f.path).join(', ') || config.editable.join(', ')) : REPLY_FORMAT(files[0]?.path ?? 'train.py');
  return `${intro}\n\nRules (the engine enforces them; a change that breaks one is rejected without running):\n${rules(config, files)}\n\n${format}`;
}

function study(req: ProposalRequest, byId: ReadonlyMap<number, ExperimentNode>): string {
  const c = req.config;
  const lines = [`- Metric: \`${c.metric.name}\`, ${directionText(c.metric.direction)}${c.minDelta > 0 || c.minDeltaShare ? `; a change must beat its parent by more than ${minDeltaText(c)}${c.minDeltaShare ? ' of its value' : ''}` : ''}.`];
  if (c.metrics.length) lines.push(`- Also logged: ${c.metrics.map((m) => m.name).join(', ')}.`);
  if (c.constraints.length) lines.push(`- Constraints (a run that breaks one is discarded): ${c.constraints.map((x) => x.source).join(', ')}.`);
  lines.push(`- Budget: ${c.budgetText} per run. Command: \`${c.run}\`.`);
  const p = platformLine(req.platform);
  if (p) lines.push(`- Platform: ${p}.`);
  const base = byId.get(0);
  const decided = req.history.filter((n) => n.id !== 0 && n.decidedBy !== null).length;
  const best = req.history.filter((n) => n.status === 'keep' && n.metric !== null && Number.isFinite(n.metric))
    .reduce<ExperimentNode | null>((b, n) => (!b || (c.metric.direction === 'minimize' ? n.metric! < b.metric! : n.metric! > b.metric!) ? n : b), null);
  if (base) lines.push(`- Baseline (#0): ${c.metric.name} ${fmtNum(base.metric)}; best so far: ${best ? `#${best.id} ${fmtNum(best.metric)}` : 'none'}; ${decided} experiment${decided === 1 ? '' : 's'} decided.`);
  return `# The study\n${lines.join('\n')}`;
}

function nodeSummary(n: ExperimentNode, byId: ReadonlyMap<number, ExperimentNode>, config: ResearchConfig): string {
  const path = pathTo(n.id, byId);
  const lines = [`#${n.id} "${oneLine(n.description, 120)}": ${n.status === 'crash' ? `crashed (${oneLine(n.reason, 300)})` : `${config.metric.name} ${fmtNum(n.metric)}, ${STATUS_WORD[n.status] ?? n.status}`}.`];
  const secondary = Object.entries(n.secondary ?? {});
  if (n.memoryGb !== null || secondary.length) lines.push(`Also measured: ${[n.memoryGb !== null ? `memory ${fmtMemory(n.memoryGb)}` : null, ...secondary.map(([k, v]) => `${k} ${fmtNum(v)}`)].filter(Boolean).join(', ')}.`);
  if (path.length > 1) lines.push(`Path from the baseline: ${path.map((p) => `#${p.id} ${p.id === 0 ? 'baseline' : `"${oneLine(p.description, 60)}"`} (${fmtNum(p.metric)})`).join(' → ')}.`);
  if (n.id !== 0 && n.plan.trim()) lines.push(`Its plan was: ${oneLine(n.plan, 400)}`);
  return lines.join('\n');
}

function diffBlock(title: string, diff: string): string {
  const text = diff.trim() || '(no change)';
  const fence = fenceFor(text);
  return `## ${title}\n${fence}diff\n${text}\n${fence}`;
}

/** The task of reconciling a merge that conflicted: both sides named, the conflict, the two diffs from where they parted. */
function mergeTask(req: ProposalRequest, merge: NonNullable<ProposalRequest['merge']>, byId: ReadonlyMap<number, ExperimentNode>, mode: PromptInput['mode']): string {
  const p = req.parent;
  const { from, base } = merge;
  const code = mode === 'reply' ? 'its code is below' : 'its code is in the worktree';
  return [
    `# Your task: merge #${from.id} into #${p.id}, reconciling a conflict\nThis is not a new idea: it combines two that each improved on their own. #${p.id} (ours, the best; ${code}) and #${from.id} (theirs, kept on another branch) both changed the code since #${base.id}, where their lines parted. git's three-way merge could not combine them: ${merge.conflict}.`,
    `Ours: ${nodeSummary(p, byId, req.config)}`,
    `Theirs: ${nodeSummary(from, byId, req.config)}`,
    `Bring #${from.id}'s changes (the diff from #${base.id} to #${from.id} below) onto #${p.id}'s code and resolve the conflict: keep #${p.id}'s changes and add #${from.id}'s; where both changed the same thing differently, combine them when both can hold, else choose the one the results favour and say which in your PLAN line. Change nothing else: no idea of your own, no clean-up.`,
    diffBlock(`Theirs: what #${from.id}'s line changed since #${base.id} (bring this onto #${p.id})`, merge.theirs),
    diffBlock(`Ours: what #${p.id}'s line changed in the same files since #${base.id} (already in #${p.id}'s code)`, merge.ours),
  ].join('\n\n');
}

function task(req: ProposalRequest, byId: ReadonlyMap<number, ExperimentNode>, mode: PromptInput['mode']): string {
  const p = req.parent;
  const m = req.config.metric.name;
  const hint = req.hint ? ' It must test the queued hypothesis at the top of this message.' : '';
  if (req.operator === 'merge' && req.merge) return mergeTask(req, req.merge, byId, mode);
  switch (req.operator) {
    case 'draft':
      return `# Your task: draft a new approach from the baseline (#${p.id})\n${nodeSummary(p, byId, req.config)}\nPropose an independent idea that starts a new branch of the tree: a different approach from the other drafts listed above, not a small tweak of one.${hint}`;
    case 'debug':
      return `# Your task: debug #${p.id}\n${nodeSummary(p, byId, req.config)}\nFind the cause of the crash in the log below and fix it with the smallest change that keeps #${p.id}'s idea. Do not start a different idea.${hint}`;
    default:
      return `# Your task: improve #${p.id}\n${nodeSummary(p, byId, req.config)}\nPropose one atomic change to #${p.id}'s code that you expect to make \`${m}\` ${req.config.metric.direction === 'minimize' ? 'lower' : 'higher'}.${hint}`;
  }
}

function triedHere(req: ProposalRequest, byId: ReadonlyMap<number, ExperimentNode>, tokens: number): string {
  const kids = req.history.filter((n) => n.parentId === req.parent.id && n.operator !== 'rerun');
  if (kids.length === 0) return '';
  const header = `# Already tried from #${req.parent.id} (${kids.length}; do not repeat any of these)`;
  const lines: string[] = [];
  let used = estimateTokens(header);
  let left = 0;
  for (const n of [...kids].reverse()) {
    const line = `- ${isFailedProposal(n) ? '(failed proposal)' : `"${oneLine(n.description, 120)}"`} — ${nodeOutcome(n, byId)}`;
    if (used + estimateTokens(line) > tokens) {
      left++;
      continue;
    }
    used += estimateTokens(line);
    lines.unshift(line);
  }
  if (left) lines.unshift(`- (${left} older attempts left out to fit the context)`);
  return `${header}\n${lines.join('\n')}`;
}

function logExcerpt(req: ProposalRequest, head: string | null | undefined, tokens: number): string {
  if (req.operator !== 'debug') return '';
  const tail = req.parent.logTail?.trim() ?? '';
  if (!tail && !head) return `# The log of #${req.parent.id}\n(no log was recorded)`;
  const half = Math.max(200, Math.floor(tokens / 2));
  const h = head ? fitText(head.trim(), Math.min(half, 800), 'head') : '';
  // The end of the log is where the error is: keep its last lines.
  let t = tail;
  if (estimateTokens(t) > tokens - estimateTokens(h)) {
    const chars = Math.max(600, (tokens - estimateTokens(h)) * 3);
    t = `[…]\n${t.slice(-chars)}`;
  }
  const fence = fenceFor(`${h}${t}`);
  return `# The log of #${req.parent.id}\n${h ? `Head:\n${fence}\n${h}\n${fence}\n` : ''}Tail:\n${fence}\n${t}\n${fence}`;
}

/** Builds the system prompt and the user message for one proposal, within the budget. */
export function buildResearchPrompt(input: PromptInput): ResearchPrompt {
  const { request: req, files, mode } = input;
  const byId = new Map(req.history.map((n) => [n.id, n]));
  if (!byId.has(req.parent.id)) byId.set(req.parent.id, req.parent);
  const sys = system(req.config, files, mode);
  const hint = req.hint ? `# Hypothesis to test (queued by a person)\n"${req.hint.text.trim()}"\nThis experiment tests this hypothesis: design the change to test it and say so in your PLAN line.` : '';
  const studyText = study(req, byId);
  const taskText = task(req, byId, mode);
  const code = mode === 'reply' ? `# Current code of #${req.parent.id}\n${files.map(codeBlock).join('\n\n')}` : '';
  const closing = req.merge
    ? mode === 'reply' ? `Now reply with the PLAN line, how you resolved the conflict, and the edit of #${req.parent.id}'s code that brings #${req.merge.from.id}'s changes.` : `Now bring #${req.merge.from.id}'s changes onto the code in the worktree.`
    : mode === 'reply' ? 'Now reply with the PLAN line, your reasoning and the edit.' : 'Now make the change in the worktree.';
  const essentials = [sys, hint, studyText, taskText, code, closing];
  const fixed = essentials.reduce((s, t) => s + estimateTokens(t), 0);
  let left = input.budgetTokens - fixed;
  if (left < 0) {
    const codeTokens = estimateTokens(code);
    return {
      system: sys, user: [hint, studyText, taskText, code, closing].filter(Boolean).join('\n\n'), tokens: fixed, historyShown: 0, historyOmitted: 0,
      overBudget: `the prompt's essentials (rules, task and the ${files.length} editable file${files.length === 1 ? '' : 's'}: about ${codeTokens} tokens of code) need about ${fixed} tokens, more than the ${input.budgetTokens} the model allows; raise \`proposer.contextTokens\` (for a model with a larger window) or narrow \`editable\``,
    };
  }
  const log = logExcerpt(req, input.logHead, Math.min(3000, Math.floor(left * 0.3)));
  left -= estimateTokens(log);
  // A merge is not one more try from the parent: what was tried from it does not bear on the reconciliation.
  const tried = req.merge ? '' : triedHere(req, byId, Math.floor(left * 0.25));
  left -= estimateTokens(tried);
  const notesText = req.notes?.trim() ? `# Research notes (from the person running the study)\n${fitText(req.notes.trim(), Math.max(200, Math.floor(left * 0.45)), 'notes')}` : '';
  left -= estimateTokens(notesText);
  // Joining the sections costs a few characters the estimates above do not count.
  const history = renderHistory(req, Math.max(0, left - 50));
  // Hypothesis first; then the big picture; then this node's task, log and code, where the model reads last.
  const user = [hint, notesText, studyText, history.text, tried, taskText, log, code, closing].filter(Boolean).join('\n\n');
  return { system: sys, user, tokens: estimateTokens(sys) + estimateTokens(user), overBudget: null, historyShown: history.shown, historyOmitted: history.omitted };
}

/** The follow-up message after an edit that could not be used: the error, and what a good reply looks like. */
export function retryPrompt(error: string, paths: readonly string[]): string {
  return `Your edit could not be used: ${error}

Reply again with the PLAN line and a corrected edit. Each SEARCH block must copy lines from the current code of ${paths.join(', ')} exactly and match exactly one place; or give the complete new file in one fenced code block after its path.`;
}
