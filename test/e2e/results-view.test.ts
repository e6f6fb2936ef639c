// The results view in a real VS Code: start a session on the example, open the panel, watch the chart and
// the tree gain points as experiments finish, click a point and get that node's diff, use the keyboard,
// survive being hidden and a window reload, export the chart, and read well in dark, light and
// high-contrast themes (screenshots in test-output/screenshots/).
//
// The panel opens with "AutoResearch: Show Results"; the test build (test/fixtures/results-host) adds only the
// command that opens a bare results.tsv.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { buildResultsHost } from '../fixtures/results-host/build.mjs';
import { repoRoot } from '../../scripts/vscode-rig/provision.mjs';
import { pixelAt, type Canvas, type Hooks, type Page } from './resultsPage.js';
import { screenshotDir, VSCode } from './rig.js';

const EXPERIMENTS = 12;

function exampleWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'results-e2e-'));
  cpSync(join(repoRoot, 'examples', 'quickstart'), dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=e2e@example.com', '-c', 'user.name=e2e', 'commit', '-qm', 'baseline');
  return dir;
}

function hooks(frame: FrameLocator): Promise<Hooks['state'] extends () => infer S ? { selected: number | null; state: S } : never> {
  return frame.locator('body').evaluate(() => {
    const h = (globalThis as unknown as Page).autoresearchResults;
    return { selected: h.selected(), state: h.state() };
  });
}

async function nodeCount(frame: FrameLocator): Promise<number> {
  return Number(await frame.locator('body').getAttribute('data-nodes') ?? 0);
}

/** Polls `check` until it holds; `what` may be a function, to say what was last seen when it never did. */
async function waitFor(what: string | (() => string), check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Tabs, webviews, toasts and the first webview's text: what a failed wait on the window reports. */
async function whatTheWindowShows(code: VSCode, frame: FrameLocator): Promise<string> {
  const page = code.page;
  const tabs = await page.locator('.tabs-container .tab').evaluateAll((els) => els.map((e) => `${e.getAttribute('aria-label') ?? ''}${e.classList.contains('active') ? ' (active)' : ''}`));
  const webviews = await page.locator('iframe.webview').count();
  const ready = await page.locator('iframe.webview.ready').count();
  const toasts = await page.locator('.notifications-toasts .notification-toast').allInnerTexts();
  const text = await frame.locator('body').innerText({ timeout: 1000 }).catch((e: Error) => `(not readable: ${e.message.split('\n')[0]})`);
  return JSON.stringify({ tabs, webviews, ready, toasts, webview: text.slice(0, 300) });
}

interface DrawnLabel { key: number; text: string; x: number; y: number; w: number; h: number }

function treeLabels(frame: FrameLocator): Promise<DrawnLabel[]> {
  return frame.locator('#tree-canvas').evaluate(() => (globalThis as unknown as Page).autoresearchResults.treeLabels());
}

function close(a: number[], b: number[], tolerance = 40): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}

async function clickPoint(frame: FrameLocator, canvas: 'chart' | 'tree', id: number): Promise<void> {
  const locator = frame.locator(`#${canvas}-canvas`);
  const pos = await locator.evaluate((el, [which, nodeId]) => {
    const h = (globalThis as unknown as Page).autoresearchResults;
    const p = which === 'chart' ? h.chartPoint(nodeId) : h.treePoint(nodeId);
    const r = (el as unknown as Canvas).getBoundingClientRect();
    return p && { x: p.x - r.left, y: p.y - r.top };
  }, [canvas, id] as const);
  assert.ok(pos, `#${id} is not drawn on the ${canvas}`);
  await locator.click({ position: pos });
}

function diffTab(code: VSCode, id: number) {
  return code.page.locator('.tabs-container .tab').filter({ hasText: new RegExp(`↔ #${id}\\b`) });
}

