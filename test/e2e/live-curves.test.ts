// Live learning curves in a real VS Code (code-server 4.117 in headless Chromium): a session on a copy of
// examples/quickstart whose training prints a loss line per epoch, read as the curve (`progress:`). While an
// experiment runs, the results view draws its curve over its parent's, growing as lines arrive, says the same in
// words, and the status bar shows its latest value against the parent's at the same point. Screenshots go to
// test-output/screenshots/live-curves-*.png.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { repoRoot } from '../../scripts/vscode-rig/provision.mjs';
import { makeQuickstartWorkspace, removeQuickstartWorkspace } from '../fixtures/quickstart.mjs';
import type { Canvas, Page } from './resultsPage.js';
import { VSCode } from './rig.js';

interface Curves {
  subject: number;
  running: boolean;
  lines: { role: 'run' | 'parent' | 'best'; id: number; points: number }[];
  text: string;
}

function curves(frame: FrameLocator): Promise<Curves | null> {
  return frame.locator('body').evaluate(() => (globalThis as unknown as { autoresearchResults: { curves(): Curves | null } }).autoresearchResults.curves());
}

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** How many pixels of the curve canvas are (close to) the colour of a theme variable. */
function pixelsOf(frame: FrameLocator, cssVar: string): Promise<number> {
  return frame.locator('#curve-canvas').evaluate((el, v) => {
    const w = globalThis as unknown as Page;
    const canvas = el as unknown as Canvas & { height: number };
    const probe = w.document.createElement('div');
    probe.style.color = `var(${v})`;
    w.document.body.append(probe);
    const want = w.getComputedStyle(probe).color.match(/\d+/g)!.slice(0, 3).map(Number);
    probe.remove();
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3]! > 200 && Math.abs(d[i]! - want[0]!) + Math.abs(d[i + 1]! - want[1]!) + Math.abs(d[i + 2]! - want[2]!) < 40) n++;
    }
    return n;
  }, cssVar);
}

describe('live learning curves in VS Code', { timeout: 300_000 }, () => {
  let code: VSCode | undefined;
  let workspace = '';
  let frame: FrameLocator;

  before(async () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    // The example trains in under a second: its lines are passed on one every 80 ms, so a run takes about 7 s of its
    // 12 s budget and can be watched. Its `epoch n/80 loss x` lines are the curve.
    workspace = makeQuickstartWorkspace({ maxExperiments: 2, budget: '12s', run: 'python3 -u train.py | while IFS= read -r line; do echo "$line"; sleep 0.08; done' });
    // Early stopping (on by default) could end a losing run while its curve is watched: this test is about the curve.
    appendFileSync(`${workspace}/autoresearch.config.yaml`, "progress: 'epoch \\d+/\\d+ loss (\\S+)'\nprune: off\n");
    execFileSync('git', ['-c', 'user.name=AutoResearch test', '-c', 'user.email=test@localhost', 'commit', '-qam', 'read the epoch loss as the curve'], { cwd: workspace });
    code = await VSCode.start({
      name: 'live-curves',
      folder: workspace,
      extensionDevelopmentPath: repoRoot,
      settings: { 'workbench.colorTheme': 'Default Dark Modern', 'autoresearch.openSummaryOnFinish': false },
      viewport: { width: 1600, height: 1000 },
    });
    frame = code.webviewFrame();
  });

  after(async () => {
    await code?.dispose();
    if (workspace) removeQuickstartWorkspace(workspace);
  });

  it("draws the running experiment's curve over its parent's, growing as its lines arrive", async () => {
    const c = code!;
    await c.runCommand('AutoResearch: Start AutoResearch');
    await c.page.locator('.monaco-list-row[aria-label^="#0 baseline"]').waitFor({ state: 'visible', timeout: 60_000 });
    await c.runCommand('AutoResearch: Show Results');
    await frame.locator('#curve-canvas').waitFor({ state: 'visible', timeout: 60_000 });
    // An experiment after the baseline, running, with some points of its own and its parent's whole curve.
    const first = await waitFor('a running experiment with a curve over its parent\'s', async () => {
      const v = await curves(frame);
      return v && v.running && v.subject > 0 && v.lines[0]!.points >= 3 && v.lines.some((l) => l.role === 'parent' && l.points >= 20) && v;
    }, 120_000);
    // Read where the parent has a value too: a run that starts faster than its parent did (a warm interpreter) prints
    // its first points before the parent's first, where the reading says "parent #0 no value at the same point".
    const later = await waitFor('more points on the same run, where its parent has a value', async () => {
      const v = await curves(frame);
      return v && v.subject === first.subject && v.lines[0]!.points > first.lines[0]!.points && /, parent #\d+ [\d.]+ at the same point/.test(v.text) && v;
    }, 20_000);
    assert.match(later.text, new RegExp(`^#${first.subject} at \\d+ %: loss [\\d.]+, parent #\\d+ [\\d.]+ at the same point \\(#${first.subject} is (better|worse) by [\\d.]+\\)`));
    // The legend names the lines; the canvas says the reading in words.
    const legend = await frame.locator('#curve-legend').innerText();
    assert.match(legend, new RegExp(`running #${first.subject}`));
    assert.match(legend, /parent #\d+/);
    assert.match((await frame.locator('#curve-canvas').getAttribute('aria-label')) ?? '', /^Learning curve: #\d+ at \d+ %/);
    // Painted in the theme's colours: the running curve in charts-blue, the parent's in the foreground colour.
    assert.ok(await pixelsOf(frame, '--vscode-charts-blue') > 30, 'no running curve on the canvas');
    assert.ok(await pixelsOf(frame, '--vscode-foreground') > 30, "no parent's curve on the canvas");
    // The status bar: the latest value against the parent's at the same point.
    const ticker = c.statusBarItem(/loss [\d.]+ vs [\d.]+ \(#\d+\)/);
    await ticker.waitFor({ state: 'visible', timeout: 10_000 });
    await c.page.mouse.move(800, 300);
    await c.screenshot('live-curves-running');
  });

  it("with the session done, shows a chosen experiment's curve against its parent's, and the best's", async () => {
    const c = code!;
    await waitFor('the session to finish', async () => (await frame.locator('.headline .badge').innerText()).trim() === 'done', 120_000);
    // Pick #1 in the table: the panel follows the selection.
    const grid = frame.locator('#table-grid');
    await grid.focus();
    await grid.press('Home');
    await grid.press('ArrowDown');
    const done = await waitFor('#1 against its parent', async () => {
      const v = await curves(frame);
      return v && !v.running && v.subject === 1 && v.lines.some((l) => l.role === 'parent' && l.id === 0) && v;
    }, 10_000);
    assert.match(done.text, /^#1 at \d+ %: loss [\d.]+, parent #0 [\d.]+ at the same point/);
    assert.match(await frame.locator('#curve-legend').innerText(), /selected #1/);
    // The best of the session, when it is neither of them, is drawn as well.
    const rows = readFileSync(`${workspace}/results.tsv`, 'utf8').trim().split('\n').slice(1).map((l, i) => ({ i, v: Number(l.split('\t')[1]), keep: l.split('\t')[3] === 'keep' }));
    const best = rows.filter((r) => r.keep).sort((a, b) => a.v - b.v)[0]!.i;
    if (best > 1) assert.ok(done.lines.some((l) => l.role === 'best' && l.id === best), `no best #${best} in ${JSON.stringify(done.lines)}`);
    await frame.locator('body').evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await c.page.mouse.move(800, 300);
    await c.screenshot('live-curves-done');
  });
});
