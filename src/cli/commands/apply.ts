import { applyBest } from '../../core/apply.js';
import type { Command, CommandContext } from '../command.js';
import { sessionOf } from '../locate.js';

export const applyCommand: Command = { run: apply };

/** `apply`: the best experiment onto the person's branch, squashed or `--chain`. */
async function apply({ cwd, o, io }: CommandContext): Promise<number> {
  const { root, tag, model } = await sessionOf(cwd, o);
  const res = await applyBest(root, model, tag, o.chain ? 'chain' : 'squash');
  io.out(res.message);
  return 0;
}
