// A read-only file system over the engine's git objects: `autoresearch-node:/train.py?{root,rev}` is
// train.py as committed by an experiment (discarded ones too, since every node keeps a ref), so the
// editor can diff any node against any other without touching the working tree.
import * as vscode from 'vscode';
import { Lab, nodeRef } from '../../core/git.js';
import { NODE_SCHEME } from '../constants.js';

/** A revision: a commit, a node of a session, or nothing (the empty side of an added or deleted file). */
export type NodeRev = { commit: string } | { tag: string; node: number } | { empty: true };

export interface NodeFileQuery {
  /** The git repository. */
  root: string;
  rev: NodeRev;
}

export function nodeFileUri(root: string, rev: NodeRev, path: string): vscode.Uri {
  const query: NodeFileQuery = { root, rev };
  return vscode.Uri.from({ scheme: NODE_SCHEME, path: `/${path.replace(/^\/+/, '')}`, query: JSON.stringify(query) });
}

export function parseNodeFileUri(uri: vscode.Uri): { query: NodeFileQuery; path: string } {
  if (uri.scheme !== NODE_SCHEME) throw vscode.FileSystemError.FileNotFound(uri);
  let query: NodeFileQuery;
  try {
    query = JSON.parse(uri.query) as NodeFileQuery;
  } catch {
    throw vscode.FileSystemError.FileNotFound(uri);
  }
  if (!query || typeof query.root !== 'string' || typeof query.rev !== 'object' || query.rev === null) throw vscode.FileSystemError.FileNotFound(uri);
  return { query, path: uri.path.replace(/^\/+/, '') };
}

export const READONLY_MESSAGE = new vscode.MarkdownString(
  "This is an experiment's code as AutoResearch committed it, read from git: it is read-only. "
  + "To work on it, use **Check Out This Node's Code** in the Experiments view.",
);

export class NodeFileSystem implements vscode.FileSystemProvider {
  private readonly _onDidChangeFile = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this._onDidChangeFile.event;
  /** Git objects never change: contents are cached by commit and path (small LRU). */
  private readonly contents = new Map<string, Uint8Array>();
  private readonly commits = new Map<string, string>();
  private readonly labs = new Map<string, Promise<Lab>>();

  static register(): vscode.Disposable {
    const provider = new NodeFileSystem();
    return vscode.Disposable.from(
      provider._onDidChangeFile,
      vscode.workspace.registerFileSystemProvider(NODE_SCHEME, provider, { isCaseSensitive: true, isReadonly: READONLY_MESSAGE }),
    );
  }

  private lab(root: string): Promise<Lab> {
    let lab = this.labs.get(root);
    if (!lab) {
      lab = Lab.open(root);
      // A folder that is not a repository yet may become one: ask again next time.
      lab.catch(() => this.labs.delete(root));
      this.labs.set(root, lab);
    }
    return lab;
  }

  private async commitOf(root: string, rev: NodeRev): Promise<string | null> {
    if ('empty' in rev) return null;
    const spec = 'commit' in rev ? rev.commit : nodeRef(rev.tag, rev.node);
    const key = `${root}\0${spec}`;
    let commit = this.commits.get(key);
    if (!commit) {
      commit = (await (await this.lab(root)).resolve(spec)) ?? '';
      if (!commit) throw new Error(`no such revision ${spec}`);
      // Node refs do not move once written, and commits are commits.
      this.commits.set(key, commit);
    }
    return commit;
  }

  private async read(uri: vscode.Uri): Promise<Uint8Array> {
    const { query, path } = parseNodeFileUri(uri);
    let commit: string | null;
    try {
      commit = await this.commitOf(query.root, query.rev);
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    if (commit === null) return new Uint8Array(0);
    const key = `${query.root}\0${commit}\0${path}`;
    const cached = this.contents.get(key);
    if (cached) return cached;
    let data: Uint8Array;
    try {
      data = await (await this.lab(query.root)).readFileAt(commit, path);
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    this.contents.set(key, data);
    if (this.contents.size > 64) this.contents.delete(this.contents.keys().next().value!);
    return data;
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const data = await this.read(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: 0, size: data.byteLength, permissions: vscode.FilePermission.Readonly };
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.read(uri);
  }

  watch(): vscode.Disposable {
    // Committed code never changes.
    return new vscode.Disposable(() => undefined);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  private refuse(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(`${uri.path.slice(1)} is an experiment's committed code and is read-only. Check out the node's code to edit it.`);
  }

  createDirectory(uri: vscode.Uri): void {
    this.refuse(uri);
  }

  writeFile(uri: vscode.Uri): void {
    this.refuse(uri);
  }

  delete(uri: vscode.Uri): void {
    this.refuse(uri);
  }

  rename(uri: vscode.Uri): void {
    this.refuse(uri);
  }
}
