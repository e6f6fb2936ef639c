// The extension as VS Code loads it: activated by the workspace's config, every contributed command
// registered with a handler, and nothing else claiming its ids.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { before, describe, it } from 'mocha';
import type { AutoResearchApi } from '../../../src/extension/api.js';
import { Commands, EXTENSION_ID, NODE_SCHEME, Views } from '../../../src/extension/constants.js';

interface Manifest {
  activationEvents: string[];
  contributes: { commands: { command: string }[] };
}

describe('the AutoResearch extension in a real extension host', () => {
  let extension: vscode.Extension<AutoResearchApi>;

  before(() => {
    const found = vscode.extensions.getExtension<AutoResearchApi>(EXTENSION_ID);
    assert.ok(found, `${EXTENSION_ID} is not loaded as the development extension`);
    extension = found;
  });

  it('was activated by the workspace, which holds an autoresearch.config.yaml', async () => {
    // workspaceContains:autoresearch.config.yaml activates it while the window starts; give it a moment.
    for (let i = 0; i < 50 && !extension.isActive; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(extension.isActive, 'not active although the workspace has a research config');
    const manifest = extension.packageJSON as Manifest;
    assert.ok(manifest.activationEvents.includes('workspaceContains:autoresearch.config.yaml'));
  });

  it('registers every command it contributes, and the ones its code names', async () => {
    const api = await extension.activate();
    assert.ok(api.session, 'activate() returned no API');
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = (extension.packageJSON as Manifest).contributes.commands.map((c) => c.command);
    const missing = [...new Set([...contributed, ...Object.values(Commands)])].filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
    assert.ok(registered.has(`${Views.experiments}.focus`), 'the Experiments view is not contributed');
  });

  it('owns the autoresearch-node: scheme as a read-only file system', () => {
    const fs = vscode.workspace.fs;
    assert.equal(fs.isWritableFileSystem(NODE_SCHEME), false);
  });
});
