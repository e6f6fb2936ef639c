// The extension's entry: one root object owns everything it creates and is disposed with the extension.
// The engine (src/core) does the research; this host shows it and steers it.
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE } from '../core/config.js';
import { DisposableBase } from '../core/lifecycle.js';
import { fmtNum } from '../shared/format.js';
import type { AutoResearchApi } from './api.js';
import { SecondClock } from './clock.js';
import { CommandHandlers } from './commands.js';
import { Commands, ContextKeys, OUTPUT_CHANNEL, Settings, Views } from './constants.js';
import { NodeDiffs } from './diff/nodeDiffs.js';
import { ErrorReporter } from './errors.js';
import { NodeFileSystem } from './nodeFs/nodeFileSystem.js';
import { pauseWhenBlocked } from './lm/blocked.js';
import { chooseLanguageModel, registerLanguageModelProposer } from './lm/register.js';
import { ProtectedFiles } from './protectedFiles.js';
import { registerResultsSerializer, type ResultsPanelDeps } from './results/resultsPanel.js';
import { ApiKeys } from './secrets.js';
import { InterruptionStore } from './session/interruptions.js';
import { ACTIVE_PHASES, SessionService, type Finished } from './session/sessionService.js';
import { StatusBar } from './statusBar.js';
import { ExperimentsView } from './tree/experimentsView.js';

class AutoResearch extends DisposableBase {
  readonly api: AutoResearchApi;
  readonly apiKeys: ApiKeys;
  private readonly session: SessionService;
  private readonly commands: CommandHandlers;
  private readonly errors: ErrorReporter;
  private lastContext = '';
  private progressShown = false;
  private lastConfigError: string | undefined;

