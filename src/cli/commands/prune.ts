import { sendCommand } from '../../core/offline.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { sessionOf } from '../locate.js';

export const pruneCommand: Command = { run: prune };

/** `prune on|off`: early stopping from now on, whatever the config says. */
async function prune({ cwd, o, args, io }: CommandContext): Promise<number> {
  const want = args[0];
  if (want !== 'on' && want !== 'off') throw new UsageError(`prune needs on or off: autoresearch prune off${want === undefined ? '' : ` (got "${want}")`}`);
  const { root, tag } = await sessionOf(cwd, o);
  const r = await sendCommand(root, tag, { type: 'prune', on: want === 'on' });
  const again = want === 'off' ? ' An experiment stopped early runs again in full with Re-run to Check Noise in the Experiments view.' : '';
  io.out(r.delivered === 'running'
    ? `Sent to the running session: early stopping ${want}, the experiments running now included.${again}`
    : `Early stopping ${want} for session ${tag}; \`autoresearch run\` goes on that way.${again}`);
  return 0;
}
