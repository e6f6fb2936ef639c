// What stands between a run and everything outside its worktree, in one place: the shared inputs linked into
// each worktree (sharedInputs.ts), the sandbox the run executes in where bubblewrap works (sandbox.ts), and the
// checks after every run (the guard's hashes of protected files in the worktree, the snapshots of protected
// shared inputs, tamperWatch.ts for the user's checkout and the refs). The controller asks it before and after
// each run; what a run changed is undone here and named in one reason.
import { join } from 'node:path';
import { fmtBytes } from '../../shared/format.js';
import { DEFAULT_SANDBOX } from '../config.js';
import { AutoResearchError } from '../errors.js';
import type { Executor } from '../executors/executor.js';
import type { Lab } from '../git.js';
import { hashProtected, tamperedPaths } from './guard.js';
import { blockedWrite } from '../crashHints.js';
import { AGENT_WRITABLE, BWRAP, describeProtection, probeSandbox, sandboxAdvice, sandboxArgs, type SandboxProbe } from './sandbox.js';
import { listFiles, matchesAny } from '../glob.js';
import { NetworkGate } from './networkGate.js';
import { planShared, SharedInputs } from './sharedInputs.js';
import { TamperWatch, type Fingerprint } from './tamperWatch.js';
import type { ResearchConfig } from '../types.js';

export interface ProtectionOptions {
  lab: Lab;
  config: ResearchConfig;
  /** The session's folder (.autoresearch/<tag>): snapshots of protected inputs go under it. */
  sessionDir: string;
  /** What runs the experiments: whether the sandbox can fence its runs here, on a cluster's nodes, or not at all. */
  executor: Pick<Executor, 'kind' | 'sandboxed'>;
  /** Replaces running bubblewrap once (tests). */
  probe?: () => SandboxProbe;
  log: (message: string, level?: 'info' | 'warn') => void;
}

/** Thrown when `sandbox: on` and no sandbox can run here. */
export class SandboxUnavailableError extends AutoResearchError {
  constructor(message: string) {
    super('sandbox', message);
    this.name = 'SandboxUnavailableError';
  }
}

/** What was recorded before a run, to compare after it. */
export interface BeforeRun {
  worktree: string;
  hashes: Map<string, string>;
  sharedStamps: Map<string, string>;
  /** Null in the local sandbox, where the run cannot reach the checkout or the refs. */
  outside: Fingerprint | null;
  /** bubblewrap and its arguments, or undefined without a sandbox. */
  sandbox: string[] | undefined;
  /** The proxy to the hosts `sandbox.network` lists, for this run; closed by `finished`. */
  network?: NetworkGate;
}

export class Protection {
  private constructor(
    private readonly o: ProtectionOptions,
    readonly shared: SharedInputs,
    private readonly watch: TamperWatch,
    private readonly bwrap: string | null,
    private readonly gitCommonDir: string,
    /** One line for the header, the journal and the summary. */
    readonly description: string,
  ) {}

  get sandboxed(): boolean {
    return this.bwrap !== null;
  }

  /** Plans the shared inputs (snapshots made) and chooses the sandbox; says what it chose. */
  static async open(o: ProtectionOptions): Promise<Protection> {
    const { lab, config, log } = o;
    const plan = planShared({
      root: lab.root, snapshotDir: join(o.sessionDir, 'shared'), shared: config.shared ?? null, readonly: config.readonly,
      ignored: await lab.untracked(true), untracked: await lab.untracked(false),
    });
    const { shared, copiedBytes } = SharedInputs.create(plan);
    // Every link, not only the unignored paths: `.venv/` in a .gitignore matches a folder, and a link to one is a file.
    lab.uncommitted = plan.links.map((l) => l.path);
    const how = config.shared == null ? 'what git ignores; `shared` in the config chooses' : 'as `shared` says';
    if (plan.links.length) {
      const names = plan.links.map((l) => l.path + (l.source ? ' (protected)' : ''));
      log(`shared with every experiment as links to your checkout (${how}): ${names.slice(0, 12).join(', ')}${names.length > 12 ? ` and ${names.length - 12} more` : ''}`);
    }
    if (shared.protectedPaths.length) log(`protected inputs: a snapshot of ${shared.protectedPaths.length} file(s) (${fmtBytes(copiedBytes)}) taken for the session; a run that changes one is invalid`);
    if (plan.leftOut.length) log(`not shared, as outputs a run writes: ${plan.leftOut.join(', ')}`);

    // The sandbox when the config allows it and bubblewrap runs here (decided by running it once); otherwise detection.
    const cfg = config.sandbox ?? DEFAULT_SANDBOX;
    let bwrap: string | null = null;
    let why: string | undefined;
    let onNodes = false;
    const hosts = Array.isArray(cfg.network);
    if (cfg.mode === 'off') why = '`sandbox: off` in the config';
    else if (o.executor.sandboxed === 'on-nodes') {
      if (hosts) throw new SandboxUnavailableError('sandbox.network lists hosts, which the engine enforces with a proxy on this machine, and a Slurm job runs on a compute node that cannot reach it. With the slurm executor, set `network: true` or `network: false`.');
      // Decided on each compute node by the job itself: the node may have bubblewrap where this machine does not.
      bwrap = BWRAP;
      onNodes = true;
    } else if (o.executor.sandboxed !== 'here') why = `the ${o.executor.kind} executor runs commands where the engine cannot sandbox them`;
    else {
      const probe = (o.probe ?? probeSandbox)();
      if (probe.ok) bwrap = probe.bwrap;
      else {
        why = probe.reason;
        if (cfg.mode === 'on') throw new SandboxUnavailableError(`sandbox: on, but ${probe.reason}. To run here, ${sandboxAdvice()}, or set \`sandbox: auto\` to fall back to detection.`);
        log(`no sandbox: ${probe.reason}; to get one, ${sandboxAdvice()}`, 'warn');
      }
    }
    const description = onNodes
      ? `${describeProtection(true, cfg)}, on each compute node where bubblewrap runs${cfg.mode === 'on' ? ' (a node without it fails the job)' : ' (elsewhere detection only; the job\'s log says which)'}`
      : describeProtection(bwrap !== null, cfg, why);
    log(`protection: ${description}`);
    if (hosts && bwrap === null) log('sandbox.network lists hosts, but without a sandbox nothing limits where a run connects', 'warn');
    return new Protection(o, shared, new TamperWatch(lab, config.readonly, config.tag), bwrap, await lab.gitCommonDir(), description);
  }

