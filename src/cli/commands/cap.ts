import { sendCommand } from '../../core/offline.js';
import { COST_EXPECTED, parseCost, parseTokens, spendText, TOKENS_EXPECTED, type CapChange } from '../../core/spend.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { sessionOf } from '../locate.js';

export const capCommand: Command = { run: cap };

/** `cap`: spend against the cap, or a new cap sent to the session (journaled at once when none runs it). */
async function cap({ cwd, o, io }: CommandContext): Promise<number> {
  const change: CapChange = {};
  if (o.cost !== undefined) {
    const v = parseCost(o.cost);
    if (v === undefined) throw new UsageError(`--cost: expected ${COST_EXPECTED}, got "${o.cost}"`);
    change.maxCost = v;
  }
  if (o.tokens !== undefined) {
    const v = parseTokens(o.tokens);
    if (v === undefined) throw new UsageError(`--tokens: expected ${TOKENS_EXPECTED}, got "${o.tokens}"`);
    change.maxTokens = v;
  }
  const { root, tag, model } = await sessionOf(cwd, o);
  if (o.cost === undefined && o.tokens === undefined) {
    io.out(`Session ${tag}: model spend ${spendText(model.spend, model.cap)}. Change the cap with \`autoresearch cap --cost USD\` or \`--tokens N\`.`);
    return 0;
  }
  const r = await sendCommand(root, tag, { type: 'cap', cap: change });
  const cap = { ...model.cap, ...change };
  io.out(r.delivered === 'running'
    ? `Sent to the running session (pid ${r.holder.pid}): spend cap now ${spendText(model.spend, cap)}; it goes on under it.`
    : `Spend cap of session ${tag} now ${spendText(model.spend, cap)}. \`autoresearch run\` goes on under it.`);
  return 0;
}
