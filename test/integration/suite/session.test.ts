// A scripted session in the real extension host, on the workspace the runner opened: a fresh git copy of
// examples/quickstart limited to 3 experiments. Each test asserts what a user would check: the tree's
// labels, the status bar, the settings file, the journal and results.tsv on disk, the editor that opened.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { after, before, describe, it } from 'mocha';
import { fmtNum } from '../../../src/shared/format.js';
import type { AutoResearchApi } from '../../../src/extension/api.js';
import { Commands, EXTENSION_ID, LOG_SCHEME, NODE_SCHEME } from '../../../src/extension/constants.js';

interface NodeRecord { type: 'node'; node: { id: number; parentId: number | null; description: string; commit: string | null } }
interface DecideRecord { type: 'decide'; id: number; status: string; decidedBy: 'rule' | 'human'; reason: string; metric: number | null; restored?: true }
type Rec = NodeRecord | DecideRecord | { type: string };

const TAG = 'quickstart';

function records(root: string): Rec[] {
  return readFileSync(join(root, '.autoresearch', TAG, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
}

/** Each node's last decision, as the journal says. */
function decisions(root: string): Map<number, DecideRecord> {
  const out = new Map<number, DecideRecord>();
  for (const r of records(root)) if (r.type === 'decide') out.set((r as DecideRecord).id, r as DecideRecord);
  return out;
}

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function git(root: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8' });
}

/** `git status` as a person reads it, untracked files one by one: a session must leave it as it was. */
function gitStatus(root: string): string {
  return git(root, 'status', '--porcelain', '--untracked-files=all');
}

/** The editor tabs of webviews whose type contains `viewType`, with the group each is in. */
function webviewTabs(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes(viewType));
}

function nodeUri(root: string, node: number, path = 'train.py'): vscode.Uri {
  return vscode.Uri.from({ scheme: NODE_SCHEME, path: `/${path}`, query: JSON.stringify({ root, rev: { tag: TAG, node } }) });
}

describe('a research session driven from the editor', function () {
  this.timeout(180_000);
  let api: AutoResearchApi;
  let root: string;
  let cli: ChildProcess | undefined;
  let overridden: { id: number; rule: DecideRecord } | undefined;
  let statusBefore = '';

  before(async () => {
    root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    statusBefore = gitStatus(root);
    api = await vscode.extensions.getExtension<AutoResearchApi>(EXTENSION_ID)!.activate();
    await api.session.refresh();
  });

  after(() => {
    if (cli?.pid && cli.exitCode === null) cli.kill('SIGKILL');
  });

  it('finds the quickstart study and shows no session before Start', () => {
    assert.equal(api.session.location?.config?.tag, TAG);
    assert.equal(api.session.phase, 'none');
    assert.deepEqual(api.experiments.getChildren(), []);
    assert.equal(api.statusBar.text, '');
  });

  it('runs a session from "Start AutoResearch", with a ticking status bar and protected files read-only', async () => {
    // The moment a run ends, before its decision: the tree and the status bar must stop saying it runs.
    const atFinish: { id: number; tree: string; statusBar?: string }[] = [];
    const sub = api.session.onEngineEvent((e) => {
      if (e.type !== 'run-finished') return;
      const seen: { id: number; tree: string; statusBar?: string } = { id: e.node.id, tree: api.experiments.present(e.node.id)?.description ?? '' };
      atFinish.push(seen);
      // The status bar redraws on the change that follows the event.
      setImmediate(() => { seen.statusBar = api.statusBar.text; });
    });
    await vscode.commands.executeCommand(Commands.start);
    assert.equal(api.session.owner, 'here');
    // Mid-run: the experiment, its clock against the 10 s budget (as the tree writes it), the log's latest line.
    const text = await until('a running experiment in the status bar', () => /\d+:\d\d \/ 0:10/.test(api.statusBar.text) && api.statusBar.text);
    assert.match(text, /^\$\(loading~spin\) AutoResearch \d of 3 decided · (baseline|#\d+) running · \d+:\d\d \/ 0:10/);
    // One way to say progress: the Experiments view's line says what the status bar says, in the same words.
    await until('the same progress in the status bar and the Experiments view', () => {
      const said = /AutoResearch (\d of 3 decided(?: · [^·]+ (?:running|deciding…))*)/.exec(api.statusBar.text)?.[1];
      return !!said && (api.experiments.view.message ?? '').startsWith(`Running · ${said}`);
    });
    // One clock: the status bar and the running node's tree item read the same time, in the same words.
    const running = api.session.model!.nodes.find((n) => n && n.status === 'running' && !n.finishedAt);
    if (running) {
      const bar = / (\d+:\d\d \/ 0:10)/.exec(api.statusBar.text)?.[1];
      const tree = api.experiments.present(running.id)?.description ?? '';
      if (bar && !tree.includes('deciding')) assert.ok(tree.includes(`running ${bar}`), `status bar "${api.statusBar.text}", tree "${tree}"`);
    }
    await api.protectedFiles.settled();
    const readonly = vscode.workspace.getConfiguration('files', vscode.Uri.file(root)).inspect<Record<string, boolean>>('readonlyInclude')?.workspaceValue;
    assert.equal(readonly?.['prepare.py'], true, `files.readonlyInclude is ${JSON.stringify(readonly)}`);
    assert.ok(api.protectedFiles.isProtected(join(root, 'prepare.py')));
    assert.ok(!api.protectedFiles.isProtected(join(root, 'train.py')), 'the editable script must stay editable');
    const decoration = api.protectedFiles.provideFileDecoration(vscode.Uri.file(join(root, 'prepare.py')));
    assert.equal(decoration?.badge, 'RO');
    // The settings file that marks them is kept out of `git status` while it exists.
    assert.ok(existsSync(join(root, '.vscode', 'settings.json')), 'no settings file marks the protected files');
    assert.equal(gitStatus(root), statusBefore, 'the running session shows in git status');
    await api.session.waitFor((p) => p === 'done' || p === 'failed', 150_000);
    sub.dispose();
    assert.equal(api.session.phase, 'done', `the session ended ${api.session.phase}: ${api.session.model?.stateReason}`);
    assert.ok(atFinish.length >= 4, `${atFinish.length} runs finished`);
    for (const f of atFinish) {
      assert.doesNotMatch(f.tree, /^running/, `#${f.id} reads "${f.tree}" in the tree after its run finished`);
      assert.match(f.tree, /deciding|^\S/, `#${f.id}`);
      assert.doesNotMatch(f.statusBar ?? '', new RegExp(`${f.id === 0 ? 'baseline' : `#${f.id}`} running · \\d+:\\d\\d`), `#${f.id}'s clock still ticks in the status bar after its run finished`);
    }
  });

  it('shows every experiment in the tree, nested by parent, labelled with its number, description and metric', async () => {
    const fromJournal = records(root).filter((r): r is NodeRecord => r.type === 'node').map((r) => r.node);
    assert.equal(fromJournal.length, 4, 'a baseline and 3 experiments');
    const decided = decisions(root);
    const seen: number[] = [];
    const walk = (elements: { id: number }[], parent: number | null) => {
      for (const { id } of elements) {
        seen.push(id);
        const expected = fromJournal.find((n) => n.id === id)!;
        assert.equal(expected.parentId, parent, `#${id} is shown under the wrong parent`);
        const item = api.experiments.getTreeItem(api.experiments.element(id));
        assert.equal(item.label, `#${id} ${expected.description}`);
        const d = decided.get(id)!;
        const description = String(item.description);
        if (id === 0) assert.equal(description, `val_loss ${fmtNum(d.metric)}`);
        else if (d.status === 'keep' || d.status === 'discard') assert.ok(description.startsWith(`${fmtNum(d.metric)}  Δ `), `#${id}: "${description}"`);
        else assert.ok(description.startsWith(d.status), `#${id}: "${description}"`);
        const icon = item.iconPath as vscode.ThemeIcon;
        const best = api.session.model!.best!;
        const expectedIcon = id === best.id && id !== 0 ? 'star-full' : { keep: 'pass-filled', discard: 'circle-slash', crash: 'error', invalid: 'warning' }[d.status];
        assert.equal(icon.id, expectedIcon, `#${id} (${d.status}) has icon ${icon.id}`);
        assert.ok(item.tooltip instanceof vscode.MarkdownString && item.tooltip.value.includes(d.reason.slice(0, 20).replace(/[\\`*_{}[\]<>()#+\-.!|~]/g, '\\$&')), `#${id}: the tooltip does not say why it was decided`);
        assert.equal(item.command?.command, Commands.openNodeDiff);
        walk(api.experiments.getChildren(api.experiments.element(id)), id);
      }
    };
    walk(api.experiments.getChildren(), null);
    assert.deepEqual(seen.sort(), fromJournal.map((n) => n.id).sort());
    // The way to the best starts open, so the best is never hidden under collapsed nodes.
    const model = api.session.model!;
    for (const n of model.pathTo(model.best!.id)) {
      if (model.childrenOf(n.id).length === 0) continue;
      assert.equal(api.experiments.getTreeItem(api.experiments.element(n.id)).collapsibleState, vscode.TreeItemCollapsibleState.Expanded, `#${n.id} on the way to the best starts collapsed`);
    }
    await until('the view to say the session is done', () => /^Done: reached 3 experiments/.test(api.experiments.view.message ?? ''), 5000);
  });

  it('shows the best metric in the status bar once the session is idle', () => {
    const best = api.session.model!.best!;
    assert.equal(api.statusBar.text, `$(beaker) val_loss ${fmtNum(best.metric)}${best.id === 0 ? ' (baseline)' : ` (#${best.id})`}`);
  });

  it('gives protected files back when the session ends: the workspace settings are as before', async () => {
    await api.protectedFiles.settled();
    const readonly = vscode.workspace.getConfiguration('files', vscode.Uri.file(root)).inspect('readonlyInclude')?.workspaceValue;
    assert.equal(readonly, undefined);
    assert.ok(!existsSync(join(root, '.vscode', 'settings.json')), 'the .vscode/settings.json it created is still there');
    assert.ok(!api.protectedFiles.isProtected(join(root, 'prepare.py')));
    assert.equal(gitStatus(root), statusBefore);
    assert.doesNotMatch(readFileSync(join(root, '.git', 'info', 'exclude'), 'utf8'), /settings\.json/, 'the exclude line for the settings file is still there');
  });

  it('opened the summary as a rendered preview (not raw Markdown) when the session finished', async () => {
    const summary = join(root, 'autoresearch-summary.md');
    await until('the summary preview', () => webviewTabs('markdown.preview').find((t) => t.label.includes('autoresearch-summary.md')));
    assert.ok(!vscode.window.visibleTextEditors.some((e) => e.document.uri.fsPath === summary), 'the summary opened as a text editor');
    assert.match(readFileSync(summary, 'utf8'), /^# AutoResearch summary: quickstart/);
  });

  it('shows the summary beside the results view, not on top of it', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand(Commands.showResults);
    const results = await until('the results view', () => webviewTabs('autoresearch.results')[0]);
    await vscode.commands.executeCommand(Commands.showSummary);
    const preview = await until('the summary preview', () => webviewTabs('markdown.preview').find((t) => t.label.includes('autoresearch-summary.md')));
    const resultsNow = webviewTabs('autoresearch.results')[0]!;
    assert.notEqual(preview.group.viewColumn, resultsNow.group.viewColumn, 'the summary opened in the results view\'s group');
    assert.ok(resultsNow.isActive, 'the results view is no longer the shown tab of its group');
    assert.ok(preview.isActive);
    assert.equal(results.label, resultsNow.label);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('selects and reveals the best experiment with "Reveal Best"', async () => {
    const best = api.session.model!.best!;
    await vscode.commands.executeCommand('workbench.actions.treeView.autoresearch.experiments.collapseAll');
    await vscode.commands.executeCommand(Commands.revealBest);
    await until('the best to be selected in the view', () => api.experiments.view.selection[0]?.id === best.id, 10_000);
    assert.ok(api.experiments.view.visible, 'the Experiments view is not showing');
  });

  it('opens a run log read-only, under a header that says whose it is and how it ended', async () => {
    const node = api.session.model!.nodes.find((n) => n && n.id !== 0 && n.logPath)!;
    await vscode.commands.executeCommand(Commands.openNodeLog, node.id);
    const editor = await until('the run log editor', () => vscode.window.activeTextEditor?.document.uri.scheme === LOG_SCHEME && vscode.window.activeTextEditor);
    const text = editor.document.getText();
    assert.ok(text.startsWith(`# Run log of #${node.id} ${node.description}`), text.slice(0, 200));
    assert.match(text, new RegExp(`^# ${node.status}, decided by`, 'm'));
    assert.ok(text.endsWith(readFileSync(node.logPath!, 'utf8')), 'the log below the header is not the file');
    // The editor refuses the edit (a content provider's document is read-only).
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'x'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(editor.document.getText(), text, 'the run log took an edit');
    assert.equal(editor.document.isDirty, false);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('journals a keep override as decided by a human, and shows it in the tree, results.tsv and the summary', async () => {
    const before = decisions(root);
    const target = [...before.values()].find((d) => d.id !== 0 && d.status === 'discard' && d.metric !== null && Number.isFinite(d.metric))
      ?? [...before.values()].find((d) => d.id !== 0 && d.status === 'keep');
    assert.ok(target, 'no experiment to override');
    const status = target.status === 'discard' ? 'keep' : 'discard';
    await vscode.commands.executeCommand(status === 'keep' ? Commands.keepNode : Commands.discardNode, target.id);
    const after = decisions(root).get(target.id)!;
    assert.equal(after.decidedBy, 'human');
    assert.equal(after.status, status);
    const row = readFileSync(join(root, 'results.tsv'), 'utf8').split('\n').find((l) => l.includes(`[${status} by human`));
    assert.ok(row, 'results.tsv does not show the human decision');
    assert.equal(row.split('\t')[3], status);
    await until('the tree to show the override', () => String(api.experiments.getTreeItem(api.experiments.element(target.id)).description).includes(status === 'keep' ? 'kept by you' : 'discarded by you'));
    assert.match(readFileSync(join(root, 'autoresearch-summary.md'), 'utf8'), new RegExp(`## Human decisions[\\s\\S]*#${target.id} marked \\*\\*${status}\\*\\*`));
    overridden = { id: target.id, rule: target };
  });

  it("undoes the override (back to the rule's status): the rule's own decision again, not one by you", async () => {
    const { id, rule } = overridden!;
    // What the toast's Undo sends: the status the node had.
    await vscode.commands.executeCommand(rule.status === 'keep' ? Commands.keepNode : Commands.discardNode, id);
    const after = decisions(root).get(id)!;
    assert.equal(after.decidedBy, 'rule');
    assert.equal(after.restored, true);
    assert.equal(after.status, rule.status);
    assert.equal(after.reason, rule.reason);
    await until("the tree to show the rule's decision", () => !/by you/.test(String(api.experiments.getTreeItem(api.experiments.element(id)).description)));
    const tip = api.experiments.getTreeItem(api.experiments.element(id)).tooltip as vscode.MarkdownString;
    assert.match(tip.value, /decided by the rule/);
    assert.ok(!readFileSync(join(root, 'results.tsv'), 'utf8').includes('by human'), 'results.tsv still shows a human decision');
    assert.doesNotMatch(readFileSync(join(root, 'autoresearch-summary.md'), 'utf8'), new RegExp(`#${id} marked`));
  });

  it('reads any node\'s code through the read-only autoresearch-node: file system, and refuses writes', async () => {
    for (const id of [0, 1, 2]) {
      const commit = git(root, 'rev-parse', `refs/autoresearch/${TAG}/nodes/${id}`).trim();
      const uri = nodeUri(root, id);
      const bytes = await vscode.workspace.fs.readFile(uri);
      assert.equal(Buffer.from(bytes).toString('utf8'), git(root, 'show', `${commit}:train.py`));
      const stat = await vscode.workspace.fs.stat(uri);
      assert.equal(stat.permissions, vscode.FilePermission.Readonly);
    }
    const uri = nodeUri(root, 1);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, Buffer.from('x = 1\n'))), (e: unknown) => e instanceof vscode.FileSystemError && /NoPermissions/.test(e.code));
    await assert.rejects(Promise.resolve(vscode.workspace.fs.delete(uri)), (e: unknown) => e instanceof vscode.FileSystemError && /NoPermissions/.test(e.code));
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(nodeUri(root, 1, 'no-such-file.py'))), (e: unknown) => e instanceof vscode.FileSystemError && /FileNotFound/.test(e.code));
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.match(doc.getText(), /LEARNING_RATE/);
  });

  it('opens a diff of a node against its parent when its tree item is clicked', async () => {
    const node = api.session.model!.nodes.find((n) => n && n.id !== 0 && n.commit && n.changedFiles.length === 1)!;
    const command = api.experiments.getTreeItem(api.experiments.element(node.id)).command!;
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    const tab = await until('a diff editor', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputTextDiff ? t : undefined;
    });
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.original.scheme, NODE_SCHEME);
    assert.equal(input.modified.scheme, NODE_SCHEME);
    assert.ok(tab.label.includes(`#${node.parentId} ↔ #${node.id}`), `tab label "${tab.label}"`);
    const [left, right] = await Promise.all([vscode.workspace.openTextDocument(input.original), vscode.workspace.openTextDocument(input.modified)]);
    assert.notEqual(left.getText(), right.getText());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('follows a session that the CLI runs, then shows it interrupted when that process dies', async () => {
    const cliPath = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
    const nodesBefore = api.session.model!.nodes.length;
    cli = spawn(process.execPath, [cliPath, 'run', '--max-experiments', '6'], { cwd: root, stdio: 'ignore' });
    await until('the CLI session to show as running elsewhere', () => api.session.owner === 'elsewhere' && api.session.phase === 'running', 30_000);
    assert.equal(api.session.lockHolder?.pid, cli.pid);
    // The tree follows the journal the CLI writes.
    await until('a node the CLI added', () => api.experiments.getChildren().length > 0 && api.session.model!.nodes.length > nodesBefore + 1, 60_000);
    assert.match(api.experiments.view.message ?? '', new RegExp(`run by pid ${cli.pid}`));
    cli.kill('SIGKILL');
    await until('the dead session to show as interrupted', () => api.session.phase === 'interrupted', 15_000);
    assert.equal(api.session.owner, 'none');
    assert.match(api.statusBar.text, /^\$\(debug-disconnect\) AutoResearch interrupted/);
  });

  it('resumes the interrupted session in this window and finishes it', async () => {
    await vscode.commands.executeCommand(Commands.resume);
    assert.equal(api.session.owner, 'here');
    await api.session.waitFor((p) => p === 'done' || p === 'failed', 150_000);
    assert.equal(api.session.phase, 'done', String(api.session.model?.stateReason));
    assert.equal(api.session.model!.decidedCount, 6);
    // Nothing counted twice: every node decided once by the rule, none left undecided.
    assert.deepEqual(api.session.model!.undecided(), []);
  });

  it('marks a session this window was running as interrupted when the window goes away (reload)', async () => {
    await api.session.start({ maxExperiments: 8 });
    await until('the resumed session to run an experiment', () => api.session.model!.nodes.some((n) => n && n.status === 'running'), 30_000);
    // What deactivate() does on a reload: stop cleanly and remember why.
    await api.session.shutdown();
    // A clean stop ends the run's process group (SIGTERM, SIGKILL after graceSeconds) and journals it: on a loaded
    // 2-core machine that took over 15 s once.
    await until('the session to show as interrupted', () => api.session.phase === 'interrupted', 30_000);
    assert.equal(api.session.owner, 'none');
    assert.equal(api.session.model!.state, 'stopped');
  });
});


describe('steering a running session and reading a bad config', function () {
  this.timeout(120_000);
  let api: AutoResearchApi;
  let root: string;

  before(async () => {
    root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    api = await vscode.extensions.getExtension<AutoResearchApi>(EXTENSION_ID)!.activate();
  });

  it('pauses, resumes and stops from the commands, with the status bar following', async () => {
    assert.equal(api.session.phase, 'interrupted');
    await vscode.commands.executeCommand(Commands.resume);
    await until('the session to run', () => api.session.phase === 'running', 30_000);
    await vscode.commands.executeCommand(Commands.pause);
    await until('the session to pause', () => api.session.phase === 'paused', 10_000);
    assert.match(api.statusBar.text, /^\$\(debug-pause\) AutoResearch paused/);
    await until('the view to say paused', () => /^Paused/.test(api.experiments.view.message ?? ''), 5_000);
    await vscode.commands.executeCommand(Commands.resume);
    await until('the session to run again', () => api.session.phase === 'running', 10_000);
    await vscode.commands.executeCommand(Commands.stop);
    await api.session.waitFor((p) => p === 'stopped' || p === 'done', 60_000);
    // Read again: the assertion above narrowed the phase to 'interrupted' for the type checker.
    const final: string = api.session.phase;
    const states = records(root).filter((r): r is { type: 'state'; state: string } => r.type === 'state').map((r) => r.state);
    assert.ok(states.includes('paused'), 'the journal never recorded the pause');
    assert.equal(states.at(-1), final === 'done' ? 'done' : 'stopped');
  });

  it('puts config errors on the config file as diagnostics, at the key that is wrong', async () => {
    const file = join(root, 'autoresearch.config.yaml');
    const good = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, good.replace(/^budget: .*$/m, 'budget: soon'));
      await api.session.refresh();
      const uri = vscode.Uri.file(file);
      const diagnostics = await until('a diagnostic on the config', () => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.length ? d : undefined;
      }, 10_000);
      assert.match(diagnostics[0]!.message, /^budget: got "soon", expected a duration like 90s, 5m, 1h or 1h30m/);
      const line = good.split('\n').findIndex((l) => l.startsWith('budget:'));
      assert.equal(diagnostics[0]!.range.start.line, line);
    } finally {
      writeFileSync(file, good);
      await api.session.refresh();
    }
    await until('the diagnostic to clear', () => vscode.languages.getDiagnostics(vscode.Uri.file(file)).length === 0, 10_000);
  });
});

describe('the user\'s repository after a whole VS Code session', function () {
  it('reads in git status as it did before the first Start', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    // The last Stop's restore of the settings may still be on its way.
    await (await vscode.extensions.getExtension<AutoResearchApi>(EXTENSION_ID)!.activate()).protectedFiles.settled();
    // The workspace is a fresh commit of the example: nothing is modified or untracked before the session.
    assert.equal(gitStatus(root), '', 'git status after the sessions, the CLI run, the overrides and the reload');
    assert.ok(!existsSync(join(root, '.vscode')), 'a .vscode folder was left behind');
  });
});

describe('a repository that commits its .vscode/settings.json', function () {
  this.timeout(120_000);

  it('marks protected files read-only from the user settings instead, so git status stays clean while a session runs', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const api = await vscode.extensions.getExtension<AutoResearchApi>(EXTENSION_ID)!.activate();
    const settingsFile = join(root, '.vscode', 'settings.json');
    const committed = '{\n  // the team\'s editor settings\n  "editor.tabSize": 4\n}\n';
    mkdirSync(join(root, '.vscode'), { recursive: true });
    writeFileSync(settingsFile, committed);
    git(root, 'add', '.vscode/settings.json');
    git(root, '-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'team settings');
    assert.equal(gitStatus(root), '');
    await api.session.start({ maxExperiments: api.session.model!.decidedCount + 20 });
    await until('the session to run', () => api.session.phase === 'running', 30_000);
    await api.protectedFiles.settled();
    const readonly = vscode.workspace.getConfiguration('files').inspect<Record<string, boolean>>('readonlyInclude');
    assert.equal(readonly?.globalValue?.[`${root.split('\\').join('/')}/prepare.py`], true, `files.readonlyInclude is ${JSON.stringify(readonly)}`);
    assert.equal(readonly?.workspaceValue, undefined, 'the committed settings file got the keys');
    assert.equal(readFileSync(settingsFile, 'utf8'), committed);
    assert.equal(gitStatus(root), '', 'the running session shows in git status');
    await vscode.commands.executeCommand(Commands.stop);
    await api.session.waitFor((p) => p === 'stopped' || p === 'done', 60_000);
    await api.protectedFiles.settled();
    assert.equal(vscode.workspace.getConfiguration('files').inspect('readonlyInclude')?.globalValue, undefined, 'the user settings keep the paths');
    assert.equal(readFileSync(settingsFile, 'utf8'), committed);
    assert.equal(gitStatus(root), '');
  });
});

describe('the summary while a session runs', function () {
  this.timeout(120_000);

  it('keeps an open summary preview current: the file is rewritten as experiments are decided', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const api = await vscode.extensions.getExtension<AutoResearchApi>(EXTENSION_ID)!.activate();
    const summary = join(root, 'autoresearch-summary.md');
    const decided = () => Number(/^- Experiments: (\d+) decided/m.exec(readFileSync(summary, 'utf8'))?.[1] ?? -1);
    await api.session.start({ maxExperiments: api.session.model!.decidedCount + 20 });
    await until('the session to run', () => api.session.phase === 'running', 30_000);
    await vscode.commands.executeCommand(Commands.showSummary);
    await until('the summary preview', () => webviewTabs('markdown.preview').find((t) => t.label.includes('autoresearch-summary.md')));
    const first = decided();
    assert.ok(first >= 0, 'the summary has no Experiments line');
    // Nobody asked for the summary again: the open preview's file follows the session by itself.
    await until('the summary to count a newly decided experiment', () => decided() > first, 60_000);
    await vscode.commands.executeCommand(Commands.stop);
    await api.session.waitFor((p) => p === 'stopped' || p === 'done', 60_000);
    await api.protectedFiles.settled();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
