// The results webview: applies the host's snapshots and deltas to the store, keeps the selection shared
// by the chart, the tree and the table, persists the view state, and renders at most once per frame.
import type { ExportFormat, ExportView, HostMessage, NodeStatus, ViewState, WebviewMessage } from '../../src/shared/protocol.js';
import { announceNode } from './describe.js';
import type { Progress } from './describe.js';
import { ChartView } from './chartView.js';
import type { Origin, Tooltip, ViewContext } from './context.js';
import { nextProgress } from './curveModel.js';
import { CurveView } from './curveView.js';
import { el } from './dom.js';
import { HeadlineView } from './headlineView.js';
import type { Palette } from './palette.js';
import { ResultsStore } from './store.js';
import { TableView } from './tableView.js';
import { onThemeChange, readPalette } from './theme.js';
import { createTooltip } from './tooltip.js';
import { TreeView } from './treeView.js';

export interface HostApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: ViewState): void;
}

export function defaultState(): ViewState {
  return {
    v: 1,
    source: { kind: 'session' },
    selectedId: null,
    chart: { x: null, y: null, log: false },
    tree: { collapseDead: true, expanded: [], view: null },
    table: { sortKey: 'id', sortDesc: false, filter: '', hidden: [] },
    direction: null,
  };
}

/** Saved state from an older or foreign build is merged over the defaults, never trusted blindly. */
export function restoreState(saved: unknown): ViewState {
  const d = defaultState();
  if (typeof saved !== 'object' || saved === null || (saved as { v?: unknown }).v !== 1) return d;
  const s = saved as Partial<ViewState>;
  return {
    v: 1,
    source: s.source ?? d.source,
    selectedId: typeof s.selectedId === 'number' ? s.selectedId : null,
    chart: { ...d.chart, ...s.chart },
    tree: { ...d.tree, ...s.tree },
    table: { ...d.table, ...s.table },
    direction: s.direction === 'minimize' || s.direction === 'maximize' ? s.direction : null,
  };
}

type ViewName = 'headline' | 'curves' | 'chart' | 'tree' | 'table';

export class App implements ViewContext {
  readonly store = new ResultsStore();
  readonly state: ViewState;
  readonly progress = new Map<number, Progress>();
  readonly tooltip: Tooltip;
  private readonly root: HTMLElement;
  private readonly notice: HTMLElement;
  private readonly errors: HTMLDetailsElement;
  private readonly live: HTMLElement;
  private readonly headline: HeadlineView;
  readonly curves: CurveView;
  readonly chart: ChartView;
  readonly tree: TreeView;
  readonly table: TableView;
  private pal: Palette;
  private hiddenSet: ReadonlySet<NodeStatus>;
  private readonly dirty = new Set<ViewName>();
  private frame = 0;
  private lastRenderMs = 0;

  constructor(root: HTMLElement, private readonly host: HostApi) {
    this.root = root;
    this.state = restoreState(host.getState());
    this.store.directionOverride = this.state.direction;
    this.hiddenSet = new Set(this.state.table.hidden);
    this.pal = readPalette();
    this.tooltip = createTooltip(document.body, this.store, this.progress);
    this.live = el('div', { class: 'sr-only', 'aria-live': 'polite', role: 'status' });
    this.notice = el('div', { class: 'notice', role: 'status' });
    this.notice.hidden = true;
    this.errors = el('details', { class: 'errors' });
    this.errors.hidden = true;
    this.headline = new HeadlineView(this, () => this.flipDirection());
    this.curves = new CurveView(this, () => this.request('curves'));
    this.chart = new ChartView(this, () => this.request('chart'));
    this.tree = new TreeView(this, () => this.request('tree'));
    this.table = new TableView(this, () => this.request('table'));
    root.append(this.headline.element, this.notice, this.errors, this.curves.element,
      el('div', { class: 'views' }, this.chart.element, this.tree.element), this.table.element, this.live);
    root.classList.add('loading');
    onThemeChange(() => {
      this.pal = readPalette();
      this.requestAll();
    });
    // The elapsed clock ticks while a session is live.
    setInterval(() => {
      const st = this.store.session?.state;
      if (st === 'running' || st === 'starting' || st === 'paused' || st === 'stopping') {
        this.request('headline');
        // The running rows' clocks.
        if (this.store.nodes.some((n) => n.status === 'running' && !n.finishedAt)) this.request('table');
      }
    }, 1000);
  }

  // ---- ViewContext ----------------------------------------------------------------------------

  palette(): Palette {
    return this.pal;
  }

  hidden(): ReadonlySet<NodeStatus> {
    return this.hiddenSet;
  }

  selected(): number | null {
    return this.state.selectedId;
  }

  select(id: number | null, origin: Origin): void {
    if (id !== null && !this.store.nodes[id]) return;
    const changed = id !== this.state.selectedId;
    this.state.selectedId = id;
    if (changed) {
      this.saveState();
      if (origin !== 'host' && origin !== 'restore') this.host.postMessage({ type: 'select', nodeId: id });
      if (id !== null && origin !== 'restore') this.announce(announceNode(this.store, id));
    }
    if (id !== null) {
      if (origin !== 'chart') this.chart.reveal(id);
      if (origin !== 'table') this.table.reveal(id);
      if (origin !== 'tree') this.tree.reveal(id);
    }
    this.request('curves');
    this.request('chart');
    this.request('tree');
    this.request('table');
  }

