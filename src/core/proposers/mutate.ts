// The built-in proposer that needs no model: it nudges one top-level UPPER_CASE hyperparameter of the
// editable files (`LR = 0.01` -> `LR = 0.02`). Its edits form a finite set per parent, it never repeats
// an editKey tried from that parent, and the same seed, parent and history give the same pick.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles, matchesAny } from '../glob.js';
import type { Proposal, ProposalRequest, Proposer } from '../proposer.js';
import type { Operator } from '../types.js';

/** One top-level `NAME = value` line the proposer may edit. */
export interface Hyperparameter {
  file: string;
  name: string;
  kind: 'float' | 'int' | 'power' | 'bool' | 'choice';
  /** The value as written (`0.01`, `1e-3`, `True`, `"relu"`, `2**19`). */
  text: string;
  /** Offset of the value text in the file's content. */
  start: number;
  end: number;
  /** Alternatives from a trailing `# choices: a, b` comment, as they would be written. */
  choices: string[] | null;
  /** Bounds from a trailing `# range: lo, hi` comment. */
  range: [number, number] | null;
}

/** One possible edit: a parameter and its new value text. */
export interface MutationCandidate {
  param: Hyperparameter;
  newText: string;
  editKey: string;
  /** A clause for the plan: `Double LR`. */
  action: string;
  /** Why it is worth a run. */
  because: string;
}

