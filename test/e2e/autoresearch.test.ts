// The AutoResearch extension in a real VS Code UI (code-server 4.117 in headless Chromium), as a user
// drives it: palette → Start AutoResearch on a copy of examples/quickstart → the tree fills → click a node →
// its diff opens → override a decision inline → the summary opens. Screenshots go to test-output/screenshots/.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { repoRoot } from '../../scripts/vscode-rig/provision.mjs';
import { makeQuickstartWorkspace, removeQuickstartWorkspace } from '../fixtures/quickstart.mjs';
import { screenshotDir, VSCode } from './rig.js';

interface Decide { type: 'decide'; id: number; status: string; decidedBy: string; metric: number | null; restored?: true }

function decisions(root: string): Decide[] {
  const file = join(root, '.autoresearch', 'quickstart', 'journal.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string }).filter((r): r is Decide => r.type === 'decide');
}

async function shot(code: VSCode, name: string): Promise<void> {
  // Out of the way of tooltips, unless a test hovers on purpose.
  const file = await code.screenshot(name);
  assert.ok(existsSync(file) && statSync(file).size > 10_000, `screenshot ${file} is missing or empty`);
}

/** Opens the AutoResearch view container (a click on its activity bar icon toggles it, so only when closed). */
async function showExperiments(code: VSCode): Promise<void> {
  const item = code.page.locator('.activitybar .action-item', { has: code.page.locator('.action-label[aria-label="AutoResearch"]') });
  if (!((await item.getAttribute('class')) ?? '').split(' ').includes('checked')) await item.locator('.action-label').click();
  await code.page.locator('#workbench\\.parts\\.sidebar .title-label', { hasText: /AutoResearch/i }).waitFor({ state: 'visible', timeout: 15_000 });
}

/** Drags the side bar wider, so tree items and their descriptions show in full in the screenshots. */
async function widenSideBar(code: VSCode, width = 520): Promise<void> {
  const box = await code.page.locator('#workbench\\.parts\\.sidebar').boundingBox();
  if (!box) return;
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await code.page.mouse.move(x - 1, y);
  await code.page.mouse.down();
  await code.page.mouse.move(box.x + width, y, { steps: 8 });
  await code.page.mouse.up();
}

/** The frame of the webview (results view, Markdown preview) that shows `selector` (with `text`). */
async function webviewWith(code: VSCode, selector: string, text?: RegExp, timeoutMs = 30_000): Promise<FrameLocator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await code.page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const frame = code.webviewFrame(i);
      const found = frame.locator(selector, text ? { hasText: text } : {});
      if (await found.count().catch(() => 0)) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview shows ${selector}${text ? ` ${text}` : ''}`);
    await code.page.waitForTimeout(250);
  }
}

interface Box { left: number; right: number }
interface Cell { getBoundingClientRect(): Box; scrollWidth: number; clientWidth: number; getAttribute(name: string): string | null; children: ArrayLike<Cell> }

/** How far each visible row's cells are from their column's header, at worst (bounding boxes, both edges). */
function tableAlignment(frame: FrameLocator): Promise<{ rows: number; columns: number; width: number; truncated: number; worst: { dx: number; where: string } }> {
  return frame.locator('#table-grid').evaluate((el) => {
    const grid = el as unknown as Cell & { querySelectorAll(s: string): ArrayLike<Cell> };
    const heads = Array.from(grid.querySelectorAll('[role=columnheader]'));
    const rows = Array.from(grid.querySelectorAll('.row:not([hidden])'));
    const names = heads.map((h) => (h as unknown as { textContent: string }).textContent.trim());
    const worst = { dx: 0, where: 'nothing' };
    let truncated = 0;
    for (const row of rows) {
      const cells = Array.from(row.children);
      cells.forEach((cell, i) => {
        const a = cell.getBoundingClientRect();
        const h = heads[i]!.getBoundingClientRect();
        const dx = Math.max(Math.abs(a.left - h.left), Math.abs(a.right - h.right));
        if (dx > worst.dx) { worst.dx = dx; worst.where = `row ${row.getAttribute('id')}, column "${names[i]}"`; }
        if (names[i] === 'description' && cell.scrollWidth > cell.clientWidth) truncated++;
      });
    }
    return { rows: rows.length, columns: heads.length, width: grid.getBoundingClientRect().right - grid.getBoundingClientRect().left, truncated, worst };
  });
}

describe('AutoResearch in the VS Code UI', { timeout: 300_000 }, () => {
  let code: VSCode | undefined;
  let workspace: string;
  /** Experiments tree rows, by the accessible label the extension gives them ("#1 LR 0.2 -> 0.4, keep, …"). */
  const row = (prefix: string): Locator => code!.page.locator(`.monaco-list-row[aria-label^="${prefix}"]`);

  before(async () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    // A short pause after each run leaves time to see (and photograph) an experiment mid-run.
    workspace = makeQuickstartWorkspace({ maxExperiments: 3, run: 'python3 train.py && sleep 2' });
    code = await VSCode.start({ name: 'autoresearch-ui', folder: workspace, extensionDevelopmentPath: repoRoot });
  });

  after(async () => {
    await code?.dispose();
    if (workspace) removeQuickstartWorkspace(workspace);
  });

  it('shows the Experiments view with a welcome and a Start button before any session', async () => {
    const c = code!;
    await showExperiments(c);
    await widenSideBar(c);
    const welcome = c.page.locator('.welcome-view-content');
    // The folder has a research config, so the welcome offers to start it (not to write one).
    await welcome.getByText('This folder has a research config, but no session yet.').waitFor({ state: 'visible', timeout: 30_000 });
    await welcome.getByRole('button', { name: 'Start AutoResearch' }).waitFor({ state: 'visible', timeout: 5_000 });
    await shot(c, 'autoresearch-welcome');
  });

  it('starts from the command palette: the tree fills and the status bar ticks mid-run', async () => {
    const c = code!;
    await c.runCommand('AutoResearch: Start AutoResearch');
    await row('#0 baseline').waitFor({ state: 'visible', timeout: 60_000 });
    // Mid-run: n of 3 decided and the one running, its clock against the 10 s budget, the best so far, the log's latest
    // line last (VS Code cuts a long item at 40 % of the window: the end of a log line goes, not the best).
    const ticker = c.statusBarItem(/AutoResearch \d of 3 decided · #\d+ running · \d+:\d\d \/ 0:10 · best [\d.]+ · (epoch|val_loss|peak|training|num_steps)/);
    await ticker.waitFor({ state: 'visible', timeout: 60_000 });
    await row('#1 ').waitFor({ state: 'visible', timeout: 30_000 });
    await c.page.mouse.move(700, 500);
    await shot(c, 'autoresearch-status-running');
    assert.match(await ticker.innerText(), /best 0\.357536/);
    // Pause and Stop sit beside it while the session runs.
    assert.equal(await c.statusBar().locator('[aria-label="debug-pause"], .codicon-debug-pause').count() > 0, true, 'no Pause button in the status bar');
    // One clock: the status bar and the running row of the tree read the same time, written the same way, at any moment.
    const anyTicker = c.statusBarItem(/AutoResearch \d of 3 decided/).first();
    const runningRow = c.page.locator('.monaco-list-row[aria-label*=", running"] .label-description').first();
    const clocks = async () => {
      const [bar, tree] = await Promise.all([anyTicker.innerText({ timeout: 1000 }).catch(() => ''), runningRow.innerText({ timeout: 1000 }).catch(() => '')]);
      return { bar, tree };
    };
    let compared = 0;
    for (let sample = 0; sample < 6; sample++) {
      for (let attempt = 0; ; attempt++) {
        const { bar, tree } = await clocks();
        const b = / (\d+:\d\d \/ 0:10)/.exec(bar)?.[1];
        const t = /^running (\d+:\d\d \/ 0:10)/.exec(tree)?.[1];
        if (!b || !t) break;
        if (b === t) { compared++; break; }
        // Both redraw on the same tick, through separate messages: a moment apart at most.
        assert.ok(attempt < 3, `the status bar reads ${b}, the tree ${t}`);
        await c.page.waitForTimeout(60);
      }
      await c.page.waitForTimeout(450);
    }
    assert.ok(compared > 0, 'never saw a running clock in both the status bar and the tree');
    // Mid-session, with protected files marked read-only: git sees nothing, and the branch does not read main*.
    assert.equal(spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: workspace, encoding: 'utf8' }).stdout, '', 'the running session shows in git status');
    const branch = c.statusBarItem(/^\s*main\*?\s*$/).first();
    assert.equal((await branch.innerText()).trim(), 'main', 'the branch reads main* while the session runs');
  });

  it("shows the running experiment's clock and latest log line in the results view's table, live", async () => {
    const c = code!;
    await c.runCommand('AutoResearch: Show Results');
    const frame = c.webviewFrame();
    // The table's time cell of the running row: elapsed against the 10 s budget, from the engine's run-progress.
    const clock = frame.locator('.row').filter({ hasText: 'running' }).getByText(/^\d+:\d\d \/ 0:10$/);
    await clock.first().waitFor({ state: 'visible', timeout: 30_000 });
    await shot(c, 'autoresearch-results-progress');
    // The results view stays open: the summary opens beside it when the session finishes.
  });

  it('opens the diff of a node against its parent when the node is clicked', async () => {
    const c = code!;
    const first = row('#1 ').filter({ hasNot: c.page.locator('.codicon-loading') });
    await c.page.locator('.monaco-list-row[aria-label^="#1 "][aria-label*=", keep"], .monaco-list-row[aria-label^="#1 "][aria-label*=", discard"]')
      .first().waitFor({ state: 'visible', timeout: 60_000 });
    const diff = c.page.locator('.monaco-diff-editor');
    const tab = c.page.locator('.tabs-container .tab.active');
    // The tree gains rows while the session runs: a click can land as they move, so click until #1's diff is the one open.
    for (let attempt = 1; ; attempt++) {
      await first.first().click();
      await diff.first().waitFor({ state: 'visible', timeout: 30_000 });
      if (/train\.py \(#0 ↔ #1\)/.test(await tab.innerText())) break;
      assert.ok(attempt < 4, `clicking #1 opened ${await tab.innerText()} 4 times`);
    }
    // The changed hyperparameter shows on both sides.
    await diff.first().locator('.line-insert, .char-insert').first().waitFor({ state: 'visible', timeout: 10_000 });
    await shot(c, 'autoresearch-node-diff');
  });

  it("overrides a decision with the inline button on the tree item, recorded as a human decision; Undo restores the rule's", async () => {
    const c = code!;
    const target = c.page.locator('.monaco-list-row[aria-label^="#1 "]').first();
    const label = (await target.getAttribute('aria-label')) ?? '';
    const action = label.includes(', keep') || label.includes('best so far') ? 'Discard (Override the Rule)' : 'Keep (Override the Rule)';
    await target.hover();
    await target.locator(`.action-label[aria-label="${action}"]`).click();
    const status = action.startsWith('Keep') ? 'keep' : 'discard';
    await target.locator('.label-description', { hasText: status === 'keep' ? 'kept by you' : 'discarded by you' }).waitFor({ state: 'visible', timeout: 15_000 });
    const human = decisions(workspace).filter((d) => d.id === 1 && d.decidedBy === 'human');
    assert.equal(human.length, 1, 'the journal has no human decision for #1');
    assert.equal(human[0]!.status, status);
    await c.page.mouse.move(700, 500);
    await shot(c, 'autoresearch-override');
    // The toast's Undo: the rule's own decision again, not a second one by you.
    await c.notifications().filter({ hasText: /#1 is now/ }).getByRole('button', { name: 'Undo' }).click();
    const description = target.locator('.label-description');
    for (let waited = 0; /by you/.test(await description.innerText()); waited += 250) {
      assert.ok(waited < 15_000, `#1 still reads "${await description.innerText()}" after Undo`);
      await c.page.waitForTimeout(250);
    }
    const last = decisions(workspace).filter((d) => d.id === 1).at(-1)!;
    assert.equal(last.decidedBy, 'rule', 'Undo left a human decision');
    assert.equal(last.restored, true);
    assert.notEqual(last.status, status);
  });

  it('explains a node in a rich tooltip: metric against the parent, who decided and why, why it was chosen', async () => {
    const c = code!;
    // A decided experiment (a running one has no metric yet).
    const decided = ['#1 ', '#2 '].flatMap((id) => ['keep', 'discard', 'crash'].map((s) => `.monaco-list-row[aria-label^="${id}"][aria-label*=", ${s}"]`)).join(', ');
    await c.page.locator(decided).first().waitFor({ state: 'visible', timeout: 60_000 });
    const label = c.page.locator(decided).last().locator('.label-name');
    const hover = c.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'why chosen' }).first();
    // A tree refresh (a new experiment starting) can close a hover that is opening: try again.
    for (let attempt = 1; ; attempt++) {
      await c.page.mouse.move(700, 500);
      await label.hover();
      if (await hover.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false)) break;
      assert.ok(attempt < 4, 'no tooltip after hovering the tree item 4 times');
    }
    const text = await hover.innerText();
    assert.match(text, /val_loss/);
    assert.match(text, /decided by (the rule|you)/);
    await shot(c, 'autoresearch-tooltip');
    await c.page.mouse.move(700, 500);
  });

  it('opens the summary when the session completes, as a rendered preview beside the results that follows the file', async () => {
    const c = code!;
    // The session opens it by itself when it finishes: rendered, not raw Markdown.
    await c.page.locator('.tabs-container .tab', { hasText: 'Preview autoresearch-summary.md' }).first().waitFor({ state: 'visible', timeout: 120_000 });
    assert.equal(await c.page.locator('.tabs-container .tab', { hasText: /^autoresearch-summary\.md/ }).count(), 0, 'the summary also opened as a text editor');
    assert.doesNotMatch(readFileSync(join(workspace, 'autoresearch-summary.md'), 'utf8'), /- #1 marked/, 'the undone override is still a human decision');
    await c.statusBarItem(/val_loss \d/).waitFor({ state: 'visible', timeout: 15_000 });
    await c.page.locator('.monaco-list-row[aria-label^="#3 "]').waitFor({ state: 'visible', timeout: 15_000 });
    await c.page.mouse.move(700, 500);
    await shot(c, 'autoresearch-tree');
    // Results, then Summary: the summary goes beside the results, both in view.
    await c.runCommand('View: Close All Editor Groups');
    await c.runCommand('AutoResearch: Show Results');
    const results = await webviewWith(c, '#chart-canvas');
    await c.runCommand('AutoResearch: Show Summary');
    const preview = await webviewWith(c, 'h1', /AutoResearch summary: quickstart/);
    const groups = c.page.locator('.editor-group-container');
    assert.equal(await groups.count(), 2, 'the summary did not open in a group of its own');
    await c.page.locator('.tabs-container .tab.active', { hasText: /Results: quickstart/ }).waitFor({ state: 'visible', timeout: 5_000 });
    await c.page.locator('.tabs-container .tab.active', { hasText: 'Preview autoresearch-summary.md' }).waitFor({ state: 'visible', timeout: 5_000 });
    await results.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 5_000 });
    await shot(c, 'autoresearch-summary');
    // A decision changes the file, and the preview follows: an override shows under "Human decisions", its Undo takes it away.
    const target = c.page.locator('.monaco-list-row[aria-label^="#2 "]').first();
    const label = (await target.getAttribute('aria-label')) ?? '';
    const action = label.includes(', keep') || label.includes('best so far') ? 'Discard (Override the Rule)' : 'Keep (Override the Rule)';
    await target.hover();
    await target.locator(`.action-label[aria-label="${action}"]`).click();
    await preview.getByText(/#2 marked/).first().waitFor({ state: 'visible', timeout: 15_000 });
    await c.page.mouse.move(700, 500);
    await shot(c, 'autoresearch-summary-refreshed');
    await c.notifications().filter({ hasText: /#2 is now/ }).getByRole('button', { name: 'Undo' }).click();
    await preview.getByText(/#2 marked/).first().waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('numbers every row, and "Reveal Best" (palette or title bar) selects the best under collapsed nodes', async () => {
    const c = code!;
    // The label a person reads starts with the number, as the summary and the results view name experiments.
    assert.match(await row('#1 ').locator('.label-name').first().innerText(), /^#1 \S/);
    const last = new Map(decisions(workspace).map((d) => [d.id, d]));
    const kept = [...last.values()].filter((d) => d.status === 'keep' && d.metric !== null);
    const best = kept.reduce((a, b) => (b.metric! < a.metric! ? b : a));
    const sidebar = c.page.locator('#workbench\\.parts\\.sidebar');
    const action = (name: string) => sidebar.locator(`.action-label[aria-label="${name}"]`).first();
    await sidebar.hover();
    await action('Reveal Best').waitFor({ state: 'visible', timeout: 10_000 });
    await action('Collapse All').click();
    await c.runCommand('AutoResearch: Reveal Best');
    const selected = c.page.locator(`.monaco-list-row.selected[aria-label^="#${best.id} "]`);
    await selected.waitFor({ state: 'visible', timeout: 15_000 });
    await sidebar.hover();
    await action('Collapse All').click();
    await action('Reveal Best').click();
    await selected.waitFor({ state: 'visible', timeout: 15_000 });
    await c.page.mouse.move(700, 500);
    await shot(c, 'autoresearch-reveal-best');
  });

  it('opens the results view from the status bar: the chart, the tree and the headline of the session', async () => {
    const c = code!;
    await c.statusBarItem(/val_loss \d/).click();
    await c.page.locator('.tabs-container .tab.active', { hasText: 'Results: quickstart' }).waitFor({ state: 'visible', timeout: 15_000 });
    // The summary's preview is a webview too: the results are the one with the chart.
    const frame = await webviewWith(c, '#chart-canvas');
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 30_000 });
    await frame.locator('#tree-canvas').waitFor({ state: 'visible', timeout: 10_000 });
    // The headline starts from the example's baseline.
    assert.match(await frame.locator('#fig-progress').innerText(), /0\.357536 →/);
    // Every column's cells sit under its header, edge for edge, in the panel as it is (beside the summary) and alone.
    for (const layout of ['beside the summary', 'alone']) {
      if (layout === 'alone') await c.runCommand('View: Close Editors in Other Groups');
      await c.page.waitForTimeout(500);
      const m = await tableAlignment(frame);
      assert.ok(m.rows >= 4 && m.columns >= 8, `${layout}: measured ${m.rows} rows of ${m.columns} columns`);
      // Where it went wrong: a description longer than its column.
      assert.ok(m.truncated > 0, `${layout}: no description is wider than its column, so the measurement proves little`);
      assert.ok(m.worst.dx <= 1.5, `${layout} (table ${Math.round(m.width)} px wide): ${m.worst.where} is ${m.worst.dx.toFixed(1)} px off its header`);
      console.log(`[e2e] table ${layout}, ${Math.round(m.width)} px: ${m.rows} rows × ${m.columns} columns, worst offset ${m.worst.dx.toFixed(2)} px (${m.worst.where}); truncated descriptions: ${m.truncated}`);
      const panel = frame.locator('.table-panel');
      await panel.scrollIntoViewIfNeeded();
      await panel.screenshot({ path: join(screenshotDir, `autoresearch-results-table-${layout.replaceAll(' ', '-')}.png`) });
    }
    // The control: with each row sized to its own content again (the rule before the fix), the same measurement fails.
    // (Through the CSSOM: the page's CSP refuses a <style> element.)
    const saved = await frame.locator('#table-grid').evaluate((el) => {
      const style = (el as unknown as { style: { getPropertyValue(k: string): string; setProperty(k: string, v: string): void } }).style;
      const was = style.getPropertyValue('--min-width');
      style.setProperty('--min-width', 'max-content');
      return was;
    });
    await c.page.waitForTimeout(200);
    const control = await tableAlignment(frame);
    await frame.locator('#table-grid').evaluate((el, was) => (el as unknown as { style: { setProperty(k: string, v: string): void } }).style.setProperty('--min-width', was), saved);
    console.log(`[e2e] control (rows sized to their own content, as before the fix): worst offset ${control.worst.dx.toFixed(2)} px (${control.worst.where})`);
    assert.ok(control.worst.dx > 1.5, `the measurement did not see the old misalignment: ${JSON.stringify(control.worst)}`);
    await shot(c, 'autoresearch-results');
    await c.runCommand('View: Close All Editor Groups');
  });

  it("checks a node's code out into the working tree from its context menu, after a modal confirmation", async () => {
    const c = code!;
    const target = c.page.locator('.monaco-list-row[aria-label^="#2 "]').first();
    await target.click({ button: 'right' });
    const item = c.page.locator('.context-view .action-label', { hasText: "Check Out This Node's Code" });
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    // A menu ignores a click that lands while it is still opening: click again while it stays open.
    for (let i = 0; i < 5 && (await item.isVisible()); i++) {
      await item.click().catch(() => undefined);
      await c.page.waitForTimeout(400);
    }
    const dialog = c.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 15_000 }).catch(async (e: unknown) => {
      await c.screenshot('autoresearch-checkout-failure');
      throw e;
    });
    assert.match(await dialog.innerText(), /Check out #2's code/);
    await dialog.getByRole('button', { name: 'Check Out' }).click();
    await c.page.locator('.tabs-container .tab.active', { hasText: 'train.py' }).waitFor({ state: 'visible', timeout: 15_000 });
    const diff = spawnSync('git', ['diff', '--stat'], { cwd: workspace, encoding: 'utf8' }).stdout;
    assert.match(diff, /train\.py/, 'train.py is unchanged in the working tree');
    // Back to the committed code, so that applying the best works on a clean tree.
    spawnSync('git', ['checkout', '--', 'train.py'], { cwd: workspace });
  });

  it('applies the best experiment to the branch after a diff preview beside a confirmation that leaves it in view', async () => {
    const c = code!;
    const before = spawnSync('git', ['rev-list', '--count', 'HEAD'], { cwd: workspace, encoding: 'utf8' }).stdout.trim();
    const widget = c.page.locator('.quick-input-widget');
    const question = widget.locator('.quick-input-title', { hasText: /^Apply #\d+/ });
    const previewTab = c.page.locator('.tabs-container .tab', { hasText: /Apply #\d+/ });
    // Escape applies nothing, and the preview goes with the question.
    await c.runCommand('AutoResearch: Apply Best');
    await question.waitFor({ state: 'visible', timeout: 15_000 });
    await previewTab.first().waitFor({ state: 'visible', timeout: 10_000 });
    await c.page.keyboard.press('Escape');
    await previewTab.first().waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(spawnSync('git', ['rev-list', '--count', 'HEAD'], { cwd: workspace, encoding: 'utf8' }).stdout.trim(), before, 'Escape applied something');
    await c.runCommand('AutoResearch: Apply Best');
    // The preview: the best's diff against HEAD, in a group beside train.py (open from the checkout), with no dialog over it.
    await question.waitFor({ state: 'visible', timeout: 15_000 });
    await previewTab.first().waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await c.page.locator('.monaco-dialog-box').count(), 0, 'a modal dialog covers the preview');
    assert.equal(await c.page.locator('.editor-group-container').count(), 2, 'the diff did not open beside the editor');
    await c.page.locator('.monaco-diff-editor .line-insert, .monaco-diff-editor .char-insert').first().waitFor({ state: 'visible', timeout: 10_000 });
    // A click into the diff (to scroll it) does not answer the question.
    await c.page.locator('.monaco-diff-editor .modified .view-lines').first().click();
    await widget.waitFor({ state: 'visible', timeout: 2_000 });
    await shot(c, 'autoresearch-apply-confirm');
    // From the keyboard: the first answer, one squashed commit, is the active one.
    await widget.locator('.monaco-list-row.focused', { hasText: 'Apply as one squashed commit' }).waitFor({ state: 'visible', timeout: 5_000 });
    await widget.locator('input').first().press('Enter');
    // The preview is closed afterwards.
    await previewTab.first().waitFor({ state: 'detached', timeout: 10_000 });
    const toast = c.notifications().filter({ hasText: /Applied #\d+/ });
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    // Show Commit opens what it committed.
    await toast.getByRole('button', { name: 'Show Commit' }).click();
    await c.page.locator('.tabs-container .tab', { hasText: /[0-9a-f]{7,40}\.diff/ }).first().waitFor({ state: 'visible', timeout: 15_000 });
    const after = spawnSync('git', ['rev-list', '--count', 'HEAD'], { cwd: workspace, encoding: 'utf8' }).stdout.trim();
    assert.equal(Number(after), Number(before) + 1, 'no squashed commit on main');
    const message = spawnSync('git', ['log', '-1', '--format=%s'], { cwd: workspace, encoding: 'utf8' }).stdout;
    assert.match(message, /^AutoResearch quickstart: best experiment #\d+/);
  });
});

describe('AutoResearch setting up a new study, then surviving a window reload', { timeout: 300_000 }, () => {
  let code: VSCode | undefined;
  let workspace: string;

  before(async () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    workspace = makeQuickstartWorkspace({ run: 'python3 train.py && sleep 2' });
    // A training repo without a research config: the wizard writes one.
    spawnSync('git', ['rm', '-q', 'autoresearch.config.yaml'], { cwd: workspace });
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'no config yet'], { cwd: workspace });
    // The wizard's defaults come from the user's settings.
    code = await VSCode.start({
      name: 'autoresearch-wizard', folder: workspace, extensionDevelopmentPath: repoRoot,
      settings: { 'autoresearch.budget': '10s', 'autoresearch.maxExperiments': 6 },
    });
  });

  after(async () => {
    await code?.dispose();
    if (workspace) removeQuickstartWorkspace(workspace);
  });

  it('asks for the research config in a wizard with detected defaults, writes it, shows it and starts when confirmed without a modal', async () => {
    const c = code!;
    await c.runCommand('AutoResearch: Start AutoResearch');
    const widget = c.page.locator('.quick-input-widget');
    const title = widget.locator('.quick-input-title');
    const input = widget.locator('.quick-input-box input').first();
    const expected: Record<number, string> = { 3: 'python3 train.py', 4: '10s', 5: 'val_loss', 7: '0.001', 8: '6' };
    for (let step = 1; step <= 11; step++) {
      await title.filter({ hasText: `(${step}/11)` }).waitFor({ state: 'visible', timeout: 15_000 });
      if (step === 1) {
        await widget.locator('.monaco-list-row', { hasText: 'train.py' }).first().waitFor({ state: 'visible' });
        await shot(c, 'autoresearch-wizard');
      }
      if (step === 2) {
        // prepare.py is detected as data and evaluation, and ticked.
        const prepare = widget.locator('.monaco-list-row', { hasText: 'prepare.py' });
        assert.equal(await prepare.getAttribute('aria-checked'), 'true', 'prepare.py is not pre-selected as protected');
      }
      if (step === 7) {
        // minDelta, with why 0 is a poor default.
        const prompt = await widget.locator('.quick-input-message').innerText();
        assert.match(prompt, /minDelta/);
        assert.match(prompt, /noise "wins"/);
        await shot(c, 'autoresearch-wizard-mindelta');
      }
      if (step === 10) {
        // Every proposer the extension runs, the model-backed ones included.
        await widget.locator('.monaco-list-row').first().waitFor({ state: 'visible' });
        const labels = await widget.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
        for (const kind of ['vscode-lm', 'anthropic', 'openai-compatible', 'agent-cli', 'mutate', 'patches']) {
          assert.ok(labels.some((l) => l.startsWith(kind)), `the wizard does not offer ${kind}: ${labels.join(' | ')}`);
        }
        await shot(c, 'autoresearch-wizard-proposers');
      }
      if (expected[step]) assert.equal(await input.inputValue(), expected[step], `step ${step}`);
      // Runs slow enough that the next tests find the session still running (the example trains in about a second).
      if (step === 3) await input.fill('python3 train.py && sleep 4');
      await input.press('Enter');
    }
    // The config in an editor, and the question in a quick pick that leaves it in view (no modal dialog over it).
    await title.filter({ hasText: /^Wrote autoresearch\.config\.yaml/ }).waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await c.page.locator('.monaco-dialog-box').count(), 0, 'a modal dialog covers the config');
    await c.page.locator('.tabs-container .tab.active', { hasText: 'autoresearch.config.yaml' }).waitFor({ state: 'visible', timeout: 10_000 });
    await c.page.waitForTimeout(500);
    await shot(c, 'autoresearch-wizard-confirm');
    // The config's own lines are on screen (Monaco draws spaces as no-break spaces).
    await c.page.locator('.editor-instance .view-lines', { hasText: /budget:\s+10s/ }).first().waitFor({ state: 'visible', timeout: 10_000 });
    // ▶ in the editor title starts it later, when the person answers "not now".
    await c.page.locator('.editor-actions .action-label[aria-label="Start AutoResearch"]').first().waitFor({ state: 'visible', timeout: 10_000 });
    const config = readFileSync(join(workspace, 'autoresearch.config.yaml'), 'utf8');
    assert.match(config, /^run: "?python3 train\.py && sleep 4"?$/m);
    for (const line of ['editable: [train.py]', 'readonly: [prepare.py]', 'budget: 10s', 'name: val_loss', 'direction: minimize', 'maxExperiments: 6', 'proposer: mutate', 'policy: tree', 'minDelta: 0.001']) {
      assert.ok(config.includes(line), `the config lacks ${line}:\n${config}`);
    }
    await widget.locator('.monaco-list-row', { hasText: 'Start the session' }).click();
    await c.page.locator('.monaco-list-row[aria-label^="#1 "]').waitFor({ state: 'visible', timeout: 60_000 });
  });

  it('makes protected files read-only while the session runs, and says why when one is saved', async () => {
    const c = code!;
    await c.runCommand('View: Show Explorer');
    const row = c.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'prepare.py' });
    const label = row.locator('.monaco-icon-label').first();
    await label.waitFor({ state: 'visible', timeout: 15_000 });
    // The Explorer decoration: a badge and a tooltip that says who protects the file.
    // The tag the wizard wrote (it comes from today's date, so the test names it rather than a month).
    const tooltip = (await label.getAttribute('aria-label')) ?? '';
    assert.ok(tooltip.includes(`Protected by the AutoResearch session "${readTag(workspace)}"`), `the tooltip does not name the session: ${tooltip}`);
    const tab = c.page.locator('.tabs-container .tab.active', { hasText: 'prepare.py' });
    // The Explorer's rows move while the session adds files (results.tsv, .autoresearch): a click can land on
    // the next row, so click again until prepare.py is the one open.
    for (let attempt = 1; ; attempt++) {
      await row.click();
      if (await tab.waitFor({ state: 'visible', timeout: 4_000 }).then(() => true, () => false)) break;
      if (attempt === 4) {
        await c.screenshot('autoresearch-protected-failure');
        assert.fail('prepare.py did not open from the Explorer after 4 clicks');
      }
    }
    await c.page.locator('.editor-instance .view-lines').first().click();
    await c.page.keyboard.type('x');
    await c.page.keyboard.press('Control+s');
    await c.notifications().filter({ hasText: 'prepare.py is protected by the AutoResearch session' }).waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(spawnSync('git', ['status', '--porcelain', 'prepare.py'], { cwd: workspace, encoding: 'utf8' }).stdout, '', 'prepare.py changed on disk');
    await shot(c, 'autoresearch-protected');
    await c.page.keyboard.press('Escape');
  });

  it('survives a window reload: the session comes back from the journal as interrupted, and resumes', async () => {
    const c = code!;
    await c.statusBarItem(/AutoResearch \d of 6 decided · #\d+ running/).waitFor({ state: 'visible', timeout: 30_000 });
    await c.runCommand('Developer: Reload Window');
    await c.waitForWorkbench();
    const toast = c.notifications().filter({ hasText: 'was interrupted' });
    await toast.waitFor({ state: 'visible', timeout: 60_000 });
    // The tree is rebuilt from the journal, with the interrupted experiment marked.
    await showExperiments(c);
    await c.page.locator('.monaco-list-row[aria-label^="#0 baseline"]').waitFor({ state: 'visible', timeout: 30_000 });
    // The experiment the reload cut short is marked interrupted (it runs again on Resume).
    await c.page.locator('.monaco-list-row[aria-label*=", interrupted"]').first().waitFor({ state: 'visible', timeout: 15_000 });
    await shot(c, 'autoresearch-interrupted');
    await toast.getByRole('button', { name: 'Resume' }).click();
    await c.page.locator('.tabs-container .tab.active', { hasText: 'autoresearch-summary.md' }).waitFor({ state: 'visible', timeout: 120_000 });
    const journal = readFileSync(join(workspace, '.autoresearch', readTag(workspace), 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; state?: string; id?: number; decidedBy?: string });
    assert.ok(journal.some((r) => r.type === 'resume'), 'the journal has no resume record');
    const decided = new Set(journal.filter((r) => r.type === 'decide' && r.id !== 0).map((r) => r.id));
    assert.equal(decided.size, 6, 'six experiments decided, none twice');
    assert.equal(journal.filter((r) => r.type === 'state').at(-1)?.state, 'done');
    await c.page.getByText(/^Done: reached 6 experiments/).waitFor({ state: 'visible', timeout: 10_000 });
    await shot(c, 'autoresearch-resumed-done');
  });
});

