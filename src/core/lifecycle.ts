// Disposal, after VS Code's own lifecycle.ts: everything created is registered with an owner and disposed with it.

export interface Disposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return { dispose: () => { if (!done) { done = true; fn(); } } };
}

export class DisposableStore implements Disposable {
  private readonly items = new Set<Disposable>();
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.add(item);
    return item;
  }

  delete(item: Disposable): void {
    if (this.items.delete(item)) item.dispose();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const item of [...this.items].reverse()) {
      try { item.dispose(); } catch (e) { errors.push(e); }
    }
    this.items.clear();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'Several disposables failed');
  }
}

export abstract class DisposableBase implements Disposable {
  protected readonly _store = new DisposableStore();
  protected _register<T extends Disposable>(item: T): T {
    return this._store.add(item);
  }
  dispose(): void {
    this._store.dispose();
  }
}
