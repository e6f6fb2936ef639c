// The chart and the tree as standalone SVG files for a report: the same scene the canvas draws, with the
// theme's colours resolved to values so the file looks the same outside the editor.
import type { NodeStatus } from '../../src/shared/protocol.js';
import type { ChartScene } from './chartModel.js';
import { Glyph } from './chartModel.js';
import { escapeXml } from './format.js';
import { truncate } from '../../src/shared/format.js';
import { DASH, fmtNum } from '../../src/shared/format.js';
import type { Palette } from './palette.js';
import type { ResultsStore } from './store.js';
import { chipDescription, chipText, longLabelText, shortLabel } from './treeLabels.js';
import type { TreeItem, TreeLayout } from './treeLayout.js';

const GLYPH_STATUS: NodeStatus[] = ['keep', 'discard', 'crash', 'invalid', 'running', 'pending'];

const n1 = (v: number) => (Math.round(v * 10) / 10).toString();

function glyphSvg(g: number, x: number, y: number, color: string, p: Palette, r = 1): string {
  switch (g) {
    case Glyph.Keep: return `<circle cx="${n1(x)}" cy="${n1(y)}" r="${n1(4 * r)}" fill="${color}"/>`;
    case Glyph.Discard: return `<circle cx="${n1(x)}" cy="${n1(y)}" r="${n1(2.5 * r)}" fill="${color}" fill-opacity="0.75"/>`;
    case Glyph.Crash: {
      const s = 3.5 * r;
      return `<path d="M${n1(x - s)} ${n1(y - s)}L${n1(x + s)} ${n1(y + s)}M${n1(x - s)} ${n1(y + s)}L${n1(x + s)} ${n1(y - s)}" stroke="${color}" stroke-width="1.6"/>`;
    }
    case Glyph.Invalid: {
      const s = 4 * r;
      return `<path d="M${n1(x)} ${n1(y - s)}L${n1(x + s)} ${n1(y)}L${n1(x)} ${n1(y + s)}L${n1(x - s)} ${n1(y)}Z" fill="none" stroke="${color}" stroke-width="1.4"/>`;
    }
    default: return `<circle cx="${n1(x)}" cy="${n1(y)}" r="${n1(3.5 * r)}" fill="none" stroke="${color}" stroke-width="1.6"/>`;
  }
}

function open(width: number, height: number, p: Palette, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(width)}" height="${Math.round(height)}" viewBox="0 0 ${Math.round(width)} ${Math.round(height)}" font-family="${escapeXml(p.font)}" font-size="${p.fontSize - 2}">\n`
    + `<title>${escapeXml(title)}</title>\n<rect width="100%" height="100%" fill="${p.bg}"/>\n`;
}

