// Entry point of the results webview: wires VS Code's webview API to the app and says `ready`.
import { isHostMessage } from '../../src/shared/protocol.js';
import type { ViewState, WebviewMessage } from '../../src/shared/protocol.js';
import { App } from './app.js';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: ViewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('app')!;
const app = new App(root, vscode);
window.addEventListener('message', (ev: MessageEvent) => {
  if (isHostMessage(ev.data)) app.onMessage(ev.data);
});

// Hooks for the end-to-end tests and the benchmark: where an experiment is drawn, in client pixels.
(window as unknown as { autoresearchResults: unknown }).autoresearchResults = {
  chartPoint: (id: number) => app.chart.pointOnScreen(id),
  treePoint: (id: number) => app.tree.pointOnScreen(id),
  treeLabels: () => app.tree.drawnLabels(),
  selected: () => app.selected(),
  curves: () => {
    const c = app.curves.current;
    return c && { subject: c.subject, running: c.running, lines: c.lines.map((l) => ({ role: l.role, id: l.id, points: l.points.length })), text: document.getElementById('curve-reading')?.textContent ?? '' };
  },
  state: () => JSON.parse(JSON.stringify(app.state)) as unknown,
};

vscode.postMessage({ type: 'ready' });
