// Benchmark of the results webview in a real Chromium (the one VS Code's webviews run in, headless):
// 10,000 experiments, initial render and live updates, medians over repeats. Prints a table and JSON,
// and writes the JSON to test-output/bench/webview.json.
//   npm run bench:webview [-- --nodes 10000 --repeats 7 --updates 40 --dpr 1]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import type { NodeDto } from '../src/shared/protocol.js';
import { buildWebview, webviewOutDir } from '../webview-ui/build.mjs';
import { syntheticSession } from './webviewData.js';
import { writeHarness } from './webviewHarness.js';

const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const NODES = arg('nodes', 10_000);
const REPEATS = arg('repeats', 7);
const UPDATES = arg('updates', 40);
const DPR = arg('dpr', 1);

interface Timing {
  /** Applying the message to the store and the views' bookkeeping (synchronous, in the message handler). */
  apply: number;
  /** The frame's work: computing scenes and layout, drawing the canvases and the visible table rows. */
  render: number;
  /** From the message to the next frame after the render: what a person waits for. */
  toFrame: number;
  /** The render's time per view. */
  times: Record<string, number>;
}

interface Page2 {
  __bench: {
    measure(run: () => void): Promise<Timing>;
  };
}

/** Installs the timing helper in the page: dispatches synchronously, then waits for the app's render event. */
async function install(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as Page2 & {
      requestAnimationFrame(f: () => void): void;
      document: { addEventListener(t: string, f: (e: { detail: { ms: number; times: Record<string, number> } }) => void, o: unknown): void };
    };
    w.__bench = {
      measure(run) {
        return new Promise((resolve, reject) => {
          let apply = 0;
          const t0 = performance.now();
          const timer = setTimeout(() => reject(new Error('no render within 10 s')), 10_000);
          w.document.addEventListener('autoresearch-rendered', (e) => {
            const render = e.detail.ms;
            const times = e.detail.times;
            clearTimeout(timer);
            w.requestAnimationFrame(() => resolve({ apply, render, toFrame: performance.now() - t0, times }));
          }, { once: true });
          run();
          apply = performance.now() - t0;
        });
      },
    };
  });
}

/** Sends a host message the way the webview receives one, and times it. */
function send(page: Page, message: unknown): Promise<Timing> {
  return page.evaluate((m) => {
    const w = globalThis as unknown as Page2 & { dispatchEvent(e: unknown): void; MessageEvent: new (t: string, i: unknown) => unknown };
    return w.__bench.measure(() => w.dispatchEvent(new w.MessageEvent('message', { data: m })));
  }, message);
}

function stats(values: number[]): { median: number; p95: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]!;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { median: r(q(0.5)), p95: r(q(0.95)), min: r(s[0]!), max: r(s[s.length - 1]!) };
}

interface Row {
  name: string;
  what: string;
  n: number;
  apply: ReturnType<typeof stats>;
  render: ReturnType<typeof stats>;
  toFrame: ReturnType<typeof stats>;
  /** Median render time per view. */
  views: Record<string, number>;
}

const rows: Row[] = [];
function record(name: string, what: string, timings: Timing[]): void {
  const views: Record<string, number> = {};
  for (const v of ['headline', 'chart', 'tree', 'table']) {
    const vs = timings.map((t) => t.times[v]).filter((x): x is number => x !== undefined);
    if (vs.length) views[v] = stats(vs).median;
  }
  rows.push({ name, what, n: timings.length, apply: stats(timings.map((t) => t.apply)), render: stats(timings.map((t) => t.render)), toFrame: stats(timings.map((t) => t.toFrame)), views });
}

async function open(url: string, browser: Awaited<ReturnType<typeof chromium.launch>>, state?: unknown): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: DPR });
  page.on('pageerror', (e) => { console.error(`page error: ${e.message}`); process.exitCode = 1; });
  if (state) await page.addInitScript((s) => { (globalThis as unknown as { __state: unknown }).__state = s; }, state);
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  await install(page);
  return page;
}

