// The command line's options, one list for every command: a command reads the ones it needs.
import { parseArgs } from 'node:util';

const OPTIONS = {
  config: { type: 'string' }, cwd: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' },
  'max-experiments': { type: 'string' }, proposer: { type: 'string' }, policy: { type: 'string' },
  from: { type: 'string' }, direction: { type: 'string' }, metric: { type: 'string' }, reason: { type: 'string' },
  'memory-gb': { type: 'string' }, crash: { type: 'string' }, chain: { type: 'boolean' }, squash: { type: 'boolean' },
  tag: { type: 'string' }, force: { type: 'boolean' }, out: { type: 'string' }, restart: { type: 'boolean' }, probe: { type: 'boolean' }, budget: { type: 'string' }, script: { type: 'string' },
  cost: { type: 'string' }, tokens: { type: 'string' },
  json: { type: 'boolean' }, noise: { type: 'string' },
} as const;

/** Options and positionals; throws on an option that is not in the list. */
export function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

export type Options = ReturnType<typeof parseCommandLine>['values'];
