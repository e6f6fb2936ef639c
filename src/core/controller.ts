// The research loop. The engine owns every rule: budget, scope, git, the decision and the record.
// Proposers only propose. Everything the controller learns goes to the journal first; results.tsv,
// the branch, the summary and the events are derived from it.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Emitter } from './events.js';
import { readTail } from './files.js';
import type { Executor, RunRequest, RunningExperiment } from './executor.js';
import { Lab, nodeRef, sessionBranch } from './git.js';
import { checkProposal, checkScope, describeViolations, WatchedFile } from './guard.js';
import { Journal, type JournalEntry, type NodeCreated } from './journal.js';
import { improvement, judge, thresholdText } from './judge.js';
import { DisposableBase } from './lifecycle.js';
import { isMeasurement, SessionModel } from './model.js';
import { createPolicy, exhaustedKey, type Choice, type Policy } from './policy.js';
import { ProposalError, type Proposal, type Proposer } from './proposer.js';
import { formatResults, resultsHeader, resultsRow } from './results.js';
import { acquireControllerLocks, ensureStateDir, InboxReader, sessionPaths, type InboxCommand, type SessionPaths } from './store.js';
import { buildSummary, fmtNum } from './summary.js';
import { detectPlatform } from './platform.js';
import { matchesAny, listFiles } from './glob.js';
import { faultPoint } from './faults.js';
import { Protection, SandboxUnavailableError } from './protection.js';
import type { SandboxProbe } from './sandbox.js';
import { explainCrash, lastError, metricSuggestion } from './crashHints.js';
import type { ExperimentNode, Hint, Judgement, PlatformInfo, ResearchConfig, RunResult, SessionState } from './types.js';

export type ControllerEvent =
  | { type: 'node-added'; node: ExperimentNode }
  | { type: 'node-updated'; node: ExperimentNode }
  | { type: 'run-started'; node: ExperimentNode; slot: number; budgetSeconds: number }
  | { type: 'run-progress'; nodeId: number; elapsedMs: number; budgetMs: number; line: string }
  | { type: 'run-finished'; node: ExperimentNode }
  | { type: 'experiment'; line: string; node: ExperimentNode }
  | { type: 'state'; state: SessionState; reason?: string }
  | { type: 'report'; text: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export class PreflightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreflightError';
  }
}

export interface ControllerOptions {
  /** Any folder inside the user's repository; the repo root is found from it. */
  root: string;
  config: ResearchConfig;
  proposer: Proposer;
  executor: Executor;
  /** Skips probing python and nvidia-smi (tests). */
  platform?: PlatformInfo | null;
  /** How often the inbox of commands from other processes is read. */
  inboxIntervalMs?: number;
  /** Begin a new attempt of an existing session instead of resuming it (`run --restart`). */
  restart?: boolean;
  /** Replaces running bubblewrap once to see whether it works here (tests). */
  sandboxProbe?: () => SandboxProbe;
}

export interface Outcome {
  state: 'done' | 'stopped' | 'failed';
  reason: string;
  best: ExperimentNode | undefined;
  model: SessionModel;
}

interface Slot {
  index: number;
  worktree: string;
  running: RunningExperiment | null;
  abort: AbortController | null;
  /** A slot only recovery uses: a reattached job's worktree beyond this config's `parallel`. */
  temporary?: boolean;
}

/** A choice in progress: its parent is busy until the node is decided, its operator until the node is journaled. */
interface Reservation {
  parentId: number;
  op: string;
  opHeld: boolean;
  parentHeld: boolean;
  hint: Hint | null;
  /** The proposal's editKey while it is proposed or queued, so no other slot proposes it from the same parent. */
  key: string | null;
  /** Releases the parent's proposal lock. */
  unlock: (() => void) | null;
}

/** A proposal held in memory until a slot is free to commit and run it. */
interface Prepared {
  choice: Choice;
  proposal: Proposal;
  /** The edit: new contents by path, null for a deleted file; null when it could not be read back. */
  files: Record<string, string | Buffer | null> | null;
  /** Where it was proposed: a slot's own worktree (run in place) or a preparer's. */
  worktree: string;
  reservation: Reservation;
  retargetedFrom: { id: number; why: string } | null;
}

const LOG_TAIL_BYTES = 8 * 1024 * 1024;
const MAX_PROPOSAL_FAILURES = 5;

export function experimentLine(tag: string, metricName: string, n: ExperimentNode): string {
  const commit = n.commit ? n.commit.slice(0, 7) : '-------';
  const metric = n.metric === null ? 'n/a' : fmtNum(n.metric);
  // Like results.tsv, an unreported memory reads 0.0 so the line keeps its numeric shape.
  const mem = n.memoryGb === null ? '0.0' : n.memoryGb.toFixed(n.memoryGb < 1 ? 2 : 1);
  return `[EXP] ${tag} ${n.id} | commit:${commit} | ${metricName}:${metric} | mem:${mem}GB | status:${n.status} | ${n.description}`;
}

export class Controller extends DisposableBase {
  private readonly _onEvent = this._register(new Emitter<ControllerEvent>());
  readonly onEvent = this._onEvent.event;

  readonly paths: SessionPaths;
  readonly model = new SessionModel();
  private lab!: Lab;
  private protection!: Protection;
  /** Crashes whose reason already says what to change. */
  private readonly advised = new Set<number>();
  private journal!: Journal;
  private policy: Policy;
  private config: ResearchConfig;
  private readonly results: WatchedFile;
  private releaseLock: (() => void) | null = null;
  private readonly slots: Slot[] = [];
  private readonly exhausted = new Set<string>();
  private readonly busyParents = new Map<number, number>();
  private readonly busyOps = new Map<string, number>();
  private readonly pendingKeys = new Map<number, Set<string>>();
  private readonly parentLocks = new Map<number, Promise<void>>();
  private readonly ready: Prepared[] = [];
  private preparing = 0;
  private workersDone = false;
  private branchCommit: string | null = null;
  private branchUpdate: Promise<void> = Promise.resolve();
  private readonly reservedHints = new Set<number>();
  private readonly proposingAbort = new Set<AbortController>();
  private inFlight = 0;
  private pinned: number | undefined;
  private rerunQueue: number[] = [];
  private stopping = false;
  private paused = false;
  private wake: (() => void) | null = null;
  private inbox!: InboxReader;
  private inboxTimer: NodeJS.Timeout | null = null;
  private failReason: string | null = null;
  private failuresInARow = 0;
  private closed = false;
  private readonly early: InboxCommand[] = [];
  private readonly earlyRecords = new Map<number, Extract<InboxCommand, { type: 'record' | 'record-crash' }>>();

  constructor(private readonly options: ControllerOptions) {
    super();
    this.config = options.config;
    this.paths = sessionPaths(options.root, options.config.tag);
    this.results = new WatchedFile(this.paths.results);
    this.policy = createPolicy(this.config.policy, this.config.search);
  }

  private emit(e: ControllerEvent): void {
    this._onEvent.fire(e);
  }

