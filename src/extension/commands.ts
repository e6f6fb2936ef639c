// Every command the extension contributes. Handlers are thin: they ask what they must, call the session,
// and say what happened. Errors surface through the ErrorReporter and never escape as rejections.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import * as vscode from 'vscode';
import { applyBest } from '../core/apply.js';
import { CONFIG_FILE } from '../core/config.js';
import { Lab } from '../core/git.js';
import { matchesAny } from '../core/glob.js';
import { DisposableBase } from '../core/lifecycle.js';
import { parseCapText, spendText } from '../core/spend.js';
import { fmtNum } from '../shared/format.js';
import type { InboxCommand } from '../core/record/store.js';
import type { ExperimentNode } from '../core/types.js';
import { confirmPick } from './confirm.js';
import { Commands, Views } from './constants.js';
import type { NodeDiffs } from './diff/nodeDiffs.js';
import type { ErrorReporter } from './errors.js';
import { chooseLanguageModel, ensureLanguageModelAccess, setApiKey } from './lm/register.js';
import { RunLogs } from './logs/runLogs.js';
import type { ProtectedFiles } from './protectedFiles.js';
import { openCommitDocument } from './results/commitDocument.js';
import { ResultsPanel, type ResultsPanelDeps } from './results/resultsPanel.js';
import type { SessionService } from './session/sessionService.js';
import { SummaryPreview } from './summary/summaryPreview.js';
import type { ExperimentsView } from './tree/experimentsView.js';
import { runConfigWizard } from './wizard/configWizard.js';

type NodeArg = number | { id: number } | undefined;

interface NodeItem extends vscode.QuickPickItem {
  id: number;
}

export interface CommandDeps {
  session: SessionService;
  diffs: NodeDiffs;
  errors: ErrorReporter;
  protectedFiles: ProtectedFiles;
  experiments: ExperimentsView;
  log: vscode.LogOutputChannel;
  /** What the results panel needs from the extension (model, changes, diffs, the shared selection). */
  results: ResultsPanelDeps;
  /** Model choice (global state), consent and API keys (secret storage). */
  context: vscode.ExtensionContext;
}

export class CommandHandlers extends DisposableBase {
  private readonly runLogs: RunLogs;
  private readonly summary: SummaryPreview;

