// The one place that knows where the session is and who runs it:
//   here       a Controller in this extension host (started from this window);
//   elsewhere  another process holds the session's lock (the CLI, a window being reloaded): the journal is
//              followed and commands go through the session's inbox;
//   none       nobody runs it: the journal is read as is, and a session left running by a dead process is
//              shown as interrupted, with Resume.
// Everything else in the extension renders what this exposes and calls its methods.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE, ConfigError, loadConfig } from '../../core/config.js';
import type { Controller, ControllerEvent, Outcome } from '../../core/controller.js';
import { AutoResearchError } from '../../core/errors.js';
import { repositoryRoot } from '../../core/git.js';
import { DisposableBase } from '../../core/lifecycle.js';
import type { SessionModel } from '../../core/model.js';
import { sendCommand, type CommandOutcome } from '../../core/offline.js';
import { openSession, type OpenedSession } from '../../core/openSession.js';
import { readLock, sessionPaths, type InboxCommand, type LockInfo, type SessionPaths } from '../../core/record/store.js';
import { buildSummary } from '../../core/report/summary.js';
import type { ExperimentNode, ResearchConfig } from '../../core/types.js';
import { discover, locate, type SessionLocation } from './discovery.js';
import type { InterruptionStore } from './interruptions.js';
import { JournalFollower } from './journalFollower.js';

export type Phase = 'none' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'done' | 'failed' | 'interrupted';
export type Owner = 'here' | 'elsewhere' | 'none';

export const ACTIVE_PHASES: ReadonlySet<Phase> = new Set(['starting', 'running', 'paused', 'stopping']);

export interface Finished {
  outcome: Outcome;
  /** True when a person pressed Stop (not a window closing). */
  byUser: boolean;
  paths: SessionPaths;
}

export class SessionBusyHereError extends AutoResearchError {
  constructor(message: string) {
    super('busy', message);
    this.name = 'SessionBusyHereError';
  }
}

class LiveRun {
  opened = false;
  userStopped = false;
  shuttingDown = false;
  readonly lines = new Map<number, string>();
  result!: Promise<Outcome>;
  /** Resolves once the run is over and cleaned up (after its last state event). */
  readonly ended: Promise<void>;
  markEnded!: () => void;
  readonly controller: Controller;
  readonly config: ResearchConfig;
  constructor(
    /** The controller with the proposer and executor it runs: disposing it ends all three. */
    readonly session: OpenedSession,
    readonly location: SessionLocation,
  ) {
    this.controller = session.controller;
    this.config = session.config;
    this.ended = new Promise((r) => { this.markEnded = r; });
  }
}

export class SessionService extends DisposableBase {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  /** Nodes, phase or location changed. Cheap to fire; listeners coalesce. */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidFinish = this._register(new vscode.EventEmitter<Finished>());
  /** A session this window ran has ended (done, stopped by the user, or failed). */
  readonly onDidFinish = this._onDidFinish.event;
  private readonly _onEngineEvent = this._register(new vscode.EventEmitter<ControllerEvent>());
  /** Every event of the controller this window runs, run-progress included (the results view's live clock and line). */
  readonly onEngineEvent = this._onEngineEvent.event;