  private log(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    this.emit({ type: 'log', level, message });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Runs the session until it is done, stopped, or fails. Resumes from the journal when there is one. */
  async run(): Promise<Outcome> {
    await this.open();
    this.setState('running');
    this.inboxTimer = setInterval(() => this.drainInbox(), this.options.inboxIntervalMs ?? 300);
    try {
      this.applyCommands(this.early.splice(0));
      this.drainInbox();
      // Recovery reserves the parents of interrupted nodes before the preparers look, so a resumed session
      // prepares what the session it replaces would have prepared while those nodes ran.
      const recovering = this.recover();
      // A preparer that fails ends the session like a failing slot would, instead of an unhandled rejection.
      const preparers = Array.from({ length: this.pipelineCapacity }, (_, k) => this.preparer(k).catch((e: Error) => {
        this.failReason ??= `internal error: ${e.stack ?? e}`;
        this.stop();
      }));
      try {
        await recovering;
        if (!this.stopping && !this.failReason) await this.ensureBaseline();
        if (!this.stopping && !this.failReason) await Promise.all(this.slots.map((s) => this.worker(s)));
      } finally {
        // The slots are done: proposals still being prepared are not needed any more, nor queued ones.
        this.workersDone = true;
        for (const a of this.proposingAbort) a.abort();
        if (this.ready.length) this.log(`${this.ready.length} prepared proposal(s) were not run: ${this.ready.map((p) => `"${p.proposal.description}"`).join(', ')}`);
        for (const p of this.ready.splice(0)) this.release(p.reservation);
        this.poke();
        await Promise.all(preparers);
      }
    } catch (e) {
      this.failReason = `internal error: ${(e as Error).stack ?? e}`;
    } finally {
      if (this.inboxTimer) clearInterval(this.inboxTimer);
      this.inboxTimer = null;
    }
    return await this.finish();
  }

  private async open(): Promise<void> {
    try {
      this.lab = await Lab.open(this.options.root);
    } catch (e) {
      throw new PreflightError((e as Error).message);
    }
    // Sessions live at the repository root, whatever folder the user started from.
    Object.assign(this.paths, sessionPaths(this.lab.root, this.config.tag));
    (this.results as { path: string }).path = this.paths.results;
    ensureStateDir(this.paths);
    this.releaseLock = acquireControllerLocks(this.paths, this.config.tag);
    try {
      // A new session unless a whole record is there: each ends with its newline, so a first write cut short has none.
      const head = existsSync(this.paths.journal) ? readFileSync(this.paths.journal, 'utf8') : '';
      const fresh = head.trim() === '' || !head.includes('\n');
      if (fresh) await this.preflight();
      this.journal = Journal.open(this.paths.journal);
      for (const note of this.journal.recovery.notes) this.log(`recovered: ${note}`, 'warn');
      for (const r of this.journal.records) this.model.apply(r);
      this.inbox = new InboxReader(this.paths.inbox, (note) => this.log(`recovered: ${note}`, 'warn'));
      if (fresh) {
        const baseCommit = await this.lab.head();
        const platform = this.options.platform !== undefined ? this.options.platform : await detectPlatform(this.lab.root);
        this.append({ type: 'session', tag: this.config.tag, config: this.config, baseCommit, baseBranch: await this.lab.currentBranch(), platform, startedAt: new Date().toISOString() });
        await this.lab.setRef(`refs/autoresearch/${this.config.tag}/base`, baseCommit);
        this.log(`new session ${this.config.tag} on ${baseCommit.slice(0, 7)}; platform: ${platform ? platform.accelerator : 'not probed'}`);
      } else {
        if (this.model.tag !== this.config.tag) throw new PreflightError(`The journal at ${this.paths.journal} belongs to session "${this.model.tag}", not "${this.config.tag}".`);
        const failedStart = this.failedStart();
        if (this.options.restart || failedStart) await this.restart(failedStart ?? 'a new attempt on request (--restart)');
        else {
          this.append({ type: 'resume', at: new Date().toISOString(), pid: process.pid, config: this.config });
          this.log(`resuming session ${this.config.tag}: ${this.model.nodes.length} nodes, ${this.model.decidedCount} decided`);
        }
      }
      this.rewriteResults();
      // A controller killed between a decision and moving the branch: the journal's best is the truth.
      await this.updateBranch();
      for (let i = 0; i < this.config.parallel; i++) {
        this.slots.push({ index: i, worktree: join(this.paths.worktrees, `slot-${i}`), running: null, abort: null });
      }
      await this.protect();
    } catch (e) {
      this.releaseLock?.();
      this.releaseLock = null;
      throw e;
    }
  }

  /** A slot's worktree at `commit`, with the shared inputs linked in. */
  private async checkout(worktree: string, commit: string): Promise<void> {
    await this.protection.checkout(worktree, commit);
  }

  /** Shared inputs, the sandbox and the checks after each run (protection.ts); recorded in the journal. */
  private async protect(): Promise<void> {
    try {
      this.protection = await Protection.open({
        lab: this.lab, config: this.config, sessionDir: this.paths.dir, executorKind: this.options.executor.kind,
        probe: this.options.sandboxProbe, log: (m, level) => this.log(m, level),
      });
    } catch (e) {
      if (e instanceof SandboxUnavailableError) throw new PreflightError(e.message);
      throw e;
    }
    this.append({ type: 'protection', sandboxed: this.protection.sandboxed, text: this.protection.description, at: new Date().toISOString() });
  }

  /** Why the session never got going (its baseline crashed or was invalid, nothing else decided), or null. */
  private failedStart(): string | null {
    const base = this.model.baseline;
    if (!base || base.decidedBy === null || base.status === 'keep' || this.model.decidedCount > 0) return null;
    return `the baseline ${base.status === 'crash' ? 'crashed' : 'was not usable'}: ${base.reason}`;
  }

  /**
   * A new attempt of the session from the current commit and config: the nodes so far stay in the journal (the model
   * keeps them as an earlier attempt), their refs and logs move under attempts/<n>/, and the tree starts again.
   */
  private async restart(reason: string): Promise<void> {
    await this.checkWorkingTree();
    const attempt = this.model.attempt;
    const logsTo = join(this.paths.dir, 'attempts', String(attempt), 'logs');
    mkdirSync(dirname(logsTo), { recursive: true });
    if (existsSync(this.paths.logs)) renameSync(this.paths.logs, logsTo);
    mkdirSync(this.paths.logs, { recursive: true });
    await this.lab.archiveRefs(this.config.tag, attempt);
    const baseCommit = await this.lab.head();
    this.append({
      type: 'restart', at: new Date().toISOString(), attempt: attempt + 1, reason, config: this.config, baseCommit,
      baseBranch: await this.lab.currentBranch(), logsFrom: this.paths.logs, logsTo,
    });
    await this.lab.setRef(`refs/autoresearch/${this.config.tag}/base`, baseCommit);
    this.log(`session ${this.config.tag}: attempt ${attempt + 1} starts on ${baseCommit.slice(0, 7)} (attempt ${attempt} ended: ${reason}; it stays in the journal, its logs in ${logsTo})`);
  }

  /** Refuses to start where results could not be trusted or the user's work could be lost. */
  private async preflight(): Promise<void> {
    await this.checkWorkingTree();
    const branch = sessionBranch(this.config.tag);
    if (await this.lab.resolve(`refs/heads/${branch}`)) {
      throw new PreflightError(`A branch ${branch} already exists but this folder has no session "${this.config.tag}". Choose another tag, or delete the branch (\`git branch -D ${branch}\`).`);
    }
  }

  /** The files the session uses are committed, and the editable globs match something. */
  private async checkWorkingTree(): Promise<void> {
    const c = this.config;
    const dirty = (await this.lab.dirtyPaths()).filter((p) => matchesAny(p, c.editable) || matchesAny(p, c.readonly));
    if (dirty.length) {
      throw new PreflightError(`Uncommitted changes to files the session uses: ${dirty.join(', ')}. Commit them (the baseline is your last commit) or stash them, then start again.`);
    }
    const files = listFiles(this.lab.root);
    if (!files.some((f) => matchesAny(f, c.editable))) {
      throw new PreflightError(`editable: no file in the repository matches ${c.editable.join(', ')}. Fix the globs in autoresearch.config.yaml.`);
    }
  }

  private async finish(): Promise<Outcome> {
    const state: Outcome['state'] = this.failReason ? 'failed' : this.stopping ? 'stopped' : 'done';
    const reason = this.failReason ?? (this.stopping ? 'stopped by request' : this.doneReason());
    await this.branchUpdate;
    this.setState(state, reason);
    this.writeSummary();
    this.journal.close();
    this.closed = true;
    this.releaseLock?.();
    this.releaseLock = null;
    await this.cleanupWorktrees();
    return { state, reason, best: this.model.best, model: this.model };
  }

  private doneReason(): string {
    const max = this.config.maxExperiments;
    if (max !== null && this.model.decidedCount >= max) return `reached ${max} experiments`;
    return this.options.proposer.explainNothingNew?.() ?? 'the proposer has nothing new to try';
  }

  private async cleanupWorktrees(): Promise<void> {
    for (const s of this.slots) await this.lab.removeWorktree(s.worktree).catch(() => undefined);
    for (let k = 0; k < this.pipelineCapacity; k++) {
      const wt = join(this.paths.worktrees, `prep-${k}`);
      if (existsSync(wt)) await this.lab.removeWorktree(wt).catch(() => undefined);
    }
  }

  stop(): void {
    if (this.stopping || this.closed) return;
    this.stopping = true;
    this.setState('stopping');
    for (const a of this.proposingAbort) a.abort();
    for (const s of this.slots) s.abort?.abort();
    this.poke();
  }

  pause(): void {
    if (this.paused || this.stopping || this.closed) return;
    this.paused = true;
    this.setState('paused', 'no new experiment starts; running ones finish');
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.setState('running');
    this.poke();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  override dispose(): void {
    this.stop();
    for (const s of this.slots) s.running?.dispose();
    super.dispose();
  }

  private setState(state: SessionState, reason?: string): void {
    if (this.journal && !this.closed) this.append({ type: 'state', state, reason, at: new Date().toISOString() });
    this.emit({ type: 'state', state, reason });
  }

  private append(entry: JournalEntry): void {
    const rec = this.journal.append(entry);
    this.model.apply(rec);
  }

  private nodeIdQueue: Promise<void> = Promise.resolve();

  /** Waits for the node-id lock; resolves to its release. */
  private lockNodeIds(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const ready = this.nodeIdQueue.then(() => release);
    this.nodeIdQueue = this.nodeIdQueue.then(() => held);
    return ready;
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => { prev?.(); resolve(); };
    });
  }

