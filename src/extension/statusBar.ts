// The status-bar ticker: while a run goes, the progress (`2 of 30 decided · #3 running`), elapsed/budget (each second),
// the best so far, its curve's latest value against the parent's at the same point (else the log's latest line), and
// model spend against the spend cap; idle, the best metric; nothing without a session. Pause/Resume and Stop sit beside it while a session is active.
import * as vscode from 'vscode';
import { DisposableBase } from '../core/lifecycle.js';
import { capReached, capShort, spendLine } from '../core/spend.js';
import type { ExperimentNode } from '../core/types.js';
import { fmtNum, fmtProgress, fmtRunClock, truncate } from '../shared/format.js';
import type { SecondClock } from './clock.js';
import { curveLabel } from '../core/report/snapshot.js';
import { rankedNote } from '../core/report/summary.js';
import { Commands } from './constants.js';
import type { SessionService } from './session/sessionService.js';
import { curveTickerText, curveTooltipText, nextReading, type CurveReading } from './statusBarCurve.js';

const LINE_MAX = 32;

export class StatusBar extends DisposableBase {
  private readonly ticker: vscode.StatusBarItem;
  private readonly pauseResume: vscode.StatusBarItem;
  private readonly stop: vscode.StatusBarItem;
  /** Running experiments' latest curve values, from this window's engine events. */
  private readonly readings = new Map<number, CurveReading>();
  private lastUpdate = 0;

  constructor(private readonly session: SessionService, private readonly clock: SecondClock) {
    super();
    this.ticker = this._register(vscode.window.createStatusBarItem('autoresearch.ticker', vscode.StatusBarAlignment.Left, 50));
    this.ticker.name = 'AutoResearch';
    this.ticker.command = Commands.showResults;
    this.pauseResume = this._register(vscode.window.createStatusBarItem('autoresearch.pauseResume', vscode.StatusBarAlignment.Left, 49));
    this.pauseResume.name = 'AutoResearch: Pause or Resume';
    this.stop = this._register(vscode.window.createStatusBarItem('autoresearch.stop', vscode.StatusBarAlignment.Left, 48));
    this.stop.name = 'AutoResearch: Stop';
    this.stop.text = '$(debug-stop)';
    this.stop.tooltip = 'Stop AutoResearch: ends the running experiment now; the session can be resumed later';
    this.stop.command = Commands.stop;
    this._register(session.onDidChange(() => this.update()));
    this._register(session.onEngineEvent((e) => {
      if (e.type === 'run-progress') {
        const r = nextReading(this.readings.get(e.nodeId), e);
        if (!r) return;
        this.readings.set(e.nodeId, r);
        // A new value shows at once, but a run printing a hundred lines a second redraws the item four times a second at most.
        if (Date.now() - this.lastUpdate >= 250) this.update();
      } else if (e.type === 'run-started' || e.type === 'run-finished') this.readings.delete(e.node.id);
    }));
    this._register(clock.onDidTick(() => this.update()));
    this._register({ dispose: () => clock.need('statusBar', false) });
    this.update();
  }

  /** What the ticker shows now ('' when hidden). */
  get text(): string {
    return this.ticker.text;
  }

