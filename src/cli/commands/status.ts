import { spendLine } from '../../core/spend.js';
import { noiseLine } from '../../core/report/summary.js';
import { directionText, fmtNum } from '../../shared/format.js';
import type { Command, CommandContext } from '../command.js';
import { statusDocument } from '../json.js';
import { sessionOf } from '../locate.js';

export const statusCommand: Command = { run: status, json: true };

/** `status`: where the session stands, in lines or one JSON document. */
async function status({ cwd, o, io, json }: CommandContext): Promise<number> {
  const s = await sessionOf(cwd, o);
  const { model } = s;
  if (json) {
    io.out(JSON.stringify(statusDocument(s.tag, model)));
    return 0;
  }
  const c = model.counts();
  const cfg = model.config!;
  io.out(`Session ${s.tag}: ${model.state}${model.stateReason ? ` (${model.stateReason})` : ''}`);
  io.out(`  experiments: ${model.decidedCount} of ${cfg.maxExperiments ?? 'unlimited'} decided: ${c.keep} kept, ${c.discard} discarded, ${c.crash} crashed, ${c.invalid} invalid${c.running ? `, ${c.running} running` : ''}`);
  io.out(`  ${cfg.metric.name} (${directionText(cfg.metric.direction)}): baseline ${fmtNum(model.baseline?.metric)}, best ${fmtNum(model.best?.metric)}${model.best ? ` (#${model.best.id})` : ''}`);
  const band = model.noiseBand();
  if (band) io.out(`  ${noiseLine(band)}`);
  const spent = spendLine(model.spend, model.cap);
  if (spent) io.out(`  ${spent}`);
  const open = model.hints.filter((h) => h.takenBy === null);
  if (open.length) io.out(`  queued hypotheses: ${open.map((h) => `"${h.text}"`).join(', ')}`);
  return 0;
}