  // ---- commands from people ---------------------------------------------------------------

  private drainInbox(): void {
    this.applyCommands(this.inbox.read());
  }

  private applyCommands(cmds: InboxCommand[]): void {
    for (const cmd of cmds) {
      try {
        this.command(cmd);
      } catch (e) {
        this.log(`command ${cmd.type} refused: ${(e as Error).message}`, 'warn');
      }
    }
  }

  /** Applies a command from the UI or another process. Throws with a message for the person when refused. */
  command(cmd: InboxCommand): void {
    // Commands given while the session is still opening are applied as soon as it is open.
    if (!this.journal) {
      this.early.push(cmd);
      return;
    }
    switch (cmd.type) {
      case 'hint': this.addHint(cmd.text); break;
      case 'override': this.override(cmd.id, cmd.status, cmd.reason); break;
      case 'record': this.record(cmd.id, cmd.metric, cmd.memoryGb); break;
      case 'record-crash': this.recordCrash(cmd.id, cmd.reason); break;
      case 'branch': this.branchFrom(cmd.id); break;
      case 'rerun': this.rerun(cmd.id); break;
      case 'stop': this.stop(); break;
      case 'pause': this.pause(); break;
      case 'resume': this.resume(); break;
    }
  }

  addHint(text: string): Hint | null {
    if (!this.journal) {
      this.early.push({ type: 'hint', text });
      return null;
    }
    const hint: Hint = { id: this.model.hints.length, text: text.trim(), addedAt: new Date().toISOString(), takenBy: null };
    if (!hint.text) throw new Error('A hypothesis needs some text.');
    this.append({ type: 'hint', hint });
    this.log(`hypothesis queued: ${hint.text}`);
    this.poke();
    return hint;
  }

  override(id: number, status: 'keep' | 'discard', reason: string): void {
    const n = requireDecided(this.model, id);
    if (status === 'keep' && (n.metric === null || !Number.isFinite(n.metric))) throw new Error(`#${id} has no metric (it ${n.status === 'crash' ? 'crashed' : 'did not run'}); only a node with a result can be kept.`);
    if (id === 0 && status === 'discard') throw new Error('The baseline is the reference every change is measured against; it cannot be discarded.');
    applyOverride((e) => this.append(e), id, status, reason);
    this.rewriteResults();
    void this.updateBranch();
    this.emit({ type: 'node-updated', node: n });
    this.exhausted.delete(exhaustedKey(id, 'improve'));
    this.poke();
  }

  branchFrom(id: number): void {
    const n = this.model.get(id);
    if (!n || n.commit === null) throw new Error(`There is no node #${id} with code to branch from.`);
    this.pinned = id;
    this.exhausted.delete(exhaustedKey(id, 'improve'));
    this.log(`the next experiment branches from #${id}`);
    this.poke();
  }

  /** Queues a re-run of a node's exact code, to see how much its metric moves by noise alone. */
  rerun(id: number): void {
    const n = requireDecided(this.model, id);
    if (!n.commit) throw new Error(`#${id} has no code to re-run.`);
    this.rerunQueue.push(id);
    this.poke();
  }

  record(id: number, metric: number, memoryGb: number | null): void {
    this.deliverRecord({ type: 'record', id, metric, memoryGb });
  }

  recordCrash(id: number, reason: string): void {
    this.deliverRecord({ type: 'record-crash', id, reason });
  }

  /** A manual result for a node that is waiting, or about to wait once the session reaches it again. */
  private deliverRecord(cmd: Extract<InboxCommand, { type: 'record' | 'record-crash' }>): void {
    const manual = this.options.executor as { record?: (id: number, m: number, g: number | null) => boolean; recordCrash?: (id: number, r: string) => boolean };
    if (typeof manual.record !== 'function' || typeof manual.recordCrash !== 'function') throw new Error('This session does not use the manual executor; its runs report their own results.');
    const delivered = cmd.type === 'record' ? manual.record(cmd.id, cmd.metric, cmd.memoryGb) : manual.recordCrash(cmd.id, cmd.reason);
    if (delivered) return;
    const n = this.model.get(cmd.id);
    if (!n || n.decidedBy !== null) throw new Error(`#${cmd.id} is not waiting for a manual result.`);
    // Recorded while the session was down: applied when the node's run is prepared again.
    this.earlyRecords.set(cmd.id, cmd);
  }

  // ---- the loop --------------------------------------------------------------------------

  private maxReached(extra = 0): boolean {
    const max = this.config.maxExperiments;
    return max !== null && this.model.decidedCount + this.inFlight + extra >= max;
  }

  /** Nodes left undecided by a crash or a stop: judge the finished ones, re-run the rest. */
  private async recover(): Promise<void> {
    const pending = this.model.undecided();
    // Interrupted nodes hold their parents busy until decided, as they did before the controller died.
    const held = new Map(pending.filter((n) => n.parentId !== null && n.id !== 0).map((n) => {
      this.busyParents.set(n.parentId!, (this.busyParents.get(n.parentId!) ?? 0) + 1);
      return [n.id, n.parentId!] as const;
    }));
    try {
      await this.recoverNodes(pending);
    } finally {
      for (const parentId of held.values()) decrement(this.busyParents, parentId);
    }
  }

