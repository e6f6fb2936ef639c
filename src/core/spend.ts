// What the proposer has cost a session (tokens and money, from the cost ledger every proposal carries) against the
// session's spend cap, and the one way to say it: the CLI, the summary, the extension and the controller use these.
import type { ProposerInfo } from './types.js';
import { fmtCost, fmtTokens } from '../shared/format.js';

/** Model spend so far: what every proposal reported, failed and dropped ones included. */
export interface Spend {
  tokensIn: number;
  tokensOut: number;
  /** In the cost ledger's currency (USD). */
  costUsd: number;
  /** Proposals that used tokens and reported no price (a model the engine has no price for): not in costUsd. */
  unpriced: number;
}

/** The cap in force; null is none. */
export interface SpendCap {
  maxCost: number | null;
  maxTokens: number | null;
}

/** A change of the cap: a key left out keeps its value, null removes that cap. */
export type CapChange = Partial<SpendCap>;

export function emptySpend(): Spend {
  return { tokensIn: 0, tokensOut: 0, costUsd: 0, unpriced: 0 };
}

export function addSpend(s: Spend, info: ProposerInfo, sign: 1 | -1 = 1): void {
  s.tokensIn += sign * (info.tokensIn ?? 0);
  s.tokensOut += sign * (info.tokensOut ?? 0);
  // Rounded like the ledger, so a sum of many small prices does not drift.
  s.costUsd = Math.round((s.costUsd + sign * (info.costUsd ?? 0)) * 1e6) / 1e6;
  if (info.costUsd === undefined && (info.tokensIn || info.tokensOut)) s.unpriced += sign;
}

export function totalTokens(s: Spend): number {
  return s.tokensIn + s.tokensOut;
}

/** Which cap the spend has reached (cost first), or null. Reaching counts: $5.00 of $5.00 is at the cap. */
export function capReached(s: Spend, cap: SpendCap): 'cost' | 'tokens' | null {
  if (cap.maxCost !== null && s.costUsd >= cap.maxCost) return 'cost';
  if (cap.maxTokens !== null && totalTokens(s) >= cap.maxTokens) return 'tokens';
  return null;
}

export function hasCap(cap: SpendCap): boolean {
  return cap.maxCost !== null || cap.maxTokens !== null;
}

/** `$1.20 of $5.00 · 12.3k tokens (no cap)`: spend against the cap, for status lines. */
export function spendText(s: Spend, cap: SpendCap): string {
  const cost = cap.maxCost !== null ? `${fmtCost(s.costUsd)} of ${fmtCost(cap.maxCost)}` : s.costUsd ? fmtCost(s.costUsd) : '';
  const tokens = cap.maxTokens !== null ? `${fmtTokens(totalTokens(s))} of ${fmtTokens(cap.maxTokens)} tokens` : `${fmtTokens(totalTokens(s))} tokens`;
  const unpriced = cap.maxCost !== null && s.unpriced ? ` · ${s.unpriced} proposal${s.unpriced === 1 ? '' : 's'} without a price, not counted in the cost` : '';
  return [cost, tokens].filter(Boolean).join(' · ') + unpriced;
}

/** A round figure above the cap to suggest: double it, at least past what is spent. */
function suggestedRaise(cap: number, spent: number): number {
  const want = Math.max(cap * 2, spent * 1.5);
  const step = 10 ** Math.floor(Math.log10(want));
  return Math.ceil(want / step) * step;
}

/** The command that raises the cap that was reached, with a figure filled in. */
export function raiseCommand(s: Spend, cap: SpendCap): string {
  if (capReached(s, cap) === 'tokens') return `autoresearch cap --tokens ${suggestedRaise(cap.maxTokens!, totalTokens(s))}`;
  return `autoresearch cap --cost ${suggestedRaise(cap.maxCost ?? 1, s.costUsd)}`;
}

/** Why a session ended at its cap, and how to go on: `spend cap reached: $5.02 of $5.00 — raise it with ...`. */
export function capReason(s: Spend, cap: SpendCap): string {
  const which = capReached(s, cap);
  const what = which === 'tokens' ? `${fmtTokens(totalTokens(s))} of ${fmtTokens(cap.maxTokens!)} tokens` : `${fmtCost(s.costUsd)} of ${fmtCost(cap.maxCost ?? 0)}`;
  return `spend cap reached: ${what} — raise it with \`${raiseCommand(s, cap)}\``;
}

const UNLIMITED = ['unlimited', 'none', 'off'];

/** A cost cap as written in the config or on the command line: `5`, `0.50`, `$5`; null for unlimited; undefined when invalid. */
export function parseCost(v: unknown): number | null | undefined {
  if (v === null || (typeof v === 'string' && UNLIMITED.includes(v.trim().toLowerCase()))) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\$?\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v.replace(/[$\s]/g, '')) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A token cap: `2000000`, `500k`, `2M`; null for unlimited; undefined when invalid. */
export function parseTokens(v: unknown): number | null | undefined {
  if (v === null || (typeof v === 'string' && UNLIMITED.includes(v.trim().toLowerCase()))) return null;
  let n = NaN;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(v.replace(/_/g, ''));
    if (m) n = Math.round(Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6));
  }
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export const COST_EXPECTED = 'a cost above 0 in the cost ledger\'s currency, USD (e.g. 5 or 0.50), or unlimited';
export const TOKENS_EXPECTED = 'a whole number of tokens above 0 (e.g. 2000000, 500k or 2M), or unlimited';

/** `model spend: $1.20 of $5.00 · 12.3k tokens`, with what a reached cap means; null when there is no spend and no cap. */
export function spendLine(s: Spend, cap: SpendCap): string | null {
  if (!hasCap(cap) && !totalTokens(s) && !s.costUsd) return null;
  const reached = capReached(s, cap) ? ` — cap reached: no new proposal is asked; raise it with \`${raiseCommand(s, cap)}\`` : '';
  return `model spend: ${spendText(s, cap)}${reached}`;
}

/** The short form for a status bar: `$1.20/$5.00`, or `12.3k/2M tokens` under a token cap alone; null without a cap. */
export function capShort(s: Spend, cap: SpendCap): string | null {
  if (cap.maxCost !== null) return `${fmtCost(s.costUsd)}/${fmtCost(cap.maxCost)}`;
  if (cap.maxTokens !== null) return `${fmtTokens(totalTokens(s))}/${fmtTokens(cap.maxTokens)} tokens`;
  return null;
}

/** What a person types for a new cap: `10` or `$10` (cost), `2M tokens`, or `unlimited` (both caps lifted). */
export function parseCapText(text: string): CapChange | undefined {
  const t = text.trim();
  if (UNLIMITED.includes(t.toLowerCase())) return { maxCost: null, maxTokens: null };
  const tokens = /^(.*?)\s*tokens?$/i.exec(t);
  if (tokens) {
    const v = parseTokens(tokens[1]);
    return v ? { maxTokens: v } : undefined;
  }
  const v = parseCost(t);
  return v ? { maxCost: v } : undefined;
}
