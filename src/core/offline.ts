// Reading and changing a session when no controller is running it (the CLI between runs, the editor
// after a reload). When one is running, commands go through its inbox instead.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyOverride } from './controller.js';
import { Lab, sessionBranch } from './git.js';
import { Journal } from './record/journal.js';
import { SessionModel } from './model.js';
import { formatResults } from './record/results.js';
import { STATE_DIR } from './files.js';
import { acquireLock, postCommand, readLock, sessionPaths, type InboxCommand, type LockInfo, type SessionPaths } from './record/store.js';
import { buildSummary } from './report/summary.js';
import type { Hint } from './types.js';
import { AutoResearchError } from './errors.js';

export class NoSessionError extends AutoResearchError {
  constructor(root: string, tag: string) {
    super('no-session', `There is no session "${tag}" in ${root} yet. Start one with \`autoresearch run\`.`);
    this.name = 'NoSessionError';
  }
}

/** Tags of the sessions recorded under the repo's state folder. */
export function listSessions(root: string): string[] {
  const dir = join(root, STATE_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'journal.jsonl')))
    .map((d) => d.name);
}

export function loadSession(root: string, tag: string): { model: SessionModel; paths: SessionPaths } {
  const paths = sessionPaths(root, tag);
  if (!existsSync(paths.journal)) throw new NoSessionError(root, tag);
  return { model: SessionModel.fromRecords(Journal.read(paths.journal)), paths };
}

export function runningController(root: string, tag: string): LockInfo | null {
  return readLock(sessionPaths(root, tag).lock);
}

/** `restored`: an override undone, so the rule's own decision stands again. */
export type CommandOutcome = { delivered: 'running'; holder: LockInfo } | { delivered: 'applied'; hint?: Hint; restored?: boolean };

/**
 * Applies a person's command: through the inbox when a controller runs the session, straight into the
 * journal (under the lock) when none does. Throws with a message for the person when refused.
 */
export async function sendCommand(root: string, tag: string, cmd: InboxCommand): Promise<CommandOutcome> {
  const paths = sessionPaths(root, tag);
  if (!existsSync(paths.journal)) throw new NoSessionError(root, tag);
  const holder = readLock(paths.lock);
  if (holder) {
    postCommand(paths, cmd);
    return { delivered: 'running', holder };
  }
  const release = acquireLock(paths.lock);
  const journal = Journal.open(paths.journal);
  try {
    const model = SessionModel.fromRecords(journal.records);
    const append = (e: Parameters<Journal['append']>[0]) => model.apply(journal.append(e));
    switch (cmd.type) {
      case 'hint': {
        const hint: Hint = { id: model.hints.length, text: cmd.text.trim(), addedAt: new Date().toISOString(), takenBy: null };
        if (!hint.text) throw new Error('A hypothesis needs some text.');
        append({ type: 'hint', hint });
        return { delivered: 'applied', hint };
      }
      case 'override': {
        const n = model.get(cmd.id);
        if (!n) throw new Error(`There is no experiment #${cmd.id}.`);
        if (n.decidedBy === null) throw new Error(`#${cmd.id} has not been decided yet.`);
        if (cmd.status === 'keep' && (n.metric === null || !Number.isFinite(n.metric))) throw new Error(`#${cmd.id} has no metric; only a node with a result can be kept.`);
        if (cmd.id === 0 && cmd.status === 'discard') throw new Error('The baseline cannot be discarded.');
        applyOverride(append, model, cmd.id, cmd.status, cmd.reason);
        writeFileSync(paths.results, formatResults(model.config!.metric.name, model.nodes.filter((x) => x && x.decidedBy !== null)));
        const best = model.best;
        if (best?.commit) await (await Lab.open(root)).setBranch(sessionBranch(tag), best.commit);
        return { delivered: 'applied', restored: n.decidedBy === 'rule' };
      }
      case 'cap':
        // Journaled now: the next `autoresearch run` goes on under it.
        if (cmd.cap.maxCost === undefined && cmd.cap.maxTokens === undefined) throw new Error('A cap change needs a cost (USD) or a number of tokens.');
        append({ type: 'cap', cap: cmd.cap, at: new Date().toISOString() });
        return { delivered: 'applied' };
      case 'prune':
        // Journaled now: the next `autoresearch run` stops runs early or not as it says.
        append({ type: 'prune', on: cmd.on, at: new Date().toISOString() });
        return { delivered: 'applied' };
      case 'record':
      case 'record-crash':
      case 'branch':
      case 'rerun':
        // These act on a live session; queue them for the next `autoresearch run`.
        postCommand(paths, cmd);
        return { delivered: 'applied' };
      default:
        throw new Error(`No session is running to ${cmd.type}.`);
    }
  } finally {
    journal.close();
    release();
  }
}

export function writeSummaryFor(root: string, tag: string): string {
  const { model, paths } = loadSession(root, tag);
  writeFileSync(paths.summary, buildSummary(model));
  return paths.summary;
}