  /** A worktree at `commit`, with the shared inputs linked in. */
  async checkout(worktree: string, commit: string): Promise<void> {
    await this.o.lab.prepareWorktree(worktree, commit);
    const skipped = this.shared.link(worktree);
    if (skipped.length) this.o.log(`not linked into ${worktree}, the commit has them: ${skipped.join(', ')}`, 'warn');
  }

  /** The sandbox for a proposer's program in `worktree` (agent-cli), or undefined without one. */
  proposerSandbox(worktree: string): string[] | undefined {
    if (!this.bwrap) return undefined;
    const protectedFiles = listFiles(worktree).filter((p) => matchesAny(p, this.o.config.readonly));
    // The agent talks to its model's API: the run's network setting is for the experiments, not for it.
    const config = { ...this.o.config.sandbox ?? DEFAULT_SANDBOX, network: true };
    return [this.bwrap, ...sandboxArgs({ root: this.o.lab.root, gitCommonDir: this.gitCommonDir, worktree, protectedFiles, config, extraWritable: AGENT_WRITABLE })];
  }

  async beforeRun(worktree: string): Promise<BeforeRun> {
    const skip = new Set(this.shared.protectedPaths);
    const hashes = hashProtected(worktree, this.o.config.readonly, skip);
    const config = this.o.config.sandbox ?? DEFAULT_SANDBOX;
    const network = this.bwrap && Array.isArray(config.network) ? await NetworkGate.open(config.network) : undefined;
    const sandbox = this.bwrap
      ? [this.bwrap, ...sandboxArgs({ root: this.o.lab.root, gitCommonDir: this.gitCommonDir, worktree, protectedFiles: [...hashes.keys()], config }), ...network?.sandboxArgs() ?? [], ...network?.launcher() ?? []]
      : undefined;
    // In the local sandbox the checkout and the refs cannot be written by the run, so a change there is the person's
    // own work (a commit, a stash) and must not be undone: the watch is for runs that are not confined.
    const confined = sandbox !== undefined && this.o.executor.sandboxed === 'here';
    return { worktree, hashes, sharedStamps: this.shared.stamps(), outside: confined ? null : await this.watch.take(), sandbox, network };
  }

  /** Once the run has ended, however it ended: closes its network proxy and names the hosts it refused. */
  finished(b: BeforeRun): string[] {
    b.network?.close();
    return [...b.network?.refused ?? []];
  }

  /**
   * Why the run is invalid, with everything it changed undone, or null: changes outside the worktree (the user's
   * checkout, refs), protected files in the worktree (restored from `commit`), protected shared inputs (snapshots
   * made again), and, in the sandbox, a write it refused (from the log).
   */
  async afterRun(b: BeforeRun, commit: string, nodeId: number, log: () => string): Promise<string | null> {
    const reasons: string[] = [];
    const outside = b.outside ? await this.watch.undo(b.outside, nodeId) : [];
    if (outside.length) {
      const kept = outside.some((x) => x.startsWith('moved') || x.startsWith('created')) ? `; the commits it pointed at are kept under refs/autoresearch/${this.o.config.tag}/quarantine/${nodeId}/` : '';
      reasons.push(`the run changed what lies outside its worktree: ${outside.join(', ')} (undone${kept})`);
    }
    const touched = tamperedPaths(b.worktree, this.o.config.readonly, b.hashes, new Set(this.shared.protectedPaths));
    if (touched.length) await this.o.lab.restore(b.worktree, commit, touched);
    touched.push(...this.shared.restoreTampered(b.worktree, b.sharedStamps));
    if (touched.length) reasons.push(`the run modified protected files: ${touched.join(', ')} (restored)`);
    if (reasons.length === 0 && b.sandbox) {
      const blocked = blockedWrite(log());
      // A path elsewhere on the machine (a cache, a scratch disk) may be one the run needs; the repository's never is.
      const elsewhere = !!blocked && /'\/[^']*'/.test(blocked) && !blocked.includes(`'${this.o.lab.root}/`) && !blocked.includes(`'${this.gitCommonDir}/`);
      if (blocked) reasons.push(`the sandbox stopped a write outside the worktree: ${blocked} (nothing changed${elsewhere ? '; if the run needs that path, add it to sandbox.writable' : ''})`);
    }
    return reasons.length ? reasons.join('; ') : null;
  }
}