  constructor(private readonly d: CommandDeps) {
    super();
    this.runLogs = this._register(new RunLogs(d.session));
    this.summary = this._register(new SummaryPreview(d.session));
    const handlers: Record<(typeof Commands)[keyof typeof Commands], (...args: never[]) => unknown> = {
      [Commands.start]: (arg?: vscode.Uri) => this.start(arg),
      [Commands.stop]: () => this.stop(),
      [Commands.pause]: () => this.pause(),
      [Commands.resume]: () => this.resume(),
      [Commands.createConfig]: (arg?: vscode.Uri) => this.createConfig(arg),
      [Commands.openConfig]: () => this.openConfig(),
      [Commands.showResults]: (arg?: vscode.Uri) => this.showResults(arg),
      [Commands.showSummary]: () => this.showSummary(),
      [Commands.addHypothesis]: (text?: string) => this.addHypothesis(text),
      [Commands.recordResult]: (arg?: NodeArg) => this.recordResult(arg),
      [Commands.applyBest]: () => this.applyBest(),
      [Commands.revealBest]: () => this.revealBest(),
      [Commands.showLog]: () => this.d.log.show(true),
      [Commands.refresh]: () => this.d.session.refresh(),
      [Commands.openNodeDiff]: (arg?: NodeArg) => this.withNode(arg, 'Open whose diff?', (n) => !!n.commit, (n) => this.d.diffs.openNodeDiff(n.id)),
      [Commands.openNodeLog]: (arg?: NodeArg) => this.withNode(arg, 'Open whose run log?', (n) => !!n.logPath, (n) => this.openNodeLog(n)),
      [Commands.compareWithBest]: (arg?: NodeArg) => this.withNode(arg, 'Compare which experiment with the best?', (n) => !!n.commit, (n) => this.d.diffs.compareWithBest(n.id)),
      [Commands.branchFromNode]: (arg?: NodeArg) => this.withNode(arg, 'Branch the next experiment from…', (n) => !!n.commit, (n) => this.branchFrom(n)),
      [Commands.rerunNode]: (arg?: NodeArg) => this.withNode(arg, 'Re-run which experiment?', (n) => !!n.commit && n.decidedBy !== null, (n) => this.rerun(n)),
      [Commands.checkoutNode]: (arg?: NodeArg) => this.withNode(arg, "Check out whose code?", (n) => !!n.commit, (n) => this.checkout(n)),
      [Commands.keepNode]: (arg?: NodeArg, reason?: string) => this.withNode(arg, 'Keep which experiment?', (n) => n.decidedBy !== null && n.status !== 'keep' && n.metric !== null && Number.isFinite(n.metric), (n) => this.override(n, 'keep', reason)),
      [Commands.discardNode]: (arg?: NodeArg, reason?: string) => this.withNode(arg, 'Discard which experiment?', (n) => n.decidedBy !== null && n.status === 'keep' && n.id !== 0, (n) => this.override(n, 'discard', reason)),
      [Commands.explainProtected]: (uri?: vscode.Uri) => this.d.protectedFiles.explain(uri),
      [Commands.chooseLanguageModel]: () => this.chooseModel(),
      [Commands.setApiKey]: (env?: string) => this.setApiKey(env),
      [Commands.raiseSpendCap]: (text?: string) => this.raiseSpendCap(text),
    };
    for (const [id, handler] of Object.entries(handlers)) {
      this._register(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await (handler as (...a: unknown[]) => unknown)(...args);
        } catch (e) {
          void this.d.errors.report(e, describe(id), this.d.session.location?.configDir);
          return undefined;
        }
      }));
    }
  }

  // ---- the session ----------------------------------------------------------------------------

  private async start(arg?: vscode.Uri): Promise<void> {
    const s = this.d.session;
    let folder = arg?.scheme === 'file' ? (basename(arg.fsPath) === CONFIG_FILE ? dirname(arg.fsPath) : arg.fsPath) : undefined;
    await s.refresh(folder);
    if (s.isActive) {
      await vscode.commands.executeCommand(`${Views.experiments}.focus`);
      const where = s.owner === 'elsewhere' && s.lockHolder ? ` in another process (pid ${s.lockHolder.pid}); its progress shows here and Stop and Pause reach it` : ' in this window';
      void vscode.window.showInformationMessage(`The AutoResearch session "${s.tag}" is already running${where}.`);
      return;
    }
    if (!s.location) {
      folder = await this.pickFolder();
      if (!folder) return;
      await s.refresh(folder);
    }
    let loc = s.location!;
    if (!loc.hasConfig) {
      const result = await runConfigWizard(loc.configDir, loc.repoRoot);
      if (!result?.start) return;
      await s.refresh(loc.configDir);
      loc = s.location!;
    }
    if (loc.configError) {
      await this.d.errors.report(loc.configError, 'Cannot start AutoResearch', loc.configDir);
      return;
    }
    await this.d.errors.showConfigIssues(loc.configDir, undefined);
    // VS Code asks for consent to use a language model on a user action: now, not hours into the loop.
    if (loc.config) {
      const problem = await ensureLanguageModelAccess(this.d.context, loc.config);
      if (problem) {
        const choose = 'Choose Language Model';
        if (await vscode.window.showErrorMessage(`Cannot start AutoResearch: ${problem}`, choose) === choose) await this.chooseModel();
        return;
      }
    }
    let maxExperiments: number | null | undefined;
    if (s.phase === 'done' || s.phase === 'failed') {
      const next = await this.afterFinished();
      if (!next) return;
      if (next.kind === 'more') maxExperiments = next.maxExperiments;
    }
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Starting AutoResearch' },
      () => s.start({ folder: loc.configDir, maxExperiments }),
    );
    await vscode.commands.executeCommand(`${Views.experiments}.focus`);
  }

  /** The session of this tag already finished: run more, start another with a new tag, or just look. */
  private async afterFinished(): Promise<{ kind: 'more'; maxExperiments: number } | { kind: 'new' } | undefined> {
    const s = this.d.session;
    const model = s.model!;
    const items: (vscode.QuickPickItem & { action: string })[] = [];
    if (s.phase === 'done') items.push({ action: 'more', label: '$(debug-continue) Run more experiments in this session', description: `continues "${s.tag}" from its ${model.decidedCount} experiments` });
    items.push({ action: 'new', label: '$(add) Start a new session…', description: 'with a new tag, from your current commit' });
    items.push({ action: 'summary', label: '$(book) Show the summary', description: `of "${s.tag}"` });
    const pick = await vscode.window.showQuickPick(items, { title: `The session "${s.tag}" has ${s.phase === 'done' ? 'finished' : 'failed'}: ${model.stateReason ?? ''}` });
    if (!pick) return undefined;
    if (pick.action === 'summary') {
      await this.showSummary();
      return undefined;
    }
    if (pick.action === 'more') {
      const n = await vscode.window.showInputBox({
        title: 'Run more experiments', value: '10', prompt: `How many more experiments after the ${model.decidedCount} done`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) > 0 ? undefined : 'A positive whole number'),
      });
      return n ? { kind: 'more', maxExperiments: model.decidedCount + Number(n) } : undefined;
    }
    const tag = await vscode.window.showInputBox({
      title: 'New session', prompt: 'Tag of the new session (names the branch autoresearch/<tag>)', value: `${s.tag}-2`,
      validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v.trim()) && !existsSync(join(s.location!.repoRoot, '.autoresearch', v.trim())) ? undefined : 'A new tag: letters, digits, ".", "_" or "-"'),
    });
    if (!tag) return undefined;
    const file = join(s.location!.configDir, CONFIG_FILE);
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.set('tag', tag.trim());
    writeFileSync(file, doc.toString());
    await s.refresh(s.location!.configDir);
    return { kind: 'new' };
  }

  private async pickFolder(): Promise<string | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      const open = 'Open Folder';
      const choice = await vscode.window.showInformationMessage('AutoResearch works in a folder with your training script. Open one first.', open);
      if (choice === open) await vscode.commands.executeCommand('vscode.openFolder');
      return undefined;
    }
    if (folders.length === 1) return folders[0]!.uri.fsPath;
    return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder holds the training script?' }))?.uri.fsPath;
  }

  private async stop(): Promise<void> {
    const s = this.d.session;
    if (!s.isActive) {
      void vscode.window.showInformationMessage('No AutoResearch session is running.');
      return;
    }
    await s.stop();
  }

  private async pause(): Promise<void> {
    const s = this.d.session;
    if (s.phase !== 'running') {
      void vscode.window.showInformationMessage(s.phase === 'paused' ? 'The session is already paused.' : 'No AutoResearch session is running.');
      return;
    }
    await s.pause();
  }

  private async resume(): Promise<void> {
    const s = this.d.session;
    if (s.phase === 'running' || s.phase === 'starting') {
      void vscode.window.showInformationMessage('The session is already running.');
      return;
    }
    if (s.phase === 'none' || s.phase === 'done' || s.phase === 'failed') {
      await this.start();
      return;
    }
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Resuming AutoResearch' }, () => s.resume());
  }

  private async createConfig(arg?: vscode.Uri): Promise<void> {
    const folder = arg?.scheme === 'file' ? arg.fsPath : this.d.session.location?.configDir ?? await this.pickFolder();
    if (!folder) return;
    const file = join(folder, CONFIG_FILE);
    if (existsSync(file)) {
      const replace = 'Replace';
      const choice = await vscode.window.showWarningMessage(`${CONFIG_FILE} already exists here.`, { modal: true, detail: 'The wizard writes a new one in its place.' }, replace);
      if (choice !== replace) return;
    }
    await this.d.session.refresh(folder);
    const root = this.d.session.location?.repoRoot ?? folder;
    const result = await runConfigWizard(folder, root);
    await this.d.session.refresh(folder);
    if (result?.start) await this.start(vscode.Uri.file(folder));
  }

  private async openConfig(): Promise<void> {
    const loc = this.d.session.location;
    if (loc?.hasConfig) await this.d.errors.openConfig(loc.configDir, loc.configError?.issues[0]);
    else await this.createConfig();
  }

  // ---- results ----------------------------------------------------------------------------------

  private requireSession(): { paths: NonNullable<SessionService['paths']> } | undefined {
    const paths = this.d.session.paths;
    if (!paths || !this.d.session.model) {
      const start = 'Start AutoResearch';
      void vscode.window.showInformationMessage('There is no AutoResearch session in this workspace yet.', start).then((c) => {
        if (c === start) void vscode.commands.executeCommand(Commands.start);
      });
      return undefined;
    }
    return { paths };
  }

  /**
   * The results view: the session's chart, tree and table; or, given a results.tsv (the Explorer's context
   * menu, or a file of the original autoresearch loop), that file's chart and table.
   */
  private showResults(arg?: vscode.Uri): void {
    if (arg instanceof vscode.Uri && arg.path.endsWith('.tsv')) {
      ResultsPanel.show({ ...this.d.results, resultsFile: arg });
      return;
    }
    if (!this.requireSession()) return;
    ResultsPanel.show(this.d.results);
  }

  // ---- model-backed proposers ------------------------------------------------------------------

  private async chooseModel(): Promise<void> {
    const choice = await chooseLanguageModel(this.d.context);
    if (choice) void vscode.window.showInformationMessage(`AutoResearch proposes with ${choice.id} (${choice.vendor}) when the config's vscode-lm proposer names no model.`);
  }

  /** Stores an API key in secret storage under the variable the config's proposer names (apiKeyEnv). */
  private async setApiKey(env?: string): Promise<void> {
    const proposer = this.d.session.location?.config?.proposer as { apiKeyEnv?: unknown; kind: string } | undefined;
    const named = typeof proposer?.apiKeyEnv === 'string' ? proposer.apiKeyEnv : proposer?.kind === 'anthropic' ? 'ANTHROPIC_API_KEY' : undefined;
    const name = env ?? await vscode.window.showInputBox({
      title: 'Set API Key', prompt: 'The environment variable the key stands for (the proposer\'s apiKeyEnv)', value: named ?? 'OPENAI_API_KEY',
      validateInput: (v) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.trim()) ? undefined : 'A variable name like OPENAI_API_KEY'),
    });
    if (!name?.trim()) return;
    if (await setApiKey(this.d.context.secrets, name.trim())) void vscode.window.showInformationMessage(`Stored the key for ${name.trim()} in VS Code's secret storage.`);
  }

  /**
   * The summary as a rendered preview beside what is open (the results view stays in view), not raw Markdown on
   * top of it. The preview re-renders when the file changes, and the file is rewritten as the session decides.
   */
  async showSummary(): Promise<void> {
    if (!this.requireSession()) return;
    await this.summary.show();
  }

  private async addHypothesis(text?: string): Promise<void> {
    if (!this.requireSession()) return;
    const hint = text ?? await vscode.window.showInputBox({
      title: 'Add a hypothesis',
      prompt: 'The next proposal tests it (mutate acts on hypotheses that name a hyperparameter)',
      placeHolder: 'e.g. a larger HIDDEN_SIZE with more weight decay',
      validateInput: (v) => (v.trim() ? undefined : 'Describe the hypothesis'),
    });
    if (!hint?.trim()) return;
    const r = await this.d.session.send({ type: 'hint', text: hint.trim() });
    void vscode.window.showInformationMessage(r.delivered === 'applied' ? `Queued for the next proposals: "${hint.trim()}".` : `The next proposal will test: "${hint.trim()}".`);
  }

  private async recordResult(arg?: NodeArg): Promise<void> {
    const s = this.d.session;
    if (!this.requireSession()) return;
    const waiting = (s.model?.nodes ?? []).filter((n) => n && s.isWaitingForResult(n));
    if (waiting.length === 0) {
      void vscode.window.showInformationMessage(s.config?.executor.kind === 'manual'
        ? 'No experiment is waiting for a result right now.'
        : 'Results are recorded by hand only with the manual executor (executor: manual in the config); this session measures its runs itself.');
      return;
    }
    const id = nodeId(arg) ?? (waiting.length === 1 ? waiting[0]!.id : (await this.pickNode('Record the result of…', (n) => s.isWaitingForResult(n)))?.id);
    if (id === undefined) return;
    const metricName = s.config?.metric.name ?? 'metric';
    const value = await vscode.window.showInputBox({
      title: `Record the result of #${id}`, prompt: `${metricName} of #${id}, or "crash: <reason>" when it failed`,
      validateInput: (v) => (/^crash\b/i.test(v.trim()) || (v.trim() !== '' && !Number.isNaN(Number(v))) ? undefined : 'A number, or crash: <reason>'),
    });
    if (value === undefined) return;
    if (/^crash\b/i.test(value.trim())) {
      await s.send({ type: 'record-crash', id, reason: value.trim().replace(/^crash:?\s*/i, '') || 'crashed (recorded by a person)' });
      return;
    }
    const mem = await vscode.window.showInputBox({
      title: `Record the result of #${id}`, prompt: 'Peak memory in GB (optional: leave empty)',
      validateInput: (v) => (v.trim() === '' || !Number.isNaN(Number(v)) ? undefined : 'A number of GB, or empty'),
    });
    if (mem === undefined) return;
    await s.send({ type: 'record', id, metric: Number(value), memoryGb: mem.trim() === '' ? null : Number(mem) });
  }

  private async applyBest(): Promise<void> {
    const s = this.d.session;
    if (!this.requireSession()) return;
    const model = s.model!;
    const best = model.best;
    const root = s.location!.repoRoot;
    if (!best || best.id === 0 || !best.commit) {
      void vscode.window.showInformationMessage('There is nothing to apply yet: no experiment beat the baseline.');
      return;
    }
    const path = model.pathTo(best.id).filter((n) => n.id !== 0 && n.commit);
    const lab = await Lab.open(root);
    const branch = (await lab.currentBranch()) ?? '';
    const metric = model.config?.metric.name ?? 'metric';
    const head = await lab.head();
    // The diff opens beside what is open, and the question stays out of its way (not a modal over it): a quick pick
    // that outlives a click into the diff. Escape, or closing it, applies nothing; the preview closes either way.
    const preview = await this.d.diffs.openAgainstHead(root, head, best.commit, `Apply #${best.id}: your HEAD ↔ best`, vscode.ViewColumn.Beside);
    let mode: 'squash' | 'chain' | undefined;
    try {
      const files = preview.changes.map((c) => c.path);
      const onto = branch || 'HEAD';
      const safe = 'Nothing is forced: a dirty working tree or a conflict stops it with nothing changed.';
      type ModeItem = vscode.QuickPickItem & { mode?: 'squash' | 'chain' };
      mode = await confirmPick<ModeItem>({
        title: `Apply #${best.id} (${metric} ${fmtNum(model.baseline?.metric)} → ${fmtNum(best.metric)}): ${best.description}`,
        placeholder: files.length ? `Changes ${files.join(', ')} on ${onto}: the diff is beside. Escape cancels.` : `Your ${onto} already has this code. Escape cancels.`,
        items: [
          { mode: 'squash', label: '$(git-commit) Apply as one squashed commit', description: `the changes of #${best.id} as a single commit on ${onto}`, detail: safe },
          { mode: 'chain', label: '$(git-merge) Apply as the chain of kept commits', description: path.map((n) => `#${n.id}`).join(' → '), detail: path.map((n) => n.description).join('; ') },
          { label: '$(close) Cancel', description: 'nothing is applied' },
        ],
      }).then((pick) => pick?.mode);
    } finally {
      await preview.close();
    }
    if (!mode) return;
    const result = await applyBest(root, model, model.tag, mode);
    this.d.log.info(result.message);
    const showCommit = 'Show Commit';
    const last = result.commits.at(-1);
    void vscode.window.showInformationMessage(result.message, ...(last ? [showCommit] : [])).then((c) => {
      if (c === showCommit && last) void openCommitDocument(last, vscode.Uri.file(root));
    });
  }

  /** Selects the best experiment in the Experiments view, opening the nodes above it. */
  private async revealBest(): Promise<void> {
    if (!this.requireSession()) return;
    const id = await this.d.experiments.revealBest();
    if (id === undefined) void vscode.window.showInformationMessage('No experiment has a result yet.');
    else if (id === 0) void vscode.window.showInformationMessage('Nothing has beaten the baseline (#0) yet.');
  }

  // ---- one node -----------------------------------------------------------------------------------

  private async withNode(arg: NodeArg, title: string, eligible: (n: ExperimentNode) => boolean, act: (n: ExperimentNode) => Promise<unknown>): Promise<void> {
    if (!this.requireSession()) return;
    const id = nodeId(arg) ?? (await this.pickNode(title, eligible))?.id;
    if (id === undefined) return;
    const node = this.d.session.model?.get(id);
    if (!node) throw new Error(`There is no experiment #${id}.`);
    await act(node);
  }

  private async pickNode(title: string, eligible: (n: ExperimentNode) => boolean): Promise<NodeItem | undefined> {
    const model = this.d.session.model;
    const items: NodeItem[] = (model?.nodes ?? []).filter((n) => n && eligible(n)).reverse().map((n) => ({
      id: n.id,
      label: `#${n.id} ${n.description}`,
      description: `${n.status}${n.metric !== null ? ` · ${fmtNum(n.metric)}` : ''}${n.decidedBy === 'human' ? ' · by you' : ''}`,
    }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('No experiment fits.');
      return undefined;
    }
    return vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  }

  private async openNodeLog(n: ExperimentNode): Promise<void> {
    if (!n.logPath || !existsSync(n.logPath)) {
      void vscode.window.showInformationMessage(`#${n.id} has no run log${n.commit ? ' yet' : ': it never ran'}.`);
      return;
    }
    await this.runLogs.open(n);
  }

  private async override(n: ExperimentNode, status: 'keep' | 'discard', reason?: string): Promise<void> {
    const why = reason ?? `${status === 'keep' ? 'kept' : 'discarded'} by a person in VS Code`;
    const before = n.status;
    const r = await this.send({ type: 'override', id: n.id, status, reason: why });
    const effect = status === 'keep' ? 'the search may expand it from the next choice on' : 'the search no longer expands it';
    const undo = 'Undo';
    const canUndo = before === 'keep' || before === 'discard';
    const message = `#${n.id} is now ${status === 'keep' ? 'kept' : 'discarded'} (your decision; it was ${before})${r === 'applied' ? '' : `: ${effect}`}.`;
    void (canUndo ? vscode.window.showInformationMessage(message, undo) : vscode.window.showInformationMessage(message)).then(async (c) => {
      if (c !== undo) return;
      try {
        // Back to the rule's own status, the engine restores the rule's decision (not a second one by you).
        await this.send({ type: 'override', id: n.id, status: before as 'keep' | 'discard', reason: `undid a ${status} by a person in VS Code` });
        const now = this.d.session.model?.get(n.id);
        if (now?.decidedBy === 'rule') void vscode.window.showInformationMessage(`#${n.id} is ${now.status === 'keep' ? 'kept' : 'discarded'} again, as the rule decided: ${now.reason}`);
      } catch (e) {
        void this.d.errors.report(e, 'Undo', this.d.session.location?.configDir);
      }
    });
  }

  /** A new spend cap, sent like the CLI's `autoresearch cap`: a running session goes on under it at once. */
  private async raiseSpendCap(text?: string): Promise<void> {
    const model = this.d.session.model;
    if (!this.requireSession() || !model) return;
    const tokensOnly = model.cap.maxCost === null && model.cap.maxTokens !== null;
    const now = tokensOnly ? model.cap.maxTokens! : model.cap.maxCost;
    const typed = text ?? await vscode.window.showInputBox({
      title: 'AutoResearch: Raise Spend Cap',
      prompt: `Model spend so far: ${spendText(model.spend, model.cap)}. The new cap: a cost in USD (10), tokens (2M tokens), or unlimited.`,
      value: now === null ? '' : tokensOnly ? `${now * 2} tokens` : String(now * 2),
      validateInput: (v) => (parseCapText(v) ? undefined : 'A cost like 10 or $10, tokens like 2M tokens, or unlimited'),
    });
    if (typed === undefined) return;
    const change = parseCapText(typed);
    if (!change) throw new Error(`"${typed}" is not a cap: a cost like 10 or $10, tokens like 2M tokens, or unlimited.`);
    const r = await this.send({ type: 'cap', cap: change });
    const after = spendText(model.spend, { ...model.cap, ...change });
    void vscode.window.showInformationMessage(r === 'applied'
      ? `Spend cap now ${after}. Resume the session to go on under it.`
      : `Spend cap now ${after}; the session goes on under it.`);
  }

  private async branchFrom(n: ExperimentNode): Promise<void> {
    const r = await this.send({ type: 'branch', id: n.id });
    void vscode.window.showInformationMessage(r === 'applied'
      ? `When the session resumes, its next experiment branches from #${n.id}.`
      : `The next experiment branches from #${n.id} (${n.description}).`);
  }

  private async rerun(n: ExperimentNode): Promise<void> {
    const r = await this.send({ type: 'rerun', id: n.id });
    void vscode.window.showInformationMessage(r === 'applied'
      ? `#${n.id} runs again when the session resumes, to measure noise.`
      : `#${n.id} runs again next with its exact code; the difference in ${this.d.session.config?.metric.name ?? 'the metric'} is noise.`);
  }

  private async send(cmd: InboxCommand): Promise<'here' | 'running' | 'applied'> {
    const r = await this.d.session.send(cmd);
    return r.delivered;
  }

  /** Writes the node's editable files into the working tree (HEAD and the branch stay put). */
  private async checkout(n: ExperimentNode): Promise<void> {
    const s = this.d.session;
    const root = s.location!.repoRoot;
    const editable = s.config?.editable ?? [];
    const lab = await Lab.open(root);
    const changes = (await lab.fileChanges('HEAD', n.commit!)).filter((c) => matchesAny(c.path, editable));
    // Files changed since HEAD in the working tree, which the checkout would overwrite.
    const dirty = await lab.changedTrackedFiles();
    if (changes.length === 0) {
      void vscode.window.showInformationMessage(`Your working tree's ${editable.join(', ')} already match #${n.id}.`);
      return;
    }
    const lost = changes.filter((c) => dirty.includes(c.path)).map((c) => c.path);
    const go = 'Check Out';
    const choice = await vscode.window.showWarningMessage(
      `Check out #${n.id}'s code (${n.description}) into your working tree?`,
      { modal: true, detail: `This writes ${changes.map((c) => c.path).join(', ')} as experiment #${n.id} has ${changes.length === 1 ? 'it' : 'them'} (commit ${n.commit!.slice(0, 7)}). Your branch and HEAD stay where they are; the change shows as uncommitted.${lost.length ? ` Your uncommitted changes to ${lost.join(', ')} will be lost.` : ''}` },
      go,
    );
    if (choice !== go) return;
    // A file the experiment deleted goes from the working tree too.
    for (const c of changes) if (c.status === 'D') rmSync(join(root, c.path), { force: true });
    const present = changes.filter((c) => c.status !== 'D').map((c) => c.path);
    if (present.length) await lab.checkOutFilesFrom(n.commit!, present);
    this.d.log.info(`checked out #${n.id} (${n.commit!.slice(0, 7)}) into the working tree: ${present.join(', ')}`);
    const first = present[0];
    if (first) await vscode.window.showTextDocument(vscode.Uri.file(join(root, first)), { preview: false });
    void vscode.window.showInformationMessage(`Checked out #${n.id}'s code into your working tree (uncommitted).`);
  }
}

function nodeId(arg: NodeArg): number | undefined {
  if (typeof arg === 'number' && Number.isInteger(arg)) return arg;
  if (arg && typeof arg === 'object' && typeof arg.id === 'number') return arg.id;
  return undefined;
}

function describe(command: string): string {
  const name = command.replace(/^autoresearch\./, '').replace(/([A-Z])/g, ' $1').toLowerCase();
  return `AutoResearch: ${name} failed`;
}
