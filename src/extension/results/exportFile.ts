// Saves a chart or tree the webview exported (SVG text or a PNG data URL) where the user chooses.
import * as vscode from 'vscode';
import type { WebviewMessage } from '../../shared/protocol.js';

type ExportMessage = Extract<WebviewMessage, { type: 'export' }>;

const MAX_BYTES = 100 * 1024 * 1024;
const PNG_PREFIX = 'data:image/png;base64,';

/** The bytes to write; refuses what is not the SVG or PNG it claims to be (the webview is untrusted). */
export function exportBytes(m: ExportMessage): Uint8Array {
  if (m.format === 'svg') {
    if (!m.data.trimStart().startsWith('<svg')) throw new Error('the exported SVG is not an SVG document');
    return new TextEncoder().encode(m.data);
  }
  if (!m.data.startsWith(PNG_PREFIX)) throw new Error('the exported PNG is not a PNG data URL');
  const bytes = Buffer.from(m.data.slice(PNG_PREFIX.length), 'base64');
  if (bytes.length < 8 || bytes[0] !== 0x89 || bytes[1] !== 0x50) throw new Error('the exported PNG is not a PNG image');
  return bytes;
}

export async function saveExport(m: ExportMessage, near?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (m.data.length > MAX_BYTES) throw new Error('the export is too large');
  const bytes = exportBytes(m);
  const name = m.fileName.replace(/[\\/:*?"<>|]+/g, '-') || `results.${m.format}`;
  const base = near ? near.with({ path: near.path.slice(0, near.path.lastIndexOf('/')) }) : vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: `Export the ${m.view === 'chart' ? 'progress chart' : 'search tree'}`,
    defaultUri: base ? vscode.Uri.joinPath(base, name) : undefined,
    filters: m.format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
  });
  if (!target) return undefined;
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(`Saved ${target.path.slice(target.path.lastIndexOf('/') + 1)}.`, 'Open').then((choice) => {
    if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
  });
  return target;
}
