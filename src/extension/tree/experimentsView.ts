// The Experiments view: one item per node, nested by parent, refreshed from the session's model. A running
// node's clock ticks each second; a line above the tree says where the session stands.
import * as vscode from 'vscode';
import { DisposableBase } from '../../core/lifecycle.js';
import { fmtNum, fmtProgress } from '../../shared/format.js';
import { Commands, Views } from '../constants.js';
import type { SecondClock } from '../clock.js';
import type { SessionService } from '../session/sessionService.js';
import { expandedByDefault, presentNode, type NodePresentation } from './nodePresentation.js';

/**
 * One object per node id and session. Not the bare id: VS Code reads a falsy element (node 0, the baseline)
 * as the tree's root. Context-menu commands receive it and read `id`.
 */
export interface NodeElement {
  readonly id: number;
}

export class ExperimentsView extends DisposableBase implements vscode.TreeDataProvider<NodeElement> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<NodeElement | undefined | void>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly view: vscode.TreeView<NodeElement>;
  private pending: NodeJS.Timeout | undefined;
  private known = new Set<string>();
  private elements = new Map<number, NodeElement>();
  private elementsTag: string | undefined;
  /** The nodes drawn expanded the first time (the way to the best and to what runs), for the model as last refreshed. */
  private openIds: Set<number> | undefined;

  constructor(private readonly session: SessionService, private readonly clock: SecondClock) {
    super();
    this.view = this._register(vscode.window.createTreeView(Views.experiments, { treeDataProvider: this, showCollapseAll: true }));
    this._register(session.onDidChange(() => this.scheduleRefresh()));
    this._register(this.view.onDidChangeVisibility(() => this.updateTicker()));
    // Running nodes' clocks move on the shared tick, with the status bar's.
    this._register(clock.onDidTick(() => {
      if (!this.view.visible) return;
      for (const n of this.session.model?.nodes ?? []) if (n && n.status === 'running' && !n.finishedAt) this._onDidChangeTreeData.fire(this.element(n.id));
    }));
    this._register({ dispose: () => { clearTimeout(this.pending); clock.need('experiments', false); } });
    this.update();
  }

  /** The element for a node id (stable for the session, as the tree needs). */
  element(id: number): NodeElement {
    const tag = this.session.model?.tag;
    if (tag !== this.elementsTag) {
      this.elements = new Map();
      this.elementsTag = tag;
    }
    let e = this.elements.get(id);
    if (!e) {
      e = { id };
      this.elements.set(id, e);
    }
    return e;
  }

  /** The presentation of a node as the view shows it now (tests read labels and descriptions here). */
  present(id: number): NodePresentation | undefined {
    const model = this.session.model;
    const n = model?.get(id);
    if (!model || !n) return undefined;
    return presentNode(n, {
      model,
      active: this.session.isActive,
      now: this.clock.now(),
      latestLine: (x) => this.session.latestLine(x),
      waitingForResult: (x) => this.session.isWaitingForResult(x),
    });
  }

  getChildren(element?: NodeElement): NodeElement[] {
    const model = this.session.model;
    if (!model) return [];
    const nodes = element === undefined ? model.nodes.filter((n) => n && n.parentId === null) : model.childrenOf(element.id);
    return nodes.map((n) => this.element(n.id));
  }

  getParent(element: NodeElement): NodeElement | undefined {
    const parentId = this.session.model?.get(element.id)?.parentId;
    return parentId === null || parentId === undefined ? undefined : this.element(parentId);
  }

  getTreeItem(element: NodeElement): vscode.TreeItem {
    const id = element.id;
    const model = this.session.model;
    const p = this.present(id);
    if (!model || !p) return new vscode.TreeItem(`#${id}`);
    const hasChildren = (model.children.get(id)?.length ?? 0) > 0;
    this.openIds ??= expandedByDefault(model);
    const state = !hasChildren ? vscode.TreeItemCollapsibleState.None
      : this.openIds.has(id) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(p.label, state);
    // Ids are stable per session and node, so expansion (the default's, then the person's) and selection survive refreshes.
    item.id = `${model.tag}/${id}`;
    item.description = p.description;
    item.iconPath = new vscode.ThemeIcon(p.icon.id, p.icon.color ? new vscode.ThemeColor(p.icon.color) : undefined);
    const tip = new vscode.MarkdownString(p.tooltip, true);
    tip.supportHtml = false;
    item.tooltip = tip;
    item.contextValue = p.contextValue;
    item.accessibilityInformation = { label: p.accessibilityLabel };
    item.command = { command: Commands.openNodeDiff, title: 'Open Diff with Parent', arguments: [id] };
    return item;
  }

  private scheduleRefresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.update();
    }, 60);
  }

  private update(): void {
    this.openIds = undefined;
    this._onDidChangeTreeData.fire();
    this.view.message = this.message();
    this.view.description = this.session.tag;
    this.updateTicker();
    this.revealNew();
  }

  /**
   * Selects, focuses and scrolls to the best experiment, opening the nodes above it. Resolves the node revealed, or
   * undefined when nothing has a result yet.
   */
  async revealBest(): Promise<number | undefined> {
    const best = this.session.model?.best;
    if (!best) return undefined;
    await vscode.commands.executeCommand(`${Views.experiments}.focus`);
    await this.view.reveal(this.element(best.id), { select: true, focus: true, expand: true });
    return best.id;
  }

  /** Follows the search: a node that just appeared is scrolled into view (never selected or focused). */
  private revealNew(): void {
    const model = this.session.model;
    if (!model) return;
    const fresh: number[] = [];
    for (const n of model.nodes) {
      if (!n) continue;
      const key = `${model.tag}/${n.id}`;
      if (!this.known.has(key)) {
        this.known.add(key);
        fresh.push(n.id);
      }
    }
    const last = fresh[fresh.length - 1];
    if (last !== undefined && last !== 0 && this.view.visible && this.session.isActive) {
      void Promise.resolve(this.view.reveal(this.element(last), { select: false, focus: false, expand: true })).catch(() => undefined);
    }
  }

  /** Running nodes show elapsed/budget: the shared clock ticks while one runs and the view is visible. */
  private updateTicker(): void {
    const running = this.session.isActive && (this.session.model?.nodes.some((n) => n && n.status === 'running') ?? false);
    this.clock.need('experiments', running && this.view.visible);
  }

  private message(): string | undefined {
    const s = this.session;
    const model = s.model;
    if (!model || !model.config) return undefined;
    const cfg = model.config;
    // The status bar's and the results view's words: `2 of 30 decided · #3 running`.
    const running = model.nodes.filter((n) => n && n.status === 'running').map((n) => ({ id: n.id, deciding: !!n.finishedAt }));
    const progress = fmtProgress(model.decidedCount, cfg.maxExperiments, running);
    // Ended or cut off: a node the journal left running is not running now.
    const settled = fmtProgress(model.decidedCount, cfg.maxExperiments);
    const best = model.best;
    const bestText = best && best.metric !== null
      ? `best ${cfg.metric.name} ${fmtNum(best.metric)}${best.id === 0 ? ' (baseline)' : ` (#${best.id})`}`
      : '';
    const band = model.noiseBand();
    const noiseText = band ? (band.spread === null ? `noise: measuring (${band.samples} of ${band.repeats} baseline runs)` : `noise ±${fmtNum(band.threshold)}`) : '';
    const by = s.owner === 'elsewhere' && s.lockHolder ? ` · run by pid ${s.lockHolder.pid}` : '';
    const join = (...parts: string[]) => parts.filter(Boolean).join(' · ');
    switch (s.phase) {
      case 'starting': return `Starting ${model.tag}…${by}`;
      case 'running': return join(`Running`, progress, bestText, noiseText) + by;
      case 'paused': return join('Paused: running experiments finish, no new one starts', progress, bestText) + by;
      case 'stopping': return `Stopping…${by}`;
      case 'stopped': return join('Stopped', settled, bestText, 'Resume to continue');
      case 'done': return join(`Done: ${model.stateReason ?? 'finished'}`, settled, bestText, noiseText);
      case 'failed': return `Failed: ${model.stateReason ?? 'see the log'}`;
      case 'interrupted': return join('Interrupted: the window or process running it went away', settled, 'Resume to continue');
      default: return undefined;
    }
  }
}
