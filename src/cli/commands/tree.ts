import type { Command, CommandContext } from '../command.js';
import { treeDocument } from '../json.js';
import { sessionOf } from '../locate.js';
import { renderTree } from '../tree.js';

export const treeCommand: Command = { run: tree, json: true };

/** `tree`: the experiment tree with the way to the best marked, or one JSON document. */
async function tree({ cwd, o, io, json }: CommandContext): Promise<number> {
  const { model, tag } = await sessionOf(cwd, o);
  io.out(json ? JSON.stringify(treeDocument(tag, model)) : renderTree(model));
  return 0;
}
