// Opening a session: a new one after the checks that make its results trustworthy, a resumed one from its journal,
// or a new attempt of one whose start failed; then its slots and the protection around its runs.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { AutoResearchError } from '../errors.js';
import { Lab, sessionBranch } from '../git.js';
import { listFiles, matchesAny } from '../glob.js';
import { detectPlatform, pythonOf } from '../platform.js';
import { Protection } from '../protection/protection.js';
import { acquireControllerLocks, ensureStateDir, sessionPaths } from '../record/store.js';
import type { Commands } from './commands.js';
import type { SessionContext } from './context.js';
import type { SessionRecord } from './record.js';
import { minDeltaText } from '../judging/judge.js';
import type { ResearchConfig } from '../types.js';

export class PreflightError extends AutoResearchError {
  constructor(message: string, kind: 'preflight' | 'uncommitted' = 'preflight') {
    super(kind, message);
    this.name = 'PreflightError';
  }
}

export class Opening {
  constructor(private readonly ctx: SessionContext, private readonly record: SessionRecord, private readonly commands: Commands) {}

  /** Opens the session under the controller's locks; resolves to their release. */
  async open(): Promise<() => void> {
    const { ctx } = this;
    const { config, model, paths } = ctx;
    try {
      ctx.lab = await Lab.open(ctx.options.root);
    } catch (e) {
      throw new PreflightError((e as Error).message);
    }
    // Sessions live at the repository root, whatever folder the user started from.
    Object.assign(paths, sessionPaths(ctx.lab.root, config.tag));
    ensureStateDir(paths);
    // The session changes nothing `git status` reports: its record files at the root are excluded locally.
    await ctx.lab.excludeLocally([relative(ctx.lab.root, paths.results), relative(ctx.lab.root, paths.summary)]);
    const releaseLock = acquireControllerLocks(paths, config.tag);
    try {
      // A new session unless a whole record is there: each ends with its newline, so a first write cut short has none.
      const head = existsSync(paths.journal) ? readFileSync(paths.journal, 'utf8') : '';
      const fresh = head.trim() === '' || !head.includes('\n');
      if (fresh) await this.preflight();
      this.record.open();
      this.commands.openInbox();
      if (fresh) {
        const baseCommit = await ctx.lab.head();
        const platform = ctx.options.platform !== undefined ? ctx.options.platform : await detectPlatform(ctx.lab.root, pythonOf(config.run));
        this.record.append({ type: 'session', tag: config.tag, config, baseCommit, baseBranch: await ctx.lab.currentBranch(), platform, startedAt: new Date().toISOString() });
        await ctx.lab.setRef(`refs/autoresearch/${config.tag}/base`, baseCommit);
        ctx.log(`new session ${config.tag} on ${baseCommit.slice(0, 7)}; platform: ${platform ? platform.accelerator : 'not probed'}`);
      } else {
        if (model.tag !== config.tag) throw new PreflightError(`The journal at ${paths.journal} belongs to session "${model.tag}", not "${config.tag}".`);
        const failedStart = this.failedStart();
        if (ctx.options.restart || failedStart) await this.restart(failedStart ?? 'a new attempt on request (--restart)');
        else {
          const since = await this.sinceLastRun();
          this.record.append({ type: 'resume', at: new Date().toISOString(), pid: process.pid, config });
          ctx.log(`resuming session ${config.tag}: ${model.nodes.length} nodes, ${model.decidedCount} decided${since.map((s) => `; ${s}`).join('')}`);
        }
      }
      this.record.rewriteResults();
      // A controller killed between a decision and moving the branch: the journal's best is the truth.
      await this.record.updateBranch();
      for (let i = 0; i < config.parallel; i++) {
        ctx.slots.push({ index: i, worktree: join(paths.worktrees, `slot-${i}`), running: null, abort: null });
      }
      await this.protect();
    } catch (e) {
      releaseLock();
      throw e;
    }
    return releaseLock;
  }

  /** Shared inputs, the sandbox and the checks after each run (protection.ts); recorded in the journal. */
  private async protect(): Promise<void> {
    const { ctx } = this;
    // A sandbox that cannot run refuses the start as its own kind (sandbox), which both hosts answer as a preflight.
    ctx.protection = await Protection.open({
      lab: ctx.lab, config: ctx.config, sessionDir: ctx.paths.dir, executor: ctx.options.executor,
      probe: ctx.options.sandboxProbe, log: (m, level) => ctx.log(m, level),
    });
    this.record.append({ type: 'protection', sandboxed: ctx.protection.sandboxed, text: ctx.protection.description, at: new Date().toISOString() });
  }

