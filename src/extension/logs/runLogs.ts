// An experiment's run log as a read-only document with a header saying whose log it is and how it ended; a
// running experiment's log refreshes as it writes. Read from the file on disk, never opened as the file itself,
// so nobody edits a log by accident.
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { readTail } from '../../core/files.js';
import { DisposableBase } from '../../core/lifecycle.js';
import type { ExperimentNode } from '../../core/types.js';
import { LOG_SCHEME } from '../constants.js';
import type { SessionService } from '../session/sessionService.js';
import { runLogHeader } from '../tree/nodePresentation.js';

/** More than an editor should hold: the log's end is shown, and the header says how much is left out. */
const MAX_BYTES = 8 * 1024 * 1024;

interface LogQuery {
  tag: string;
  id: number;
}

export class RunLogs extends DisposableBase implements vscode.TextDocumentContentProvider {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this._onDidChange.event;
  private pending: NodeJS.Timeout | undefined;
  /** What each open log's header said when it was last read (status, who decided, why). */
  private readonly read = new Map<string, string>();

  constructor(private readonly session: SessionService) {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, this));
    this._register(session.onDidChange(() => this.scheduleRefresh()));
    this._register({ dispose: () => clearTimeout(this.pending) });
  }

  uri(n: ExperimentNode): vscode.Uri {
    const query: LogQuery = { tag: this.session.model?.tag ?? '', id: n.id };
    return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/#${n.id} run.log`, query: JSON.stringify(query) });
  }

  async open(n: ExperimentNode): Promise<vscode.TextEditor> {
    const doc = await vscode.workspace.openTextDocument(this.uri(n));
    return vscode.window.showTextDocument(doc, { preview: true });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const { tag, id } = JSON.parse(uri.query) as LogQuery;
    const model = this.session.model;
    const n = model?.tag === tag ? model.get(id) : undefined;
    this.read.set(uri.toString(), `${n?.status}/${n?.decidedBy}/${n?.reason}`);
    if (!model || !n) return `# The session "${tag}" is not open in this window, or has no experiment #${id}.\n`;
    if (!n.logPath) return `${runLogHeader(n, model, Date.now()).join('\n')}\n(no run log: it never ran)\n`;
    let size = 0;
    try {
      size = statSync(n.logPath).size;
    } catch {
      return `${runLogHeader(n, model, Date.now()).join('\n')}\n(the log file is gone)\n`;
    }
    const text = readTail(n.logPath, MAX_BYTES);
    return `${runLogHeader(n, model, Date.now(), Math.max(0, size - MAX_BYTES)).join('\n')}\n${text}`;
  }

  /** Open logs of experiments still running, or decided since they were read, are read again at most once a second. */
  private scheduleRefresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      for (const doc of vscode.workspace.textDocuments) {
        if (doc.uri.scheme !== LOG_SCHEME || doc.isClosed) continue;
        const { id } = JSON.parse(doc.uri.query) as LogQuery;
        const n = this.session.model?.get(id);
        const stamp = `${n?.status}/${n?.decidedBy}/${n?.reason}`;
        if (n?.status === 'running' || this.read.get(doc.uri.toString()) !== stamp) this._onDidChange.fire(doc.uri);
      }
    }, 1000);
  }
}
