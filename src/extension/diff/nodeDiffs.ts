// Diffs of experiments: a node against its parent (what the experiment changed), against the best, and
// the best against the user's HEAD (before applying). One file opens vscode.diff; several open the
// multi-file changes editor.
import * as vscode from 'vscode';
import { truncate } from '../../shared/format.js';
import { Lab, type FileChange } from '../../core/git.js';
import { matchesAny } from '../../core/glob.js';
import type { ExperimentNode } from '../../core/types.js';
import { nodeFileUri, type NodeRev } from '../nodeFs/nodeFileSystem.js';
import type { SessionService } from '../session/sessionService.js';

/** Files that differ between two commits (renames as delete + add). */
async function changedFiles(root: string, from: string, to: string): Promise<FileChange[]> {
  return (await Lab.open(root)).fileChanges(from, to);
}

function allTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

export class NodeDiffs {
  constructor(private readonly session: SessionService) {}

  private require(id: number): { node: ExperimentNode; root: string } {
    const node = this.session.model?.get(id);
    const root = this.session.location?.repoRoot;
    if (!node || !root) throw new Error(`There is no experiment #${id} in this session.`);
    return { node, root };
  }

  /** Opens what an experiment changed, against its parent. */
  async openNodeDiff(id: number): Promise<void> {
    const found = this.require(id);
    const root = found.root;
    let node = found.node;
    const model = this.session.model!;
    // A re-run has its original's code: show what the original changed.
    if (node.operator === 'rerun' && node.parentId !== null) node = model.get(node.parentId) ?? node;
    if (!node.commit) {
      void vscode.window.showInformationMessage(`#${node.id} has no code: ${node.reason || 'the proposal failed before anything was committed'}.`);
      return;
    }
    const parent = node.parentId === null ? undefined : model.get(node.parentId);
    if (!parent?.commit) {
      await this.openBaseline(node, root);
      return;
    }
    const changes = await changedFiles(root, parent.commit, node.commit);
    await this.openChanges(root, parent.commit, node.commit, changes, {
      title: `#${parent.id} ↔ #${node.id} ${truncate(node.description, 60)}`,
      fileTitle: (path) => `${path} (#${parent.id} ↔ #${node.id}) ${truncate(node.description, 48)}`,
      empty: `#${node.id} (${node.description}) changed no file compared with #${parent.id}.`,
    });
  }

  /** Opens the difference between the best experiment and this one. */
  async compareWithBest(id: number): Promise<void> {
    const { node, root } = this.require(id);
    const best = this.session.model?.best;
    if (!best?.commit) {
      void vscode.window.showInformationMessage('No experiment has been kept yet, so there is no best to compare with.');
      return;
    }
    if (!node.commit) {
      void vscode.window.showInformationMessage(`#${node.id} has no code to compare.`);
      return;
    }
    if (best.id === node.id) {
      void vscode.window.showInformationMessage(`#${node.id} is the best experiment.`);
      return;
    }
    const changes = await changedFiles(root, best.commit, node.commit);
    await this.openChanges(root, best.commit, node.commit, changes, {
      title: `best #${best.id} ↔ #${node.id} ${truncate(node.description, 60)}`,
      fileTitle: (path) => `${path} (best #${best.id} ↔ #${node.id})`,
      empty: `#${node.id} has the same code as the best, #${best.id}.`,
    });
  }

  /**
   * The user's HEAD against a commit (the preview before applying the best), in `column`. Resolves the files that
   * differ and a close() that closes the editors this preview opened (and only those).
   */
  async openAgainstHead(root: string, head: string, commit: string, title: string, column?: vscode.ViewColumn): Promise<{ changes: FileChange[]; close: () => Promise<void> }> {
    const changes = await changedFiles(root, head, commit);
    // Tabs are snapshots: they are told apart by group and label.
    const key = (t: vscode.Tab) => `${t.group.viewColumn}\u0000${t.label}`;
    const before = new Set(allTabs().map(key));
    await this.openChanges(root, head, commit, changes, { title, fileTitle: (path) => `${path} (${title})`, empty: '' }, column);
    const opened = new Set(allTabs().map(key).filter((k) => !before.has(k)));
    const close = async () => {
      const still = allTabs().filter((t) => opened.has(key(t)));
      if (still.length) await vscode.window.tabGroups.close(still, true);
    };
    return { changes, close };
  }

  private async openChanges(
    root: string, from: string, to: string, changes: FileChange[],
    text: { title: string; fileTitle: (path: string) => string; empty: string },
    column?: vscode.ViewColumn,
  ): Promise<void> {
    if (changes.length === 0) {
      if (text.empty) void vscode.window.showInformationMessage(text.empty);
      return;
    }
    const side = (rev: NodeRev, path: string) => nodeFileUri(root, rev, path);
    const empty: NodeRev = { empty: true };
    const pairs = changes.map((c) => ({
      path: c.path,
      left: side(c.status === 'A' ? empty : { commit: from }, c.path),
      right: side(c.status === 'D' ? empty : { commit: to }, c.path),
    }));
    if (pairs.length === 1) {
      const p = pairs[0]!;
      await vscode.commands.executeCommand('vscode.diff', p.left, p.right, text.fileTitle(p.path), { preview: true, ...(column !== undefined ? { viewColumn: column } : {}) });
      return;
    }
    // The multi-file changes editor opens in the active group: make the group beside it active first.
    if (column === vscode.ViewColumn.Beside && vscode.window.tabGroups.activeTabGroup.tabs.length > 0) {
      const active = vscode.window.tabGroups.activeTabGroup.viewColumn;
      const right = vscode.window.tabGroups.all.some((g) => g.viewColumn > active);
      await vscode.commands.executeCommand(right ? 'workbench.action.focusRightGroup' : 'workbench.action.newGroupRight');
    }
    await vscode.commands.executeCommand('vscode.changes', text.title, pairs.map((p) => [p.right, p.left, p.right]));
  }

  /** The baseline has no parent: show its editable files as committed. */
  private async openBaseline(node: ExperimentNode, root: string): Promise<void> {
    const editable = this.session.config?.editable ?? [];
    const files = (await (await Lab.open(root)).filesAt(node.commit!)).filter((f) => matchesAny(f, editable));
    if (files.length === 0) {
      void vscode.window.showInformationMessage(`#${node.id} is the starting point; no file in it matches the editable globs.`);
      return;
    }
    for (const f of files.slice(0, 5)) {
      await vscode.window.showTextDocument(nodeFileUri(root, { commit: node.commit! }, f), { preview: files.length === 1 });
    }
  }
}
