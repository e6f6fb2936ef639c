// The record of one proposal (prompt, replies, problems), written redacted under `.autoresearch/<tag>/proposals/`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fmtCost, fmtTokens } from '../../shared/format.js';
import { commonGitDir } from '../git.js';
import type { ProposalRequest } from './proposer.js';
import { sessionPaths } from '../record/store.js';
import type { ProposerInfo } from '../types.js';
import { redact } from './secrets.js';

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
    const usage = [i.model && `model ${i.model}`, i.tokensIn !== undefined && `${fmtTokens(i.tokensIn)} tokens in`, i.tokensOut !== undefined && `${fmtTokens(i.tokensOut)} out`, i.costUsd !== undefined && fmtCost(i.costUsd)].filter(Boolean).join(', ');
    return `# ${this.req.operator} from #${this.req.parent.id} (${this.info.kind})\n\n${this.started.toISOString()}${usage ? ` · ${usage}` : ''}\n\n${this.parts.join('\n')}`;
  }
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`{3,}|~{3,}/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}text\n${text}\n${f}`;
}
