// Protected files are read-only in the editor while a session runs: the workspace's `files.readonlyInclude`
// gets the config's `readonly` globs (plus the session's own records; the user's settings get them as absolute
// paths when the repository commits its .vscode/settings.json, so `git status` never shows it), an Explorer badge marks them, and a
// save is answered with why. Everything is put back when the session ends, or on the next start of the
// extension if the window died first.
import { existsSync, readFileSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { Lab } from '../core/git.js';
import { listFiles, matchesAny } from '../core/glob.js';
import { DisposableBase } from '../core/lifecycle.js';
import { RESULTS_FILE } from '../core/record/results.js';
import { STATE_DIR } from '../core/files.js';
import { Commands, ContextKeys, Settings } from './constants.js';
import type { SessionService } from './session/sessionService.js';

const READONLY_SETTING = 'files.readonlyInclude';
const BACKUP_KEY = 'autoresearch.readonlyBackup';

interface Backup {
  /** The keys this extension added to files.readonlyInclude. */
  added: string[];
  /** The settings file did not exist before: remove it again if it ends up empty. */
  createdSettingsFile: string | null;
  /** The lines added to the repository's .git/info/exclude so the file it created stays out of `git status`. */
  excluded?: { repo: string; lines: string[] };
  /** Where the keys went: the workspace's settings, or the user's (absolute paths) when the repository commits that file. */
  target?: 'workspace' | 'user';
}

export class ProtectedFiles extends DisposableBase implements vscode.FileDecorationProvider {
  private readonly _onDidChangeFileDecorations = this._register(new vscode.EventEmitter<vscode.Uri | vscode.Uri[] | undefined>());
  readonly onDidChangeFileDecorations = this._onDidChangeFileDecorations.event;
  private globs: string[] = [];
  private root: string | undefined;
  private applied = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly session: SessionService, private readonly state: vscode.Memento) {
    super();
    this._register(vscode.window.registerFileDecorationProvider(this));
    this._register(session.onDidChange(() => this.sync()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration(Settings.protectFiles)) this.sync(); }));
    this._register(vscode.workspace.onWillSaveTextDocument((e) => {
      if (e.document.uri.scheme === 'file' && this.isProtected(e.document.uri.fsPath)) void this.explain(e.document.uri);
    }));
    this.sync();
  }

  /** Protected globs while a session runs, relative to the repository root; empty otherwise. */
  get activeGlobs(): readonly string[] {
    return this.globs;
  }

  /** Whether a file is protected right now. */
  isProtected(fsPath: string): boolean {
    if (!this.root || this.globs.length === 0) return false;
    const rel = relative(this.root, fsPath);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return false;
    return matchesAny(rel.split(sep).join('/'), this.globs);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'file' || !this.isProtected(uri.fsPath)) return undefined;
    const d = new vscode.FileDecoration('RO', `Protected by the AutoResearch session "${this.session.tag}": read-only while it runs`);
    d.propagate = false;
    return d;
  }

  /** Says why a protected file cannot be edited or saved now. */
  async explain(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    const name = target ? vscode.workspace.asRelativePath(target) : 'This file';
    const stop = 'Stop Session';
    const choice = await vscode.window.showWarningMessage(
      `${name} is protected by the AutoResearch session "${this.session.tag}" and is read-only while it runs. `
      + 'The engine checks protected files around every experiment and rejects a run that changes them, so results stay comparable. '
      + 'It becomes editable again when the session stops.',
      stop,
    );
    if (choice === stop) await vscode.commands.executeCommand(Commands.stop);
  }

  /** Serialised: setting writes must not interleave. */
  private sync(): void {
    this.queue = this.queue.then(() => this.doSync()).catch(() => undefined);
  }

  /** Resolves once the settings reflect the current session phase (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  private async doSync(): Promise<void> {
    const want = this.session.isActive && vscode.workspace.getConfiguration().get<boolean>(Settings.protectFiles, true);
    const cfg = this.session.config;
    const root = this.session.location?.repoRoot;
    const globs = want && cfg && root ? [...cfg.readonly, RESULTS_FILE, `${STATE_DIR}/**`] : [];
    const changed = globs.join('\n') !== this.globs.join('\n') || root !== this.root;
    this.globs = globs;
    this.root = root;
    // A backup left by a window that died mid-session is restored on the next start.
    const stale = globs.length === 0 && this.state.get<Backup>(BACKUP_KEY) !== undefined;
    if (!changed && !stale && this.applied === (globs.length > 0)) return;
    this._onDidChangeFileDecorations.fire(undefined);
    const paths = root && globs.length ? listFiles(root).filter((f) => matchesAny(f, cfg?.readonly ?? [])).map((f) => join(root, f)) : [];
    await vscode.commands.executeCommand('setContext', ContextKeys.protectedPaths, paths);
    if (globs.length && root) await this.applySetting(root, globs);
    else await this.restoreSetting();
  }

  private settingsTarget(root: string): { folder: vscode.WorkspaceFolder; prefix: string } | undefined {
    const folders = vscode.workspace.workspaceFolders ?? [];
    for (const folder of folders) {
      const rel = relative(folder.uri.fsPath, root);
      if (!rel.startsWith('..') && !isAbsolute(rel)) return { folder, prefix: rel ? `${rel.split(sep).join('/')}/` : '' };
    }
    // The session lives outside every folder: absolute globs, in the first folder's settings.
    return folders[0] ? { folder: folders[0], prefix: `${root.split(sep).join('/')}/` } : undefined;
  }

  private async applySetting(root: string, globs: string[]): Promise<void> {
    const target = this.settingsTarget(root);
    if (!target) return;
    await this.restoreSetting();
    const settingsFile = join(target.folder.uri.fsPath, '.vscode', 'settings.json');
    // A settings file the repository commits would show as modified: the user's settings take the paths instead.
    if (existsSync(settingsFile) && await isTracked(this.session.location?.repoRoot, settingsFile)) {
      await this.applyToUserSettings(root, globs);
      return;
    }
    const config = vscode.workspace.getConfiguration(undefined, target.folder.uri);
    const current = { ...(config.inspect<Record<string, boolean>>(READONLY_SETTING)?.workspaceValue ?? {}) };
    const added: string[] = [];
    for (const g of globs) {
      const key = `${target.prefix}${g}`;
      if (current[key] === undefined) {
        current[key] = true;
        added.push(key);
      }
    }
    if (added.length === 0) return;
    const backup: Backup = { added, createdSettingsFile: existsSync(settingsFile) ? null : settingsFile };
    if (backup.createdSettingsFile) {
      // A settings file made only for the session must not show in `git status` (nor the branch read `main*`) meanwhile.
      const repo = this.session.location?.repoRoot;
      const rel = repo ? relative(repo, settingsFile) : '';
      if (repo && rel && !rel.startsWith('..') && !isAbsolute(rel)) {
        const lines = await Lab.open(repo).then((lab) => lab.excludeLocally([rel.split(sep).join('/')])).catch(() => []);
        if (lines.length) backup.excluded = { repo, lines };
      }
    }
    await this.state.update(BACKUP_KEY, backup);
    await config.update(READONLY_SETTING, current, vscode.ConfigurationTarget.Workspace);
    this.applied = true;
  }

  /** `files.readonlyInclude` in the user's settings, with absolute paths (the setting reads them as they are). */
  private async applyToUserSettings(root: string, globs: string[]): Promise<void> {
    const config = vscode.workspace.getConfiguration();
    const current = { ...(config.inspect<Record<string, boolean>>(READONLY_SETTING)?.globalValue ?? {}) };
    const prefix = `${root.split(sep).join('/')}/`;
    const added = globs.map((g) => `${prefix}${g}`).filter((key) => current[key] === undefined);
    if (added.length === 0) return;
    for (const key of added) current[key] = true;
    await this.state.update(BACKUP_KEY, { added, createdSettingsFile: null, target: 'user' } satisfies Backup);
    await config.update(READONLY_SETTING, current, vscode.ConfigurationTarget.Global);
    this.applied = true;
  }

  /** Takes out exactly what was added (a person's own entries stay), and the settings file if it was ours. */
  async restoreSetting(): Promise<void> {
    const backup = this.state.get<Backup>(BACKUP_KEY);
    this.applied = false;
    if (!backup) return;
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (backup.target === 'user') {
      const config = vscode.workspace.getConfiguration();
      const current = { ...(config.inspect<Record<string, boolean>>(READONLY_SETTING)?.globalValue ?? {}) };
      for (const key of backup.added) delete current[key];
      await config.update(READONLY_SETTING, Object.keys(current).length ? current : undefined, vscode.ConfigurationTarget.Global);
    } else if (folder) {
      const config = vscode.workspace.getConfiguration(undefined, folder.uri);
      const current = { ...(config.inspect<Record<string, boolean>>(READONLY_SETTING)?.workspaceValue ?? {}) };
      for (const key of backup.added) delete current[key];
      await config.update(READONLY_SETTING, Object.keys(current).length ? current : undefined, vscode.ConfigurationTarget.Workspace);
      if (backup.createdSettingsFile) removeIfEmpty(backup.createdSettingsFile);
    }
    const excluded = backup.excluded;
    if (excluded) await Lab.open(excluded.repo).then((lab) => lab.unexcludeLocally(excluded.lines)).catch(() => undefined);
    await this.state.update(BACKUP_KEY, undefined);
  }
}

/** Whether git tracks `file` in the repository at `repo` (false outside one, or when git cannot say). */
async function isTracked(repo: string | undefined, file: string): Promise<boolean> {
  const rel = repo ? relative(repo, file) : '';
  if (!repo || !rel || rel.startsWith('..') || isAbsolute(rel)) return false;
  return Lab.open(repo).then(async (lab) => (await lab.raw(['ls-files', '--', rel.split(sep).join('/')])).trim() !== '', () => false);
}

/** Deletes a settings file that holds nothing but `{}`, and its .vscode folder when that is left empty. */
function removeIfEmpty(file: string): void {
  try {
    const text = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
    if (text !== '{}' && text !== '') return;
    rmSync(file);
    const dir = join(file, '..');
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Gone already, or not ours to judge.
  }
}
