// Where a command finds what it works on: the repository, the config with the command line's overrides, the session,
// an experiment's number.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, loadConfig, type ConfigOverrides } from '../core/config.js';
import { Lab } from '../core/git.js';
import type { SessionModel } from '../core/model.js';
import { listSessions, loadSession } from '../core/offline.js';
import type { ResearchConfig } from '../core/types.js';
import { UsageError } from './errors.js';

/** An experiment's number as typed: 3 or #3. */
export function nodeArg(text: string | undefined): number {
  const id = Number(text?.replace(/^#/, ''));
  if (text === undefined || !Number.isInteger(id) || id < 0) throw new UsageError(`Expected an experiment number (like 3 or #3), got "${text ?? ''}".`);
  return id;
}

async function repoRoot(cwd: string): Promise<string> {
  return (await Lab.open(cwd)).root;
}

/** Where `run` reads its config: here or at the repository's root, with --max-experiments, --proposer and --policy over it. */
export async function configSource(cwd: string, o: { config?: string; 'max-experiments'?: string; proposer?: string; policy?: string }): Promise<{ root: string; configFile?: string; overrides: ConfigOverrides }> {
  const root = existsSync(join(cwd, o.config ?? CONFIG_FILE)) ? cwd : await repoRoot(cwd).catch(() => cwd);
  const overrides: ConfigOverrides = {};
  if (o['max-experiments'] !== undefined) {
    const t = o['max-experiments'];
    const n = Number(t);
    if (t !== 'unlimited' && (!Number.isInteger(n) || n <= 0)) throw new UsageError(`--max-experiments: expected a positive integer or "unlimited", got "${t}"`);
    overrides.maxExperiments = t === 'unlimited' ? null : n;
  }
  if (o.proposer !== undefined) overrides.proposer = o.proposer;
  if (o.policy !== undefined) overrides.policy = o.policy;
  return { root, configFile: o.config, overrides };
}

/** The session: --tag, else the config's tag, else the one session recorded here. */
export async function sessionOf(cwd: string, o: { config?: string; tag?: string }): Promise<{ root: string; tag: string; model: SessionModel; config: ResearchConfig }> {
  const root = await repoRoot(cwd);
  let tag = o.tag;
  if (!tag) {
    if (existsSync(join(root, o.config ?? CONFIG_FILE))) tag = loadConfig(root, o.config).tag;
    else {
      const tags = listSessions(root);
      if (tags.length !== 1) throw new UsageError(tags.length ? `Several sessions here (${tags.join(', ')}); pick one with --tag.` : `No ${CONFIG_FILE} and no session in ${root}. Run \`autoresearch init\` first.`);
      tag = tags[0]!;
    }
  }
  const { model } = loadSession(root, tag);
  return { root, tag, model, config: model.config! };
}