  openDiff(id: number): void {
    const n = this.store.nodes[id];
    if (!n) return;
    if (!n.commit) {
      this.announce(`#${id} has no commit to show (${n.status === 'invalid' ? 'the proposal was refused' : 'nothing was committed'}).`);
      return;
    }
    this.host.postMessage({ type: 'open-diff', nodeId: id });
  }

  /** At once, not debounced: a click that opens a diff can hide (and tear down) the webview right after. */
  saveState(): void {
    this.host.setState(this.state);
  }

  announce(text: string): void {
    this.live.textContent = text;
  }

  exportFile(view: ExportView, format: ExportFormat, data: string, fileName: string): void {
    this.host.postMessage({ type: 'export', view, format, data, fileName });
  }

  filterChanged(): void {
    this.hiddenSet = new Set(this.state.table.hidden);
    this.chart.syncLegend();
    this.table.syncChips();
    this.chart.invalidate();
    this.table.invalidate();
    this.saveState();
  }

  // ---- messages ---------------------------------------------------------------------------------

  onMessage(m: HostMessage): void {
    switch (m.type) {
      case 'snapshot': {
        this.store.applySnapshot(m, performance.now());
        this.progress.clear();
        if (m.session) this.state.source = m.session.source;
        if (this.state.selectedId !== null && !this.store.nodes[this.state.selectedId]) this.state.selectedId = null;
        this.root.classList.remove('loading');
        this.saveState();
        this.showSource();
        this.chart.invalidate();
        this.tree.invalidate();
        this.table.invalidate();
        this.requestAll();
        break;
      }
      case 'delta': {
        const r = this.store.applyDelta(m, performance.now());
        if ('gap' in r) {
          // A lost message: start over from a snapshot rather than show something wrong.
          this.host.postMessage({ type: 'ready' });
          return;
        }
        for (const id of [...r.added, ...r.changed]) if (this.store.nodes[id]?.status !== 'running') this.progress.delete(id);
        if (r.session) this.showSource();
        this.chart.invalidate();
        this.tree.invalidate();
        this.table.touch([...r.added, ...r.changed]);
        this.request('headline');
        this.request('curves');
        break;
      }
      case 'progress':
        this.progress.set(m.nodeId, nextProgress(this.progress.get(m.nodeId), m));
        this.request('table');
        this.request('curves');
        break;
      case 'select':
        this.select(m.nodeId, 'host');
        break;
    }
  }

  /** Empty state, file mode (no tree), and parse errors. */
  private showSource(): void {
    const s = this.store.session;
    this.root.classList.toggle('empty', !s);
    this.root.classList.toggle('file-mode', this.store.isFile);
    this.notice.hidden = !!s;
    if (!s) this.notice.textContent = this.store.emptyReason ?? 'Nothing to show yet.';
    const errs = s?.errors ?? [];
    this.errors.hidden = errs.length === 0;
    if (errs.length) {
      this.errors.replaceChildren(
        el('summary', { text: `${errs.length} malformed line${errs.length === 1 ? '' : 's'} in results.tsv: not in the chart or the table` }),
        el('ol', {}, ...errs.map((e) => el('li', {}, el('strong', { text: `line ${e.line}: ` }), e.message, ' — ', el('code', { text: e.text || '(empty)' })))),
      );
      this.errors.open = errs.length <= 5;
    }
  }

  private flipDirection(): void {
    const next = this.store.direction === 'minimize' ? 'maximize' : 'minimize';
    this.state.direction = next;
    this.store.directionOverride = next;
    this.store.invalidate();
    this.chart.invalidate();
    this.tree.invalidate();
    this.table.invalidate();
    this.requestAll();
    this.saveState();
  }

  // ---- rendering --------------------------------------------------------------------------------

  private request(view: ViewName): void {
    this.dirty.add(view);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private requestAll(): void {
    for (const v of ['headline', 'curves', 'chart', 'tree', 'table'] as const) this.request(v);
  }

  private render(): void {
    this.frame = 0;
    const t0 = performance.now();
    const views = new Set(this.dirty);
    this.dirty.clear();
    const times: Partial<Record<ViewName, number>> = {};
    const timed = (name: ViewName, run: () => void) => {
      const s = performance.now();
      run();
      times[name] = performance.now() - s;
    };
    if (views.has('headline')) timed('headline', () => this.headline.render(performance.now()));
    if (this.store.session) {
      if (views.has('curves')) timed('curves', () => this.curves.render());
      if (views.has('chart')) timed('chart', () => this.chart.render());
      if (views.has('tree') && !this.store.isFile) timed('tree', () => this.tree.render());
      if (views.has('table')) timed('table', () => this.table.render());
    }
    this.lastRenderMs = performance.now() - t0;
    document.body.dataset.rev = String(this.store.rev);
    document.body.dataset.nodes = String(this.store.size);
    document.dispatchEvent(new CustomEvent('autoresearch-rendered', { detail: { rev: this.store.rev, ms: this.lastRenderMs, times } }));
  }
}
