// Reads a model's reply: a short plan, then either SEARCH/REPLACE blocks (each SEARCH must match exactly
// one place; whitespace-tolerant matching is the fallback) or one fenced block with a complete new file.
// Every error message is written for the model, which sees it on its retry, and for the person reading
// the journal.
import { createHash } from 'node:crypto';
import { truncate } from '../../shared/format.js';
import { AutoResearchError } from '../errors.js';
import { matchesAny } from '../glob.js';
import type { EditableFile } from './prompt.js';

export interface SearchReplaceEdit {
  kind: 'replace';
  path: string;
  search: string;
  replace: string;
  /** 1-based number of the block in the reply, for messages. */
  block: number;
}

export interface WholeFileEdit {
  kind: 'file';
  path: string;
  content: string;
}

export type ParsedEdit = SearchReplaceEdit | WholeFileEdit;

export interface ParsedReply {
  /** One line: `Use a cosine LR schedule`. */
  description: string;
  /** The model's reasoning, short. */
  plan: string;
  edits: ParsedEdit[];
}

/** An edit that cannot be used; `editKey` when the edit itself was fine but is a repeat. */
export class EditError extends AutoResearchError {
  constructor(message: string, readonly editKey?: string) {
    super('edit', message);
    this.name = 'EditError';
  }
}

const SEARCH = /^\s*<{5,9}\s*SEARCH\b/;
const DIVIDER = /^\s*={5,9}\s*$/;
const REPLACE = /^\s*>{5,9}\s*REPLACE\b/;
const FENCE = /^\s*(`{3,}|~{3,})\s*([^`\s]*)\s*(.*?)\s*$/;
const PLAN_LINE = /^\s*(?:[-*]\s*)?(?:\*\*|__)?(?:plan|description|change|summary|title)(?:\*\*|__)?\s*(?:\*\*|__)?\s*[:\-–]\s*(?:\*\*|__)?\s*(.+?)\s*$/i;
const MAX_DESCRIPTION = 100;
const MAX_PLAN = 2000;

/** `./src\\x.py` → `src/x.py`. */
export function normalizePath(p: string): string {
  return p.trim().replace(/\\/g, '/').replace(/^(?:\.\/)+/, '');
}

