// Errors reach the person as notifications with the action that helps: open the config at the bad key,
// open the log, open source control. Config problems also show as diagnostics on the file.
import { join } from 'node:path';
import { parseDocument, isNode, type Node as YamlNode } from 'yaml';
import * as vscode from 'vscode';
import { CONFIG_FILE, ConfigError, formatIssue, type ConfigIssue } from '../core/config.js';
import { PreflightError } from '../core/controller.js';
import { UnavailableError } from '../core/factory.js';
import { GitError } from '../core/git.js';
import { NoSessionError } from '../core/offline.js';
import { SessionBusyError } from '../core/store.js';
import { ApplyError } from '../core/apply.js';
import { Commands } from './constants.js';

const OPEN_CONFIG = 'Open Config';
const SHOW_LOG = 'Show Log';
const SOURCE_CONTROL = 'Open Source Control';

/** `metric.name` → ['metric', 'name'], `editable[0]` → ['editable', 0]. */
export function issuePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return out;
    if (m[1]) out.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Where in the YAML text an issue is: the key's value, else the nearest parent that exists, else line 1. */
export function issueRange(text: string, issue: ConfigIssue, doc: vscode.TextDocument): vscode.Range {
  const yaml = parseDocument(text);
  let path = issuePath(issue.path);
  while (path.length) {
    const node = yaml.getIn(path, true);
    if (isNode(node) && (node as YamlNode).range) {
      const [start, end] = (node as YamlNode).range!;
      return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
    }
    path = path.slice(0, -1);
  }
  return new vscode.Range(0, 0, 0, Math.max(1, doc.lineAt(0).text.length));
}

export class ErrorReporter implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('autoresearch');

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** Puts the config's issues on the file (and clears them when the config reads cleanly). */
  async showConfigIssues(configDir: string, error: ConfigError | undefined): Promise<void> {
    const uri = vscode.Uri.file(join(configDir, CONFIG_FILE));
    if (!error) {
      this.diagnostics.delete(uri);
      return;
    }
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const text = doc.getText();
      this.diagnostics.set(uri, error.issues.map((i) => {
        const d = new vscode.Diagnostic(issueRange(text, i, doc), formatIssue(i), vscode.DiagnosticSeverity.Error);
        d.source = 'AutoResearch';
        return d;
      }));
    } catch {
      // The file went away: nothing to mark.
    }
  }

  async openConfig(configDir: string, issue?: ConfigIssue): Promise<void> {
    const uri = vscode.Uri.file(join(configDir, CONFIG_FILE));
    const doc = await vscode.workspace.openTextDocument(uri);
    const range = issue ? issueRange(doc.getText(), issue, doc) : undefined;
    await vscode.window.showTextDocument(doc, { selection: range, preview: false });
  }

  /** Logs the error and shows it with the actions that help. `configDir` enables Open Config. */
  async report(e: unknown, what: string, configDir?: string): Promise<void> {
    const err = e instanceof Error ? e : new Error(String(e));
    this.log.error(`${what}: ${err instanceof ConfigError ? `\n${err.message}` : (err.stack ?? err.message)}`);
    const actions: string[] = [];
    let message: string;
    if (err instanceof ConfigError) {
      const first = err.issues[0];
      message = `${CONFIG_FILE} is not valid: ${first ? formatIssue(first) : err.message}${err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : ''}`;
      if (configDir) {
        actions.push(OPEN_CONFIG);
        await this.showConfigIssues(configDir, err);
      }
    } else if (err instanceof PreflightError && /uncommitted changes/i.test(err.message)) {
      message = `${what}: ${err.message}`;
      actions.push(SOURCE_CONTROL);
    } else if (err instanceof PreflightError || err instanceof UnavailableError) {
      message = `${what}: ${err.message}`;
      if (configDir) actions.push(OPEN_CONFIG);
    } else if (err instanceof GitError || err instanceof SessionBusyError || err instanceof NoSessionError || err instanceof ApplyError) {
      message = `${what}: ${err.message}`;
    } else {
      message = `${what}: ${err.message}`;
    }
    actions.push(SHOW_LOG);
    const choice = await vscode.window.showErrorMessage(message, ...actions);
    if (choice === OPEN_CONFIG && configDir) await this.openConfig(configDir, err instanceof ConfigError ? err.issues[0] : undefined);
    else if (choice === SHOW_LOG) await vscode.commands.executeCommand(Commands.showLog);
    else if (choice === SOURCE_CONTROL) await vscode.commands.executeCommand('workbench.view.scm');
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}
