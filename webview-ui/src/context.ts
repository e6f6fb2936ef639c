// What the three views share: the store, the theme, the selection and the way back to the host.
import type { ExportFormat, ExportView, NodeStatus, ViewState } from '../../src/shared/protocol.js';
import type { Progress } from './describe.js';
import type { Palette } from './palette.js';
import type { ResultsStore } from './store.js';

export type Origin = 'chart' | 'tree' | 'table' | 'host' | 'restore';

export interface ViewContext {
  readonly store: ResultsStore;
  readonly state: ViewState;
  readonly progress: ReadonlyMap<number, Progress>;
  palette(): Palette;
  hidden(): ReadonlySet<NodeStatus>;
  selected(): number | null;
  select(id: number | null, origin: Origin): void;
  openDiff(id: number): void;
  /** Persists the view state (debounced). */
  saveState(): void;
  announce(text: string): void;
  tooltip: Tooltip;
  exportFile(view: ExportView, format: ExportFormat, data: string, fileName: string): void;
  /** Asks for a frame: the status filter changed and every view should redraw. */
  filterChanged(): void;
}

export interface Tooltip {
  show(id: number, clientX: number, clientY: number): void;
  showText(title: string, lines: string[], clientX: number, clientY: number): void;
  hide(): void;
}
