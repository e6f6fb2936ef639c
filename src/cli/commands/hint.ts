import { sendCommand } from '../../core/offline.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { sessionOf } from '../locate.js';

export const hintCommand: Command = { run: hint };

/** `hint "<text>"`: a hypothesis queued for the next proposals. */
async function hint({ cwd, o, args, io }: CommandContext): Promise<number> {
  const text = args.join(' ').trim();
  if (!text) throw new UsageError('hint needs the hypothesis text: autoresearch hint "try a cosine schedule"');
  const { root, tag } = await sessionOf(cwd, o);
  const r = await sendCommand(root, tag, { type: 'hint', text });
  io.out(r.delivered === 'running' ? `Sent to the running session: "${text}"` : `Queued for the next proposals: "${text}"`);
  return 0;
}
