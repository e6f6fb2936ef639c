// The built-in proposer for scripted studies: a folder of unified diffs (`*.patch`, `*.diff`), applied
// in natural name order (`2-x.patch` before `10-y.patch`), each once per session, to whichever node the
// policy expands. The diff is applied in place in the parent's worktree with `git apply`; the engine
// reads the changes back (and the guard judges them like any other proposal).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProposalWorktree } from '../git.js';
import { ProposalError, type Proposal, type ProposalRequest, type Proposer } from './proposer.js';
import type { Operator } from '../types.js';

const PATCH_FILE = /\.(?:patch|diff)$/i;

/** `patch:<filename>`: the editKey of the node that used a patch. */
export function patchEditKey(filename: string): string {
  return `patch:${filename}`;
}

/** Compares names with digit runs as numbers: `2-x` < `10-y`; ties fall back to plain order. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string): string[] => s.match(/\d+|\D+/g) ?? [];
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      if (x.length !== y.length) return y.length - x.length; // 007 before 7
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ca.length !== cb.length) return ca.length - cb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The patch files of a folder, in natural order. Throws ProposalError when the folder is missing. */
export function listPatches(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ProposalError(`the patches folder ${dir} is missing: create it and put the .patch or .diff files to try in it, or fix \`proposer.dir\` in autoresearch.config.yaml`, { kind: 'patches' });
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && PATCH_FILE.test(e.name))
    .map((e) => e.name)
    .sort(naturalCompare);
}

/** The one-line description and the plan a patch's leading comments (or its mail header) give. */
export function describePatch(filename: string, text: string): { description: string; plan: string } {
  const lines = text.split(/\r?\n/);
  const headerEnd = lines.findIndex((l) => /^(?:diff |--- |Index: )/.test(l));
  const header = headerEnd < 0 ? lines : lines.slice(0, headerEnd);
  const fallback = filename.replace(PATCH_FILE, '');

  // `git format-patch` output: a mail header with a (possibly folded) Subject and the message body.
  const subjectAt = header.findIndex((l) => /^Subject:/i.test(l));
  if (subjectAt >= 0) {
    let subject = header[subjectAt]!.replace(/^Subject:\s*/i, '');
    let i = subjectAt + 1;
    for (; i < header.length && /^[ \t]+\S/.test(header[i]!); i++) subject += ` ${header[i]!.trim()}`;
    subject = subject.replace(/^(?:\[[^\]]*\]\s*)+/, '').trim();
    while (i < header.length && header[i]!.trim() !== '') i++; // the rest of the mail header
    const body = header.slice(i).map((l) => l.trim()).filter((l) => l !== '' && l !== '---');
    const description = subject || fallback;
    return { description, plan: body.length ? body.join(' ') : description };
  }

  // Leading `# ...` comment lines (blank lines before them are skipped).
  const comments: string[] = [];
  let i = 0;
  while (i < header.length && header[i]!.trim() === '') i++;
  for (; i < header.length && /^\s*#/.test(header[i]!); i++) {
    const c = header[i]!.replace(/^\s*#+\s?/, '').trim();
    if (c) comments.push(c);
  }
  if (comments.length) return { description: comments[0]!, plan: comments.join(' ') };
  return { description: fallback, plan: `Apply ${filename}.` };
}

export class PatchesProposer implements Proposer {
  readonly kind = 'patches';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve', 'debug']);
  private readonly dir: string;
  /** Patches this instance handed out or failed to apply, before the journal shows them. */
  private readonly taken = new Set<string>();

  constructor(options: { dir: string }) {
    this.dir = options.dir;
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    const used = new Set(this.taken);
    for (const n of req.history) if (n.editKey.startsWith('patch:')) used.add(n.editKey.slice('patch:'.length));
    const name = listPatches(this.dir).find((f) => !used.has(f) && !req.triedFromParent.has(patchEditKey(f)));
    if (name === undefined) return null;
    this.taken.add(name);

    const path = join(this.dir, name);
    const editKey = patchEditKey(name);
    const info = { kind: this.kind };
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ProposalError(`patch ${name} could not be read: ${(e as Error).message}`, info, editKey);
    }

    // Strict first; then as hand-written diffs often are: no context, hunk counts off by a line.
    let applied = false;
    let message = '';
    const wt = new ProposalWorktree(req.worktree);
    for (const loose of [false, true]) {
      const check = await wt.applyPatch(path, { checkOnly: true, loose }, req.signal);
      if (check.ok) {
        const done = await wt.applyPatch(path, { checkOnly: false, loose }, req.signal);
        if (!done.ok) message = done.message;
        applied = done.ok;
        break;
      }
      message ||= check.message;
    }
    if (!applied) throw new ProposalError(`patch ${name} does not apply: ${message || 'git apply failed'}`, info, editKey);
    const { description, plan } = describePatch(name, text);
    return { description, plan, editKey, proposer: info };
  }

  dispose(): void {
    // Nothing held.
  }
}