const NAME = /^[A-Z][A-Z0-9_]*$/;
// NAME [: annotation] = value [comment]
const LINE = /^([A-Z][A-Z0-9_]*)(\s*(?::\s*[A-Za-z_][\w.[\], ]*?\s*)?=\s*)(.*?)(\s*(?:#(.*))?)$/;
const FLOAT = /^[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?$/;
const INT = /^[-+]?\d+$/;
const POWER = /^(\d+)(\s*\*\*\s*)(\d+)$/;
const BOOL = /^(?:True|False|true|false)$/;
const STRING = /^(?:"[^"\\]*"|'[^'\\]*')$/;
const MAX_FILE_BYTES = 1_000_000;

/** The hyperparameters of one file's content, in file order; a name assigned twice counts at its last assignment. */
export function parseHyperparameters(file: string, content: string): Hyperparameter[] {
  const byName = new Map<string, Hyperparameter>();
  let inTripleQuote: string | null = null;
  let offset = 0;
  for (const rawLine of content.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (inTripleQuote) {
      if (count(line, inTripleQuote) % 2 === 1) inTripleQuote = null;
      continue;
    }
    const m = LINE.exec(line);
    const param = m ? readParam(file, m, lineStart) : null;
    if (param) {
      byName.delete(param.name);
      byName.set(param.name, param);
      continue;
    }
    for (const q of ['"""', "'''"]) {
      if (count(line, q) % 2 === 1) {
        inTripleQuote = q;
        break;
      }
    }
  }
  return [...byName.values()].sort((a, b) => a.start - b.start);
}

function readParam(file: string, m: RegExpExecArray, lineStart: number): Hyperparameter | null {
  const [, name = '', assign = '', text = '', , comment = ''] = m;
  if (!NAME.test(name) || text === '') return null;
  if (/(?:^|_)SEED$/.test(name)) return null; // a different seed is noise, not an idea
  const choices = /\bchoices\s*:\s*(.+)$/i.exec(comment);
  const range = /\brange\s*:\s*\[?\s*([-+.\deE]+)\s*,\s*([-+.\deE]+)\s*\]?/i.exec(comment);
  let kind: Hyperparameter['kind'];
  if (BOOL.test(text)) kind = 'bool';
  else if (INT.test(text)) kind = 'int';
  else if (FLOAT.test(text)) kind = 'float';
  else if (POWER.test(text)) kind = 'power';
  else if (STRING.test(text) && choices) kind = 'choice';
  else return null;
  const start = lineStart + name.length + assign.length;
  let parsedChoices: string[] | null = null;
  if (choices) {
    const quote = kind === 'choice' ? text[0]! : '';
    parsedChoices = choices[1]!.split(/[,|]/).map((c) => c.trim().replace(/^(["'])(.*)\1$/, '$2')).filter((c) => c !== '').map((c) => `${quote}${c}${quote}`);
    if (kind === 'choice' || parsedChoices.length > 1) kind = 'choice';
  }
  let bounds: [number, number] | null = null;
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (Number.isFinite(lo) && Number.isFinite(hi)) bounds = [Math.min(lo, hi), Math.max(lo, hi)];
  }
  return { file, name, kind, text, start, end: start + text.length, choices: parsedChoices, range: bounds };
}

function count(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Every edit of one parameter, in a fixed order, none equal to the current value. */
export function candidatesFor(p: Hyperparameter): MutationCandidate[] {
  const out: MutationCandidate[] = [];
  const seen = new Set<string>([p.text]);
  const add = (newText: string, action: string, because: string): void => {
    if (seen.has(newText)) return;
    seen.add(newText);
    out.push({ param: p, newText, editKey: editKeyOf(p.file, p.name, newText), action, because });
  };
  const inRange = (v: number): boolean => !p.range || (v >= p.range[0] && v <= p.range[1]);
  switch (p.kind) {
    case 'bool': {
      const flipped = { True: 'False', False: 'True', true: 'false', false: 'true' }[p.text as 'True'] ?? p.text;
      const on = flipped === 'True' || flipped === 'true';
      add(flipped, `${on ? 'Enable' : 'Disable'} ${p.name}`, `to test whether the model does better ${on ? 'with' : 'without'} it`);
      break;
    }
    case 'choice':
      for (const c of p.choices ?? []) {
        const n = Number(c);
        if (c.trim() !== '' && Number.isFinite(n) && !inRange(n)) continue;
        add(c, `Switch ${p.name} from ${p.text} to ${c}`, 'to compare it with the current choice');
      }
      break;
    case 'float': {
      const v = Number(p.text);
      if (v === 0) {
        for (const n of [0.1, 0.01]) if (inRange(n)) add(formatFloat(n, p.text), `Set ${p.name} to ${formatFloat(n, p.text)}`, 'to test whether a non-zero value helps');
        break;
      }
      for (const f of [2, 0.5, 1.25, 0.8]) {
        const n = Number((v * f).toPrecision(6));
        if (n === 0 || !inRange(n)) continue;
        add(formatFloat(n, p.text), scaleAction(p.name, f), scaleReason(f));
      }
      break;
    }
    case 'int': {
      const v = Number(p.text);
      const sign = v < 0 ? -1 : 1;
      const a = Math.abs(v);
      if (a === 0) {
        if (inRange(1)) add('1', `Set ${p.name} to 1`, 'to test whether a non-zero value helps');
        break;
      }
      const step = Math.max(1, Math.round(a * 0.25));
      for (const [n, f] of [[a * 2, 2], [Math.round(a / 2), 0.5], [a + step, 1.25], [a - step, 0.8]] as const) {
        if (n < 1 || !inRange(sign * n)) continue;
        add(String(sign * n), scaleAction(p.name, f), scaleReason(f));
      }
      break;
    }
    case 'power': {
      const [, base = '2', op = '**', exp = '0'] = POWER.exec(p.text)!;
      const e = Number(exp);
      for (const [n, f] of [[e + 1, 2], [e - 1, 0.5]] as const) {
        if (n < 0 || !inRange(Number(base) ** n)) continue;
        add(`${base}${op}${n}`, Number(base) === 2 ? scaleAction(p.name, f) : `${f > 1 ? 'Raise' : 'Lower'} ${p.name}'s exponent`, scaleReason(f));
      }
      break;
    }
  }
  return out;
}

export function editKeyOf(file: string, name: string, newText: string): string {
  return `${file}:${name}=${newText}`;
}

function scaleAction(name: string, factor: number): string {
  if (factor === 2) return `Double ${name}`;
  if (factor === 0.5) return `Halve ${name}`;
  return factor > 1 ? `Raise ${name} by about a quarter` : `Lower ${name} by about a fifth`;
}

function scaleReason(factor: number): string {
  if (factor === 2) return 'to test whether it is set too low';
  if (factor === 0.5) return 'to test whether it is set too high';
  return factor > 1 ? 'to probe whether a slightly larger value helps' : 'to probe whether a slightly smaller value helps';
}

/**
 * A float written like the original: scientific when it was (`1e-3` -> `5e-4`), otherwise plain decimal
 * that still reads as a float (`2.0`, not `2`); at most 6 significant digits, never `0.30000000000000004`.
 */
export function formatFloat(value: number, original: string): string {
  const v = Number(value.toPrecision(6));
  const e = /[eE]/.exec(original)?.[0];
  if (e) {
    const [mantissa = '0', exponent = '0'] = v.toExponential().split('e');
    return `${mantissa}${e}${Number(exponent)}`;
  }
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** mulberry32: a small, fast, seedable PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string, for seeding. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mentions(text: string, name: string): boolean {
  const lower = text.toLowerCase();
  return [name, name.replace(/_/g, ' ')].some((n) => new RegExp(`(^|[^a-z0-9_])${escapeRegExp(n.toLowerCase())}($|[^a-z0-9_])`).test(lower));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class MutateProposer implements Proposer {
  readonly kind = 'mutate';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
  private readonly seed: number;

  constructor(options: { seed: number }) {
    this.seed = options.seed;
  }

  /** The hyperparameters of the editable files in a worktree, with each file's content. */
  scan(worktree: string, editable: readonly string[]): { params: Hyperparameter[]; contents: Map<string, string> } {
    const params: Hyperparameter[] = [];
    const contents = new Map<string, string>();
    for (const file of listFiles(worktree)) {
      if (!matchesAny(file, editable)) continue;
      const abs = join(worktree, file);
      try {
        if (statSync(abs).size > MAX_FILE_BYTES) continue;
        const buf = readFileSync(abs);
        if (buf.subarray(0, 8192).includes(0)) continue; // binary
        const content = buf.toString('utf8');
        const found = parseHyperparameters(file, content);
        if (found.length) {
          contents.set(file, content);
          params.push(...found);
        }
      } catch {
        // Unreadable: not ours to edit.
      }
    }
    return { params, contents };
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    if (req.operator !== 'draft' && req.operator !== 'improve') return null;
    const { params, contents } = this.scan(req.worktree, req.config.editable);
    let pool = params.map((p) => candidatesFor(p).filter((c) => !req.triedFromParent.has(c.editKey))).filter((cs) => cs.length > 0);
    if (pool.length === 0) return null;

    const hint = req.hint?.text ?? '';
    let hinted = hint ? pool.filter((cs) => mentions(hint, cs[0]!.param.name)) : [];
    // `matrix lr` names MATRIX_LR, not LR as well.
    hinted = hinted.filter((cs) => !hinted.some((o) => o !== cs && o[0]!.param.name !== cs[0]!.param.name && mentions(o[0]!.param.name.replace(/_/g, ' '), cs[0]!.param.name)));
    if (hinted.length) pool = hinted;
    else if (req.operator === 'draft') {
      // Independent drafts: prefer a parameter no sibling has changed yet.
      const changed = new Set<string>();
      // Siblings in the history, and edits other slots are proposing or hold ready from this parent (tried).
      const siblings = [...req.history.filter((n) => n.parentId === req.parent.id).map((n) => n.editKey), ...req.triedFromParent];
      for (const key of siblings) {
        const m = /^(.+):([A-Z][A-Z0-9_]*)=/.exec(key);
        if (m) changed.add(`${m[1]}:${m[2]}`);
      }
      const fresh = pool.filter((cs) => !changed.has(`${cs[0]!.param.file}:${cs[0]!.param.name}`));
      if (fresh.length) pool = fresh;
    }

    const rng = mulberry32(hash(`${this.seed}|${req.parent.id}|${req.triedFromParent.size}|${req.operator}`));
    const group = pool[Math.floor(rng() * pool.length)]!;
    const pick = group[Math.floor(rng() * group.length)]!;
    const p = pick.param;
    const content = contents.get(p.file)!;
    const several = new Set(params.map((x) => x.file)).size > 1;
    const plan = `${pick.action} (${p.text} -> ${pick.newText}) ${pick.because}.${hinted.length ? ` Tests the hint: ${hint}` : ''}`;
    return {
      description: `${several ? `${p.file}: ` : ''}${p.name} ${p.text} -> ${pick.newText}`,
      plan,
      editKey: pick.editKey,
      files: { [p.file]: content.slice(0, p.start) + pick.newText + content.slice(p.end) },
      proposer: { kind: this.kind },
    };
  }

  dispose(): void {
    // Nothing held.
  }
}