  private _location: SessionLocation | undefined;
  private live: LiveRun | undefined;
  private follower: JournalFollower | undefined;
  private _phase: Phase = 'none';
  private _owner: Owner = 'none';
  private holder: LockInfo | null = null;
  private pollTimer: NodeJS.Timeout | undefined;
  private configStamp = '';
  private discovering: Promise<void> | undefined;
  private readonly tailCache = new Map<number, { at: number; line: string }>();
  private disposed = false;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly interruptions: InterruptionStore,
  ) {
    super();
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()));
    this._register({ dispose: () => { this.disposed = true; if (this.pollTimer) clearTimeout(this.pollTimer); } });
  }

  // ---- what the UI reads ------------------------------------------------------------------------

  get location(): SessionLocation | undefined {
    return this._location;
  }

  get phase(): Phase {
    return this._phase;
  }

  get owner(): Owner {
    return this._owner;
  }

  get lockHolder(): LockInfo | null {
    return this.holder;
  }

  get tag(): string | undefined {
    return this.live?.config.tag ?? this._location?.tag;
  }

  /** Where the engine keeps this session's files; undefined when there is no session tag. */
  get paths(): SessionPaths | undefined {
    const tag = this.tag;
    return tag && this._location ? sessionPaths(this._location.repoRoot, tag) : undefined;
  }

  /** The session's model, live or replayed from the journal; undefined when there is no session yet. */
  get model(): SessionModel | undefined {
    if (this.live?.opened) return this.live.controller.model;
    return this.follower?.exists ? this.follower.model : undefined;
  }

  /** The study's protocol: as the session recorded it, else as the config file says. */
  get config(): ResearchConfig | undefined {
    return this.live?.config ?? this.model?.config ?? this._location?.config;
  }

  get isActive(): boolean {
    return ACTIVE_PHASES.has(this._phase);
  }

  get hasSession(): boolean {
    return this.model !== undefined;
  }

  /** The last line a running experiment printed: from the controller's events, or the log file's tail. */
  latestLine(node: ExperimentNode): string {
    const fromEvents = this.live?.lines.get(node.id);
    if (fromEvents !== undefined) return fromEvents;
    if (!node.logPath) return '';
    const cached = this.tailCache.get(node.id);
    if (cached && Date.now() - cached.at < 900) return cached.line;
    const line = lastLine(node.logPath);
    this.tailCache.set(node.id, { at: Date.now(), line });
    return line;
  }

  /** Whether this window's controller is waiting for a person to record node `id`'s result (manual executor). */
  isWaitingForResult(node: ExperimentNode): boolean {
    return this.config?.executor.kind === 'manual' && node.status === 'running';
  }

  // ---- finding the session --------------------------------------------------------------------

  /** Looks for the study again (folders changed, config edited). Never while this window runs one. */
  refresh(folder?: string): Promise<void> {
    if (this.live) {
      // The running session keeps its protocol; an edited config file is still checked, for its diagnostics.
      if (this._location?.hasConfig) this._location = { ...this._location, configError: configProblem(this._location.configDir) };
      this.fire();
      return Promise.resolve();
    }
    const next = (this.discovering ?? Promise.resolve()).then(() => this.doRefresh(folder));
    this.discovering = next.finally(() => { if (this.discovering === next) this.discovering = undefined; });
    return next;
  }

  private async doRefresh(folder?: string): Promise<void> {
    if (this.disposed || this.live) return;
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    // A folder given explicitly (Start on a folder) wins; otherwise keep showing the same one if it is still there.
    const pinned = folder ?? (this._location && !folders.includes(this._location.configDir) ? this._location.configDir : undefined);
    const loc = pinned ? await locate(pinned).catch(() => undefined) : await discover(folders);
    this._location = loc ?? (pinned ? await this.bareLocation(pinned) : undefined);
    this.configStamp = this.stampConfig();
    const journal = this.paths?.journal;
    if (journal !== this.follower?.path) {
      this.follower = journal ? new JournalFollower(journal) : undefined;
      this.tailCache.clear();
    }
    this.follower?.poll();
    this.updatePhase();
    this.fire();
    this.schedulePoll();
  }

  /** A folder with nothing in it yet (the wizard is about to write its config). */
  private async bareLocation(folder: string): Promise<SessionLocation | undefined> {
    const root = await repositoryRoot(folder);
    return { configDir: folder, repoRoot: root ?? folder, isGitRepo: root !== undefined, hasConfig: false, config: undefined, configError: undefined, tag: undefined };
  }

  private stampConfig(): string {
    const dir = this._location?.configDir;
    if (!dir) return '';
    try {
      const st = statSync(join(dir, CONFIG_FILE));
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return 'none';
    }
  }

  private schedulePoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.disposed || this.live) return;
    // Quick while another process runs the session (the tree follows it live), slow otherwise.
    const ms = this._owner === 'elsewhere' ? 400 : 1500;
    this.pollTimer = setTimeout(() => this.poll(), ms);
  }

  private poll(): void {
    this.pollTimer = undefined;
    if (this.disposed || this.live) return;
    if (this.stampConfig() !== this.configStamp) {
      void this.refresh();
      return;
    }
    const before = `${this._phase}/${this._owner}`;
    const { changed } = this.follower?.poll() ?? { changed: false };
    this.updatePhase();
    if (changed || before !== `${this._phase}/${this._owner}`) this.fire();
    this.schedulePoll();
  }

  /** The phase when nobody runs the session in this window. */
  private updatePhase(): void {
    if (this.live) return;
    const model = this.model;
    const paths = this.paths;
    if (!model || !paths) {
      this._phase = 'none';
      this._owner = 'none';
      this.holder = null;
      return;
    }
    this.holder = readLock(paths.lock);
    const state = model.state;
    if (this.holder) {
      this._owner = 'elsewhere';
      this._phase = state === 'done' || state === 'failed' || state === 'stopped' ? 'stopping' : state;
    } else {
      this._owner = 'none';
      if (state === 'done' || state === 'failed') this._phase = state;
      else if (state === 'stopped') this._phase = this.interruptions.isInterrupted(paths.journal) ? 'interrupted' : 'stopped';
      // Left running, paused or starting with nobody holding the lock: its process died.
      else this._phase = 'interrupted';
    }
  }

  private fire(): void {
    if (!this.disposed) this._onDidChange.fire();
  }

  // ---- running a session here -------------------------------------------------------------------

  /**
   * Starts (or resumes, when the journal exists) the session of the config in `folder` or the current
   * location. Resolves once the controller has opened the session (preflight passed, lock taken), with the
   * run going on in the background; rejects with the engine's error (ConfigError, PreflightError, ...).
   */
  async start(options: { folder?: string; maxExperiments?: number | null; asRecorded?: boolean } = {}): Promise<void> {
    // A run that just finished may still be cleaning up its worktrees.
    if (this.live && !ACTIVE_PHASES.has(this._phase)) await this.live.ended;
    if (this.live) throw new SessionBusyHereError(`The session "${this.live.config.tag}" is already running in this window.`);
    const recorded = options.asRecorded ? this.model?.config ?? undefined : undefined;
    await this.refresh(options.folder);
    const loc = this._location;
    if (!loc) throw new Error('Open a folder with a training script first.');
    const overrides = options.maxExperiments !== undefined ? { maxExperiments: options.maxExperiments } : undefined;
    const session = await openSession({
      root: loc.configDir,
      // Resume continues a session as it last ran (its recorded protocol); Start reads the config file.
      config: overrides ? undefined : recorded,
      overrides,
      busy: (holder, config) => new SessionBusyHereError(`The session "${config.tag}" is already running in another process (pid ${holder.pid} on ${holder.host}). Its progress shows here; Stop and Pause reach it.`),
    });
    const { config, controller } = session;
    const paths = sessionPaths(loc.repoRoot, config.tag);
    const live = new LiveRun(session, loc);
    this.live = live;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.interruptions.clear(paths.journal);
    this._owner = 'here';
    this._phase = 'starting';
    this.tailCache.clear();
    controller.onEvent((e) => this.onControllerEvent(live, e));
    this.fire();
    this.log.info(`starting session ${config.tag} in ${loc.configDir} (proposer ${config.proposer.kind}, policy ${config.policy}, budget ${config.budgetText}, max ${config.maxExperiments ?? 'unlimited'})`);

    let opened!: () => void;
    const whenOpened = new Promise<void>((r) => { opened = r; });
    const sub = controller.onEvent((e) => { if (e.type === 'state' && e.state === 'running') opened(); });
    live.result = controller.run();
    try {
      await Promise.race([whenOpened, live.result]);
    } catch (e) {
      sub.dispose();
      await this.endLive(live);
      throw e;
    }
    sub.dispose();
    void live.result.then(
      (outcome) => this.onLiveFinished(live, outcome),
      (e: unknown) => {
        this.log.error(`the session ended with an internal error: ${(e as Error).stack ?? String(e)}`);
        void this.endLive(live);
      },
    );
  }

  private onControllerEvent(live: LiveRun, e: ControllerEvent): void {
    this._onEngineEvent.fire(e);
    switch (e.type) {
      case 'state':
        if (e.state === 'running') live.opened = true;
        this._phase = e.state;
        this.log.info(`session ${live.config.tag}: ${e.state}${e.reason ? ` (${e.reason})` : ''}`);
        break;
      case 'run-started':
        live.lines.set(e.node.id, '');
        this.log.info(`running #${e.node.id} (${e.node.description}) in slot ${e.slot}, budget ${live.config.budgetText}`);
        break;
      case 'run-progress':
        live.lines.set(e.nodeId, e.line);
        return;
      case 'run-finished':
        live.lines.delete(e.node.id);
        break;
      case 'experiment':
        this.log.info(e.line);
        break;
      case 'report':
        for (const line of e.text.split('\n')) this.log.info(line);
        return;
      case 'log':
        this.log[e.level](e.message);
        return;
      default:
        break;
    }
    this.fire();
  }

  private async onLiveFinished(live: LiveRun, outcome: Outcome): Promise<void> {
    const paths = live.controller.paths;
    const byUser = live.userStopped;
    const closing = live.shuttingDown;
    await this.endLive(live);
    if (closing) return;
    this._onDidFinish.fire({ outcome, byUser, paths });
  }

  private async endLive(live: LiveRun): Promise<void> {
    if (this.live !== live) return;
    // The journal takes over from the controller's model at once: the tree never goes empty in between.
    const follower = new JournalFollower(live.controller.paths.journal);
    follower.poll();
    this.follower = follower;
    this.tailCache.clear();
    this.live = undefined;
    live.markEnded();
    try {
      live.session.dispose();
    } catch (e) {
      this.log.warn(`closing the session: ${(e as Error).message}`);
    }
    this.updatePhase();
    this.fire();
    await this.refresh(live.location.configDir);
  }

  // ---- steering -------------------------------------------------------------------------------------

  async stop(): Promise<void> {
    if (this.live) {
      this.live.userStopped = true;
      this.live.controller.stop();
      return;
    }
    await this.send({ type: 'stop' });
  }

  async pause(): Promise<void> {
    if (this.live) this.live.controller.pause();
    else await this.send({ type: 'pause' });
  }

  /** Resumes a paused session, or restarts a stopped or interrupted one from its journal. */
  async resume(): Promise<void> {
    if (this.live) {
      this.live.controller.resume();
      return;
    }
    if (this._owner === 'elsewhere') {
      await this.send({ type: 'resume' });
      return;
    }
    await this.start({ folder: this._location?.configDir, asRecorded: true });
  }

  /**
   * A person's command (hint, override, record, branch, re-run): to this window's controller, to the
   * inbox of the process that runs the session, or straight into the journal when nobody does.
   */
  async send(cmd: InboxCommand): Promise<CommandOutcome | { delivered: 'here' }> {
    if (this.live) {
      this.live.controller.command(cmd);
      return { delivered: 'here' };
    }
    const loc = this._location;
    const tag = this.tag;
    if (!loc || !tag) throw new Error('There is no AutoResearch session in this workspace yet.');
    const r = await sendCommand(loc.repoRoot, tag, cmd);
    if (r.delivered === 'applied') {
      this.follower?.poll();
      // The summary on disk reflects human decisions as soon as they are made.
      if (cmd.type === 'override' && this.paths && existsSync(this.paths.summary)) this.writeSummary();
      this.updatePhase();
      this.fire();
    }
    return r;
  }

  /** Writes autoresearch-summary.md from the current model and returns its path. */
  writeSummary(): string {
    if (this.live?.opened) return this.live.controller.writeSummary();
    const model = this.model;
    const paths = this.paths;
    if (!model || !paths || !model.config) throw new Error('There is no AutoResearch session to summarize yet.');
    writeFileSync(paths.summary, buildSummary(model));
    return paths.summary;
  }

  /** Resolves when the phase satisfies `test` (tests and flows that wait for the session). */
  waitFor(test: (phase: Phase) => boolean, timeoutMs = 120_000): Promise<Phase> {
    if (test(this._phase)) return Promise.resolve(this._phase);
    return new Promise((resolve, reject) => {
      // 0 waits as long as it takes.
      const timer = timeoutMs > 0 ? setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for the session (phase ${this._phase})`)); }, timeoutMs) : undefined;
      const sub = this.onDidChange(() => {
        if (!test(this._phase)) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(this._phase);
      });
    });
  }

  /**
   * The window is closing or reloading: stop this window's run cleanly (its experiment's process tree ends,
   * the journal says stopped) and remember that it was interrupted, so the next window offers Resume.
   */
  async shutdown(timeoutMs = 4000): Promise<void> {
    const live = this.live;
    if (!live) return;
    live.shuttingDown = true;
    // Marked first: the host may be gone before the stop ends, and what the stop journals after the mark
    // still counts as this interruption (only a resume or a restart after it does not).
    this.interruptions.mark(live.controller.paths.journal);
    live.controller.stop();
    await Promise.race([live.result.catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  override dispose(): void {
    if (this.live) {
      this.live.shuttingDown = true;
      try { this.live.session.dispose(); } catch { /* the host is going away */ }
      this.live = undefined;
    }
    super.dispose();
  }
}

function configProblem(dir: string): ConfigError | undefined {
  try {
    loadConfig(dir);
    return undefined;
  } catch (e) {
    return e instanceof ConfigError ? e : undefined;
  }
}

/** The last non-empty line of a file, reading only its end. */
function lastLine(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, 4096);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
    return lines[lines.length - 1] ?? '';
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
