// The results panel's host: creates (or restores after a reload) the webview, answers its `ready` with a
// snapshot, then sends what changed, coalesced; turns its intents (select, open a diff, export) into
// calls the extension passes in. It never decides anything: the engine's model is the truth.
//
// Wired in extension.ts (the deps, the serializer that restores a panel after a reload) and commands.ts
// ("AutoResearch: Show Results", with a results.tsv from the Explorer's context menu too).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ControllerEvent } from '../../core/controller.js';
import { DisposableBase, toDisposable } from '../../core/lifecycle.js';
import type { Disposable } from '../../core/lifecycle.js';
import type { SessionModel } from '../../core/model.js';
import { configuredMetric, parseResults } from '../../core/record/results.js';
import type { ExperimentNode } from '../../core/types.js';
import { isWebviewMessage, RESULTS_VIEW_TYPE } from '../../shared/protocol.js';
import type { HostMessage, NodeDto, SessionDto, ViewState, WebviewMessage } from '../../shared/protocol.js';
import { fileSnapshot, sessionDto } from '../../core/report/snapshot.js';
import { disposeCommitDocuments, openCommitDocument } from './commitDocument.js';
import { saveExport } from './exportFile.js';
import { LiveCurves } from './liveCurves.js';

/** What the extension gives the panel: where the model is, when it changes, and what intents do. */
export interface ResultsPanelDeps {
  extensionUri: vscode.Uri;
  /** The session's model, live or replayed; undefined while there is none. Read again on every change. */
  getModel: () => SessionModel | undefined;
  /** The running controller's events: any of them makes the panel look for changes; run-progress feeds the clock. */
  onEvent?: (listener: (e: ControllerEvent) => void) => vscode.Disposable;
  /** Any other change of the model (a session followed from its journal, an override, a new session). */
  onDidChange?: (listener: () => void) => vscode.Disposable;
  /** Opens what experiment `nodeId` changed. Best opened beside the panel with preserveFocus, so the panel stays in view. */
  openDiff: (nodeId: number) => unknown;
  /** The user selected a node in the panel (null: cleared); mirror it in the Experiments view. */
  select?: (nodeId: number | null) => unknown;
  /** The Experiments view's selection, mirrored in the panel. */
  onDidSelect?: (listener: (nodeId: number | null) => void) => vscode.Disposable;
  /** Opens a commit of a bare results.tsv; by default a read-only `git show` of it. */
  openCommit?: (commit: string, folder: vscode.Uri) => unknown;
}

export interface ResultsPanelOptions extends ResultsPanelDeps {
  /** Show this results.tsv (any writer's, the original 5-column format too) instead of the session. */
  resultsFile?: vscode.Uri;
  viewColumn?: vscode.ViewColumn;
}

type Source = { kind: 'session' } | { kind: 'file'; uri: vscode.Uri };

/** Changes are sent at most this often, so a burst of engine events becomes one message. */
const FLUSH_MS = 80;

function sourceKey(s: Source): string {
  return s.kind === 'session' ? 'session' : `file:${s.uri.toString()}`;
}

function basename(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}

/** What the webview shows of a node; a node is re-sent only when this changes. */
function signature(n: ExperimentNode): string {
  return `${n.status}|${n.metric}|${n.memoryGb}|${n.decidedBy}|${n.reason.length}|${n.startedAt}|${n.finishedAt}|${n.wallMs}|${n.commit}|${n.description.length}|${n.curve?.length ?? 0}`;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
    retainContextWhenHidden: false,
    enableFindWidget: false,
  };
}