describe('AutoResearch set up in a folder below the repository root (a project in a monorepo)', { timeout: 240_000 }, () => {
  let code: VSCode | undefined;
  let workspace: string;
  let folder: string;

  before(async () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    // minGPT's layout: the training code in projects/demo/, opened as the workspace folder; the repository is above.
    workspace = makeQuickstartWorkspace();
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd: workspace, encoding: 'utf8' });
    git('rm', '-q', 'autoresearch.config.yaml');
    mkdirSync(join(workspace, 'projects', 'demo'), { recursive: true });
    for (const f of ['README.md', 'prepare.py', 'program.md', 'train.py']) git('mv', f, `projects/demo/${f}`);
    git('commit', '-q', '-m', 'the project moves into projects/demo');
    folder = join(workspace, 'projects', 'demo');
    code = await VSCode.start({
      name: 'autoresearch-wizard-subfolder', folder, extensionDevelopmentPath: repoRoot,
      settings: { 'autoresearch.budget': '10s', 'autoresearch.maxExperiments': 2 },
    });
  });

  after(async () => {
    await code?.dispose();
    if (workspace) removeQuickstartWorkspace(workspace);
  });

  it('writes a config that names files from the root and runs in the folder, and the session starts with it', async () => {
    const c = code!;
    await c.runCommand('AutoResearch: Start AutoResearch');
    const widget = c.page.locator('.quick-input-widget');
    const title = widget.locator('.quick-input-title');
    const input = widget.locator('.quick-input-box input').first();
    for (let step = 1; step <= 11; step++) {
      await title.filter({ hasText: `(${step}/11)` }).waitFor({ state: 'visible', timeout: 15_000 });
      if (step === 1) await widget.locator('.monaco-list-row', { hasText: 'train.py' }).first().waitFor({ state: 'visible' });
      if (step === 3) {
        // The command is asked for as the person knows it, from this folder, and the prompt says how it will run.
        assert.equal(await input.inputValue(), 'python3 train.py');
        assert.match(await widget.locator('.quick-input-message').innerText(), /from this folder \(it gets AUTORESEARCH_BUDGET_SECONDS\)\. A session works from the repository root, so the config runs it as `cd projects\/demo && …`/);
        await shot(c, 'autoresearch-wizard-subfolder-run');
      }
      await input.press('Enter');
    }
    await title.filter({ hasText: /^Wrote autoresearch\.config\.yaml: projects\/demo\/train\.py changes, projects\/demo\/prepare\.py protected/ }).waitFor({ state: 'visible', timeout: 15_000 });
    const config = readFileSync(join(folder, 'autoresearch.config.yaml'), 'utf8');
    for (const line of ['editable: [projects/demo/train.py]', 'readonly: [projects/demo/prepare.py]']) assert.ok(config.includes(line), `the config lacks ${line}:\n${config}`);
    assert.match(config, /^run: "?cd projects\/demo && python3 train\.py"?$/m);
    // Before, the session refused `editable: [train.py]` (no such file at the root) or its baseline could not find the script.
    await widget.locator('.monaco-list-row', { hasText: 'Start the session' }).click();
    await showExperiments(c);
    await c.page.locator('.monaco-list-row[aria-label^="#0 baseline"][aria-label*=", keep"]').waitFor({ state: 'visible', timeout: 90_000 });
    await shot(c, 'autoresearch-wizard-subfolder-started');
  });
});

