// The live line `autoresearch run` keeps at the bottom of a terminal (experiment n of max, what runs, the best so far);
// on a pipe, plain lines instead.
import type { ControllerEvent } from '../core/controller.js';
import type { ResearchConfig } from '../core/types.js';
import { fmtNum, fmtRunClock } from '../shared/format.js';
import type { Io } from './io.js';

/** The live line on a terminal; plain lines otherwise. */
export class ProgressLine {
  private timer: NodeJS.Timeout | null = null;
  private running = new Map<number, { started: number; line: string }>();
  private shown = false;
  private best: number | null = null;
  private decided = 0;

  constructor(private readonly io: Io, private readonly config: ResearchConfig) {}

  handle(e: ControllerEvent): void {
    switch (e.type) {
      case 'experiment':
        this.clear();
        this.io.out(e.line);
        if (e.node.id !== 0) this.decided++;
        break;
      case 'run-started':
        this.running.set(e.node.id, { started: Date.now(), line: '' });
        if (!this.io.isTTY) this.io.out(`running #${e.node.id} (${e.node.description}) in slot ${e.slot}, budget ${this.config.budgetText}`);
        this.ensureTimer();
        break;
      case 'run-progress': {
        const r = this.running.get(e.nodeId);
        if (r) r.line = e.line;
        break;
      }
      case 'run-finished':
        this.running.delete(e.node.id);
        break;
      case 'node-updated':
        if (e.node.status === 'keep' && e.node.metric !== null && (this.best === null || (this.config.metric.direction === 'minimize' ? e.node.metric < this.best : e.node.metric > this.best))) this.best = e.node.metric;
        break;
      case 'report':
        this.clear();
        this.io.out(e.text);
        break;
      case 'log':
        if (e.level !== 'info' || !this.io.isTTY) {
          this.clear();
          (e.level === 'info' ? this.io.out : this.io.err)(`${e.level === 'info' ? '' : `${e.level}: `}${e.message}`);
        }
        break;
      case 'state':
        if (e.state === 'done' || e.state === 'stopped' || e.state === 'failed') this.stopTimer();
        break;
      default:
        break;
    }
  }

  private ensureTimer(): void {
    if (!this.io.isTTY || this.timer) return;
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private draw(): void {
    const max = this.config.maxExperiments ?? '∞';
    const parts = [...this.running.entries()].map(([id, r]) => `#${id} ${fmtRunClock(Date.now() - r.started, this.config.budgetSeconds * 1000)}${r.line ? ` · ${r.line.slice(0, 40)}` : ''}`);
    const text = `experiment ${Math.min(this.decided + 1, Number(max) || Infinity)} of ${max} · ${parts.join(' | ') || 'proposing'} · best ${fmtNum(this.best)}`;
    const width = process.stdout.columns ?? 100;
    process.stdout.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) {
      process.stdout.write('\r\x1b[2K');
      this.shown = false;
    }
  }
}
