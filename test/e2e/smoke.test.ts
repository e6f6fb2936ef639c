// The rig's own UI check: the smoke fixture's command, run from the palette, changes the real status bar.
import * as assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { VSCode } from './rig.js';
import { buildSmokeExtension, packSmokeExtension, smokeWorkspace } from '../fixtures/smoke-extension/build.mjs';

const HELLO = 'Smoke: hello from the extension host';

async function helloFromPalette(code: VSCode, screenshot: string): Promise<void> {
  assert.equal(await code.statusBarItem(HELLO).count(), 0, 'the status bar shows the text before the command ran');
  await code.runCommand('Smoke: Hello');
  await code.statusBarItem(HELLO).waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal((await code.statusBarItem(HELLO).innerText()).trim(), HELLO);
  const file = await code.screenshot(screenshot);
  assert.ok(existsSync(file) && statSync(file).size > 10_000, `screenshot ${file} is missing or empty`);
}

describe('smoke extension in the VS Code UI', { timeout: 180_000 }, () => {
  describe('loaded as a development extension', () => {
    let code: VSCode | undefined;
    before(async () => {
      const extensionDevelopmentPath = await buildSmokeExtension();
      code = await VSCode.start({ name: 'smoke-dev', folder: smokeWorkspace, extensionDevelopmentPath });
    });
    after(async () => { await code?.dispose(); });

    it('shows the hello text in the status bar after "Smoke: Hello" from the command palette', async () => {
      assert.ok(code);
      await helloFromPalette(code, 'smoke-dev-hello');
    });

    it('renders its webview after "Smoke: Show Panel"', async () => {
      assert.ok(code);
      await code.runCommand('Smoke: Show Panel');
      const greeting = code.webviewFrame().locator('#greeting');
      await greeting.waitFor({ state: 'visible', timeout: 15_000 });
      assert.equal(await greeting.innerText(), 'Hello from a smoke webview');
      await code.screenshot('smoke-dev-webview');
    });
  });

  describe('installed from a VSIX', () => {
    let code: VSCode | undefined;
    before(async () => {
      const vsix = await packSmokeExtension();
      code = await VSCode.start({ name: 'smoke-vsix', folder: smokeWorkspace, vsix });
    });
    after(async () => { await code?.dispose(); });

    it('shows the hello text in the status bar after "Smoke: Hello" from the command palette', async () => {
      assert.ok(code);
      await helloFromPalette(code, 'smoke-vsix-hello');
    });
  });
});
