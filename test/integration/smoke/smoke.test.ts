// The rig's own check: the smoke fixture runs in a real extension host against the real vscode API.
import * as assert from 'node:assert/strict';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { before, describe, it } from 'mocha';
import type { SmokeApi } from '../../fixtures/smoke-extension/src/extension.js';

const EXTENSION_ID = 'autoresearch-test.smoke-extension';

function versionAtLeast(version: string, min: [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

describe('smoke extension in a real extension host', () => {
  let api: SmokeApi;

  before(async () => {
    const extension = vscode.extensions.getExtension<SmokeApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded as the development extension`);
    api = await extension.activate();
  });

  it('runs on VS Code 1.104 or newer', () => {
    assert.ok(versionAtLeast(vscode.version, [1, 104]), `vscode.version is ${vscode.version}`);
  });

  it('registers smoke.hello with the command registry', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('smoke.hello'));
  });

  it('puts its text in the status bar when smoke.hello runs', async () => {
    assert.equal(api.statusText(), '');
    const returned = await vscode.commands.executeCommand<string>('smoke.hello');
    assert.equal(returned, 'Smoke: hello from the extension host');
    assert.equal(api.statusText(), '$(check) Smoke: hello from the extension host');
  });

  it('offers the language model chat provider API (finalised in 1.104)', () => {
    assert.equal(typeof vscode.lm.registerLanguageModelChatProvider, 'function');
  });

  it('opens the requested folder and passes the runner environment through', () => {
    assert.equal(basename(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? ''), 'workspace');
    assert.equal(process.env.AUTORESEARCH_RIG_MARKER, 'reached-the-extension-host');
  });
});
