// The experiments table: results.tsv's columns plus parent, depth, duration and who decided; sortable,
// filterable, virtualised (only the rows on screen exist), driven by the keyboard like a list.
import type { NodeStatus, TableColumn } from '../../src/shared/protocol.js';
import type { ViewContext } from './context.js';
import { el, toggle } from './dom.js';
import { fmtCount } from './format.js';
import { DECIDING, fmtRunClock } from '../../src/shared/format.js';
import { cellText, tableRows, updateRows, visibleColumns } from './tableModel.js';
import type { ColumnDef, TableQuery } from './tableModel.js';
import { winDetail } from './wins.js';

export const ROW_HEIGHT = 24;
const OVERSCAN = 6;
const STATUSES: NodeStatus[] = ['keep', 'discard', 'crash', 'invalid', 'running'];

export class TableView {
  readonly element: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private readonly count: HTMLElement;
  private readonly filter: HTMLInputElement;
  private readonly chips = new Map<NodeStatus, HTMLButtonElement>();
  private columns: ColumnDef[] = [];
  private rows: number[] = [];
  private readonly pool: HTMLElement[] = [];
  private dirtyRows = true;
  private pendingTouched: number[] = [];
  private filterTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: ViewContext, private readonly requestRender: () => void) {
    this.filter = el('input', {
      type: 'search', class: 'filter', id: 'table-filter', 'aria-label': 'Filter experiments',
      placeholder: 'Filter: words, #12, metric<0.3, delta<0, depth>=2, duration>30s, is:real, is:noise', spellcheck: 'false',
      // The box is narrower than its placeholder: the whole syntax is in its tooltip.
      title: 'Words (all must match), #12, metric<0.3, delta<0, depth>=2, mem<2, duration>30s; is:real: keeps larger than the noise; is:noise: keeps within it',
    });
    this.filter.value = ctx.state.table.filter;
    this.filter.addEventListener('input', () => {
      clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => {
        ctx.state.table.filter = this.filter.value;
        this.invalidate();
        ctx.saveState();
      }, 120);
    });
    this.filter.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowDown') { ev.preventDefault(); this.grid.focus(); }
    });
    const chipBox = el('div', { class: 'chips', role: 'group', 'aria-label': 'Statuses shown' });
    for (const s of STATUSES) {
      const b = toggle(s, `Show ${s} experiments (also filters the chart)`, !ctx.hidden().has(s), (on) => {
        const hidden = new Set(ctx.state.table.hidden);
        if (on) hidden.delete(s);
        else hidden.add(s);
        ctx.state.table.hidden = [...hidden];
        ctx.filterChanged();
      }, `chip st-${s}${s === 'running' ? ' session-only' : ''}`);
      this.chips.set(s, b);
      chipBox.append(b);
    }
    this.count = el('span', { class: 'note count', 'aria-live': 'polite' });
    this.head = el('div', { class: 'grid-head', role: 'row', 'aria-rowindex': '1' });
    this.body = el('div', { class: 'grid-rows', role: 'rowgroup' });
    this.grid = el('div', {
      class: 'grid', role: 'grid', tabindex: '0', id: 'table-grid', 'aria-labelledby': 'table-title',
      'aria-describedby': 'table-help', 'aria-multiselectable': 'false',
    }, this.head, this.body);
    this.element = el('section', { class: 'panel table-panel', 'aria-labelledby': 'table-title' },
      el('div', { class: 'toolbar' }, el('h2', { id: 'table-title', text: 'Experiments' }), this.filter, chipBox, el('span', { class: 'spacer' }), this.count),
      this.grid,
      el('p', { class: 'help', id: 'table-help', text: 'Up/Down, Page Up/Down, Home/End move the selection; Enter or a click opens the diff; column headers sort.' }),
    );
    this.grid.addEventListener('scroll', () => this.renderRows());
    this.grid.addEventListener('keydown', (ev) => this.key(ev));
    this.body.addEventListener('click', (ev) => {
      const row = (ev.target as HTMLElement).closest<HTMLElement>('.row');
      if (!row?.dataset.id) return;
      const id = Number(row.dataset.id);
      this.ctx.select(id, 'table');
      this.ctx.openDiff(id);
    });
    new ResizeObserver(() => this.renderRows()).observe(this.grid);
  }

  private query(): TableQuery {
    const t = this.ctx.state.table;
    return { sortKey: t.sortKey, sortDesc: t.sortDesc, filter: t.filter, hidden: this.ctx.hidden() };
  }

  /** Everything changed (snapshot, filter, sort): rows are recomputed. */
  invalidate(): void {
    this.dirtyRows = true;
    this.pendingTouched = [];
    this.requestRender();
  }

  /** Some nodes changed: only they move. */
  touch(ids: readonly number[]): void {
    if (this.dirtyRows) return;
    if (this.pendingTouched.length + ids.length > 500) { this.invalidate(); return; }
    this.pendingTouched.push(...ids);
    this.requestRender();
  }

  syncChips(): void {
    const hidden = this.ctx.hidden();
    for (const [s, b] of this.chips) b.setAttribute('aria-pressed', String(!hidden.has(s)));
  }

  private buildHead(): void {
    const cols = visibleColumns(this.ctx.store.isFile);
    const same = cols.length === this.columns.length && cols.every((c, i) => c === this.columns[i]);
    this.columns = cols;
    const template = cols.map((c) => c.width).join(' ');
    this.grid.style.setProperty('--columns', template);
    // Each width is `56px` or `minmax(160px, 1fr)`: its first length is its minimum.
    const minWidth = cols.reduce((sum, c) => sum + Number(/(\d+(?:\.\d+)?)px/.exec(c.width)?.[1] ?? 0), 0);
    this.grid.style.setProperty('--min-width', `${minWidth}px`);
    this.grid.setAttribute('aria-colcount', String(cols.length));
    if (!same) {
      this.head.replaceChildren();
      for (const c of cols) {
        const label = c.key === 'metric' ? (this.ctx.store.session?.metricName ?? 'metric') : c.label;
        const b = el('button', { class: 'sort', type: 'button', title: `${c.title}. Sort by ${label}.`, 'data-key': c.key });
        b.append(el('span', { text: label }), el('span', { class: 'arrow', 'aria-hidden': 'true' }));
        b.addEventListener('click', () => this.sortBy(c.key));
        this.head.append(el('div', { role: 'columnheader', class: c.numeric ? 'num' : '' }, b));
      }
      this.pool.length = 0;
      this.body.replaceChildren();
    }
    const t = this.ctx.state.table;
    this.head.querySelectorAll<HTMLElement>('[role=columnheader]').forEach((h, i) => {
      const key = cols[i]!.key;
      const label = key === 'metric' ? (this.ctx.store.session?.metricName ?? 'metric') : cols[i]!.label;
      h.querySelector('span')!.textContent = label;
      h.setAttribute('aria-sort', key === t.sortKey ? (t.sortDesc ? 'descending' : 'ascending') : 'none');
      h.querySelector('.arrow')!.textContent = key === t.sortKey ? (t.sortDesc ? ' ▼' : ' ▲') : '';
    });
  }

  private sortBy(key: TableColumn): void {
    const t = this.ctx.state.table;
    if (t.sortKey === key) t.sortDesc = !t.sortDesc;
    else { t.sortKey = key; t.sortDesc = false; }
    this.invalidate();
    this.ctx.saveState();
  }

  render(): void {
    this.buildHead();
    const store = this.ctx.store;
    if (this.dirtyRows) {
      this.rows = tableRows(store, this.query());
      this.dirtyRows = false;
      this.pendingTouched = [];
    } else if (this.pendingTouched.length) {
      updateRows(this.rows, store, this.query(), this.pendingTouched);
      this.pendingTouched = [];
    }
    this.body.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.grid.setAttribute('aria-rowcount', String(this.rows.length + 1));
    this.count.textContent = this.rows.length === store.size ? `${fmtCount(store.size)} experiments` : `${fmtCount(this.rows.length)} of ${fmtCount(store.size)} shown`;
    this.renderRows();
  }

  private renderRows(): void {
    const store = this.ctx.store;
    const headH = this.head.offsetHeight;
    const top = Math.max(0, this.grid.scrollTop - headH);
    const viewH = Math.max(ROW_HEIGHT, this.grid.clientHeight - headH);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length - 1, Math.ceil((top + viewH) / ROW_HEIGHT) + OVERSCAN);
    const sel = this.ctx.selected();
    const best = store.bestId;
    let used = 0;
    for (let i = first; i <= last; i++) {
      const id = this.rows[i]!;
      const n = store.nodes[id]!;
      let row = this.pool[used];
      if (!row) {
        row = el('div', { class: 'row', role: 'row' });
        for (const c of this.columns) row.append(el('div', { role: 'gridcell', class: c.numeric ? 'num' : '' }));
        this.pool.push(row);
        this.body.append(row);
      }
      used++;
      row.hidden = false;
      row.id = `row-${id}`;
      row.dataset.id = String(id);
      row.setAttribute('aria-rowindex', String(i + 2));
      row.setAttribute('aria-selected', String(id === sel));
      row.className = `row${id === sel ? ' selected' : ''}${id === best ? ' best' : ''}`;
      row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      const cells = row.children;
      this.columns.forEach((c, j) => {
        const cell = cells[j] as HTMLElement;
        let text = cellText(store, id, c.key);
        if (c.key === 'id' && id === best) text = `${text} ★`;
        if (n.status === 'running' && n.finishedAt && c.key === 'status') text = DECIDING;
        if (c.key === 'wallMs' && n.status === 'running' && !n.finishedAt) {
          // As the tree and the status bar write it, from the same start, on the host's clock.
          const budget = store.session?.budgetSeconds;
          text = n.startedAt && budget ? fmtRunClock(store.hostNow(performance.now()) - Date.parse(n.startedAt), budget * 1000) : 'running';
        }
        if (cell.textContent !== text) cell.textContent = text;
        const win = c.key === 'win' ? store.winOf(id) : undefined;
        const cls = `${c.numeric ? 'num' : ''}${c.key === 'status' ? ` status st-${n.status}` : ''}${c.key === 'metric' && n.status === 'crash' ? ' st-crash' : ''}${win ? ` win win-${win.verdict}` : ''}`;
        if (cell.className !== cls) cell.className = cls;
        if (c.key === 'description') cell.title = n.reason ? `${n.description}\n${n.reason}` : n.description;
        if (c.key === 'win') {
          // Pooled cells move between rows: a row that was not weighed says nothing.
          const detail = winDetail(store, id);
          const said = detail ? detail[0]!.toUpperCase() + detail.slice(1) : '';
          cell.title = said;
          if (said) cell.setAttribute('aria-label', said);
          else cell.removeAttribute('aria-label');
        }
      });
    }
    for (let k = used; k < this.pool.length; k++) this.pool[k]!.hidden = true;
    if (sel !== null && this.rows.includes(sel)) this.grid.setAttribute('aria-activedescendant', `row-${sel}`);
    else this.grid.removeAttribute('aria-activedescendant');
  }

  /** Scrolls the selected row into view when it is off screen. */
  reveal(id: number): void {
    if (this.dirtyRows) this.render();
    const i = this.rows.indexOf(id);
    if (i < 0) return;
    const headH = this.head.offsetHeight;
    const top = i * ROW_HEIGHT;
    const viewTop = this.grid.scrollTop;
    const viewH = this.grid.clientHeight - headH;
    if (top < viewTop) this.grid.scrollTop = top;
    else if (top + ROW_HEIGHT > viewTop + viewH) this.grid.scrollTop = top + ROW_HEIGHT - viewH;
    this.renderRows();
  }

  private key(ev: KeyboardEvent): void {
    if (ev.target !== this.grid) return;
    const sel = this.ctx.selected();
    const i = sel === null ? -1 : this.rows.indexOf(sel);
    const page = Math.max(1, Math.floor((this.grid.clientHeight - this.head.offsetHeight) / ROW_HEIGHT) - 1);
    let next: number;
    switch (ev.key) {
      case 'ArrowDown': next = i + 1; break;
      case 'ArrowUp': next = i < 0 ? 0 : i - 1; break;
      case 'PageDown': next = i + page; break;
      case 'PageUp': next = i - page; break;
      case 'Home': next = 0; break;
      case 'End': next = this.rows.length - 1; break;
      case 'Enter':
        if (sel !== null) this.ctx.openDiff(sel);
        ev.preventDefault();
        return;
      default: return;
    }
    ev.preventDefault();
    if (this.rows.length === 0) return;
    next = Math.max(0, Math.min(this.rows.length - 1, next));
    const id = this.rows[next]!;
    this.ctx.select(id, 'table');
    this.reveal(id);
  }
}