async function main(): Promise<void> {
  await buildWebview({ production: true });
  const url = writeHarness(webviewOutDir, 'dark');
  const data = syntheticSession(NODES, 1);
  const snapshot = { type: 'snapshot', rev: 0, session: data.session, nodes: data.nodes };
  const bytes = JSON.stringify(snapshot).length;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  const version = browser.version();
  let clone = stats([0]);
  try {
    {
      const page = await open(url, browser);
      const times = await page.evaluate(([m, n]) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          structuredClone(m);
          out.push(performance.now() - t0);
        }
        return out;
      }, [snapshot, REPEATS] as const);
      clone = stats(times);
      await page.close();
    }
    // Initial render: a fresh page per repeat, as when the panel opens or comes back from hiding.
    for (const [name, state] of [
      ['initial render', undefined],
      ['initial render, tree unfolded', { v: 1, source: { kind: 'session' }, selectedId: null, chart: { x: null, y: null, log: false }, tree: { collapseDead: false, expanded: [], view: null }, table: { sortKey: 'id', sortDesc: false, filter: '', hidden: [] }, direction: null }],
    ] as const) {
      const timings: Timing[] = [];
      for (let i = 0; i < REPEATS; i++) {
        const page = await open(url, browser, state);
        timings.push(await send(page, snapshot));
        await page.close();
      }
      record(name, `snapshot of ${NODES.toLocaleString('en-US')} experiments (${(bytes / 1e6).toFixed(1)} MB JSON) → drawn`, timings);
    }

    // Live updates on a page that already shows the whole session.
    for (const folded of [true, false]) {
      const page = await open(url, browser, folded ? undefined : { v: 1, source: { kind: 'session' }, selectedId: null, chart: { x: null, y: null, log: false }, tree: { collapseDead: false, expanded: [], view: null }, table: { sortKey: 'id', sortDesc: false, filter: '', hidden: [] }, direction: null });
      await send(page, snapshot);
      let rev = 0;
      let next = NODES;
      const best = data.session.bestId ?? 0;
      const added: Timing[] = [];
      const decided: Timing[] = [];
      for (let i = 0; i < UPDATES; i++) {
        const node: NodeDto = { ...data.nodes[best]!, id: next, parentId: best, status: 'running', metric: null, decidedBy: null, description: `live ${i}`, commit: 'f00d' + i, wallMs: null, finishedAt: null };
        added.push(await send(page, { type: 'delta', rev: ++rev, nodes: [node], session: { ...data.session, hostNow: new Date().toISOString() } }));
        const done: NodeDto = { ...node, status: i % 3 === 0 ? 'keep' : 'discard', metric: 0.3 + (i % 7) / 100, decidedBy: 'rule', wallMs: 30_000 };
        decided.push(await send(page, { type: 'delta', rev: ++rev, nodes: [done], session: { ...data.session, hostNow: new Date().toISOString() } }));
        next++;
      }
      const suffix = folded ? '' : ', tree unfolded';
      record(`add a running node${suffix}`, 'delta: one new node → drawn (chart, tree, table, headline)', added);
      record(`decide a node${suffix}`, 'delta: one node changes status → drawn', decided);
      if (folded) {
        const burst: Timing[] = [];
        for (let i = 0; i < Math.max(5, Math.floor(UPDATES / 4)); i++) {
          const nodes: NodeDto[] = [];
          for (let k = 0; k < 50; k++) nodes.push({ ...data.nodes[1 + ((i * 50 + k) % (NODES - 1))]!, id: next++, parentId: best, description: `burst ${i}.${k}` });
          burst.push(await send(page, { type: 'delta', rev: ++rev, nodes }));
        }
        record('add 50 nodes at once', 'delta: 50 new nodes → drawn', burst);

        // Interactions: zoom the chart with the wheel, hover a point, move the table selection.
        const canvas = page.locator('#chart-canvas');
        const box = (await canvas.boundingBox())!;
        const zoom: Timing[] = [];
        const hover: Timing[] = [];
        for (let i = 0; i < UPDATES; i++) {
          await page.mouse.move(box.x + box.width * (0.3 + (i % 10) / 25), box.y + box.height * 0.5);
          // In and out by turns around the whole range, so every step redraws thousands of points.
          zoom.push(await page.evaluate((step) => (globalThis as unknown as Page2).__bench.measure(() => {
            const c = (globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number; width: number; height: number }; dispatchEvent(e: unknown): void } } }).document.getElementById('chart-canvas');
            const r = c.getBoundingClientRect();
            const W = globalThis as unknown as { WheelEvent: new (t: string, i: unknown) => unknown };
            c.dispatchEvent(new W.WheelEvent('wheel', { deltaY: step % 2 === 0 ? -120 : 120, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true }));
          }), i));
        }
        await canvas.dblclick();
        for (let i = 0; hover.length < UPDATES && i < UPDATES * 5; i++) {
          // Alternate between points so that every move changes what is hovered.
          const id = 1 + ((i * 997) % (NODES - 2));
          const t = await page.evaluate((nodeId) => {
            const g = globalThis as unknown as Page2 & {
              autoresearchResults: { chartPoint(id: number): { x: number; y: number } | null };
              document: { getElementById(id: string): { dispatchEvent(e: unknown): void } };
              PointerEvent: new (t: string, i: unknown) => unknown;
            };
            const p = g.autoresearchResults.chartPoint(nodeId);
            if (!p) return null;
            return g.__bench.measure(() => g.document.getElementById('chart-canvas').dispatchEvent(new g.PointerEvent('pointermove', { clientX: p.x, clientY: p.y, bubbles: true })));
          }, id);
          if (t) hover.push(t);
        }
        record('zoom the chart (wheel)', 'one wheel step in or out over the whole range → redrawn', zoom);
        record('hover the chart', 'pointer move → hit test, tooltip, redraw', hover);
        const grid = page.locator('#table-grid');
        await grid.focus();
        const keys: Timing[] = [];
        for (let i = 0; i < UPDATES; i++) {
          keys.push(await page.evaluate(() => (globalThis as unknown as Page2).__bench.measure(() => {
            const g = (globalThis as unknown as { document: { getElementById(id: string): { dispatchEvent(e: unknown): void } } }).document.getElementById('table-grid');
            const K = globalThis as unknown as { KeyboardEvent: new (t: string, i: unknown) => unknown };
            g.dispatchEvent(new K.KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true, cancelable: true }));
          })));
        }
        record('select with the keyboard', 'ArrowDown in the table → chart, tree and table show it', keys);
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }

  const result = { chromium: version, snapshotCloneMs: clone, nodes: NODES, repeats: REPEATS, updates: UPDATES, devicePixelRatio: DPR, viewport: '1600x1000', snapshotBytes: bytes, unit: 'ms', rows };
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: number) => v.toFixed(1).padStart(7);
  console.log(`\nresults webview, ${NODES.toLocaleString('en-US')} experiments, Chromium ${version}, viewport 1600×1000 @${DPR}x (ms; median / p95 over n)`);
  console.log(`${pad('case', 36)} ${'n'.padStart(3)}  ${'apply'.padStart(7)}  ${'render'.padStart(7)} ${'p95'.padStart(7)}  ${'→frame'.padStart(7)} ${'p95'.padStart(7)}   render by view (median)`);
  for (const r of rows) {
    const by = Object.entries(r.views).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    console.log(`${pad(r.name, 36)} ${String(r.n).padStart(3)}  ${num(r.apply.median)}  ${num(r.render.median)} ${num(r.render.p95)}  ${num(r.toFrame.median)} ${num(r.toFrame.p95)}   ${by}`);
  }
  console.log(`copying the snapshot message (structured clone, as postMessage does): ${clone.median} ms median`);
  mkdirSync(join('test-output', 'bench'), { recursive: true });
  writeFileSync(join('test-output', 'bench', 'webview.json'), JSON.stringify(result, null, 2));
  console.log(`\n${JSON.stringify(result)}`);
}

await main();