  private update(): void {
    this.lastUpdate = Date.now();
    const s = this.session;
    const model = s.model;
    const cfg = s.config;
    if (!model || !cfg || s.phase === 'none') {
      this.ticker.hide();
      this.pauseResume.hide();
      this.stop.hide();
      this.setTimer(false);
      return;
    }
    const best = model.best;
    const bestText = best && best.metric !== null ? `best ${fmtNum(best.metric)}` : '';
    const running = model.nodes.filter((n) => n && n.status === 'running');
    const parts: string[] = [];
    let icon = '$(beaker)';
    switch (s.phase) {
      case 'starting':
        icon = '$(loading~spin)';
        parts.push('AutoResearch starting…');
        break;
      case 'stopping':
        icon = '$(loading~spin)';
        parts.push('AutoResearch stopping…');
        break;
      case 'running':
      case 'paused': {
        icon = s.phase === 'paused' ? '$(debug-pause)' : '$(loading~spin)';
        // One still running before one that ran and waits for its decision.
        const n = running.find((x) => !x.finishedAt) ?? running[0];
        const head = s.phase === 'paused' ? 'AutoResearch paused' : 'AutoResearch';
        // The Experiments view's and the results view's words: `2 of 30 decided · #3 running`.
        parts.push(`${head} ${fmtProgress(model.decidedCount, cfg.maxExperiments, running.map((x) => ({ id: x.id, deciding: !!x.finishedAt })))}`);
        if (n) {
          // The tree's clock, from the same start and the same tick; a run that ended says `deciding…` in the progress.
          const elapsed = n.startedAt ? this.clock.now() - Date.parse(n.startedAt) : 0;
          if (!n.finishedAt) parts.push(fmtRunClock(elapsed, cfg.budgetSeconds * 1000));
          const reading = this.readings.get(n.id);
          const line = s.isWaitingForResult(n) ? 'waiting for your result' : s.latestLine(n);
          // The best before the live reading: VS Code cuts a status bar item at 40 % of the window, and what is cut
          // should be the end of a log line, not the best.
          if (bestText) parts.push(bestText);
          if (n.finishedAt) {
            // Ran, not decided yet: no clock, no last line.
          } else if (reading) {
            if (s.phase === 'running') icon = '$(pulse)';
            parts.push(curveTickerText(reading, curveLabel(cfg.metric.name, cfg.progress), n.parentId));
          } else if (line) parts.push(truncate(line, LINE_MAX));
        } else {
          if (s.phase !== 'paused') parts.push('proposing…');
          if (bestText) parts.push(bestText);
        }
        break;
      }
      case 'interrupted':
        icon = '$(debug-disconnect)';
        parts.push('AutoResearch interrupted', bestText);
        break;
      case 'failed':
        icon = '$(error)';
        parts.push('AutoResearch failed', bestText);
        break;
      default:
        // Idle (stopped or done): the best result.
        parts.push(best && best.metric !== null ? `${cfg.metric.name} ${fmtNum(best.metric)}${best.id === 0 ? ' (baseline)' : ` (#${best.id})`}` : 'AutoResearch');
        break;
    }
    // Spend against the cap, whatever the phase: a session that ended at its cap says so here.
    const spent = capShort(model.spend, model.cap);
    if (spent) parts.push(capReached(model.spend, model.cap) ? `${spent} cap reached` : spent);
    this.ticker.text = `${icon} ${parts.filter(Boolean).join(' · ')}`;
    this.ticker.tooltip = this.tooltip(running);
    this.ticker.show();

    const active = s.isActive && s.phase !== 'stopping';
    if (active && s.phase === 'paused') {
      this.pauseResume.text = '$(debug-continue)';
      this.pauseResume.tooltip = 'Resume AutoResearch';
      this.pauseResume.command = Commands.resume;
      this.pauseResume.show();
    } else if (active && s.phase === 'running') {
      this.pauseResume.text = '$(debug-pause)';
      this.pauseResume.tooltip = 'Pause AutoResearch: running experiments finish, no new one starts';
      this.pauseResume.command = Commands.pause;
      this.pauseResume.show();
    } else if (s.phase === 'interrupted' || s.phase === 'stopped') {
      this.pauseResume.text = '$(debug-continue)';
      this.pauseResume.tooltip = 'Resume AutoResearch from where it stopped';
      this.pauseResume.command = Commands.resume;
      this.pauseResume.show();
    } else this.pauseResume.hide();
    if (active) this.stop.show();
    else this.stop.hide();
    this.setTimer(s.isActive);
  }

  private tooltip(running: ExperimentNode[]): vscode.MarkdownString {
    const s = this.session;
    const model = s.model!;
    const cfg = s.config!;
    const base = model.baseline;
    const best = model.best;
    const lines = [
      `**AutoResearch · ${model.tag}** · ${s.phase}${s.owner === 'elsewhere' && s.lockHolder ? ` (run by pid ${s.lockHolder.pid})` : ''}`,
      '',
      `${fmtProgress(model.decidedCount, cfg.maxExperiments, running.map((x) => ({ id: x.id, deciding: !!x.finishedAt })))} · budget ${cfg.budgetText} each`,
      '',
      `${cfg.metric.name}: baseline ${fmtNum(base?.metric)}, best ${fmtNum(best?.metric)}${best && best.id !== 0 ? ` (#${best.id} ${best.description}${rankedNote(model, best.id)})` : ''}`,
      '',
    ];
    for (const n of running) {
      const r = this.readings.get(n.id);
      if (r) lines.push(escapeMarkdown(curveTooltipText(r, curveLabel(cfg.metric.name, cfg.progress), n.id, n.parentId, cfg.metric.direction)), '');
    }
    const spent = spendLine(model.spend, model.cap);
    if (spent) lines.push(`${spent.charAt(0).toUpperCase()}${spent.slice(1)}`, '');
    lines.push(`[Show Results](command:${Commands.showResults}) · [Show Summary](command:${Commands.showSummary}) · [Show Log](command:${Commands.showLog}) · [Raise Spend Cap](command:${Commands.raiseSpendCap})`);
    const md = new vscode.MarkdownString(lines.join('\n'), true);
    md.isTrusted = { enabledCommands: [Commands.showResults, Commands.showSummary, Commands.showLog, Commands.raiseSpendCap] };
    return md;
  }

  private setTimer(on: boolean): void {
    this.clock.need('statusBar', on);
  }
}

/** Text for a MarkdownString: a `#` or `_` in a metric's name is not markup. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
