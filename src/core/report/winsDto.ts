// Which wins are real, for the results view: the core's verdicts (realWins.ts) cut down to what the webview
// shows, so the panel says what `autoresearch summary` says and the webview computes nothing of its own.
import type { SessionModel } from '../model.js';
import { logWins, sessionWins, type RealWins } from './realWins.js';
import { chanceLine, powerLine } from './summary.js';
import type { ResultsRow } from '../record/results.js';
import type { Direction } from '../types.js';
import type { WinsDto } from '../../shared/protocol.js';

function dto<T>(wins: RealWins<T>, idOf: (t: T) => number | undefined): WinsDto {
  const keeps: WinsDto['keeps'] = [];
  for (const k of wins.keeps) {
    const id = idOf(k.keep);
    const against = idOf(k.parent);
    if (id !== undefined && against !== undefined) keeps.push({ id, against, gain: k.gain, verdict: k.verdict });
  }
  const n = wins.noise;
  return { headline: wins.headline, larger: wins.larger, source: n.source, noise: n.value, threshold: n.threshold, how: n.how, hint: n.hint, keeps };
}

export function sessionWinsDto(model: SessionModel): WinsDto {
  return { ...dto(sessionWins(model), (n) => n.id), chance: chanceLine(model), power: powerLine(model) };
}

/**
 * A results.tsv's wins in `direction`, node ids being row indexes (as fileSnapshot numbers them). `noise` is a
 * floor the user gave; without it the noise is estimated from the file's runs of the same code.
 */
export function fileWinsDto(rows: readonly ResultsRow[], direction: Direction, noise: number | null, metricName: string, fileName: string): WinsDto {
  const index = new Map(rows.map((r, i) => [r, i]));
  const wins = dto(logWins(rows, direction, noise, metricName), (r) => index.get(r));
  // The panel has no --noise flag: the hint names the command that takes one.
  return wins.hint ? { ...wins, hint: `run \`autoresearch summary --from ${fileName} --noise 0.0007\` with a floor you know: how far ${metricName} moves when only the seed changes` } : wins;
}
