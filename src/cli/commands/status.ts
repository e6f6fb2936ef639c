import { isAbsolute, join } from 'node:path';
import { readTail } from '../../core/files.js';
import type { SessionModel } from '../../core/model.js';
import { runningController } from '../../core/offline.js';
import { spendLine } from '../../core/spend.js';
import { chanceLine, noiseLine, powerLine, rankedNote } from '../../core/report/summary.js';
import { directionText, fmtDuration, fmtNum } from '../../shared/format.js';
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
  const c = model.counts(false);
  const cfg = model.config!;
  io.out(`Session ${s.tag}: ${model.state}${model.stateReason ? ` (${model.stateReason})` : ''}`);
  io.out(`  experiments: ${model.decidedCount} of ${cfg.maxExperiments ?? 'unlimited'} decided: ${c.keep} kept, ${c.discard} discarded, ${c.crash} crashed, ${c.invalid} invalid${c.running ? `, ${c.running} running` : ''}`);
  const alive = runningController(s.root, s.tag) !== null;
  for (const line of runningLines(s.root, model, alive)) io.out(`  ${line}`);
  if (!alive && (model.state === 'running' || c.running > 0)) io.out('  no controller is running it (it was killed, or its machine went down): `autoresearch run` resumes it, and runs the interrupted experiments again');
  io.out(`  ${cfg.metric.name} (${directionText(cfg.metric.direction)}): baseline ${fmtNum(model.baseline?.metric)}, best ${fmtNum(model.best?.metric)}${model.best ? ` (#${model.best.id}${rankedNote(model, model.best.id)})` : ''}`);
  const band = model.noiseBand();
  if (band) io.out(`  ${noiseLine(band)}`);
  const chance = chanceLine(model);
  if (chance) io.out(`  ${chance}`);
  const power = powerLine(model);
  if (power) io.out(`  ${power}`);
  const spent = spendLine(model.spend, model.cap);
  if (spent) io.out(`  ${spent}`);
  const open = model.hints.filter((h) => h.takenBy === null);
  if (open.length) io.out(`  queued hypotheses: ${open.map((h) => `"${h.text}"`).join(', ')}`);
  return 0;
}

/**
 * Each running experiment: what it tries, how long it has run of the budget, and the last value of the metric (or of
 * `progress`) its log shows so far: `#1 gradient_accumulation_steps 1 → 2: 0:25 of 2m, val_loss 3.843 so far`;
 * `interrupted` when no controller holds the session (`alive` false).
 */
export function runningLines(root: string, model: SessionModel, alive: boolean, now = Date.now()): string[] {
  const cfg = model.config!;
  const out: string[] = [];
  for (const n of model.nodes) {
    if (!n || n.status !== 'running') continue;
    // Without a controller the run is gone: its time since the start says nothing.
    const ran = alive && n.startedAt ? fmtDuration(now - Date.parse(n.startedAt)) : null;
    let value: string | null = null;
    if (n.logPath) {
      const log = readTail(isAbsolute(n.logPath) ? n.logPath : join(root, n.logPath), 65_536);
      const re = new RegExp(cfg.progress ?? cfg.metric.pattern, 'gm');
      for (let m = re.exec(log); m; m = re.exec(log)) {
        const groups = m.slice(1).filter((g) => g !== undefined);
        if (groups.length) value = groups[groups.length - 1]!;
        if (m[0] === '') re.lastIndex++;
      }
    }
    const so = value === null ? 'no value printed yet' : `${cfg.metric.name} ${value} so far`;
    out.push(`${alive ? 'running' : 'interrupted'}: #${n.id} ${n.description}${ran ? `: ${ran} of ${cfg.budgetText}` : ''}, ${so}`);
  }
  return out;
}