/** The path a line names, if it is only a path: `train.py`, `**train.py**`, `### File: src/x.py:`. */
function pathOf(line: string, paths: readonly string[]): string | null {
  const t = line.trim()
    .replace(/^#+\s*/, '')
    .replace(/^(?:[-*]\s+)?(?:file(?:name)?|path|in|edit(?:ing)?)\s*:?\s+/i, '')
    .replace(/^[*_`'"]+|[*_`'":]+$/g, '')
    .trim();
  if (!t || /\s/.test(t)) return null;
  const p = normalizePath(t);
  if (paths.includes(p)) return p;
  return /^[\w.@+-]+(?:\/[\w.@+-]+)*\.[A-Za-z0-9]+$/.test(p) && !/^\d+(\.\d+)*$/.test(p) ? p : null;
}

/** The path named just before line `at`: on the lines above (skipping blanks and a fence opening) or in the fence's info string. */
function pathBefore(lines: readonly string[], at: number, paths: readonly string[]): string | null {
  let looked = 0;
  for (let i = at - 1; i >= 0 && looked < 3; i--) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    looked++;
    const fence = FENCE.exec(line);
    if (fence) {
      const fromInfo = [fence[2], fence[3]].map((s) => (s ? pathOf(s, paths) : null)).find((p) => p && (paths.includes(p) || /[./]/.test(p)));
      if (fromInfo && !/^[a-z+#-]+$/i.test(fromInfo)) return fromInfo;
      continue;
    }
    return pathOf(line, paths);
  }
  return null;
}

function cleanDescription(s: string): string {
  const t = s.replace(/[*_`]+/g, '').replace(/^#+\s*/, '').replace(/\s+/g, ' ').trim().replace(/[.:]$/, '');
  return truncate(t, MAX_DESCRIPTION);
}

/** The description and plan from the prose of a reply. */
function readPlan(prose: string[], edited: readonly string[], fallback: string): { description: string; plan: string } {
  // Fences and the lines naming a file belong to the edit, not to the plan.
  const text = prose.filter((l) => !FENCE.test(l) && !(l.trim() && edited.includes(pathOf(l, edited) ?? '')));
  let description = '';
  const rest: string[] = [];
  for (const line of text) {
    const m = description ? null : PLAN_LINE.exec(line);
    if (m) description = cleanDescription(m[1]!);
    else rest.push(line);
  }
  const body = rest.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  if (!description) {
    const first = body.split('\n').find((l) => l.trim() !== '') ?? '';
    const sentence = /^(.{8,}?[.!?])(\s|$)/.exec(first.trim());
    description = cleanDescription(sentence ? sentence[1]! : first) || fallback;
  }
  const plan = truncate(body, MAX_PLAN);
  return { description, plan: plan || description };
}

/**
 * Parses a reply into edits. `paths`: the editable files the model was shown (a block that names no
 * file edits the only one, or the file of the block before). Throws EditError for the model to fix.
 */
export function parseReply(text: string, options: { paths: readonly string[]; truncated?: boolean }): ParsedReply {
  // Reasoning models (DeepSeek-R1, Qwen3 on Ollama) put their thinking in the reply: it is not the answer.
  const lines = text.replace(/\r\n?/g, '\n').replace(/<think(?:ing)?>[\s\S]*?<\/think(?:ing)?>\s*/gi, '').split('\n');
  const { paths } = options;
  const edits: ParsedEdit[] = [];
  const prose: string[] = [];
  let state: 'text' | 'search' | 'replace' = 'text';
  let search: string[] = [];
  let replace: string[] = [];
  let path: string | null = null;
  let lastPath: string | null = null;
  let startLine = 0;
  let inFence = false;
  const cutOff = options.truncated ? ' (your reply was cut off at the output limit: use fewer, smaller blocks)' : '';
  const blockNo = () => edits.length + 1;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (state === 'text') {
      if (SEARCH.test(line)) {
        state = 'search';
        startLine = i + 1;
        search = [];
        replace = [];
        path = pathBefore(lines, i, paths);
        continue;
      }
      if (REPLACE.test(line)) throw new EditError(`line ${i + 1}: ">>>>>>> REPLACE" without a "<<<<<<< SEARCH" and "=======" before it; each block is <<<<<<< SEARCH, the old lines, =======, the new lines, >>>>>>> REPLACE`);
      if (FENCE.test(line)) inFence = !inFence;
      if (edits.length === 0 && !inFence) prose.push(line);
    } else if (state === 'search') {
      if (DIVIDER.test(line)) state = 'replace';
      else if (SEARCH.test(line)) throw new EditError(`block ${blockNo()} (line ${startLine}): a new "<<<<<<< SEARCH" began before the "=======" line of the previous one`);
      else if (REPLACE.test(line)) throw new EditError(`block ${blockNo()} (line ${startLine}): ">>>>>>> REPLACE" came before "======="; each block is <<<<<<< SEARCH, the old lines, =======, the new lines, >>>>>>> REPLACE`);
      else search.push(line);
    } else {
      if (REPLACE.test(line)) {
        const target: string | null = path ?? lastPath ?? (paths.length === 1 ? paths[0]! : null);
        if (!target) throw new EditError(`block ${blockNo()} (line ${startLine}) does not say which file it edits; put the file's path (one of ${paths.join(', ')}) on its own line just before "<<<<<<< SEARCH"`);
        edits.push({ kind: 'replace', path: target, search: search.join('\n'), replace: replace.join('\n'), block: blockNo() });
        lastPath = target;
        state = 'text';
      } else if (SEARCH.test(line)) throw new EditError(`block ${blockNo()} (line ${startLine}) has no ">>>>>>> REPLACE" line before the next "<<<<<<< SEARCH"`);
      else if (DIVIDER.test(line)) throw new EditError(`block ${blockNo()} (line ${startLine}) has a second "=======" line; each block has exactly one, between the old and the new lines`);
      else replace.push(line);
    }
  }
  if (state !== 'text') {
    throw new EditError(`block ${blockNo()} (line ${startLine}) is not finished: ${state === 'search' ? '"=======" and ' : ''}">>>>>>> REPLACE" missing${cutOff}`);
  }
  if (edits.length) {
    const edited = [...new Set(edits.map((e) => e.path))];
    return { ...readPlan(prose, edited, `edit ${edited.join(', ')}`), edits };
  }
  return parseWholeFile(lines, paths, cutOff);
}

interface Fenced {
  path: string | null;
  content: string;
  start: number;
}

function parseWholeFile(lines: readonly string[], paths: readonly string[], cutOff: string): ParsedReply {
  const blocks: Fenced[] = [];
  const prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) {
      if (blocks.length === 0) prose.push(lines[i]!);
      continue;
    }
    const marker = open[1]!;
    const closeRe = new RegExp(`^\\s*${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !closeRe.test(lines[j]!)) j++;
    if (j >= lines.length) throw new EditError(`the code block that starts on line ${i + 1} is never closed${cutOff || ' (its closing fence is missing)'}`);
    const info = [open[2], open[3]].filter(Boolean).join(' ');
    const fromInfo = info.split(/\s+/).map((s) => pathOf(s, paths)).find((p) => p && (paths.includes(p) || p.includes('.'))) ?? null;
    const path = fromInfo && !/^[a-z+#-]+$/i.test(fromInfo) ? fromInfo : pathBefore(lines, i, paths);
    blocks.push({ path, content: lines.slice(i + 1, j).join('\n'), start: i + 1 });
    i = j;
  }
  if (blocks.length === 0) {
    throw new EditError(`the reply has no edit${cutOff}: give SEARCH/REPLACE blocks (<<<<<<< SEARCH, the old lines, =======, the new lines, >>>>>>> REPLACE) after the file's path, or one fenced code block with the complete new file`);
  }
  let chosen = blocks;
  if (blocks.length > 1) {
    const named = blocks.filter((b) => b.path !== null && paths.includes(b.path));
    chosen = named.length ? named : blocks;
    const distinct = new Set(chosen.map((b) => b.path));
    if (chosen.length > 1 && (distinct.size !== chosen.length || distinct.has(null))) {
      throw new EditError(`the reply has ${blocks.length} code blocks and no SEARCH/REPLACE block, so it is not clear which is the new file; give SEARCH/REPLACE blocks, or exactly one fenced block with the complete new file after its path`);
    }
  }
  const edits: WholeFileEdit[] = chosen.map((b) => {
    const path = b.path ?? (paths.length === 1 ? paths[0]! : null);
    if (!path) throw new EditError(`the code block on line ${b.start} does not say which file it is; put the file's path (one of ${paths.join(', ')}) on its own line just before it`);
    return { kind: 'file', path, content: b.content.endsWith('\n') || b.content === '' ? b.content : `${b.content}\n` };
  });
  const edited = edits.map((e) => e.path);
  return { ...readPlan(prose, edited, `rewrite ${edited.join(', ')}`), edits };
}

// ---- applying ------------------------------------------------------------------------------------

const ELISION = /^\s*(?:#|\/\/|--|\/\*)?\s*(?:\.\.\.|…)\s*(?:\(?\s*(?:rest|remainder|the rest)\b.*|(?:existing|unchanged|same|other|more)\b.*)?$|\b(?:rest of (?:the )?(?:code|file|function|script)|(?:code|everything else|remaining code) (?:is |stays |remains )?unchanged|unchanged (?:code|lines)|existing code here)\b/i;

function lineNumbers(at: number[]): string {
  const n = at.map((x) => x + 1);
  return n.length <= 1 ? `line ${n[0]}` : `lines ${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
}

function indentOf(line: string): string {
  return /^\s*/.exec(line)![0];
}

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a]!.trim() === '') a++;
  while (b > a && lines[b - 1]!.trim() === '') b--;
  return lines.slice(a, b);
}

function findAll(hay: readonly string[], needle: readonly string[], eq: (a: string, b: string) => boolean): number[] {
  const out: number[] = [];
  if (needle.length === 0 || needle.length > hay.length) return out;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    let ok = true;
    for (let k = 0; k < needle.length && ok; k++) ok = eq(hay[i + k]!, needle[k]!);
    if (ok) out.push(i);
  }
  return out;
}

function bigrams(s: string): Map<string, number> {
  const m = new Map<string, number>();
  const t = s.trim();
  for (let i = 0; i < t.length - 1; i++) m.set(t.slice(i, i + 2), (m.get(t.slice(i, i + 2)) ?? 0) + 1);
  return m;
}

function similarity(a: string, b: string): number {
  const x = bigrams(a);
  const y = bigrams(b);
  let both = 0;
  for (const [k, v] of x) both += Math.min(v, y.get(k) ?? 0);
  const total = [...x.values()].reduce((s, v) => s + v, 0) + [...y.values()].reduce((s, v) => s + v, 0);
  return total === 0 ? 0 : (2 * both) / total;
}

/** The lines of the file that look most like the SEARCH text, to show the model on its retry. */
function closest(file: readonly string[], search: readonly string[]): string {
  const s = trimBlank([...search]);
  if (s.length === 0 || file.length === 0) return '';
  let best = -1;
  let bestScore = 0;
  for (let i = 0; i < file.length; i++) {
    let score = 0;
    for (let k = 0; k < Math.min(s.length, 6) && i + k < file.length; k++) score += similarity(file[i + k]!, s[k]!);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  if (best < 0 || bestScore / Math.min(s.length, 6) < 0.5) return '';
  const end = Math.min(file.length, best + s.length);
  return `\nThe most similar lines in the file (${best + 1}-${end}) are:\n${file.slice(best, end).join('\n')}`;
}

/** Replaces the one place `search` matches; exact first, then ignoring trailing spaces, then inside a line, then ignoring indentation. */
function replaceOnce(content: string, edit: SearchReplaceEdit): string {
  const file = content.split('\n');
  const search = edit.search.split('\n');
  const replacement = edit.replace === '' ? [] : edit.replace.split('\n');
  const where = `block ${edit.block} for ${edit.path}`;
  const splice = (at: number, length: number, lines: string[]) => [...file.slice(0, at), ...lines, ...file.slice(at + length)].join('\n');
  if (edit.search.trim() === '') throw new EditError(`${where}: the SEARCH part is empty; copy the lines to replace from the current file (an empty SEARCH only creates a new file)`);
  const tooMany = (at: number[]) => new EditError(`${where}: the SEARCH text matches ${at.length} places (${lineNumbers(at)}); add unchanged lines around it so it matches exactly one`);

  const exact = findAll(file, search, (a, b) => a === b);
  if (exact.length > 1) throw tooMany(exact);
  if (exact.length === 1) return splice(exact[0]!, search.length, replacement);

  const trimmed = trimBlank(search);
  const rstrip = findAll(file, trimmed, (a, b) => a.trimEnd() === b.trimEnd());
  if (rstrip.length > 1) throw tooMany(rstrip);
  if (rstrip.length === 1) return splice(rstrip[0]!, trimmed.length, trimBlank(replacement));

  // Part of a line, or several: a plain substring that occurs once, not inside a longer name (`LR` in `MAX_LR`).
  const needle = trimmed.join('\n');
  if (needle.trim().length >= 3) {
    const word = /\w/;
    const at: number[] = [];
    for (let i = content.indexOf(needle); i >= 0; i = content.indexOf(needle, i + 1)) {
      const before = content[i - 1] ?? '';
      const after = content[i + needle.length] ?? '';
      if ((word.test(needle[0]!) && word.test(before)) || (word.test(needle[needle.length - 1]!) && word.test(after))) continue;
      at.push(i);
    }
    if (at.length > 1) throw tooMany(at.map((i) => content.slice(0, i).split('\n').length - 1));
    if (at.length === 1) return content.slice(0, at[0]) + edit.replace.replace(/^\n+|\n+$/g, '') + content.slice(at[0]! + needle.length);
  }

  const loose = findAll(file, trimmed, (a, b) => a.trim() === b.trim());
  if (loose.length > 1) throw tooMany(loose);
  if (loose.length === 1) {
    const at = loose[0]!;
    const from = indentOf(trimmed.find((l) => l.trim() !== '')!);
    const to = indentOf(file.slice(at, at + trimmed.length).find((l) => l.trim() !== '')!);
    const reindented = trimBlank(replacement).map((l) => (l.trim() === '' ? '' : l.startsWith(from) ? to + l.slice(from.length) : to + l.trimStart()));
    return splice(at, trimmed.length, reindented);
  }
  throw new EditError(`${where}: the SEARCH text was not found in the file; it must copy the current lines exactly${closest(file, search)}`);
}

/**
 * Applies the edits to the files the model was shown and returns the new content of each changed file.
 * Only editable, unprotected paths inside the repository may change.
 */
export function applyEdits(files: readonly EditableFile[], edits: readonly ParsedEdit[], scope: { editable: readonly string[]; readonly: readonly string[] }): Record<string, string> {
  const original = new Map(files.map((f) => [f.path, f.content]));
  const current = new Map<string, string>();
  const allowed = files.map((f) => f.path).join(', ');
  for (const edit of edits) {
    const path = normalizePath(edit.path);
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.split('/').includes('..')) throw new EditError(`${edit.path} is outside the repository; edit only ${allowed}`);
    if (matchesAny(path, scope.readonly)) throw new EditError(`${path} is a protected file and must not change; edit only ${allowed}`);
    if (!matchesAny(path, scope.editable)) throw new EditError(`${path} is not an editable file; edit only ${allowed}`);
    const before = current.get(path) ?? original.get(path);
    const crlf = before?.includes('\r\n') ?? false;
    const text = before?.replace(/\r\n/g, '\n');
    let after: string;
    if (edit.kind === 'file') {
      if (text !== undefined) {
        const elided = edit.content.split('\n').find((l) => ELISION.test(l) && !text.includes(l.trim()));
        if (elided !== undefined) throw new EditError(`the new ${path} leaves code out ("${elided.trim()}"); give the complete file, or use SEARCH/REPLACE blocks for a partial change`);
        const oldLines = text.split('\n').length;
        if (oldLines > 40 && edit.content.split('\n').length < oldLines * 0.3) throw new EditError(`the new ${path} has ${edit.content.split('\n').length} lines where the current one has ${oldLines}; if that is not a deliberate rewrite, use SEARCH/REPLACE blocks instead of the whole file`);
      }
      after = edit.content;
    } else if (text === undefined) {
      if (edit.search.trim() !== '') throw new EditError(`block ${edit.block}: ${path} does not exist; edit only ${allowed}, or create a new file with an empty SEARCH part`);
      after = edit.replace.endsWith('\n') ? edit.replace : `${edit.replace}\n`;
    } else {
      after = replaceOnce(text, edit);
    }
    current.set(path, crlf ? after.replace(/\r?\n/g, '\r\n') : after);
  }
  const changed: Record<string, string> = {};
  for (const [path, content] of current) if (content !== original.get(path)) changed[path] = content;
  if (Object.keys(changed).length === 0) throw new EditError('the edit changes nothing: the new code is the same as the current code; propose an actual change');
  return changed;
}

/** A stable signature of an edit: equal resulting files give equal keys. */
export function editKeyFor(changes: Readonly<Record<string, string | null>>): string {
  const h = createHash('sha256');
  for (const path of Object.keys(changes).sort()) {
    const c = changes[path];
    h.update(`${path}\0${c === null ? 'deleted' : `=${c}`}\0`);
  }
  return `edit:${h.digest('hex').slice(0, 16)}`;
}