function readTag(workspace: string): string {
  return /^tag: (.+)$/m.exec(readFileSync(join(workspace, 'autoresearch.config.yaml'), 'utf8'))![1]!.trim();
}

describe('AutoResearch installed from its VSIX into a fresh VS Code', { timeout: 300_000 }, () => {
  let code: VSCode | undefined;
  let workspace: string;
  let vsix: string;

  before(async () => {
    // `vsce package`, as a release is made (it runs vscode:prepublish, the production build).
    vsix = join(repoRoot, 'out', 'vsix', 'autoresearch.vsix');
    mkdirSync(dirname(vsix), { recursive: true });
    const pack = spawnSync(process.execPath, [join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--out', vsix], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(pack.status, 0, `vsce package failed:\n${pack.stdout}${pack.stderr}`);
    // Python's zipfile, not unzip, which a bare machine may lack (the example needs python3 anyway).
    const list = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', vsix], { encoding: 'utf8' });
    assert.equal(list.status, 0, `cannot list the VSIX: ${list.stderr}`);
    const files = list.stdout.split('\n');
    for (const f of ['extension/package.json', 'extension/dist/extension.js', 'extension/media/icon.svg', 'extension/readme.md', 'extension/changelog.md', 'extension/LICENSE.txt']) {
      assert.ok(files.includes(f), `the VSIX lacks ${f}`);
    }
    assert.ok(!files.some((f) => /^extension\/(src|test|node_modules|webview-ui|scripts|bench)\//.test(f) || f.endsWith('.map')), 'the VSIX ships sources, tests, node_modules or source maps');
    workspace = makeQuickstartWorkspace({ maxExperiments: 2 });
    code = await VSCode.start({ name: 'autoresearch-vsix', folder: workspace, vsix });
  });

  after(async () => {
    await code?.dispose();
    if (workspace) removeQuickstartWorkspace(workspace);
  });

  it('starts a session on the example from the command palette and finishes it', async () => {
    const c = code!;
    await c.runCommand('AutoResearch: Start AutoResearch');
    await c.page.locator('.monaco-list-row[aria-label^="#2 "]').waitFor({ state: 'visible', timeout: 90_000 });
    await c.page.locator('.tabs-container .tab.active', { hasText: 'autoresearch-summary.md' }).waitFor({ state: 'visible', timeout: 90_000 });
    await c.statusBarItem(/val_loss \d/).waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(readFileSync(join(workspace, 'results.tsv'), 'utf8'), /^commit\tval_loss\tmemory_gb\tstatus\tdescription\n/);
    await shot(c, 'autoresearch-vsix-done');
  });
});