/** The page: one script and one stylesheet from dist/webview, a nonce, nothing remote, no inline code. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('hex');
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'styles.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${style}">
  <title>${esc(title)}</title>
</head>
<body>
  <div id="app"></div>
  <script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

export class ResultsPanel extends DisposableBase {
  private static readonly panels = new Map<string, ResultsPanel>();

  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this._onDidDispose.event;

  private ready = false;
  private rev = 0;
  private model: SessionModel | undefined;
  /** Per node id, the signature last sent. */
  private sent: string[] = [];
  private sentSession = '';
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private needSnapshot = true;
  private fileNodes: NodeDto[] = [];
  /** Running experiments' curves so far, for a snapshot sent mid-run. */
  private readonly live = new LiveCurves();
  private disposed = false;
  /** The last selection either side made; a webview that was torn down while hidden gets it back. */
  private selection: number | null | undefined;

  /** Opens the panel for the session (or for `resultsFile`), or brings the open one forward. */
  static show(options: ResultsPanelOptions): ResultsPanel {
    const source: Source = options.resultsFile ? { kind: 'file', uri: options.resultsFile } : { kind: 'session' };
    const existing = ResultsPanel.panels.get(sourceKey(source));
    if (existing) {
      existing.panel.reveal(options.viewColumn);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      RESULTS_VIEW_TYPE,
      ResultsPanel.title(source, options.getModel()),
      { viewColumn: options.viewColumn ?? vscode.ViewColumn.Active, preserveFocus: false },
      webviewOptions(options.extensionUri),
    );
    return new ResultsPanel(panel, options, source);
  }

  /** Takes over a panel VS Code restored after a reload; `state` is what the webview saved. */
  static revive(panel: vscode.WebviewPanel, deps: ResultsPanelDeps, state: unknown): ResultsPanel {
    const saved = (state ?? {}) as Partial<ViewState>;
    const source: Source = saved.source?.kind === 'file' && typeof saved.source.path === 'string'
      ? { kind: 'file', uri: vscode.Uri.parse(saved.source.path) }
      : { kind: 'session' };
    ResultsPanel.panels.get(sourceKey(source))?.dispose();
    panel.webview.options = webviewOptions(deps.extensionUri);
    return new ResultsPanel(panel, deps, source);
  }

  /** The session's panel, when open. */
  static get current(): ResultsPanel | undefined {
    return ResultsPanel.panels.get('session');
  }

  /** Every open panel (the session's and any results.tsv's). */
  static get all(): readonly ResultsPanel[] {
    return [...ResultsPanel.panels.values()];
  }

  /** Mirrors a selection made elsewhere (the Experiments view) in the session's panel. */
  static selectNode(nodeId: number | null): void {
    const panel = ResultsPanel.current;
    if (!panel) return;
    panel.selection = nodeId;
    panel.post({ type: 'select', nodeId });
  }

  /** Looks at the model again now (the extension swapped sessions without an event). */
  static refreshAll(): void {
    for (const p of ResultsPanel.panels.values()) p.refresh();
  }

  static disposeAll(): void {
    for (const p of [...ResultsPanel.panels.values()]) p.dispose();
  }

  private static title(source: Source, model: SessionModel | undefined): string {
    if (source.kind === 'file') return `Results: ${basename(source.uri)}`;
    return model?.tag ? `Results: ${model.tag}` : 'AutoResearch Results';
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly deps: ResultsPanelDeps, readonly source: Source) {
    super();
    ResultsPanel.panels.set(sourceKey(source), this);
    this.model = source.kind === 'session' ? deps.getModel() : undefined;
    panel.webview.html = webviewHtml(panel.webview, deps.extensionUri, ResultsPanel.title(source, this.model));
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    // Without retainContextWhenHidden a hidden webview is torn down; it says `ready` again when shown.
    this._register(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.ready = false;
    }));
    if (source.kind === 'session') {
      if (deps.onEvent) this._register(deps.onEvent((e) => this.onEngineEvent(e)));
      if (deps.onDidChange) this._register(deps.onDidChange(() => this.schedule()));
      if (deps.onDidSelect) this._register(deps.onDidSelect((id) => {
        this.selection = id;
        this.post({ type: 'select', nodeId: id });
      }));
    } else {
      this.watchFile(source.uri);
    }
    this._register(toDisposable(() => clearTimeout(this.flushTimer)));
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (ResultsPanel.panels.get(sourceKey(this.source)) === this) ResultsPanel.panels.delete(sourceKey(this.source));
    this._onDidDispose.fire();
    this.panel.dispose();
    super.dispose();
  }

  /** Sends a whole snapshot at the next flush. */
  refresh(): void {
    this.needSnapshot = true;
    this.schedule();
  }

  private post(m: HostMessage): void {
    if (!this.ready || this.disposed) return;
    void this.panel.webview.postMessage(m);
  }

  private onEngineEvent(e: ControllerEvent): void {
    if (e.type === 'run-progress') {
      const point = this.live.add(e);
      this.post({ type: 'progress', nodeId: e.nodeId, elapsedMs: e.elapsedMs, budgetMs: e.budgetMs, line: e.line, ...(point ? { point } : {}) });
      return;
    }
    if (e.type === 'log' || e.type === 'report') return;
    this.schedule();
  }

  private schedule(): void {
    if (this.flushTimer || this.disposed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  private async flush(): Promise<void> {
    if (this.source.kind === 'file') {
      await this.sendFile(this.source.uri);
      return;
    }
    const model = this.deps.getModel();
    if (model !== this.model) {
      // Another session's runs are not this one's (the same session's model, live or followed, keeps them).
      if (this.model && model && this.model.tag !== model.tag) this.live.clear();
      this.model = model;
      this.needSnapshot = true;
      this.panel.title = ResultsPanel.title(this.source, model);
    }
    this.live.prune(model);
    if (!this.ready) return;
    if (this.needSnapshot) {
      this.sendSessionSnapshot();
      return;
    }
    if (!model) return;
    // Compare every node's signature with what was sent: cheap for 10,000 nodes, and it catches changes
    // whichever way they came (events, a followed journal, an override).
    const nodes: NodeDto[] = [];
    for (const n of model.nodes) {
      if (!n) continue;
      const sig = signature(n);
      if (this.sent[n.id] === sig) continue;
      this.sent[n.id] = sig;
      nodes.push(this.live.dto(n));
    }
    const session = sessionDto(model);
    const sessionSig = this.sessionSignature(session);
    const sessionChanged = sessionSig !== this.sentSession;
    if (!nodes.length && !sessionChanged) return;
    this.sentSession = sessionSig;
    // The study goes along with node changes too: hostNow keeps the elapsed clock honest.
    this.post({ type: 'delta', rev: ++this.rev, session, nodes });
  }

  private sessionSignature(s: SessionDto): string {
    return JSON.stringify({ ...s, hostNow: undefined });
  }

  private sendSessionSnapshot(): void {
    this.needSnapshot = false;
    const model = this.model;
    this.sent = [];
    if (!model) {
      this.sentSession = '';
      this.post({
        type: 'snapshot', rev: ++this.rev, session: null, nodes: [],
        emptyReason: 'No AutoResearch session in this workspace yet. Start one with "AutoResearch: Start AutoResearch"; its experiments appear here as they finish.',
      });
      return;
    }
    const nodes: NodeDto[] = [];
    for (const n of model.nodes) {
      if (!n) continue;
      this.sent[n.id] = signature(n);
      nodes.push(this.live.dto(n));
    }
    const session = sessionDto(model);
    this.sentSession = this.sessionSignature(session);
    this.post({ type: 'snapshot', rev: ++this.rev, session, nodes });
    if (this.selection !== undefined) this.post({ type: 'select', nodeId: this.selection });
  }

  // ---- a results.tsv on its own ---------------------------------------------------------------

  private watchFile(uri: vscode.Uri): void {
    const slash = uri.path.lastIndexOf('/');
    const folder = uri.with({ path: uri.path.slice(0, slash) || '/' });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, basename(uri)));
    this._register(watcher);
    // Appends from a running loop (this one or the original autoresearch) redraw the panel live.
    this._register(watcher.onDidChange(() => this.schedule()));
    this._register(watcher.onDidCreate(() => this.schedule()));
    this._register(watcher.onDidDelete(() => this.schedule()));
  }

  private async sendFile(uri: vscode.Uri): Promise<void> {
    if (!this.ready) return;
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      this.fileNodes = [];
      this.post({ type: 'snapshot', rev: ++this.rev, session: null, nodes: [], emptyReason: `Cannot read ${uri.fsPath}: ${(e as Error).message}` });
      return;
    }
    // Read as `autoresearch summary --from` reads it there: the workspace's config names the metric and its direction.
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const config = folder?.uri.scheme === 'file' ? configuredMetric(folder.uri.fsPath) : null;
    const { session, nodes } = fileSnapshot(parseResults(text, { config }), uri.toString(), basename(uri));
    this.fileNodes = nodes;
    this.post({ type: 'snapshot', rev: ++this.rev, session, nodes });
  }

  // ---- intents from the webview ----------------------------------------------------------------

  private receive(raw: unknown): void {
    if (!isWebviewMessage(raw)) return;
    void this.handle(raw).catch((e: unknown) => {
      void vscode.window.showErrorMessage(`AutoResearch results: ${(e as Error).message}`);
    });
  }

  private async handle(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.needSnapshot = true;
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        await this.flush();
        return;
      case 'select':
        this.selection = m.nodeId;
        if (this.source.kind === 'session') await this.deps.select?.(m.nodeId);
        return;
      case 'open-diff':
        await this.openDiff(m.nodeId);
        return;
      case 'export':
        await saveExport(m, this.source.kind === 'file' ? this.source.uri : undefined);
        return;
      case 'error':
        void vscode.window.showErrorMessage(`AutoResearch results: ${m.message}`);
        return;
    }
  }

  private async openDiff(nodeId: number): Promise<void> {
    if (this.source.kind === 'session') {
      if (!this.deps.getModel()?.get(nodeId)) return;
      await this.deps.openDiff(nodeId);
      return;
    }
    const commit = this.fileNodes[nodeId]?.commit;
    if (!commit) return;
    const slash = this.source.uri.path.lastIndexOf('/');
    const folder = this.source.uri.with({ path: this.source.uri.path.slice(0, slash) || '/' });
    if (this.deps.openCommit) await this.deps.openCommit(commit, folder);
    else await openCommitDocument(commit, folder);
  }
}

/**
 * Restores results panels after a window reload. Call once in activate() and push the result to the
 * subscriptions (package.json also needs the activation event `onWebviewPanel:autoresearch.results`).
 */
export function registerResultsSerializer(deps: ResultsPanelDeps): Disposable {
  const registration = vscode.window.registerWebviewPanelSerializer(RESULTS_VIEW_TYPE, {
    deserializeWebviewPanel: async (panel, state) => {
      ResultsPanel.revive(panel, deps, state);
    },
  });
  return toDisposable(() => {
    registration.dispose();
    ResultsPanel.disposeAll();
    disposeCommitDocuments();
  });
}
