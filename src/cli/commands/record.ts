import { sendCommand } from '../../core/offline.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { nodeArg, sessionOf } from '../locate.js';

export const recordCommand: Command = { run: record };

/** `record <node> <value>`: the metric of a manual run, or `--crash REASON`. */
async function record({ cwd, o, args, io }: CommandContext): Promise<number> {
  const id = nodeArg(args[0]);
  const { root, tag } = await sessionOf(cwd, o);
  if (o.crash) {
    await sendCommand(root, tag, { type: 'record-crash', id, reason: o.crash });
    io.out(`Recorded #${id} as crashed: ${o.crash}`);
    return 0;
  }
  const value = Number(args[1]);
  if (args[1] === undefined || Number.isNaN(value)) throw new UsageError('record needs a node and a number: autoresearch record <node> <value>');
  const memoryGb = o['memory-gb'] === undefined ? null : Number(o['memory-gb']);
  const r = await sendCommand(root, tag, { type: 'record', id, metric: value, memoryGb });
  io.out(r.delivered === 'running' ? `Sent to the running session: #${id} = ${value}.` : `Queued: #${id} = ${value}; it is applied when the session resumes (\`autoresearch run\`).`);
  return 0;
}