  private async recoverNodes(pending: ExperimentNode[]): Promise<void> {
    if (pending.length) this.log(`recovering ${pending.length} interrupted experiment(s): ${pending.map((n) => `#${n.id}`).join(', ')}`);
    const rerun: ExperimentNode[] = [];
    const reattach: ExperimentNode[] = [];
    const settle: { n: ExperimentNode; j: Judgement }[] = [];
    for (const n of pending) killOrphan(this.model, n.id, this.config.tag);
    for (const n of pending) {
      const violations = checkScope(n.changedFiles, this.config.editable, this.config.readonly);
      if (n.commit === null) this.decide(n, { status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason: n.reason || 'the proposal failed' });
      else if (n.id !== 0 && violations.length) this.decide(n, invalidScope(violations));
      else if (n.finishedAt !== null && n.logPath && existsSync(n.logPath)) {
        const finish = this.model.lastFinish.get(n.id);
        if (finish && !finish.run.recorded) settle.push({ n, j: await this.judgeRun(n, finish.run) });
        else rerun.push(n);
      } else if (this.options.executor.reattach && leftBehind(this.model, n.id)) reattach.push(n);
      // A confirmation whose candidate is still undecided is run by the candidate's settling, not twice.
      else if (!isOrphanConfirmation(this.model, n)) rerun.push(n);
    }
    // A cluster job a dead controller left behind is watched again in the slot (worktree) it runs in, never resubmitted;
    // a slot the new config no longer has lives until recovery is over.
    const slotOf = (n: ExperimentNode) => this.model.lastStart.get(n.id)!.slot;
    for (const i of new Set(reattach.map(slotOf))) {
      if (!this.slots.some((s) => s.index === i)) this.slots.push({ index: i, worktree: join(this.paths.worktrees, `slot-${i}`), running: null, abort: null, temporary: true });
    }
    // Interrupted runs go again, one slot each, before anything new is proposed.
    const queue = rerun.filter((n) => n.id !== 0);
    await Promise.all(this.slots.map(async (slot) => {
      for (const n of reattach.filter((r) => slotOf(r) === slot.index)) {
        if (this.stopping) break;
        this.inFlight++;
        try {
          await this.runNode(n, slot, this.model.lastStart.get(n.id)!.handle);
        } finally {
          this.inFlight--;
        }
      }
      // A finished candidate that was waiting for its confirmation run gets it now.
      for (let s = slot.temporary ? undefined : settle.shift(); s && !this.stopping; s = settle.shift()) {
        this.inFlight++;
        try {
          await this.settle(s.n, s.j, slot);
        } finally {
          this.inFlight--;
        }
      }
      for (let n = slot.temporary ? undefined : queue.shift(); n && !this.stopping; n = queue.shift()) {
        this.inFlight++;
        try {
          await this.checkout(slot.worktree, n.commit!);
          await this.runNode(n, slot);
        } finally {
          this.inFlight--;
        }
      }
    }));
    this.slots.splice(0, this.slots.length, ...this.slots.filter((s) => !s.temporary));
  }

  private async ensureBaseline(): Promise<void> {
    let base = this.model.baseline;
    if (!base) {
      const created: NodeCreated = {
        id: 0, parentId: null, operator: 'baseline', commit: this.model.baseCommit, description: 'baseline', plan: 'The code as committed when the session started.',
        editKey: 'baseline', changedFiles: [], policyReason: 'every session measures its starting point first', proposer: { kind: 'none' }, hint: null, createdAt: new Date().toISOString(),
      };
      await this.lab.setRef(nodeRef(this.config.tag, 0), this.model.baseCommit);
      this.append({ type: 'node', node: created });
      base = this.model.baseline!;
      this.emit({ type: 'node-added', node: base });
    }
    if (base.decidedBy === null) {
      const slot = this.slots[0]!;
      await this.checkout(slot.worktree, base.commit!);
      await this.runNode(base, slot);
    }
    if (this.stopping) return;
    if (base.status !== 'keep') {
      // A reason that already says what to change (a missing shared input, the wrong Python) is the advice.
      const advice = this.advised.has(base.id) ? 'Then start again' : 'Fix the run command or the script, then start again';
      this.failReason = `the baseline ${base.status === 'crash' ? 'crashed' : 'was not usable'}: ${base.reason.replace(/\.+$/, '')}. ${advice} (log: ${base.logPath ?? 'none'}); a new start begins a new attempt.`;
      return;
    }
    await this.measureNoise(base);
  }

  /** Runs the baseline again until it has `noise.repeats` runs, spread over the slots: their spread is the noise. */
  private async measureNoise(base: ExperimentNode): Promise<void> {
    const noise = this.config.noise;
    if (!noise) return;
    const have = this.model.childrenOf(0).filter((c) => c.editKey.startsWith('noise:')).length;
    const todo = Array.from({ length: Math.max(0, noise.repeats - 1 - have) }, (_, i) => have + i + 1);
    await Promise.all(this.slots.map(async (slot) => {
      for (let k = todo.shift(); k !== undefined && !this.stopping; k = todo.shift()) {
        const node = await this.createRerunNode(base, `noise:0:${k}`, `baseline run ${k + 1} of ${noise.repeats} (noise estimate)`,
          `Run the baseline's exact code again: the spread of its ${noise.repeats} runs is the noise a change must beat.`, `noise: {repeats: ${noise.repeats}} measures the run-to-run spread first`);
        await this.checkout(slot.worktree, base.commit!);
        await this.runNode(node, slot);
      }
    }));
    if (this.stopping) return;
    const band = this.model.noiseBand()!;
    if (band.spread === null) this.log(`noise: fewer than two baseline runs have a metric; changes are judged on minDelta ${this.config.minDelta} alone`, 'warn');
    else this.log(`noise: ${band.samples} baseline runs, spread ±${fmtNum(band.spread)}; a change must beat its parent by more than the ${thresholdText(band, this.config.minDelta)}`);
  }

  private async createRerunNode(original: ExperimentNode, editKey: string | ((id: number) => string), description: string, plan: string, policyReason: string): Promise<ExperimentNode> {
    const unlock = await this.lockNodeIds();
    let id: number;
    try {
      id = this.model.nextId;
      await this.lab.setRef(nodeRef(this.config.tag, id), original.commit!);
      this.append({ type: 'node', node: {
        id, parentId: original.id, operator: 'rerun', commit: original.commit, description, plan, editKey: typeof editKey === 'string' ? editKey : editKey(id), changedFiles: [],
        policyReason, proposer: { kind: 'none' }, hint: null, createdAt: new Date().toISOString(),
      } });
    } finally {
      unlock();
    }
    const node = this.model.get(id)!;
    this.emit({ type: 'node-added', node });
    return node;
  }

  private choose(): Choice | null {
    return this.policy.choose(this.model, {
      operators: this.options.proposer.operators, exhausted: this.exhausted, busyParents: this.busyParents, busyOps: this.busyOps, pinned: this.pinned,
    });
  }

  /** Marks a choice as taken until its node is decided (busy parent) or journaled (busy operator), so slots spread out. */
  private reserve(choice: Choice): Reservation {
    const { id } = choice.parent;
    if (this.pinned === id) this.pinned = undefined;
    const op = exhaustedKey(id, choice.operator);
    this.busyParents.set(id, (this.busyParents.get(id) ?? 0) + 1);
    this.busyOps.set(op, (this.busyOps.get(op) ?? 0) + 1);
    return { parentId: id, op, opHeld: true, parentHeld: true, hint: null, key: null, unlock: null };
  }

  /** Ends the operator part of a reservation: its node is in the journal now (or never will be). */
  private releaseOp(r: Reservation): void {
    if (r.opHeld) {
      r.opHeld = false;
      decrement(this.busyOps, r.op);
    }
    if (r.hint) {
      this.reservedHints.delete(r.hint.id);
      r.hint = null;
    }
    if (r.key !== null) {
      const keys = this.pendingKeys.get(r.parentId);
      keys?.delete(r.key);
      if (keys?.size === 0) this.pendingKeys.delete(r.parentId);
      r.key = null;
    }
    r.unlock?.();
    r.unlock = null;
  }

  private release(r: Reservation): void {
    this.releaseOp(r);
    if (r.parentHeld) {
      r.parentHeld = false;
      decrement(this.busyParents, r.parentId);
    }
  }

  private async worker(slot: Slot): Promise<void> {
    while (!this.stopping) {
      if (this.paused) {
        await this.waitForChange();
        continue;
      }
      const rerunId = this.rerunQueue.shift();
      if (rerunId !== undefined) {
        await this.runRerun(rerunId, slot);
        continue;
      }
      // A proposal prepared while this slot was running goes first: the slot starts its next run at once.
      const queued = this.ready.shift();
      if (queued) {
        this.poke();
        if (this.maxReached()) {
          this.log(`dropped the prepared proposal "${queued.proposal.description}" (#${queued.choice.parent.id}): the session reached ${this.config.maxExperiments} experiments`);
          this.release(queued.reservation);
          continue;
        }
        this.inFlight++;
        try {
          await this.materialize(queued, slot);
        } finally {
          this.release(queued.reservation);
          this.inFlight--;
          this.poke();
        }
        continue;
      }
      if (this.maxReached(this.preparing)) {
        if (this.inFlight === 0 && this.preparing === 0) return;
        await this.waitForChange();
        continue;
      }
      if (this.config.pipeline > 0) {
        // The preparers propose; a slot only runs what they queue. One source of proposals keeps the order of
        // choices the same in a resumed session as in one never interrupted.
        if (this.inFlight === 0 && this.preparing === 0 && !this.choose()) return;
        await this.waitForChange();
        continue;
      }
      const choice = this.choose();
      if (!choice) {
        if (this.inFlight === 0 && this.preparing === 0) return;
        await this.waitForChange();
        continue;
      }
      const reservation = this.reserve(choice);
      this.inFlight++;
      try {
        const prepared = await this.prepare(choice, reservation, slot.worktree);
        if (prepared) await this.materialize(prepared, slot);
      } finally {
        this.release(reservation);
        this.inFlight--;
        this.poke();
      }
    }
  }

  /**
   * Prepares proposals ahead in its own worktree while the slots run, so a slot that finishes starts its next
   * run at once. What it prepares lives in memory until a slot takes it: the journal only ever holds nodes that
   * are about to run, so a killed controller loses a proposal's effort, never a result, and repeats nothing.
   */
  private async preparer(k: number): Promise<void> {
    const worktree = join(this.paths.worktrees, `prep-${k}`);
    while (!this.stopping && !this.workersDone) {
      const full = this.ready.length + this.preparing >= this.pipelineCapacity;
      if (this.paused || full || this.maxReached(this.ready.length + this.preparing) || this.rerunQueue.length) {
        await this.waitForChange();
        continue;
      }
      const choice = this.choose();
      if (!choice) {
        await this.waitForChange();
        continue;
      }
      const reservation = this.reserve(choice);
      this.preparing++;
      let prepared: Prepared | null = null;
      try {
        prepared = await this.prepare(choice, reservation, worktree);
      } finally {
        this.preparing--;
        if (prepared && !this.stopping && !this.workersDone) this.ready.push(prepared);
        else this.release(reservation);
        this.poke();
      }
    }
  }

  private get pipelineCapacity(): number {
    return this.config.pipeline * this.config.parallel;
  }

  /**
   * Asks the proposer for one edit of the chosen parent, in `worktree` (checked out at the parent), and
   * holds it in memory. A failed proposal is journaled as an invalid node here; null means nothing to run.
   */
  private async prepare(choice: Choice, reservation: Reservation, worktree: string): Promise<Prepared | null> {
    const { parent } = choice;
    // A slot's own worktree runs the proposal in place, so it gets the shared inputs; a preparer's does not need them.
    if (this.slots.some((s) => s.worktree === worktree)) await this.checkout(worktree, parent.commit!);
    else await this.lab.prepareWorktree(worktree, parent.commit!);
    // One proposal at a time per parent, until it is journaled or dropped: the next one sees it in the history
    // (what a model is told was tried) and among the tried edits, so no slot repeats it.
    reservation.unlock = await this.lockParent(parent.id);
    if (this.stopping || this.workersDone) return null;
    return await this.proposeIn(choice, reservation, worktree);
  }

  private lockParent(id: number): Promise<() => void> {
    const prev = this.parentLocks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const chained = prev.then(() => held);
    this.parentLocks.set(id, chained);
    return prev.then(() => () => {
      release();
      if (this.parentLocks.get(id) === chained) this.parentLocks.delete(id);
    });
  }

  private async proposeIn(choice: Choice, reservation: Reservation, worktree: string): Promise<Prepared | null> {
    const { parent, operator } = choice;
    const hint = this.model.hints.find((h) => h.takenBy === null && !this.reservedHints.has(h.id)) ?? null;
    if (hint) {
      this.reservedHints.add(hint.id);
      reservation.hint = hint;
    }
    const abort = new AbortController();
    this.proposingAbort.add(abort);
    let proposal: Proposal | null = null;
    let failure: string | null = null;
    let failedKey: string | null = null;
    const tried = new Set(this.model.childrenOf(parent.id).filter((c) => c.operator === operator || operator !== 'draft').map((c) => c.editKey));
    // Edits other slots are proposing, or hold ready, from this parent count as tried: no two slots run the same edit.
    for (const key of this.pendingKeys.get(parent.id) ?? []) tried.add(key);
    try {
      proposal = checkProposal(await this.options.proposer.propose({
        parent, operator, worktree, history: this.model.nodes, triedFromParent: tried,
        notes: this.readNotes(), hint, config: this.config, platform: this.model.platform, signal: abort.signal,
        sandbox: this.config.proposer.kind === 'agent-cli' ? this.protection.proposerSandbox(worktree) : undefined,
      }));
      faultPoint('proposing', this.model.nextId);
    } catch (e) {
      if (this.stopping || abort.signal.aborted) return null;
      failure = e instanceof ProposalError ? e.message : `the proposer failed: ${e instanceof Error ? e.message : String(e)}`;
      if (e instanceof ProposalError && e.editKey) failedKey = e.editKey;
    } finally {
      this.proposingAbort.delete(abort);
    }
    if (this.stopping || abort.signal.aborted) return null;
    if (!proposal && !failure) {
      this.exhausted.add(exhaustedKey(parent.id, operator));
      this.log(`nothing new to ${operator} from #${parent.id}`);
      return null;
    }
    if (failure || !proposal) {
      const info = proposal?.proposer ?? { kind: this.options.proposer.kind };
      await this.commitNode({ choice, hint, proposal: null, info, editKey: failedKey, changed: [], worktree: null, failure: failure ?? 'the proposer failed', reservation });
      return null;
    }
    const pending = this.pendingKeys.get(parent.id);
    if (pending?.has(proposal.editKey) || this.model.childrenOf(parent.id).some((c) => c.editKey === proposal.editKey)) {
      this.log(`dropped a proposal from #${parent.id} (${proposal.description}): the same edit is already queued or run from it`);
      return null;
    }
    this.pendingKeys.set(parent.id, (pending ?? new Set()).add(proposal.editKey));
    reservation.key = proposal.editKey;
    let files: Record<string, string | Buffer | null> | null = proposal.files ?? null;
    // An agent that edited its worktree in place: its edit is read back, so the slot that runs it can be elsewhere.
    if (!files) {
      try {
        files = {};
        for (const p of await this.lab.dirtyPaths(worktree)) {
          const abs = join(worktree, p);
          files[p] = existsSync(abs) ? readFileSync(abs) : null;
        }
      } catch (e) {
        files = null;
        this.log(`could not read back the proposal in ${worktree}: ${(e as Error).message}`, 'warn');
      }
    }
    return { choice, proposal, files, worktree, reservation, retargetedFrom: null };
  }

  /**
   * A prepared proposal whose parent changed while it waited: moved onto the node the search would pick now when
   * the edit still applies there (a three-way merge), else dropped. Never run blindly on a parent that lost its place.
   */
  private async retarget(p: Prepared): Promise<boolean> {
    const parent = this.model.get(p.choice.parent.id)!;
    const wanted = p.choice.operator === 'debug' ? 'crash' : 'keep';
    let target: ExperimentNode | undefined;
    let why: string;
    if (parent.status !== wanted) {
      why = `#${parent.id} is now ${parent.status}${parent.decidedBy === 'human' ? ' (by a person)' : ''}`;
      if (wanted === 'keep' && this.config.policy === 'greedy') target = this.model.best;
      else if (wanted === 'keep') for (let a = parent.parentId === null ? undefined : this.model.get(parent.parentId); a && !target; a = a.parentId === null ? undefined : this.model.get(a.parentId)) if (a.status === 'keep') target = a;
    } else if (this.config.policy === 'greedy' && this.model.best && this.model.best.id !== parent.id) {
      why = `the best moved from #${parent.id} to #${this.model.best.id} while it waited`;
      target = this.model.best;
    } else {
      return true;
    }
    const drop = (reason: string): false => {
      this.log(`dropped the prepared proposal "${p.proposal.description}" for #${parent.id}: ${why}; ${reason}`, 'warn');
      return false;
    };
    if (!target?.commit) return drop('there is no kept node to move it to');
    if (!p.files) return drop('its edit could not be read back');
    if (this.model.childrenOf(target.id).some((c) => c.editKey === p.proposal.editKey) || this.pendingKeys.get(target.id)?.has(p.proposal.editKey)) return drop(`#${target.id} already has this edit`);
    const merged: Record<string, string | Buffer | null> = {};
    for (const [path, theirs] of Object.entries(p.files)) {
      const base = await this.lab.show(parent.commit!, path);
      const ours = await this.lab.show(target.commit, path);
      if (base === ours) merged[path] = theirs;
      else if (theirs === null || base === null || ours === null) return drop(`${path} differs on #${target.id}`);
      else {
        const m = merge3(ours, base, theirs.toString());
        if (m === null) return drop(`its edit of ${path} conflicts with #${target.id}'s code`);
        merged[path] = m;
      }
    }
    this.log(`re-targeted the prepared proposal "${p.proposal.description}" from #${parent.id} to #${target.id}: ${why}`);
    p.files = merged;
    p.retargetedFrom = { id: parent.id, why };
    p.choice = { ...p.choice, parent: target, reason: `${p.choice.reason}; re-targeted to #${target.id} because ${why}` };
    return true;
  }

  /** Puts a proposal's edit in the slot's worktree, commits and journals it, guards its scope, and runs it. */
  private async materialize(p: Prepared, slot: Slot): Promise<void> {
    if (!(await this.retarget(p))) return;
    const { parent } = p.choice;
    let failure: string | null = null;
    let changed: string[] = [];
    try {
      if (p.worktree !== slot.worktree || p.retargetedFrom) {
        await this.checkout(slot.worktree, parent.commit!);
        if (p.files) for (const [path, content] of Object.entries(p.files)) writeOrDelete(join(slot.worktree, path), content);
      } else if (p.proposal.files) {
        for (const [path, content] of Object.entries(p.proposal.files)) writeOrDelete(join(slot.worktree, path), content);
      }
      changed = await this.lab.dirtyPaths(slot.worktree);
      if (changed.length === 0) {
        if (p.retargetedFrom) {
          this.log(`dropped the prepared proposal "${p.proposal.description}": #${parent.id} already has its edit`);
          return;
        }
        failure = 'the proposal changed nothing';
      }
    } catch (e) {
      failure = `the proposal could not be applied: ${(e as Error).message}`;
    }
    const node = await this.commitNode({ choice: p.choice, hint: p.reservation.hint, proposal: p.proposal, info: p.proposal.proposer, editKey: p.proposal.editKey, changed, worktree: slot.worktree, failure, reservation: p.reservation });
    if (!node || failure) return;
    this.failuresInARow = 0;
    const violations = checkScope(changed, this.config.editable, this.config.readonly);
    if (violations.length) {
      this.decide(node, invalidScope(violations));
      return;
    }
    await this.runNode(node, slot);
  }

  /** Journals a node for a proposal (committed in `worktree`), or an invalid one for a failure. */
  private async commitNode(a: {
    choice: Choice; hint: Hint | null; proposal: Proposal | null; info: Proposal['proposer']; editKey: string | null; changed: string[];
    worktree: string | null; failure: string | null; reservation: Reservation;
  }): Promise<ExperimentNode | null> {
    const { parent, operator } = a.choice;
    const description = a.proposal?.description ?? `failed proposal (${operator} #${parent.id})`;
    let commit: string | null = null;
    // Parallel slots take ids one at a time, from reading nextId to journaling the node, or two would commit the same #id.
    const unlock = await this.lockNodeIds();
    let id: number;
    try {
      id = this.model.nextId;
      if (!a.failure && a.worktree) {
        commit = await this.lab.commitAll(a.worktree, `autoresearch(${this.config.tag}) #${id}: ${description}\n\n${a.proposal!.plan}\n\nAutoResearch-Node: ${id}\nAutoResearch-Parent: ${parent.id}\nAutoResearch-Operator: ${operator}`);
        await this.lab.setRef(nodeRef(this.config.tag, id), commit);
      }
      const created: NodeCreated = {
        id, parentId: parent.id, operator, commit, description, plan: a.proposal?.plan ?? '', editKey: a.editKey ?? `failed:${id}`,
        changedFiles: a.changed, policyReason: a.choice.reason, proposer: a.info, hint: a.hint?.text ?? null, createdAt: new Date().toISOString(),
      };
      this.append({ type: 'node', node: created });
    } finally {
      this.releaseOp(a.reservation);
      unlock();
    }
    const node = this.model.get(id)!;
    this.emit({ type: 'node-added', node });
    if (a.failure) {
      this.decide(node, { status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason: a.failure });
      // A proposer that fails every time (a missing folder, a model that is down) must not burn the session.
      if (++this.failuresInARow >= MAX_PROPOSAL_FAILURES) {
        this.failReason = `the proposer failed ${MAX_PROPOSAL_FAILURES} times in a row; last: ${a.failure}`;
        this.stop();
      }
    }
    return node;
  }

  private async runRerun(id: number, slot: Slot): Promise<void> {
    const original = this.model.get(id);
    if (!original?.commit) return;
    this.inFlight++;
    try {
      const node = await this.createRerunNode(original, (newId) => `rerun:${newId}`, `re-run of #${id} (noise check)`,
        `Run #${id}'s exact code again to see how far the metric moves by noise alone.`, 'a person asked for a noise check');
      await this.checkout(slot.worktree, original.commit);
      await this.runNode(node, slot);
    } finally {
      this.inFlight--;
      this.poke();
    }
  }

  /** Runs a node in a slot; with `handle`, watches the run a previous controller started instead (recovery). */
  private async runNode(node: ExperimentNode, slot: Slot, handle?: string): Promise<void> {
    const logPath = join(this.paths.logs, `${node.id}.log`);
    const before = await this.protection.beforeRun(slot.worktree);
    this.results.remember();
    const startedAt = new Date();
    const abort = new AbortController();
    slot.abort = abort;
    let lastLine = '';
    let lastEmit = 0;
    const request: RunRequest = {
      nodeId: node.id, tag: this.config.tag, cwd: slot.worktree, command: this.config.run, budgetSeconds: this.config.budgetSeconds,
      graceSeconds: this.config.graceSeconds, slot: slot.index, logPath, signal: abort.signal, env: this.slotEnv(slot.index),
      sandbox: before.sandbox,
      onOutput: (chunk) => {
        const lines = chunk.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
        if (lines.length) lastLine = lines[lines.length - 1]!;
        const now = Date.now();
        if (now - lastEmit > 250) {
          lastEmit = now;
          this.emit({ type: 'run-progress', nodeId: node.id, elapsedMs: now - startedAt.getTime(), budgetMs: this.config.budgetSeconds * 1000, line: lastLine });
        }
      },
    };
    const executor = this.options.executor;
    const running = handle !== undefined && executor.reattach ? executor.reattach(request, handle) : executor.start(request);
    slot.running = running;
    const early = this.earlyRecords.get(node.id);
    if (early) {
      this.earlyRecords.delete(node.id);
      queueMicrotask(() => this.applyCommands([early]));
    }
    // The pid (or a cluster job's id, once submitted) goes into the journal so a resumed controller can end or find
    // a run its dead predecessor left behind. A reattached run keeps the start record it has.
    if (running.submitted) await running.submitted;
    if (handle === undefined) this.append({ type: 'start', id: node.id, slot: slot.index, startedAt: startedAt.toISOString(), logPath, pid: running.pid, ...(running.handle ? { handle: running.handle } : {}) });
    this.emit({ type: 'run-started', node, slot: slot.index, budgetSeconds: this.config.budgetSeconds });
    let run: RunResult;
    try {
      run = await running.result;
    } finally {
      slot.running = null;
      slot.abort = null;
      running.dispose();
    }
    // A stopped run is not a result: it runs again when the session resumes.
    if (this.stopping) return;
    this.append({ type: 'finish', id: node.id, run, finishedAt: new Date().toISOString() });
    this.emit({ type: 'run-finished', node });

    const invalid = await this.protection.afterRun(before, node.commit!, node.id, () => readTail(logPath, 256 * 1024));
    if (invalid) {
      this.decide(node, { status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason: invalid });
      return;
    }
    const records: string[] = [];
    if (this.journal.tampered()) {
      this.journal.restore();
      records.push('the session journal');
    }
    if (this.results.changed()) {
      this.rewriteResults();
      records.push('results.tsv');
    }
    if (records.length) {
      this.decide(node, { status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason: `the run modified ${records.join(' and ')} (restored)` });
      return;
    }
    await this.settle(node, await this.judgeRun(node, run), slot);
  }

  /** `gpus: [...]`: slot i sees only gpus[i % length]. */
  private slotEnv(slot: number): Record<string, string> | undefined {
    const gpus = this.config.gpus;
    return gpus.length ? { CUDA_VISIBLE_DEVICES: gpus[slot % gpus.length]! } : undefined;
  }

  private async judgeRun(node: ExperimentNode, run: RunResult): Promise<Judgement> {
    const parent = node.parentId === null ? undefined : this.model.get(node.parentId);
    const measured = node.id === 0 || node.operator === 'rerun';
    const log = readTail(run.logPath, LOG_TAIL_BYTES);
    const j = judge({
      log, run, config: this.config,
      parentMetric: parent?.metric ?? null, isBaseline: node.id === 0, band: this.model.noiseBand(),
      netLines: measured || !parent?.commit || !node.commit ? null : await this.netLines(parent.commit, node.commit),
    });
    if (j.status !== 'crash') return j;
    const slot = node.slot === null ? undefined : this.slots[node.slot];
    const hint = slot && explainCrash(j.logTail ?? log.slice(-8192), {
      worktree: slot.worktree, root: this.lab.root, run: this.config.run, shared: this.config.shared ?? null, leftOut: this.protection.shared.plan.leftOut,
    });
    if (hint) {
      this.advised.add(node.id);
      return { ...j, reason: `${j.reason}: ${hint}` };
    }
    const error = lastError(j.logTail ?? log.slice(-8192));
    if (error && !j.reason.includes('out of memory')) return { ...j, reason: `${j.reason} (${error})` };
    const missing = j.reason.startsWith('no `') ? metricSuggestion(log, this.config.metric.name) : null;
    if (missing) {
      if (node.id === 0) this.advised.add(node.id);
      return { ...j, reason: `${j.reason}; ${missing}` };
    }
    if (node.id === 0 && run.timedOut) {
      this.advised.add(node.id);
      return { ...j, reason: `${j.reason}: the baseline must finish within the budget; raise \`budget\` in autoresearch.config.yaml, or have the script stop in time (it is told AUTORESEARCH_BUDGET_SECONDS)` };
    }
    return j;
  }

  /** Lines added minus lines removed from `from` to `to` (binary files count as none). */
  private async netLines(from: string, to: string): Promise<number | null> {
    try {
      const out = await this.lab.raw(['diff', '--numstat', from, to]);
      let net = 0;
      for (const line of out.split('\n')) {
        const m = /^(\d+)\t(\d+)\t/.exec(line);
        if (m) net += Number(m[1]) - Number(m[2]);
      }
      return net;
    } catch {
      return null;
    }
  }

  /**
   * Decides a judged node. With `noise.confirm`, a candidate new best is first run once more (a confirmation
   * node, journaled like any run) and kept only if the mean of both runs still beats its parent by more than the
   * threshold; the mean becomes its metric. A controller killed on the way settles it again on resume.
   */
  private async settle(node: ExperimentNode, j: Judgement, slot: Slot): Promise<void> {
    if (!this.needsConfirmation(node, j)) {
      this.decide(node, j);
      return;
    }
    const key = `confirm:${node.id}`;
    let check = this.model.childrenOf(node.id).find((c) => c.editKey === key);
    check ??= await this.createRerunNode(node, key, `confirmation run of #${node.id}`, `Run #${node.id}'s exact code again: a new best is kept only if it holds up.`, `noise: {confirm: true}: #${node.id} would be a new best`);
    if (check.decidedBy === null) {
      await this.checkout(slot.worktree, node.commit!);
      await this.runNode(check, slot);
      if (this.stopping || check.decidedBy === null) return;
    }
    this.decide(node, this.confirmed(node, j, check));
  }

  private needsConfirmation(node: ExperimentNode, j: Judgement): boolean {
    if (!this.config.noise?.confirm || j.status !== 'keep' || j.simplification || node.id === 0 || node.operator === 'rerun' || j.metric === null) return false;
    const parent = node.parentId === null ? undefined : this.model.get(node.parentId);
    if (parent?.metric === null || parent?.metric === undefined) return false;
    const best = this.model.best;
    return !best || this.model.better(j.metric, best.metric!);
  }

  private confirmed(node: ExperimentNode, j: Judgement, check: ExperimentNode): Judgement {
    const name = this.config.metric.name;
    const parent = this.model.get(node.parentId!)!;
    const band = this.model.noiseBand();
    const margin = thresholdText(band, this.config.minDelta);
    if (check.metric === null || !Number.isFinite(check.metric) || check.status === 'crash' || check.status === 'invalid') {
      return { ...j, status: 'discard', reason: `did not hold up: its confirmation run #${check.id} ${check.status === 'crash' ? 'crashed' : 'was invalid'} (${check.reason}); first run ${name} ${fmtNum(j.metric)}` };
    }
    const mean = (j.metric! + check.metric) / 2;
    const gain = improvement(parent.metric!, mean, this.config.metric.direction);
    const threshold = band?.spread != null ? band.threshold : this.config.minDelta;
    const runs = `runs ${fmtNum(j.metric)} and ${fmtNum(check.metric)} (#${check.id}), mean ${fmtNum(mean)}`;
    if (gain - threshold > 1e-12 * Math.max(1, Math.abs(parent.metric!))) {
      return { ...j, metric: mean, reason: `confirmed: ${runs} beats parent ${fmtNum(parent.metric)} by ${fmtNum(gain)}, more than the ${margin}; ${name} recorded as the mean` };
    }
    return { ...j, metric: mean, status: 'discard', reason: `did not hold up: ${runs} beats parent ${fmtNum(parent.metric)} by ${fmtNum(gain)}, not more than the ${margin}` };
  }

  private decide(node: ExperimentNode, j: Judgement): void {
    let verdict = j;
    // A re-run measures noise; it never competes with the node it repeats.
    if (node.operator === 'rerun' && j.status === 'keep') {
      verdict = isMeasurement(node)
        ? { ...j, status: 'discard', reason: `${node.description}: ${this.config.metric.name} ${fmtNum(j.metric)}` }
        : { ...j, status: 'discard', reason: `noise check of #${node.parentId}: ${j.reason}` };
    } else if (node.operator === 'rerun' && j.status === 'discard' && isMeasurement(node)) {
      verdict = { ...j, reason: `${node.description}: ${this.config.metric.name} ${fmtNum(j.metric)}` };
    }
    this.append({ type: 'decide', id: node.id, status: verdict.status, metric: verdict.metric, memoryGb: verdict.memoryGb, secondary: verdict.secondary, reason: verdict.reason, decidedBy: 'rule', logTail: verdict.logTail });
    this.appendResultsRow(node);
    const line = experimentLine(this.config.tag, this.config.metric.name, node);
    this.emit({ type: 'node-updated', node });
    this.emit({ type: 'experiment', line, node });
    void this.updateBranch();
    if (node.id !== 0 && this.model.decidedCount > 0 && this.model.decidedCount % 10 === 0) this.emit({ type: 'report', text: this.progressReport() });
    this.poke();
  }

  private progressReport(): string {
    const base = this.model.baseline;
    const best = this.model.best;
    // From the end: a report every ten experiments must not walk a 10,000-node session.
    const last: ExperimentNode[] = [];
    for (let i = this.model.nodes.length - 1; i > 0 && last.length < 5; i--) {
      const n = this.model.nodes[i];
      if (n && n.decidedBy !== null) last.unshift(n);
    }
    const dir = this.config.metric.direction === 'minimize' ? 'lower is better' : 'higher is better';
    return [
      `Progress after ${this.model.decidedCount} experiments: best ${fmtNum(best?.metric)} (#${best?.id}) vs baseline ${fmtNum(base?.metric)}, ${dir}.`,
      `Last five: ${last.map((n) => `#${n.id} ${n.status} ${fmtNum(n.metric)} ${n.description}`).join('; ')}.`,
      `Direction: ${best && best.id !== 0 ? `building on #${best.id} (${best.description})` : 'still looking for a first improvement'}.`,
    ].join('\n');
  }

  /** Moves the session branch to the best, one git call at a time and in order; finish() waits for the last. */
  private updateBranch(): Promise<void> {
    const best = this.model.best;
    // Most decisions do not change the best: no git call for them.
    if (!best?.commit || best.commit === this.branchCommit) return this.branchUpdate;
    const commit = best.commit;
    this.branchCommit = commit;
    this.branchUpdate = this.branchUpdate.then(() => this.lab.setBranch(sessionBranch(this.config.tag), commit))
      .catch((e: Error) => this.log(`could not move the session branch: ${e.message}`, 'warn'));
    return this.branchUpdate;
  }

  private readNotes(): string | null {
    if (!this.config.notes) return null;
    const p = join(this.lab.root, this.config.notes);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  // ---- derived files -----------------------------------------------------------------------

  private decidedNodes(): ExperimentNode[] {
    return this.model.nodes.filter((n) => n && n.decidedBy !== null);
  }

  private rewriteResults(): void {
    writeFileSync(this.paths.results, formatResults(this.config.metric.name, this.decidedNodes()));
    this.results.remember();
  }

  private appendResultsRow(node: ExperimentNode): void {
    if (this.results.changed() || !existsSync(this.paths.results)) {
      this.rewriteResults();
      return;
    }
    appendFileSync(this.paths.results, existsSync(this.paths.results) ? resultsRow(node) : resultsHeader(this.config.metric.name) + resultsRow(node));
    this.results.remember();
  }

  writeSummary(): string {
    const text = buildSummary(this.model);
    writeFileSync(this.paths.summary, text);
    return this.paths.summary;
  }
}

/**
 * Ends the process group of a run whose controller died, if it is still alive. The group is only
 * killed when its leader's environment names this very node, so a reused pid is never touched.
 */
function killOrphan(model: SessionModel, id: number, tag: string): void {
  const pid = model.lastStart.get(id)?.pid;
  if (!pid) return;
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    if (!env.includes(`AUTORESEARCH_TAG=${tag}`) || !env.includes(`AUTORESEARCH_NODE=${id}`)) return;
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already, or not Linux: nothing to end.
  }
}

/**
 * The handle of a cluster job that a controller which died (not one that was stopped) left running or finished.
 * A stopped run is not a result: it runs again, and the executor makes sure its old job is not run twice.
 */
function leftBehind(model: SessionModel, id: number): string | undefined {
  const start = model.lastStart.get(id);
  if (!start?.handle) return undefined;
  return model.lastStopSeq > start.seq ? undefined : start.handle;
}

/** A confirmation run whose candidate is still undecided: settling the candidate runs it. */
function isOrphanConfirmation(model: SessionModel, n: ExperimentNode): boolean {
  if (n.operator !== 'rerun' || !n.editKey.startsWith('confirm:') || n.parentId === null) return false;
  return model.get(n.parentId)?.decidedBy === null;
}

function decrement<K>(map: Map<K, number>, key: K): void {
  const left = (map.get(key) ?? 1) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}

/** `git merge-file`: `theirs`' change from `base` applied onto `ours`; null on a conflict. */
function merge3(ours: string, base: string, theirs: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'ar-merge-'));
  try {
    const [o, b, t] = ['ours', 'base', 'theirs'].map((n) => join(dir, n)) as [string, string, string];
    writeFileSync(o, ours);
    writeFileSync(b, base);
    writeFileSync(t, theirs);
    const r = spawnSync('git', ['merge-file', '-p', '-q', o, b, t], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function requireDecided(model: SessionModel, id: number): ExperimentNode {
  const n = model.get(id);
  if (!n) throw new Error(`There is no experiment #${id}.`);
  if (n.decidedBy === null) throw new Error(`#${id} has not been decided yet; wait for its run to finish.`);
  return n;
}

/** Shared by the running controller and the offline CLI: a human decision, journaled like any other. */
export function applyOverride(append: (e: JournalEntry) => void, id: number, status: 'keep' | 'discard', reason: string): void {
  append({ type: 'decide', id, status, metric: null, memoryGb: null, secondary: {}, reason: reason || `${status === 'keep' ? 'kept' : 'discarded'} by a person`, decidedBy: 'human' });
}

function invalidScope(v: ReturnType<typeof checkScope>): Judgement {
  return { status: 'invalid', metric: null, memoryGb: null, secondary: {}, reason: `the proposal touched files outside its scope: ${describeViolations(v)}; it was not run` };
}

function writeOrDelete(path: string, content: string | Buffer | null): void {
  if (content === null) rmSync(path, { force: true });
  else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}


