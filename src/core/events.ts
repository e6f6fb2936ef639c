// A tiny typed emitter (VS Code's event.ts, minus what the engine does not need). The extension adapts it
// to vscode.EventEmitter; the CLI listens directly.
import { toDisposable, type Disposable } from './lifecycle.js';

export type Event<T> = (listener: (e: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private listeners = new Set<(e: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try { l(e); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
