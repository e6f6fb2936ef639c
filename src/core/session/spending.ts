// The spend cap. The model counts what the journal holds (each node's proposer cost, and `spend` records); this room
// adds what proposals made and not journaled yet cost, journals the cost of those that will never be a node, and
// says when the cap is reached: from then on no new proposal is asked, while proposals already made and the running
// experiments finish and are decided as usual.
import { addSpend, capReason, capReached, spendText, type CapChange, type Spend } from '../spend.js';
import type { ProposerInfo } from '../types.js';
import type { SessionContext } from './context.js';
import type { SessionRecord } from './record.js';

/** The cost of one proposal held in memory, until its node is journaled or it is dropped. */
export interface HeldSpend {
  readonly info: ProposerInfo;
}

export class Spending {
  private readonly held = new Set<HeldSpend>();
  private announced = false;
  private warnedUnpriced = false;
  /** Why the slots stopped, when they stopped at the cap: the session's end reason. */
  private endedWith: string | null = null;

  constructor(private readonly ctx: SessionContext, private readonly record: SessionRecord) {}

  /** Everything the proposer has cost this session, proposals held in memory included. */
  total(): Spend {
    const s = { ...this.ctx.model.spend };
    for (const h of this.held) addSpend(s, h.info);
    return s;
  }

  reached(): boolean {
    return capReached(this.total(), this.ctx.model.cap) !== null;
  }

  /** A proposal came back (or failed) having cost `info`: it counts from now, though its node is journaled later. */
  hold(info: ProposerInfo): HeldSpend {
    const h: HeldSpend = { info };
    this.held.add(h);
    if (!this.warnedUnpriced && this.ctx.model.cap.maxCost !== null && info.costUsd === undefined && (info.tokensIn || info.tokensOut)) {
      this.warnedUnpriced = true;
      this.ctx.log(`${info.kind}${info.model ? ` (${info.model})` : ''} reports tokens but no price: maxCost cannot count its cost; give the proposer a price, or cap tokens with maxTokens`, 'warn');
    }
    this.check();
    return h;
  }

  /** Its node is journaled, its cost with it: the model counts it now. */
  settle(h: HeldSpend | null): void {
    if (h) this.held.delete(h);
  }

  /** A proposal that will never be a node: its cost goes into the journal on its own, so none is lost. */
  drop(h: HeldSpend | null, why: string): void {
    if (!h || !this.held.delete(h)) return;
    const { info } = h;
    if (info.tokensIn || info.tokensOut || info.costUsd) this.record.append({ type: 'spend', proposer: info, why, at: new Date().toISOString() });
  }

  /** Says once, when the cap is reached, what happens now. */
  private check(): void {
    const reached = this.reached();
    if (reached && !this.announced) {
      const made = this.held.size;
      this.ctx.log(`${capReason(this.total(), this.ctx.model.cap)}. No new proposal is asked; ${made ? `${made === 1 ? 'the one' : `the ${made}`} already made still run${made === 1 ? 's' : ''}, and ` : ''}running experiments finish and are recorded`, 'warn');
    }
    this.announced = reached;
  }

  /** At the start of a session that is at its cap already: say so, and how to go on. */
  atStart(): void {
    this.check();
  }

  /** The slots stopped because of the cap: the session ends with why, and how to raise it. */
  end(): void {
    this.endedWith ??= `${capReason(this.total(), this.ctx.model.cap)}, then go on with \`autoresearch run\``;
  }

  get endReason(): string | null {
    return this.endedWith;
  }

  /** A person changed the cap (the inbox's `cap`): journaled, so a resumed session keeps it. */
  change(cap: CapChange): void {
    if (cap.maxCost === undefined && cap.maxTokens === undefined) throw new Error('A cap change needs a cost (USD) or a number of tokens.');
    this.record.append({ type: 'cap', cap, at: new Date().toISOString() });
    const now = spendText(this.total(), this.ctx.model.cap);
    if (this.endedWith || this.ctx.workersDone) this.ctx.log(`spend cap changed (${now}); this session is ending already: \`autoresearch run\` goes on under the new cap`);
    else this.ctx.log(`spend cap changed: ${now}${this.reached() ? '; still reached, so no new proposal is asked' : ''}`);
    this.check();
    this.ctx.poke();
  }
}
