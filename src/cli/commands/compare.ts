import { Lab, nodeRef } from '../../core/git.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { nodeArg, sessionOf } from '../locate.js';

export const compareCommand: Command = { run: compare };

/** `compare <a> <b>`: the diff between two experiments' code. */
async function compare({ cwd, o, args, io }: CommandContext): Promise<number> {
  const a = nodeArg(args[0]);
  const b = nodeArg(args[1]);
  const { root, model, tag } = await sessionOf(cwd, o);
  const lab = await Lab.open(root);
  for (const id of [a, b]) if (!model.get(id)?.commit) throw new UsageError(`Experiment #${id} has no code to compare.`);
  io.out(await lab.diff(nodeRef(tag, a), nodeRef(tag, b)));
  return 0;
}