  constructor(context: vscode.ExtensionContext) {
    super();
    const log = this._register(vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true }));
    const interruptions = new InterruptionStore(join(context.globalStorageUri.fsPath, 'interrupted-sessions.json'));
    this.session = this._register(new SessionService(log, interruptions));
    this._register(NodeFileSystem.register());
    this.errors = this._register(new ErrorReporter(log));
    const clock = this._register(new SecondClock());
    const experiments = this._register(new ExperimentsView(this.session, clock));
    const statusBar = this._register(new StatusBar(this.session, clock));
    const protectedFiles = this._register(new ProtectedFiles(this.session, context.workspaceState));
    const results: ResultsPanelDeps = {
      extensionUri: context.extensionUri,
      getModel: () => this.session.model,
      onEvent: (listener) => this.session.onEngineEvent(listener),
      onDidChange: (listener) => this.session.onDidChange(listener),
      openDiff: (id) => vscode.commands.executeCommand(Commands.openNodeDiff, id),
      // The panel and the Experiments view share one selection, both ways.
      select: (id) => (id === null ? undefined : experiments.view.reveal(experiments.element(id), { select: true, focus: false })),
      onDidSelect: (listener) => experiments.view.onDidChangeSelection((e) => listener(e.selection[0]?.id ?? null)),
    };
    // A results panel left open comes back after a reload.
    this._register(registerResultsSerializer(results));
    this.commands = this._register(new CommandHandlers({ session: this.session, diffs: new NodeDiffs(this.session), errors: this.errors, protectedFiles, experiments, log, results, context }));
    // The vscode-lm proposer and API keys from secret storage. A model that needs the person pauses the session.
    this._register(registerLanguageModelProposer(context, {
      log: (m) => log.info(m),
      onBlocked: pauseWhenBlocked(this.session, { tell: (message) => void this.tellBlocked(context, message) }),
    }));
    this.apiKeys = new ApiKeys(context.secrets);
    this.api = { session: this.session, experiments, statusBar, protectedFiles };

    this._register(this.session.onDidChange(() => this.onSessionChanged()));
    this._register(this.session.onDidFinish((f) => void this.onFinished(f)));
    this._register(vscode.workspace.onDidSaveTextDocument((doc) => {
      if (basename(doc.uri.fsPath) === CONFIG_FILE) void this.session.refresh();
    }));
    void this.session.refresh().then(() => this.offerResume(), (e: unknown) => log.error(`looking for a session: ${String(e)}`));
  }

  private onSessionChanged(): void {
    const s = this.session;
    const model = s.model;
    const phase = s.phase;
    const active = ACTIVE_PHASES.has(phase);
    const keys: [string, unknown][] = [
      [ContextKeys.phase, phase],
      [ContextKeys.owner, s.owner],
      [ContextKeys.hasSession, model !== undefined],
      [ContextKeys.hasConfig, s.location?.hasConfig ?? false],
      [ContextKeys.canStart, !active],
      [ContextKeys.canStop, active && phase !== 'stopping'],
      [ContextKeys.canPause, phase === 'running'],
      [ContextKeys.canResume, phase === 'paused' || phase === 'stopped' || phase === 'interrupted'],
      [ContextKeys.hasBest, !!model?.best && model.best.id !== 0],
      [ContextKeys.waitingForResult, !!model?.nodes.some((n) => n && s.isWaitingForResult(n))],
    ];
    const stamp = JSON.stringify(keys);
    if (stamp !== this.lastContext) {
      this.lastContext = stamp;
      for (const [key, value] of keys) void vscode.commands.executeCommand('setContext', key, value);
    }
    // A progress bar on the view for as long as a session runs.
    if (active && !this.progressShown) {
      this.progressShown = true;
      void vscode.window.withProgress({ location: { viewId: Views.experiments } }, () => s.waitFor((p) => !ACTIVE_PHASES.has(p), 0))
        .then(() => { this.progressShown = false; }, () => { this.progressShown = false; });
    }
    const loc = s.location;
    const configError = loc?.configError?.message;
    if (loc && configError !== this.lastConfigError) {
      this.lastConfigError = configError;
      void this.errors.showConfigIssues(loc.configDir, loc.configError);
    }
  }

  /** A session this window ran has ended: say how it went and open its summary. */
  private async onFinished(f: Finished): Promise<void> {
    const { outcome } = f;
    const model = outcome.model;
    const cfg = model.config;
    if (vscode.workspace.getConfiguration().get<boolean>(Settings.openSummaryOnFinish, true)) {
      await this.commands.showSummary().catch(() => undefined);
    }
    const base = model.baseline;
    const best = outcome.best;
    const result = cfg && base?.metric != null && best?.metric != null
      ? ` ${cfg.metric.name}: ${fmtNum(base.metric)} → ${fmtNum(best.metric)}${best.id === 0 ? ' (nothing beat the baseline)' : ` (#${best.id} ${best.description})`}.`
      : '';
    if (outcome.state === 'failed') {
      const openLog = 'Open Run Log';
      const showLog = 'Show Log';
      const failedNode = [...model.nodes].reverse().find((n) => n && (n.status === 'crash' || n.status === 'invalid') && n.logPath);
      const choice = await vscode.window.showErrorMessage(`AutoResearch "${model.tag}" failed: ${outcome.reason}`, ...(failedNode ? [openLog] : []), showLog);
      if (choice === openLog && failedNode) await vscode.commands.executeCommand(Commands.openNodeLog, failedNode.id);
      else if (choice === showLog) await vscode.commands.executeCommand(Commands.showLog);
      return;
    }
    if (outcome.state === 'stopped') {
      const resume = 'Resume';
      const choice = await vscode.window.showInformationMessage(`AutoResearch "${model.tag}" stopped after ${model.decidedCount} experiments.${result} Resume it any time.`, resume);
      if (choice === resume) await vscode.commands.executeCommand(Commands.resume);
      return;
    }
    const apply = 'Apply Best…';
    const results = 'Show Results';
    const actions = best && best.id !== 0 ? [apply, results] : [results];
    const choice = await vscode.window.showInformationMessage(`AutoResearch "${model.tag}" finished: ${outcome.reason}.${result}`, ...actions);
    if (choice === apply) await vscode.commands.executeCommand(Commands.applyBest);
    else if (choice === results) await vscode.commands.executeCommand(Commands.showResults);
  }

  private async tellBlocked(context: vscode.ExtensionContext, message: string): Promise<void> {
    const resume = 'Resume';
    const choose = 'Choose Language Model';
    const choice = await vscode.window.showWarningMessage(message, resume, choose);
    if (choice === choose && !(await chooseLanguageModel(context))) return;
    if (choice) await vscode.commands.executeCommand(Commands.resume);
  }

  /** After a reload or a crash: the session that was running here is interrupted; offer to pick it up. */
  private async offerResume(): Promise<void> {
    const s = this.session;
    if (s.phase !== 'interrupted') return;
    const model = s.model!;
    const resume = 'Resume';
    const summary = 'Show Summary';
    const choice = await vscode.window.showInformationMessage(
      `The AutoResearch session "${model.tag}" was interrupted (${model.decidedCount} of ${model.config?.maxExperiments ?? 'unlimited'} experiments done). Resume where it stopped?`,
      resume, summary,
    );
    if (choice === resume) await vscode.commands.executeCommand(Commands.resume);
    else if (choice === summary) await vscode.commands.executeCommand(Commands.showSummary);
  }

  async shutdown(): Promise<void> {
    await this.session.shutdown();
  }
}

let instance: AutoResearch | undefined;

export function activate(context: vscode.ExtensionContext): AutoResearchApi {
  instance = new AutoResearch(context);
  context.subscriptions.push(instance);
  return instance.api;
}

/** Stops this window's run cleanly before the host goes (reload, close); the next window offers Resume. */
export async function deactivate(): Promise<void> {
  await instance?.shutdown();
  instance = undefined;
}