  /**
   * What moved since the session last ran, said on resume (tried on makemore: a new commit and a new budget, and not a
   * word): the config's settings that change what runs or how it is judged, and the branch's commit, which the
   * session does not build on (its experiments start from its base).
   */
  private async sinceLastRun(): Promise<string[]> {
    const { config, lab, model } = this.ctx;
    const notes: string[] = [];
    const before = model.config;
    if (before) {
      const changed = configChanges(before, config);
      if (changed.length) notes.push(`the config changed since it last ran (${changed.join(', ')}): it applies from now on; the experiments before keep what they ran with`);
    }
    const head = await lab.head().catch(() => null);
    if (head && model.baseCommit && head !== model.baseCommit) {
      notes.push(`your checkout is at ${head.slice(0, 7)}, not at the session's base ${model.baseCommit.slice(0, 7)}: its experiments go on from the base, without the commits since; a new \`tag\` starts a session on ${head.slice(0, 7)}`);
    }
    return notes;
  }

  /** Why the session never got going (its baseline crashed or was invalid, nothing else decided), or null. */
  private failedStart(): string | null {
    const { model } = this.ctx;
    const base = model.baseline;
    if (!base || base.decidedBy === null || base.status === 'keep' || model.decidedCount > 0) return null;
    return `the baseline ${base.status === 'crash' ? 'crashed' : 'was not usable'}: ${base.reason}`;
  }

  /**
   * A new attempt of the session from the current commit and config: the nodes so far stay in the journal (the model
   * keeps them as an earlier attempt), their refs and logs move under attempts/<n>/, and the tree starts again.
   */
  private async restart(reason: string): Promise<void> {
    const { config, lab, paths } = this.ctx;
    await this.checkWorkingTree();
    const attempt = this.ctx.model.attempt;
    const logsTo = join(paths.dir, 'attempts', String(attempt), 'logs');
    mkdirSync(dirname(logsTo), { recursive: true });
    if (existsSync(paths.logs)) renameSync(paths.logs, logsTo);
    mkdirSync(paths.logs, { recursive: true });
    await lab.archiveRefs(config.tag, attempt);
    const baseCommit = await lab.head();
    this.record.append({
      type: 'restart', at: new Date().toISOString(), attempt: attempt + 1, reason, config, baseCommit,
      baseBranch: await lab.currentBranch(), logsFrom: paths.logs, logsTo,
    });
    await lab.setRef(`refs/autoresearch/${config.tag}/base`, baseCommit);
    this.ctx.log(`session ${config.tag}: attempt ${attempt + 1} starts on ${baseCommit.slice(0, 7)} (attempt ${attempt} ended: ${reason}; it stays in the journal, its logs in ${logsTo})`);
  }

  /** Refuses to start where results could not be trusted or the user's work could be lost. */
  private async preflight(): Promise<void> {
    const { config, lab } = this.ctx;
    await this.checkWorkingTree();
    const branch = sessionBranch(config.tag);
    if (await lab.resolve(`refs/heads/${branch}`)) {
      throw new PreflightError(`A branch ${branch} already exists but this folder has no session "${config.tag}". Choose another tag, or delete the branch (\`git branch -D ${branch}\`).`);
    }
    // A proposer that could never propose anything here says so now, not after the baseline's whole budget.
    const nothing = this.ctx.options.proposer.nothingToTune?.(lab.root, config) ?? null;
    if (nothing) throw new PreflightError(`${nothing} Nothing was run.`);
  }

  /** The files the session uses are committed, and the editable globs match something. */
  private async checkWorkingTree(): Promise<void> {
    const { config: c, lab } = this.ctx;
    const dirty = (await lab.dirtyPaths()).filter((p) => matchesAny(p, c.editable) || matchesAny(p, c.readonly));
    if (dirty.length) {
      throw new PreflightError(`Uncommitted changes to files the session uses: ${dirty.join(', ')}. Commit them (the baseline is your last commit) or stash them, then start again.`, 'uncommitted');
    }
    const files = listFiles(lab.root);
    if (!files.some((f) => matchesAny(f, c.editable))) {
      throw new PreflightError(`editable: no file in the repository matches ${c.editable.join(', ')}. Fix the globs in autoresearch.config.yaml.`);
    }
  }
}

/** The settings that differ between two configs of one session, as `budget 40s → 60s`. */
export function configChanges(before: ResearchConfig, after: ResearchConfig): string[] {
  const said = (c: ResearchConfig) => ({
    run: c.run,
    budget: c.budgetText,
    metric: `${c.metric.name} (${c.metric.direction})`,
    'metric pattern': c.metric.pattern,
    minDelta: minDeltaText(c),
    editable: c.editable.join(', '),
    readonly: c.readonly.join(', '),
    maxExperiments: String(c.maxExperiments ?? 'unlimited'),
    policy: c.policy,
    proposer: c.proposer.kind,
  });
  const a = said(before);
  const b = said(after);
  return (Object.keys(a) as (keyof typeof a)[]).filter((k) => a[k] !== b[k]).map((k) => `${k} ${a[k]} → ${b[k]}`);
}
