// One clock for every surface that shows a running experiment's elapsed time (the Experiments view, the status bar):
// one timer and one `now` per tick, so two surfaces drawn in the same second never read a second apart.
import * as vscode from 'vscode';
import { DisposableBase } from '../core/lifecycle.js';

export class SecondClock extends DisposableBase {
  private readonly _onDidTick = this._register(new vscode.EventEmitter<number>());
  /** Each second while someone needs the clock, with the tick's time. */
  readonly onDidTick = this._onDidTick.event;
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private readonly needs = new Set<string>();

  constructor() {
    super();
    this._register({ dispose: () => clearInterval(this.timer) });
  }

  /**
   * The time to draw with: the last tick's while the clock ticks (a redraw between ticks, for another reason, shows the
   * same second as everything else), the real time otherwise.
   */
  now(): number {
    return this.timer && Date.now() - this.last < 1500 ? this.last : Date.now();
  }

  /** `who` needs ticks (true) or no longer does (false); the timer runs while anyone does. */
  need(who: string, on: boolean): void {
    if (on) this.needs.add(who);
    else this.needs.delete(who);
    if (this.needs.size > 0 && !this.timer) {
      this.last = Date.now();
      this.timer = setInterval(() => {
        this.last = Date.now();
        this._onDidTick.fire(this.last);
      }, 1000);
    } else if (this.needs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
