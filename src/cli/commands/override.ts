import { sendCommand } from '../../core/offline.js';
import type { Command, CommandContext } from '../command.js';
import { nodeArg, sessionOf } from '../locate.js';

export const keepCommand: Command = { run: (c) => override('keep', c) };
export const discardCommand: Command = { run: (c) => override('discard', c) };

/** `keep <node>` and `discard <node>`: a person's decision over the rule's. */
async function override(status: 'keep' | 'discard', { cwd, o, args, io }: CommandContext): Promise<number> {
  const id = nodeArg(args[0]);
  const { root, tag } = await sessionOf(cwd, o);
  const r = await sendCommand(root, tag, { type: 'override', id, status, reason: o.reason ?? `${status === 'keep' ? 'kept' : 'discarded'} by a person from the CLI` });
  io.out(r.delivered === 'running' ? `Sent to the running session (pid ${r.holder.pid}): ${status} #${id}.` : `#${id} is now ${status} (${r.restored ? "the rule's own decision again" : 'decided by human'}); results.tsv updated.`);
  return 0;
}
