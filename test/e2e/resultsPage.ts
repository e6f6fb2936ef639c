// The results webview as the UI tests reach into it: the test hooks it exposes (webview-ui/src/main.ts)
// and the canvas pixels under an experiment's point.
import type { FrameLocator } from 'playwright-core';

/** What the webview exposes for tests. */
export interface Hooks {
  chartPoint(id: number): { x: number; y: number } | null;
  treePoint(id: number): { x: number; y: number } | null;
  /** What the tree writes now: each label's text and box, in client pixels (key: node id). */
  treeLabels(): { key: number; text: string; x: number; y: number; w: number; h: number }[];
  selected(): number | null;
  state(): { chart: { x: [number, number] | null }; tree: { view: { k: number } | null } };
}

/** The page's globals, typed by hand: the tests compile without the DOM library. */
export interface Canvas {
  width: number;
  getBoundingClientRect(): { left: number; top: number; width: number };
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}
export interface Page {
  autoresearchResults: Hooks;
  document: { createElement(tag: string): { style: Record<string, string>; remove(): void }; body: { append(node: unknown): void } };
  getComputedStyle(el: unknown): { color: string; outlineStyle: string };
}

/** The colour under an experiment's point on the chart canvas, and the theme colour it should be. */
export async function pixelAt(frame: FrameLocator, id: number, themeVar: string): Promise<{ got: number[]; want: number[] } | null> {
  return frame.locator('#chart-canvas').evaluate((el, [nodeId, cssVar]) => {
    const w = globalThis as unknown as Page;
    const canvas = el as unknown as Canvas;
    const p = w.autoresearchResults.chartPoint(nodeId);
    if (!p) return null;
    const r = canvas.getBoundingClientRect();
    const dpr = canvas.width / r.width;
    const d = canvas.getContext('2d').getImageData(Math.round((p.x - r.left) * dpr), Math.round((p.y - r.top) * dpr), 1, 1).data;
    const probe = w.document.createElement('div');
    probe.style.color = `var(${cssVar})`;
    w.document.body.append(probe);
    const want = w.getComputedStyle(probe).color.match(/\d+/g)!.slice(0, 3).map(Number);
    probe.remove();
    return { got: [d[0]!, d[1]!, d[2]!], want };
  }, [id, themeVar] as const);
}