export function chartSvg(scene: ChartScene, store: ResultsStore, p: Palette, title: string): string {
  const { plot, band } = scene;
  const out: string[] = [open(scene.width, scene.height + 28, p, title)];
  out.push(`<text x="${plot.left}" y="16" fill="${p.fg}" font-weight="600">${escapeXml(title)}</text>`);
  out.push('<g transform="translate(0 24)">');
  out.push(`<defs><clipPath id="plot"><rect x="${plot.left}" y="${plot.top - 6}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top + 12}"/></clipPath></defs>`);
  for (const t of scene.yTicks) {
    out.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${n1(t.px)}" y2="${n1(t.px)}" stroke="${p.fg}" stroke-opacity="0.12"/>`);
    out.push(`<text x="${plot.left - 6}" y="${n1(t.px + 4)}" text-anchor="end" fill="${p.muted}">${escapeXml(t.label)}</text>`);
  }
  for (const t of scene.xTicks) {
    out.push(`<line x1="${n1(t.px)}" x2="${n1(t.px)}" y1="${band.bottom}" y2="${band.bottom + 4}" stroke="${p.muted}"/>`);
    out.push(`<text x="${n1(t.px)}" y="${band.bottom + 16}" text-anchor="middle" fill="${p.muted}">${escapeXml(t.label)}</text>`);
  }
  out.push(`<rect x="${plot.left}" y="${band.top}" width="${plot.right - plot.left}" height="${band.bottom - band.top}" fill="${p.fg}" fill-opacity="0.06"/>`);
  out.push(`<text x="${plot.left - 6}" y="${n1(band.mid + 4)}" text-anchor="end" fill="${p.muted}">no value</text>`);
  out.push(`<line x1="${plot.left}" x2="${plot.left}" y1="${plot.top}" y2="${plot.bottom}" stroke="${p.muted}"/>`);
  out.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}" stroke="${p.muted}"/>`);
  out.push(`<text transform="translate(14 ${n1((plot.top + plot.bottom) / 2)}) rotate(-90)" text-anchor="middle" fill="${p.fg}">${escapeXml(scene.yLabel)}</text>`);
  out.push(`<text x="${n1((plot.left + plot.right) / 2)}" y="${band.bottom + 32}" text-anchor="middle" fill="${p.fg}">${escapeXml(scene.xLabel)}</text>`);
  out.push('<g clip-path="url(#plot)">');
  if (scene.noiseBand) {
    out.push(`<rect class="noise-band" x="${plot.left}" y="${n1(scene.noiseBand.top)}" width="${plot.right - plot.left}" height="${n1(scene.noiseBand.bottom - scene.noiseBand.top)}" fill="${p.baseline}" fill-opacity="0.12"/>`);
  }
  if (scene.baselineY !== null) {
    const noise = scene.noiseBand ? ` ± ${fmtNum(scene.noiseBand.threshold, DASH)} noise` : '';
    out.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${n1(scene.baselineY)}" y2="${n1(scene.baselineY)}" stroke="${p.baseline}" stroke-dasharray="6 4" stroke-width="1.2"/>`);
    out.push(`<text x="${plot.right - 4}" y="${n1(scene.baselineY - 4)}" text-anchor="end" fill="${p.baseline}">baseline ${escapeXml(fmtNum(store.baseline?.metric, DASH) + noise)}</text>`);
  }
  if (scene.best.length >= 4) {
    const pts: string[] = [];
    for (let i = 0; i < scene.best.length; i += 2) pts.push(`${n1(scene.best[i]!)},${n1(scene.best[i + 1]!)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${p.best}" stroke-width="2"/>`);
  }
  out.push('</g>');
  // Discards first, so kept points sit on top.
  for (const order of [Glyph.Discard, Glyph.Keep, Glyph.Crash, Glyph.Invalid, Glyph.Running, Glyph.Pending]) {
    for (let i = 0; i < scene.count; i++) {
      if (scene.glyph[i] !== order) continue;
      out.push(glyphSvg(order, scene.px[i]!, scene.py[i]!, p[GLYPH_STATUS[order]!], p));
    }
  }
  const bestId = store.bestId;
  const bi = bestId === null ? -1 : [...scene.ids].indexOf(bestId);
  if (bi >= 0 && !scene.off[bi]) out.push(`<circle cx="${n1(scene.px[bi]!)}" cy="${n1(scene.py[bi]!)}" r="7" fill="none" stroke="${p.best}" stroke-width="2"/>`);
  out.push('</g>');
  out.push(legendSvg(p, plot.right, 16));
  out.push('</svg>\n');
  return out.join('\n');
}

function legendSvg(p: Palette, right: number, y: number): string {
  const entries: [number, NodeStatus][] = [[Glyph.Keep, 'keep'], [Glyph.Discard, 'discard'], [Glyph.Crash, 'crash'], [Glyph.Invalid, 'invalid']];
  const parts: string[] = [];
  let x = right - 300;
  for (const [g, s] of entries) {
    parts.push(glyphSvg(g, x, y - 4, p[s], p));
    parts.push(`<text x="${x + 8}" y="${y}" fill="${p.muted}">${s}</text>`);
    x += 62;
  }
  parts.push(`<line x1="${x}" x2="${x + 14}" y1="${y - 4}" y2="${y - 4}" stroke="${p.best}" stroke-width="2"/><text x="${x + 18}" y="${y}" fill="${p.muted}">best</text>`);
  return parts.join('');
}

