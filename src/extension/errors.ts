// Errors reach the person as notifications with the action that helps: open the config at the bad key,
// open the log, open source control. Config problems also show as diagnostics on the file.
import { join } from 'node:path';
import { parseDocument, isNode, type Node as YamlNode } from 'yaml';
import * as vscode from 'vscode';
import { CONFIG_FILE, ConfigError, formatIssue, type ConfigIssue } from '../core/config.js';
import { errorKind, type ErrorKind } from '../core/errors.js';
import { Commands } from './constants.js';

type Action = 'openConfig' | 'sourceControl';

/** The actions that help with each kind of error, as buttons; Show Log comes after them on every error. */
const ACTIONS: Record<ErrorKind | 'internal', readonly Action[]> = {
  config: ['openConfig'],
  preflight: ['openConfig'],
  unavailable: ['openConfig'],
  sandbox: ['openConfig'],
  uncommitted: ['sourceControl'],
  usage: [],
  'no-session': [],
  busy: [],
  git: [],
  apply: [],
  unreadable: [],
  proposal: [],
  edit: [],
  model: [],
  internal: [],
};

const LABELS: Record<Action | 'showLog', string> = { openConfig: 'Open Config', sourceControl: 'Open Source Control', showLog: 'Show Log' };

/** The buttons an error's notification offers: what its kind calls for (Open Config only where the config is known), then Show Log. */
export function errorButtons(e: unknown, configDir?: string): { action: Action | 'showLog'; label: string }[] {
  const actions = ACTIONS[errorKind(e)].filter((a) => a !== 'openConfig' || configDir !== undefined);
  return [...actions, 'showLog' as const].map((action) => ({ action, label: LABELS[action] }));
}

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
    const config = err instanceof ConfigError ? err : undefined;
    this.log.error(`${what}: ${config ? `\n${err.message}` : (err.stack ?? err.message)}`);
    const message = config
      ? `${CONFIG_FILE} is not valid: ${config.issues[0] ? formatIssue(config.issues[0]) : config.message}${config.issues.length > 1 ? ` (and ${config.issues.length - 1} more)` : ''}`
      : `${what}: ${err.message}`;
    if (config && configDir) await this.showConfigIssues(configDir, config);
    const buttons = errorButtons(err, configDir);
    const choice = await vscode.window.showErrorMessage(message, ...buttons.map((b) => b.label));
    switch (buttons.find((b) => b.label === choice)?.action) {
      case 'openConfig': return this.openConfig(configDir!, config?.issues[0]);
      case 'sourceControl': return void await vscode.commands.executeCommand('workbench.view.scm');
      case 'showLog': return void await vscode.commands.executeCommand(Commands.showLog);
      default: return;
    }
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}
