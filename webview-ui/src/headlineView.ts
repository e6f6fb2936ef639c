// The headline: baseline → best, how many experiments and of which kind, time, pace, budget.
import type { ViewContext } from './context.js';
import { button, el } from './dom.js';
import { fmtCount } from './format.js';
import { DASH, directionText, fmtCost, fmtDuration, fmtNum, fmtPct, fmtRate, fmtSigned, fmtTokens } from '../../src/shared/format.js';
import { computeHeadline } from './headline.js';
import { winsHeadline } from './wins.js';

interface Figure {
  dd: HTMLElement;
  box: HTMLElement;
}

export class HeadlineView {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly state: HTMLElement;
  private readonly metric: HTMLElement;
  private readonly flip: HTMLButtonElement;
  private readonly wins: HTMLElement;
  private readonly figures = new Map<string, Figure>();

  constructor(private readonly ctx: ViewContext, onFlipDirection: () => void) {
    this.title = el('h1', { class: 'title' });
    this.state = el('span', { class: 'badge' });
    this.metric = el('span', { class: 'metric-name' });
    this.flip = button('Flip', 'This results.tsv does not say which way is better; the direction was guessed. Flip it.', onFlipDirection, 'flip');
    const list = el('dl', { class: 'figures' });
    const add = (key: string, label: string, cls = '') => {
      const dd = el('dd', { id: `fig-${key}` });
      const box = el('div', { class: `fig ${cls}`.trim() }, el('dt', { text: label }), dd);
      list.append(box);
      this.figures.set(key, { dd, box });
    };
    add('progress', 'baseline → best', 'main');
    add('experiments', 'experiments');
    add('kept', 'kept');
    add('discarded', 'discarded');
    add('crashed', 'crashed');
    add('invalid', 'invalid');
    add('elapsed', 'elapsed');
    add('pace', 'per hour');
    add('budget', 'budget');
    add('usage', 'model usage');
    this.wins = el('p', { class: 'wins-line', id: 'wins-headline' });
    this.element = el('header', { class: 'headline', 'aria-label': 'Summary' },
      el('div', { class: 'title-row' }, this.title, this.state, this.metric, this.flip),
      list,
      this.wins,
    );
  }

  private set(key: string, text: string, show = true): HTMLElement {
    const f = this.figures.get(key)!;
    f.box.hidden = !show;
    if (f.dd.textContent !== text) f.dd.textContent = text;
    return f.dd;
  }

  render(nowMs: number): void {
    const store = this.ctx.store;
    const s = store.session;
    this.title.textContent = s ? s.title : 'AutoResearch results';
    this.title.title = s?.source.kind === 'file' ? decodeURIComponent(s.source.path.replace(/^file:\/\//, '')) : '';
    const stateText = s?.state ?? '';
    this.state.textContent = stateText;
    this.state.className = `badge state-${stateText}`;
    this.state.hidden = !stateText;
    this.state.title = s?.stateReason ?? '';
    this.metric.textContent = s ? `${s.metricName} · ${directionText(store.direction)}${s.directionKnown ? '' : ' (guessed)'}` : '';
    this.flip.hidden = !s || s.directionKnown;

    const wins = winsHeadline(store);
    this.wins.hidden = !wins;
    const winsText = wins ? `${wins.text}${wins.hint ? ` ${wins.hint.replaceAll('`', '')}` : ''}${wins.more.join('')}` : '';
    // Rebuilt only when it changes: the clock re-renders the headline every second.
    if (this.wins.textContent !== winsText) {
      this.wins.replaceChildren();
      if (wins) {
        this.wins.append(el('span', { class: 'wins-head', text: wins.text }));
        // The hint names config lines and commands between backticks, as the summary writes them.
        if (wins.hint) this.wins.append(' ', el('span', { class: 'muted' }, ...wins.hint.split('`').map((t, i) => (i % 2 ? el('code', { text: t }) : t))));
        for (const line of wins.more) this.wins.append(el('span', { class: 'muted wins-more', text: line }));
      }
    }

    const h = computeHeadline(store, nowMs);
    const f = this.figures.get('progress')!;
    f.dd.replaceChildren();
    f.box.hidden = !s;
    if (h.baseline !== null || h.best !== null) {
      f.dd.append(el('span', { class: 'num', text: `${fmtNum(h.baseline, DASH)} → ${fmtNum(h.best, DASH)}` }));
      if (h.deltaAbs !== null && h.bestId !== 0) {
        f.dd.append(' ', el('span', { class: `delta ${h.improved ? 'better' : 'same'}`, text: `${fmtSigned(h.deltaAbs, DASH)} (${fmtPct(h.deltaPct, DASH)})` }));
      }
      if (h.bestId !== null) f.dd.append(' ', el('span', { class: 'muted', text: `#${h.bestId}` }));
    } else {
      f.dd.textContent = '—';
    }
    this.set('experiments', h.progress, !!s);
    this.set('kept', fmtCount(h.kept), !!s).className = 'st-keep';
    this.set('discarded', fmtCount(h.discarded), !!s);
    this.set('crashed', fmtCount(h.crashed), !!s).className = h.crashed ? 'st-crash' : '';
    this.set('invalid', fmtCount(h.invalid), !!s && (h.invalid > 0 || !store.isFile)).className = h.invalid ? 'st-invalid' : '';
    this.set('elapsed', fmtDuration(h.elapsedMs, DASH), h.elapsedMs !== null);
    this.set('pace', fmtRate(h.perHour, DASH), h.elapsedMs !== null);
    const budget = [h.budgetText ? `${h.budgetText} per run` : null, h.remainingMs !== null ? `~${fmtDuration(h.remainingMs, DASH)} left` : null].filter(Boolean).join(' · ');
    this.set('budget', budget || '—', !!h.budgetText);
    const u = s?.usage;
    this.set('usage', u ? `${fmtTokens(u.tokensIn)} in · ${fmtTokens(u.tokensOut)} out${u.costUsd !== null ? ` · ${fmtCost(u.costUsd)}` : ''}` : '', !!u);
  }
}