/** Picks a colour theme from the palette and waits until the workbench wears it (`kind`: vs, vs-dark, hc-black). */
async function selectTheme(code: VSCode, label: string, kind: 'vs' | 'vs-dark' | 'hc-black'): Promise<void> {
  // Not code.runCommand: this command opens a second quick pick (the themes) in place of the palette.
  const input = code.page.locator('.quick-input-widget input').first();
  await code.page.keyboard.press('F1');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill('>Preferences: Color Theme');
  const command = code.page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: /^Preferences: Color Theme/ }).first();
  await command.waitFor({ state: 'visible', timeout: 10_000 });
  await command.click();
  await code.page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: /Dark Modern|Light Modern/ }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(label);
  const row = code.page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: new RegExp(`^${label}`) }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
  await code.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  await code.page.locator(`.monaco-workbench.${kind}`).waitFor({ state: 'attached', timeout: 10_000 });
}

describe('results view in VS Code', { timeout: 420_000 }, () => {
  let code: VSCode | undefined;
  let workspace = '';
  let frame: FrameLocator;
  let clicked = -1;

  before(async () => {
    workspace = exampleWorkspace();
    const built = await buildResultsHost();
    code = await VSCode.start({
      name: 'results-view',
      folder: workspace,
      extensionDevelopmentPath: built.dir,
      settings: { 'workbench.colorTheme': 'Default Dark Modern', 'autoresearch.openSummaryOnFinish': false },
      viewport: { width: 1600, height: 1000 },
    });
    frame = code.webviewFrame();
  });

  after(async () => {
    await code?.dispose();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('shows the session live: the chart and the tree gain points as experiments finish', async () => {
    assert.ok(code);
    await code.runCommand('AutoResearch: Start AutoResearch');
    // Start ends by revealing the Experiments view: let it, before the palette opens again.
    await code.page.locator('.monaco-list-row[aria-label^="#0 baseline"]').waitFor({ state: 'visible', timeout: 60_000 });
    await code.runCommand('AutoResearch: Show Results');
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor('the baseline on the chart', async () => (await nodeCount(frame)) >= 2, 60_000);
    const first = await nodeCount(frame);
    assert.ok(first < EXPERIMENTS + 1, `the session had already finished (${first} nodes) before the panel opened`);
    // The baseline is drawn in the theme's "keep" colour, where the chart says it is.
    const base = await pixelAt(frame, 0, '--vscode-charts-green');
    assert.ok(base && close(base.got, base.want), `baseline pixel ${JSON.stringify(base)}`);
    await waitFor('new experiments on the chart', async () => (await nodeCount(frame)) >= first + 3, 120_000);
    const later = await nodeCount(frame);
    for (let id = first; id < later - 1; id++) {
      const onTree = await frame.locator('#tree-canvas').evaluate((_c, n) => (globalThis as unknown as Page).autoresearchResults.treePoint(n), id);
      assert.ok(onTree || (await frame.locator('.tree-panel .note').innerText()).includes('folded'), `#${id} is neither on the tree nor folded`);
    }
    // One way to say progress: the headline, the status bar and the Experiments view write the same words.
    const sidebar = code.page.locator('#workbench\\.parts\\.sidebar');
    let seen = '';
    await waitFor('the same progress in the headline, the status bar and the Experiments view', async () => {
      seen = (await frame.locator('#fig-experiments').innerText()).trim();
      const bar = await code!.statusBar().innerText();
      const view = await sidebar.innerText();
      return /^\d+ of 12 decided · (#\d+ running|#\d+ deciding…)/.test(seen) && bar.includes(`AutoResearch ${seen}`) && view.includes(`Running · ${seen}`);
    }, 30_000);
    await code.screenshot('results-dark-running');
  });

  it('shows every experiment, with the headline and the table, when the session is done', async () => {
    assert.ok(code);
    await waitFor('the session to finish', async () => (await frame.locator('.headline .badge').innerText()).trim() === 'done', 240_000);
    await waitFor('all nodes', async () => (await nodeCount(frame)) === EXPERIMENTS + 1, 10_000);
    assert.equal((await frame.locator('#fig-experiments').innerText()).trim(), `${EXPERIMENTS} of ${EXPERIMENTS} decided`);
    const results = readFileSync(join(workspace, 'results.tsv'), 'utf8').trim().split('\n');
    assert.equal(results.length, EXPERIMENTS + 2, 'header, baseline and every experiment');
    const kept = results.filter((l) => l.split('\t')[3] === 'keep').length - 1;
    assert.equal((await frame.locator('#fig-kept').innerText()).trim(), String(kept), 'kept count matches results.tsv');
    assert.equal((await frame.locator('.table-panel .count').innerText()).trim(), `${EXPERIMENTS + 1} experiments`);
    assert.match(await frame.locator('#fig-progress').innerText(), /0\.357536 →/);
    // The view refreshes on its own timer, a moment after the panel may have drawn the last result.
    const sidebar = code.page.locator('#workbench\\.parts\\.sidebar');
    let view = '';
    await waitFor(() => `the Experiments view to say it in the same words; it says: ${JSON.stringify(view.slice(0, 400))}`, async () => {
      view = await sidebar.innerText();
      return view.includes(`${EXPERIMENTS} of ${EXPERIMENTS} decided`);
    }, 15_000);
    await code.screenshot('results-dark-done');
  });

  it('labels the search tree: every node its number and change, "+N more" chips that say what they hide, zoom', async () => {
    assert.ok(code);
    const tree = frame.locator('.tree-panel');
    await tree.scrollIntoViewIfNeeded();
    const layout = await frame.locator('#tree-canvas').evaluate(() => {
      const h = (globalThis as unknown as Page).autoresearchResults;
      return Array.from({ length: 13 }, (_, id) => h.treePoint(id) !== null);
    });
    const labels = await treeLabels(frame);
    const said = new Map(labels.map((l) => [l.key, l.text]));
    // Every node drawn says its number, the inner ones too, and a kept one its change against its parent.
    layout.forEach((drawn, id) => { if (drawn) assert.match(said.get(id) ?? '', new RegExp(`^#${id}\\b`), `#${id} is drawn without a label: ${JSON.stringify(labels)}`); });
    assert.equal(said.get(0), '#0 baseline');
    const results = readFileSync(join(workspace, 'results.tsv'), 'utf8').trim().split('\n').slice(1);
    const firstKept = results.findIndex((l, i) => i > 0 && l.split('\t')[3] === 'keep');
    assert.match(said.get(firstKept) ?? '', new RegExp(`^#${firstKept}( ★)? -\\d+\\.\\d%`), 'a kept node says how much better than its parent');
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const [a, b] = [labels[i]!, labels[j]!];
        assert.ok(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `"${a.text}" covers "${b.text}"`);
      }
    }
    // The folded branches: a chip that says "+N more", a button for the keyboard that says what it hides.
    const chips = await frame.locator('.chip-button').count();
    assert.ok(chips >= 1, 'the dead branches are folded into a chip');
    const chip = frame.locator('.chip-button').first();
    const hides = await chip.getAttribute('aria-label');
    assert.match(hides ?? '', /^\d+ (children of|experiments under) #\d+ hidden.*: \d+ discarded.*\. Click or press Enter to expand\.$/);
    const n = Number(/^\d+/.exec(hides!)![0]);
    assert.equal(await chip.textContent(), `+${n} more`);
    await tree.screenshot({ path: join(screenshotDir, 'results-tree-labels.png') });
    await code.screenshot('results-tree-folded');
    // Tab reaches it; Enter unfolds it.
    await chip.focus();
    await chip.press('Enter');
    await waitFor('the folded experiments shown', async () => (await frame.locator('.chip-button').count()) === chips - 1, 10_000);
    // Zoom in from the toolbar: the view is scaled, and the labels stay clear of each other.
    const before = (await hooks(frame)).state;
    await frame.locator('.tree-panel .zoom-in').click();
    await frame.locator('.tree-panel .zoom-in').click();
    const after = (await hooks(frame)).state;
    assert.ok(after.tree.view && (!before.tree.view || after.tree.view.k > before.tree.view.k), 'zoomed in');
    await tree.screenshot({ path: join(screenshotDir, 'results-tree-zoomed.png') });
    await frame.locator('.tree-panel').getByRole('button', { name: 'Fit' }).click();
  });

  it("clicking a point opens that node's diff, and the selection is shared", async () => {
    assert.ok(code);
    const rows = readFileSync(join(workspace, 'results.tsv'), 'utf8').trim().split('\n').slice(1);
    // A node with code and a parent: the last kept experiment.
    const id = rows.map((l, i) => [l.split('\t')[3], i] as const).filter(([s, i]) => s === 'keep' && i > 0).pop()![1];
    await clickPoint(frame, 'chart', id);
    await diffTab(code, id).first().waitFor({ state: 'visible', timeout: 20_000 });
    await code.screenshot('results-dark-diff');
    // The diff may cover the panel (same editor group); the selection is then checked once it is back.
    clicked = id;
  });

  it('restores the selection and the zoom after the panel was hidden', async () => {
    assert.ok(code);
    // Bring the panel back to the front if the diff covered it, then zoom in and select with the keyboard.
    const tab = code.page.locator('.tabs-container .tab').filter({ hasText: /^Results|AutoResearch Results/ }).first();
    await tab.click();
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 20_000 });
    await waitFor(`the clicked #${clicked} selected`, async () => (await hooks(frame)).selected === clicked, 10_000);
    assert.equal(await frame.locator(`#row-${clicked}`).getAttribute('aria-selected'), 'true', 'the table shows the node clicked on the chart');
    const canvas = frame.locator('#chart-canvas');
    await canvas.focus();
    await canvas.press('+');
    await canvas.press('Home');
    await canvas.press('ArrowRight');
    await canvas.press('ArrowRight');
    await waitFor('selection #2', async () => (await hooks(frame)).selected === 2, 5_000);
    // Enter opens the selected node's diff; hiding the panel behind it tears the webview down.
    await canvas.press('Enter');
    await diffTab(code, 2).first().waitFor({ state: 'visible', timeout: 20_000 });
    await code.page.locator('.tabs-container .tab').filter({ hasText: /↔ #2\b/ }).first().click();
    await tab.click();
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 20_000 });
    await waitFor('the restored selection', async () => (await hooks(frame)).selected === 2, 10_000);
    assert.equal(await frame.locator('#row-2').getAttribute('aria-selected'), 'true');
    assert.ok((await hooks(frame)).state.chart.x, 'the chart is still zoomed in');
  });

  it('works from the keyboard: Tab reaches the table, arrows move, Enter opens the diff', async () => {
    assert.ok(code);
    const grid = frame.locator('#table-grid');
    await grid.focus();
    await grid.press('Home');
    await grid.press('ArrowDown');
    await grid.press('ArrowDown');
    await grid.press('ArrowDown');
    // The selection goes through the host and back (it is shared with the Experiments view): wait for it.
    await frame.locator('#row-3[aria-selected="true"]').waitFor({ state: 'attached', timeout: 10_000 });
    const outline = await grid.evaluate((el) => (globalThis as unknown as Page).getComputedStyle(el).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused table shows a focus outline');
    await grid.press('Enter');
    await diffTab(code, 3).first().waitFor({ state: 'visible', timeout: 20_000 });
  });

  it('shares the selection with the Experiments view, both ways', async () => {
    assert.ok(code);
    const rows = readFileSync(join(workspace, 'results.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[4]!);
    const sidebar = code.page.locator('#workbench\\.parts\\.sidebar');
    // The table selected #3 a moment ago: the view selected it too.
    const selectedItem = sidebar.locator('.monaco-list-row[aria-selected="true"]');
    await waitFor('#3 selected in the Experiments view', async () => (await selectedItem.innerText()).includes(rows[3]!), 10_000);
    // A node picked in the Experiments view is the panel's selection.
    const unique = rows.findIndex((d, i) => i > 0 && i !== 3 && rows.indexOf(d) === rows.lastIndexOf(d));
    await sidebar.locator('.monaco-list-row').filter({ hasText: rows[unique]! }).first().click();
    // The click opens the node's diff: once it is the active tab, bring the panel back (clicked before the diff
    // opened, on a loaded machine, the diff then covered the panel again).
    await diffTab(code, unique).and(code.page.locator('.tab.active')).first().waitFor({ state: 'visible', timeout: 20_000 });
    await code.page.locator('.tabs-container .tab').filter({ hasText: /^Results|AutoResearch Results/ }).first().click();
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 20_000 });
    await waitFor(`#${unique} selected in the panel`, async () => (await hooks(frame)).selected === unique, 10_000);
    assert.equal(await frame.locator(`#row-${unique}`).getAttribute('aria-selected'), 'true');
    // Back to #3 for the reload check below.
    const grid = frame.locator('#table-grid');
    await grid.focus();
    await grid.press('Home');
    for (let i = 0; i < 3; i++) await grid.press('ArrowDown');
    await waitFor('#3 selected again', async () => (await hooks(frame)).selected === 3, 5_000);
  });

  it('is a locked-down page: strict CSP with a nonce, nothing remote', async () => {
    assert.ok(code);
    await code.page.locator('.tabs-container .tab').filter({ hasText: /^Results|AutoResearch Results/ }).first().click();
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 20_000 });
    const csp = await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.ok(csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[0-9a-f]{32}'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // The only origin is the webview's own resource origin (webview.cspSource), never a remote site.
    assert.doesNotMatch(csp.replaceAll('https://*.vscode-cdn.net', ''), /https?:/);
    const nonce = /nonce-([0-9a-f]+)/.exec(csp)![1]!;
    const ours = frame.locator('script[src*="dist/webview/main.js"]');
    assert.equal(await ours.count(), 1);
    assert.equal(await ours.getAttribute('nonce'), nonce);
    for (const src of await frame.locator('script[src]').evaluateAll((els) => els.map((e) => (e as unknown as { src: string }).src))) {
      assert.match(src, /^https:\/\/[^/]*vscode-cdn\.net\/|^vscode-/, `a script from ${src}`);
    }
  });

  it('exports the chart as an SVG file', async () => {
    assert.ok(code);
    const tab = code.page.locator('.tabs-container .tab').filter({ hasText: /^Results|AutoResearch Results/ }).first();
    await tab.click();
    await frame.locator('.export-chart-svg').click();
    const input = code.page.locator('.quick-input-widget input').first();
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.press('Enter');
    const file = join(workspace, 'quickstart-progress.svg');
    await waitFor('the exported SVG', async () => existsSync(file), 15_000);
    const svg = readFileSync(file, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /val_loss \(lower is better\)/);
    assert.ok((svg.match(/<circle /g) ?? []).length >= 10, 'the points are in the file');
    // And the tree as a PNG: a real image file.
    await frame.locator('.export-tree-png').click();
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.press('Enter');
    const png = join(workspace, 'quickstart-tree.png');
    await waitFor('the exported PNG', async () => existsSync(png) && readFileSync(png).length > 1000, 15_000);
    assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('reads well in the light and high-contrast themes (screenshots)', async () => {
    assert.ok(code);
    await frame.locator('body').evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await selectTheme(code, 'Light Modern', 'vs');
    await code.page.waitForTimeout(800);
    const base = await pixelAt(frame, 0, '--vscode-charts-green');
    assert.ok(base && close(base.got, base.want), `after a theme switch the chart repaints in its colours: ${JSON.stringify(base)}`);
    await code.screenshot('results-light-done');
    await selectTheme(code, 'Dark High Contrast', 'hc-black');
    await code.page.waitForTimeout(800);
    await code.screenshot('results-high-contrast');
    await selectTheme(code, 'Dark Modern', 'vs-dark');
  });

  it('comes back after a window reload, with its selection', async () => {
    assert.ok(code);
    // Reload the window as a person does: the workbench saves its layout (the panel, the webview's state) as it shuts
    // down, then it and the extension host start again. A bare browser reload can cut that save short.
    await code.runCommand('Developer: Reload Window');
    await code.waitForWorkbench();
    const restored = code.webviewFrame();
    let seen = '';
    await waitFor(() => `the restored chart; the window shows ${seen}`, async () => {
      if (await restored.locator('#chart-canvas').isVisible()) return true;
      seen = await whatTheWindowShows(code!, restored);
      return false;
    }, 60_000);
    await waitFor('the restored nodes', async () => (await nodeCount(restored)) === EXPERIMENTS + 1, 30_000);
    await waitFor('the restored selection', async () => (await hooks(restored)).selected === 3, 10_000);
    await code.screenshot('results-dark-reloaded');
  });
});
