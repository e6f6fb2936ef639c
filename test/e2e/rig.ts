// Drives a real VS Code UI (code-server 4.117 = VS Code 1.117, headless Chromium) for end-to-end tests.
//   const code = await VSCode.start({ name: 'smoke', folder, extensionDevelopmentPath });
//   await code.runCommand('Smoke: Hello');
//   await code.statusBarItem('hello').waitFor();
//   await code.screenshot('smoke-hello');
//   await code.dispose();
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { provision, repoRoot } from '../../scripts/vscode-rig/provision.mjs';
import type { ReadyRig } from '../../scripts/vscode-rig/provision.mjs';
import { startSession } from '../../scripts/vscode-rig/session.mjs';
import type { Session } from '../../scripts/vscode-rig/session.mjs';

export const outputDir = join(repoRoot, 'test-output');
export const screenshotDir = join(outputDir, 'screenshots');
const logDir = join(outputDir, 'e2e');

export interface VSCodeOptions {
  /** Names the logs (test-output/e2e/<name>.*.log); defaults to a timestamp. */
  name?: string;
  /** Folder or .code-workspace to open. */
  folder?: string;
  /** Extension folder(s) loaded as development extensions (package.json + built main). */
  extensionDevelopmentPath?: string | string[];
  /** VSIX file(s) installed with `code-server --install-extension` before start. */
  vsix?: string | string[];
  /** Reaches code-server and its extension host. */
  env?: Record<string, string>;
  /** User settings over the rig's quiet defaults. */
  settings?: Record<string, unknown>;
  viewport?: { width: number; height: number };
}

let rigPromise: Promise<ReadyRig> | undefined;

/** Provisions once per process; throws with the reason when the rig cannot run here. */
export function vscodeRig(): Promise<ReadyRig> {
  rigPromise ??= provision({ log: (line) => console.log(`[vscode-rig] ${line}`) }).then((rig) => {
    if (rig.status !== 'ready') throw new Error(`VS Code rig ${rig.status}: ${rig.reason}`);
    return rig;
  });
  return rigPromise;
}

export class VSCode {
  private constructor(
    private readonly session: Session,
    readonly name: string,
    /** Every browser console line so far (workbench and extension host), for assertions and debugging. */
    readonly consoleLines: string[],
  ) {}

  /** Starts code-server and Chromium and waits until the workbench has rendered. */
  static async start(options: VSCodeOptions = {}): Promise<VSCode> {
    const rig = await vscodeRig();
    const name = options.name ?? `e2e-${Date.now()}`;
    mkdirSync(logDir, { recursive: true });
    const consoleLines: string[] = [];
    const session = await startSession({
      rig,
      folder: options.folder,
      extensionDevelopmentPath: options.extensionDevelopmentPath,
      vsix: options.vsix === undefined ? undefined : [options.vsix].flat(),
      env: options.env,
      settings: options.settings,
      viewport: options.viewport,
      logDir,
      logName: name,
      onConsole: (text) => { consoleLines.push(text); },
    });
    const code = new VSCode(session, name, consoleLines);
    try {
      await code.waitForWorkbench();
    } catch (err) {
      await code.screenshot(`${name}-startup-failure`).catch(() => undefined);
      await code.dispose();
      throw err;
    }
    return code;
  }

  get page(): Page {
    return this.session.page;
  }

  get url(): string {
    return this.session.url;
  }

  /** The workbench is laid out and the extension host has started (the status bar shows up last). */
  async waitForWorkbench(timeoutMs = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.locator('#workbench\\.parts\\.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /**
   * Runs a command the way a user does: F1, `>Title`, Enter on the entry whose label is exactly the title.
   * The palette lists what is registered when it opens, and extensions register while the window starts,
   * so an entry that is not there yet is looked for again in a freshly opened palette until the timeout.
   */
  async runCommand(title: string, timeoutMs = 30_000): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input').first();
    const exact = new RegExp(`^${escapeRegExp(title)}$`);
    const row = widget.locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await input.isVisible())) await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: Math.max(1000, deadline - Date.now()) });
      // Focus moving elsewhere (a view an earlier command reveals) can close the palette under us: open it again.
      const filled = await input.fill(`>${title}`, { timeout: 5000 }).then(() => true, () => false);
      const found = filled && await row.waitFor({ state: 'visible', timeout: 2000 }).then(() => true, () => false);
      if (found) break;
      await this.page.keyboard.press('Escape');
      if (Date.now() > deadline) throw new Error(`no command titled "${title}" in the command palette after ${timeoutMs / 1000} s`);
      await this.page.waitForTimeout(500);
    }
    // Enter runs the focused entry; if a longer match sorts first, move down to ours.
    for (let i = 0; i < 20 && !(await row.evaluate((el) => el.classList.contains('focused'))); i++) {
      await input.press('ArrowDown');
    }
    await input.press('Enter');
    // The palette closes, or a command that asks something at once (Apply Best's quick pick) reuses the widget:
    // either way the command's own text is gone from the input.
    const until = Date.now() + 10_000;
    while (await widget.isVisible() && (await input.inputValue().catch(() => '')).startsWith('>')) {
      if (Date.now() > until) throw new Error(`the command palette stayed open after running "${title}"`);
      await this.page.waitForTimeout(100);
    }
  }

  /** Saves test-output/screenshots/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(screenshotDir, { recursive: true });
    const file = join(screenshotDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The status bar. */
  statusBar(): Locator {
    return this.page.locator('#workbench\\.parts\\.statusbar');
  }

  /** Status bar entries whose text contains (or matches) the given text. */
  statusBarItem(text: string | RegExp): Locator {
    return this.statusBar().locator('.statusbar-item').filter({ hasText: text });
  }

  /** Notification toasts currently shown. */
  notifications(): Locator {
    return this.page.locator('.notifications-toasts .notification-toast');
  }

  /** The content of the nth visible webview (its inner #active-frame, where the extension's HTML lives). */
  webviewFrame(nth = 0): FrameLocator {
    return this.page.locator('iframe.webview.ready').nth(nth).contentFrame().locator('#active-frame').contentFrame();
  }

  /** Closes the browser, stops code-server and its extension hosts, removes the scratch folder. */
  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
