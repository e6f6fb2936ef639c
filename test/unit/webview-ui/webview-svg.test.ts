// SVG exports of the chart and the tree: standalone files in the theme's resolved colours, text escaped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeChart } from '../../../webview-ui/src/chartModel.js';
import { resolvePalette } from '../../../webview-ui/src/palette.js';
import { chartSvg, treeSvg } from '../../../webview-ui/src/svgExport.js';
import { layoutTree } from '../../../webview-ui/src/treeLayout.js';
import { dto, storeOf } from '../helpers/webview.js';

const THEME: Record<string, string> = {
  '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-editor-background': '#1f1f1f',
  '--vscode-charts-green': '#89d185', '--vscode-charts-red': '#f14c4c', '--vscode-charts-orange': '#d18616', '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-focusBorder': '#0078d4', '--vscode-font-family': 'Segoe "UI"',
};
const palette = resolvePalette((n) => THEME[n] ?? '', false);

function store() {
  return storeOf([
    dto({ id: 0, parentId: null, status: 'keep', metric: 1, description: 'baseline' }),
    dto({ id: 1, status: 'discard', metric: 1.2, description: '<b>x</b> & "q"' }),
    dto({ id: 2, status: 'keep', metric: 0.8, description: 'tanh' }),
    dto({ id: 3, status: 'crash', metric: null }),
  ], { bestId: 2 });
}

function wellFormed(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg.trimEnd(), /<\/svg>$/);
  assert.doesNotMatch(svg, /var\(--/, 'CSS variables mean nothing outside the editor: colours are resolved');
  assert.doesNotMatch(svg, /<script/i);
  assert.doesNotMatch(svg, /NaN|undefined/);
}

describe('webview SVG export', () => {
  it('exports the chart with its axes, baseline, best-so-far line and every point', () => {
    const s = store();
    const svg = chartSvg(computeChart(s, { x: null, y: null, log: false }, 640, 320), s, palette, 'run — val_loss');
    wellFormed(svg);
    assert.match(svg, /<polyline [^>]*stroke="#b180d7"/, 'the best-so-far line in the best colour');
    assert.match(svg, /stroke-dasharray="6 4"/, 'the baseline');
    assert.equal((svg.match(/<circle /g) ?? []).length, 3 + 1 + 2, 'three points with values, the ring around the best, the legend’s two circles');
    assert.match(svg, /r="7" fill="none" stroke="#b180d7"/, 'the best point is ringed');
    assert.match(svg, /val_loss \(lower is better\)/);
    assert.match(svg, /font-family="Segoe &quot;UI&quot;"/);
  });

  it('exports the tree with the best path and escaped descriptions', () => {
    const s = store();
    const svg = treeSvg(layoutTree(s, { collapseDead: false, expanded: new Set(), pinned: [] }), s, palette, 'run — tree');
    wellFormed(svg);
    assert.match(svg, />#1 \+20\.0% &lt;b&gt;x&lt;\/b&gt; &amp; &quot;q&quot;</, 'number, change against the parent, description');
    assert.match(svg, /stroke="#b180d7" stroke-width="2.5"/, 'the best path');
    assert.match(svg, />#2 ★ -20\.0% tanh</);
  });

  it('exports a merge\'s second parent as a dashed link in the merge colour, and names both parents', () => {
    const s = storeOf([
      dto({ id: 0, parentId: null, status: 'keep', metric: 1 }),
      dto({ id: 1, status: 'keep', metric: 0.9 }),
      dto({ id: 2, status: 'keep', metric: 0.95 }),
      dto({ id: 3, parentId: 1, status: 'keep', metric: 0.85, operator: 'merge', mergedFrom: 2, description: 'merge #2 into #1: wider' }),
    ], { bestId: 3 });
    const layout = layoutTree(s, { collapseDead: false, expanded: new Set(), pinned: [] });
    const svg = treeSvg(layout, s, palette, 'run — tree');
    wellFormed(svg);
    const [from, to] = [layout.byKey.get(2)!, layout.byKey.get(3)!];
    const dashed = svg.match(/<path class="merge" d="([^"]*)" fill="none" stroke="#3794ff" stroke-width="1.5" stroke-dasharray="4 3"\/>/);
    assert.ok(dashed, svg);
    assert.match(dashed[1]!, new RegExp(`^M${from.x} ${from.y}C.* ${to.x} ${to.y}$`), 'from #2 to #3');
    assert.match(svg, />#3 ★ -5\.6% merge of #1 and #2: wider</);
    assert.match(svg, />#1 -10\.0%</, 'an inner node: its number and change');
  });
});
