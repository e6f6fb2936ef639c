// Brings the best experiment onto the user's branch: one squashed commit, or the chain of commits on
// the path to it. Never forces: refuses on a dirty tree and backs out of a conflict.
import { AutoResearchError } from './errors.js';
import { Lab } from './git.js';
import type { SessionModel } from './model.js';

export interface ApplyResult {
  commits: string[];
  message: string;
}

export class ApplyError extends AutoResearchError {
  constructor(message: string) {
    super('apply', message);
    this.name = 'ApplyError';
  }
}

export async function applyBest(root: string, model: SessionModel, tag: string, mode: 'squash' | 'chain', nodeId?: number): Promise<ApplyResult> {
  const lab = await Lab.open(root);
  const target = nodeId === undefined ? model.best : model.get(nodeId);
  if (!target || target.id === 0 || !target.commit) throw new ApplyError('There is nothing to apply: no experiment beat the baseline.');
  const branch = await lab.currentBranch();
  if (!branch) throw new ApplyError('HEAD is detached. Check out the branch you want the result on, then apply again.');
  if (branch === `autoresearch/${tag}`) throw new ApplyError(`You are on the session branch itself; check out your own branch first.`);
  const dirty = (await lab.dirtyPaths()).filter((p) => !p.startsWith('.autoresearch/') && p !== 'results.tsv' && p !== 'autoresearch-summary.md');
  const tracked = (await lab.raw(['status', '--porcelain', '--untracked-files=no'])).trim();
  if (tracked) throw new ApplyError(`Your working tree has uncommitted changes (${dirty.slice(0, 5).join(', ')}). Commit or stash them first; apply never overwrites your work.`);
  const path = model.pathTo(target.id).filter((n) => n.id !== 0 && n.commit);
  const identity = await lab.commitIdentityArgs();
  const before = await lab.head();
  if (mode === 'chain') {
    try {
      await lab.raw([...identity, 'cherry-pick', '--allow-empty', ...path.map((n) => n.commit!)]);
    } catch (e) {
      await lab.raw(['cherry-pick', '--abort']).catch(() => undefined);
      throw new ApplyError(`The chain does not apply cleanly on ${branch} (${firstLine(e)}); nothing was changed. Try the squashed form, or apply on the commit the session started from.`);
    }
  } else {
    try {
      await lab.raw(['merge', '--squash', '--no-commit', target.commit]);
    } catch (e) {
      await lab.raw(['reset', '--merge']).catch(() => undefined);
      throw new ApplyError(`#${target.id} does not merge cleanly into ${branch} (${firstLine(e)}); nothing was changed.`);
    }
    const body = path.map((n) => `- #${n.id} ${n.description}${n.metric !== null ? ` (${model.config?.metric.name} ${n.metric})` : ''}`).join('\n');
    await lab.raw([...identity, 'commit', '--allow-empty', '-q', '-m', `AutoResearch ${tag}: best experiment #${target.id}\n\n${body}\n\nAutoResearch-Node: ${target.id}`]);
  }
  const after = await lab.head();
  const commits = (await lab.raw(['rev-list', `${before}..${after}`])).split('\n').filter(Boolean);
  return {
    commits,
    message: `Applied #${target.id} (${target.description}) to ${branch} as ${mode === 'chain' ? `${commits.length} commit(s)` : 'one squashed commit'}: ${after.slice(0, 7)}.`,
  };
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).split('\n').find((l) => l.trim()) ?? 'git failed';
}
