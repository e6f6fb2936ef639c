// A commit of a bare results.tsv (no session, so no node refs): `git show` of it as a read-only document.
import * as vscode from 'vscode';
import { Lab } from '../../core/git.js';

const SCHEME = 'autoresearch-commit';
let registration: vscode.Disposable | undefined;

function ensureProvider(): void {
  registration ??= vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
    provideTextDocumentContent: async (uri) => {
      const { folder, commit } = JSON.parse(uri.query) as { folder: string; commit: string };
      if (!/^[0-9a-f]{4,40}$/i.test(commit)) return `"${commit}" is not a commit hash.`;
      try {
        return await (await Lab.open(folder)).showCommit(commit);
      } catch (e) {
        return `Commit ${commit} is not in the repository at ${folder}:\n${(e as Error).message}`;
      }
    },
  });
}

export async function openCommitDocument(commit: string, folder: vscode.Uri): Promise<void> {
  ensureProvider();
  const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${commit}.diff`, query: JSON.stringify({ folder: folder.fsPath, commit }) });
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'diff');
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
}

export function disposeCommitDocuments(): void {
  registration?.dispose();
  registration = undefined;
}
