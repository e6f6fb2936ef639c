// A results.tsv that no session of this extension wrote (the original autoresearch format, crash rows
// with 0.000000, one malformed line) opened in the results panel of a real VS Code: chart and table, the
// malformed line reported with its number, live redraw when the file grows, a click opens the commit.
// The panel is opened through "AutoResearch Test: Open Results File" of the test build
// (test/fixtures/results-host), which shows the active editor's results.tsv as the Explorer's menu would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { buildResultsHost } from '../fixtures/results-host/build.mjs';
import { pixelAt, type Canvas, type Page } from './resultsPage.js';
import { VSCode } from './rig.js';

/** A git repository with a few commits and the results.tsv the original autoresearch would have written. */
function workspace(): { dir: string; commits: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'results-file-e2e-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  const commits: string[] = [];
  for (const [i, change] of ['LR = 0.02', 'LR = 0.04', 'ACT = "gelu"', 'WIDTH = 2048', 'WARMUP = 500'].entries()) {
    writeFileSync(join(dir, 'train.py'), `# experiment ${i}\n${change}\n`);
    git('add', 'train.py');
    git('-c', 'user.email=e2e@example.com', '-c', 'user.name=e2e', 'commit', '-qm', `experiment ${i}: ${change}`);
    commits.push(git('rev-parse', '--short=7', 'HEAD'));
  }
  writeFileSync(join(dir, 'results.tsv'), [
    'commit\tval_bpb\tmemory_gb\tstatus\tdescription',
    `${commits[0]}\t0.997900\t44.0\tkeep\tbaseline`,
    `${commits[1]}\t0.993200\t44.2\tkeep\tincrease LR to 0.04`,
    `${commits[2]}\t1.005000\t44.0\tdiscard\tswitch to GeLU activation`,
    `${commits[3]}\t0.000000\t0.0\tcrash\tdouble model width (OOM)`,
    'this line is not a result',
    '',
  ].join('\n'));
  return { dir, commits };
}

describe('a bare results.tsv in the results view', { timeout: 180_000 }, () => {
  let code: VSCode | undefined;
  let ws: { dir: string; commits: string[] };
  let frame: FrameLocator;

  before(async () => {
    ws = workspace();
    const built = await buildResultsHost();
    code = await VSCode.start({
      name: 'results-file',
      folder: ws.dir,
      extensionDevelopmentPath: built.dir,
      settings: { 'workbench.colorTheme': 'Default Dark Modern' },
      viewport: { width: 1600, height: 1000 },
    });
    frame = code.webviewFrame();
  });

  after(async () => {
    await code?.dispose();
    if (ws?.dir) rmSync(ws.dir, { recursive: true, force: true });
  });

  it('shows the chart and the table, and the malformed line with its number', async () => {
    assert.ok(code);
    await code.page.keyboard.press('Control+P');
    const input = code.page.locator('.quick-input-widget input').first();
    await input.fill('results.tsv');
    await code.page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'results.tsv' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await input.press('Enter');
    await code.page.locator('.tabs-container .tab').filter({ hasText: 'results.tsv' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await code.runCommand('AutoResearch Test: Open Results File');
    await frame.locator('#chart-canvas').waitFor({ state: 'visible', timeout: 30_000 });
    await frame.locator('body[data-nodes="4"]').waitFor({ state: 'attached', timeout: 15_000 });
    assert.equal((await frame.locator('.headline .title').innerText()).trim(), 'results.tsv');
    assert.match(await frame.locator('.headline .metric-name').innerText(), /val_bpb · lower is better \(guessed\)/);
    assert.match(await frame.locator('#fig-progress').innerText(), /0\.9979 → 0\.9932/);
    assert.equal((await frame.locator('#fig-crashed').innerText()).trim(), '1');
    assert.match(await frame.locator('.errors summary').innerText(), /1 malformed line in results\.tsv/);
    assert.match(await frame.locator('.errors li').first().innerText(), /line 6: expected 5 tab-separated columns, found 1/);
    assert.equal((await frame.locator('.table-panel .count').innerText()).trim(), '4 experiments');
    assert.equal(await frame.locator('.tree-panel').isVisible(), false, 'no tree: a results.tsv does not say who is whose parent');
    assert.equal(await frame.locator('.grid-head [role=columnheader]').count(), 8, "results.tsv's columns and vs noise, no parent/depth/duration/decided by");
    // The crash row (0.000000 in the file) is on the crash band, in the theme's crash colour.
    const crash = await pixelAt(frame, 3, '--vscode-charts-red');
    assert.ok(crash && crash.got.every((v, i) => Math.abs(v - crash.want[i]!) <= 60), `crash pixel ${JSON.stringify(crash)}`);
    await code.screenshot('results-file-dark');
  });

  it('redraws when the file grows (a loop still appending to it)', async () => {
    assert.ok(code);
    appendFileSync(join(ws.dir, 'results.tsv'), `${ws.commits[4]}\t0.990100\t44.1\tkeep\twarmup 500 steps\n`);
    await frame.locator('body[data-nodes="5"]').waitFor({ state: 'attached', timeout: 20_000 });
    assert.match(await frame.locator('#fig-progress').innerText(), /0\.9979 → 0\.9901/);
  });

  it('says which keeps are larger than the noise once the log holds a seed-only run', async () => {
    assert.ok(code);
    const headline = frame.locator('#wins-headline');
    assert.match(await headline.innerText(), /^Whether the 2 keeps are larger than the noise is unknown: .* To know: run autoresearch summary --from results\.tsv --noise 0\.0007 /);
    appendFileSync(join(ws.dir, 'results.tsv'), 'deadbee\t0.990500\t44.1\tdiscard\twarmup 500 steps (seed 7)\n');
    await frame.locator('body[data-nodes="6"]').waitFor({ state: 'attached', timeout: 20_000 });
    assert.match(await headline.innerText(), /^2 of 2 keeps are larger than the noise \(noise ±0\.0004, estimated from the log: the one difference between runs of the same code \(line 8 against line 7: a seed-only change\)\)\.$/);
    const mark = frame.locator('#row-1 .win');
    assert.equal((await mark.innerText()).trim(), 'real');
    assert.equal(await mark.getAttribute('aria-label'), 'Larger than the noise: gains 0.0047 over #0 (line 2); a keep must gain more than 0.0004');
    await code.screenshot('results-file-wins');
  });

  it("clicking a point opens that row's commit", async () => {
    assert.ok(code);
    const canvas = frame.locator('#chart-canvas');
    const pos = await canvas.evaluate((el, id) => {
      const p = (globalThis as unknown as Page).autoresearchResults.chartPoint(id);
      const r = (el as unknown as Canvas).getBoundingClientRect();
      return p && { x: p.x - r.left, y: p.y - r.top };
    }, 2);
    assert.ok(pos);
    await canvas.click({ position: pos });
    await code.page.locator('.tabs-container .tab').filter({ hasText: `${ws.commits[2]}.diff` }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await code.page.locator('.view-lines', { hasText: 'ACT = "gelu"' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await code.screenshot('results-file-commit');
  });
});
