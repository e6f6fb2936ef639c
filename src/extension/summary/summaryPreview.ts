// The summary, rendered beside what is open (the results view stays in view): the built-in Markdown preview of
// autoresearch-summary.md, which re-renders when the file changes. While that preview is open, the file is
// rewritten as the session decides, so it never goes stale.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { DisposableBase } from '../../core/lifecycle.js';
import type { SessionService } from '../session/sessionService.js';

/** The built-in preview's tab: a webview of this type, labelled "Preview <file name>". */
const PREVIEW_VIEW_TYPE = 'markdown.preview';

export class SummaryPreview extends DisposableBase {
  /** The summary file a preview was opened on in this window. */
  private shown: string | undefined;
  private written = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly session: SessionService) {
    super();
    this._register(session.onDidChange(() => this.schedule()));
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  /** Writes the summary from the session as it stands and opens its preview to the side. */
  async show(): Promise<void> {
    const file = vscode.Uri.file(this.session.writeSummary());
    this.shown = file.fsPath;
    this.written = this.signature();
    try {
      await vscode.commands.executeCommand('markdown.showPreviewToSide', file);
    } catch {
      // The built-in Markdown extension is disabled: the file itself, beside.
      await vscode.window.showTextDocument(file, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    }
  }

  /** Whether a preview of the summary is open in some editor group. */
  isOpen(): boolean {
    const name = this.shown ? basename(this.shown) : undefined;
    if (!name) return false;
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes(PREVIEW_VIEW_TYPE) && t.label.includes(name)));
  }

  private schedule(): void {
    if (!this.shown || this.timer) return;
    // Decisions come in bursts (decide, results.tsv, the branch): one rewrite after them.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, 400);
  }

  private refresh(): void {
    if (!this.shown) return;
    if (!this.isOpen() || this.session.paths?.summary !== this.shown) {
      this.shown = undefined;
      return;
    }
    const now = this.signature();
    if (now === this.written) return;
    this.written = now;
    try {
      this.session.writeSummary();
    } catch {
      // The session went away between the change and now: the preview keeps what it shows.
    }
  }

  /** What the summary is written from: each node's status and who decided it, and the session's state. */
  private signature(): string {
    const model = this.session.model;
    if (!model) return '';
    return `${model.state}|${model.nodes.map((n) => (n ? `${n.id}:${n.status}:${n.decidedBy ?? ''}:${n.metric ?? ''}` : '')).join(',')}`;
  }
}
