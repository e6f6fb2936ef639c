// The hover card, shared by the chart and the tree; text only, placed inside the window.
import type { Tooltip } from './context.js';
import { describeNode } from './describe.js';
import type { Progress } from './describe.js';
import { el } from './dom.js';
import type { ResultsStore } from './store.js';

export function createTooltip(root: HTMLElement, store: ResultsStore, progress: ReadonlyMap<number, Progress>): Tooltip {
  const box = el('div', { class: 'tooltip', role: 'tooltip', id: 'tooltip' });
  box.hidden = true;
  root.append(box);
  const place = (x: number, y: number) => {
    box.hidden = false;
    const w = box.offsetWidth;
    const h = box.offsetHeight;
    const left = x + 14 + w > window.innerWidth ? Math.max(4, x - 14 - w) : x + 14;
    const top = y + 14 + h > window.innerHeight ? Math.max(4, y - 14 - h) : y + 14;
    box.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  };
  const fill = (title: string, status: string, lines: string[]) => {
    box.replaceChildren();
    const head = el('div', { class: 'tt-head' }, el('strong', { text: title }));
    if (status) head.append(el('span', { class: `tt-status st-${status.split(' ')[0]}`, text: status }));
    box.append(head);
    lines.forEach((l, i) => box.append(el('div', { class: i === 0 ? 'tt-desc' : 'tt-line', text: l })));
  };
  return {
    show(id, x, y) {
      const d = describeNode(store, id, progress.get(id));
      if (!d) { box.hidden = true; return; }
      fill(d.title, d.status, d.lines);
      place(x, y);
    },
    showText(title, lines, x, y) {
      fill(title, '', lines);
      place(x, y);
    },
    hide() {
      box.hidden = true;
    },
  };
}
