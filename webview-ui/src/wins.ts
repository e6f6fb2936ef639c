// Which wins are real, as the panel says it: the marker beside a keep, its tooltip and spoken label, and the
// headline. The verdicts come from the host (core/report/realWins.ts); this only words them.
import type { WinVerdict } from '../../src/shared/protocol.js';
import { DASH, fmtNum } from '../../src/shared/format.js';
import type { ResultsStore } from './store.js';

/** The marker in the table: "real" for a gain larger than the noise, "≈ noise" within it, nothing when unknown. */
export const WIN_MARK: Record<WinVerdict, string> = { larger: 'real', within: '≈ noise', unknown: '' };

/** The filter box's words for the verdicts (`is:real`, `is:noise`). */
export const WIN_FILTER: Record<string, WinVerdict> = { real: 'larger', noise: 'within' };

/**
 * What the marker means for one keep, for the tooltip and the screen reader: "larger than the noise: gains 0.5 over
 * #0; a keep must gain more than 0.2 (noise ±0.1)". Null for a node that was not weighed.
 */
export function winDetail(store: ResultsStore, id: number): string | null {
  const k = store.winOf(id);
  const w = store.wins;
  if (!k || !w) return null;
  const against = store.nodes[k.against];
  const over = `#${k.against}${against?.line !== undefined ? ` (line ${against.line})` : ''}`;
  const gain = k.gain >= 0 ? `gains ${fmtNum(k.gain, DASH)} over ${over}` : `is ${fmtNum(-k.gain, DASH)} worse than ${over}`;
  if (k.verdict === 'unknown' || w.threshold === null) return `${gain}; the noise is unknown`;
  const must = `a keep must gain more than ${fmtNum(w.threshold, DASH)}${w.noise !== null && w.noise !== w.threshold ? ` (noise ±${fmtNum(w.noise, DASH)})` : ''}`;
  return `${k.verdict === 'larger' ? 'larger than the noise' : 'within the noise'}: ${gain}; ${must}`;
}

/**
 * The headline line: "1 of 2 keeps are larger than the noise (noise ±0.1, measured from …)." and how to know, when
 * unknown; with a session's measured noise, what chance alone would have kept and the rule's power, a line each.
 */
export function winsHeadline(store: ResultsStore): { text: string; hint: string | null; more: string[] } | null {
  const w = store.wins;
  // Before the first keep there is nothing to weigh, and an unknown noise need not be said yet.
  if (!w || (w.keeps.length === 0 && w.threshold === null)) return null;
  const more = [w.chance, w.power].filter((t): t is string => !!t).map((t) => `${t}.`);
  return { text: `${w.headline}.`, hint: w.hint ? `To know: ${w.hint}.` : null, more };
}