/** The whole tree at natural scale, labels included while they stay legible. */
export function treeSvg(layout: TreeLayout, store: ResultsStore, p: Palette, title: string): string {
  const m = 40;
  const labelRoom = 220;
  const { x0, y0, x1, y1 } = layout.bounds;
  const width = x1 - x0 + 2 * m + labelRoom;
  const height = y1 - y0 + 2 * m + 24;
  const tx = m - x0;
  const ty = m + 24 - y0;
  const out: string[] = [open(Math.max(width, 320), height, p, title)];
  out.push(`<text x="${m}" y="20" fill="${p.fg}" font-weight="600">${escapeXml(title)}</text>`);
  out.push(`<g transform="translate(${n1(tx)} ${n1(ty)})">`);
  const bestPath = new Set(store.bestId === null ? [] : store.pathTo(store.bestId));
  const links: string[] = [];
  const bestLinks: string[] = [];
  const mergeLinks: string[] = [];
  const curve = (list: Int32Array, pick: (a: TreeItem, b: TreeItem) => string[]) => {
    for (let i = 0; i < list.length; i += 2) {
      const a = layout.items[list[i]!]!;
      const b = layout.items[list[i + 1]!]!;
      const mx = (a.x + b.x) / 2;
      pick(a, b).push(`M${n1(a.x)} ${n1(a.y)}C${n1(mx)} ${n1(a.y)} ${n1(mx)} ${n1(b.y)} ${n1(b.x)} ${n1(b.y)}`);
    }
  };
  curve(layout.links, (a, b) => (b.kind === 'node' && bestPath.has(b.id) && bestPath.has(a.id) ? bestLinks : links));
  curve(layout.merges, () => mergeLinks);
  if (links.length) out.push(`<path d="${links.join('')}" fill="none" stroke="${p.muted}" stroke-opacity="0.55" stroke-width="1"/>`);
  if (bestLinks.length) out.push(`<path d="${bestLinks.join('')}" fill="none" stroke="${p.best}" stroke-width="2.5"/>`);
  if (mergeLinks.length) out.push(`<path class="merge" d="${mergeLinks.join('')}" fill="none" stroke="${p.merge}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  const labels = layout.items.length <= 3000;
  for (const it of layout.items) {
    if (it.kind === 'group') {
      // No text measuring here: about 0.6 em a character.
      const w = chipText(it).length * (p.fontSize - 4) * 0.6 + 10;
      out.push(`<rect x="${n1(it.x - w / 2)}" y="${n1(it.y - 7)}" width="${n1(w)}" height="14" rx="7" fill="${p.bg}" stroke="${p.muted}"/>`);
      out.push(`<text x="${n1(it.x)}" y="${n1(it.y + 4)}" text-anchor="middle" fill="${p.muted}" font-size="${p.fontSize - 4}"><title>${escapeXml(chipDescription(it))}</title>${escapeXml(chipText(it))}</text>`);
      continue;
    }
    const n = store.nodes[it.id]!;
    const g = { keep: Glyph.Keep, discard: Glyph.Discard, crash: Glyph.Crash, invalid: Glyph.Invalid, running: Glyph.Running, pending: Glyph.Pending }[n.status];
    if (it.id === store.bestId) out.push(`<circle cx="${n1(it.x)}" cy="${n1(it.y)}" r="8" fill="none" stroke="${p.best}" stroke-width="2"/>`);
    out.push(glyphSvg(g, it.x, it.y, p[n.status], p, 1.2));
    if (!labels) continue;
    // As on screen: leaves have room on their right for the description; inner nodes their number and change above.
    const leaf = store.childrenOf(it.id).length === 0;
    if (leaf) out.push(`<text x="${n1(it.x + 9)}" y="${n1(it.y + 4)}" fill="${p.fg}" font-size="${p.fontSize - 3}">${escapeXml(truncate(longLabelText(store, it.id), 48))}</text>`);
    else out.push(`<text x="${n1(it.x)}" y="${n1(it.y - 8)}" text-anchor="middle" fill="${p.muted}" font-size="${p.fontSize - 4}">${escapeXml(shortLabel(store, it.id).map((s) => s.text).join(''))}</text>`);
  }
  out.push('</g></svg>\n');
  return out.join('\n');
}
