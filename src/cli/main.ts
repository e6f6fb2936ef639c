// `autoresearch`: the headless CLI on the same engine as the editor. This file reads the command line and hands it to
// the command (src/cli/commands/, one file each); errors are answered by src/cli/errors.ts.
// Exit codes: 0 done, 1 runtime failure, 2 bad usage or bad config.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { applyCommand } from './commands/apply.js';
import { capCommand } from './commands/cap.js';
import { compareCommand } from './commands/compare.js';
import { hintCommand } from './commands/hint.js';
import { initCommand } from './commands/init.js';
import { discardCommand, keepCommand } from './commands/override.js';
import { pruneCommand } from './commands/prune.js';
import { recordCommand } from './commands/record.js';
import { runCommand } from './commands/run.js';
import { showCommand } from './commands/show.js';
import { statusCommand } from './commands/status.js';
import { summaryCommand } from './commands/summary.js';
import { treeCommand } from './commands/tree.js';
import { reportError, UsageError } from './errors.js';
import { commandHelp, HELP } from './help.js';
import { defaultIo, type Io } from './io.js';
import { parseCommandLine } from './options.js';

import packageJson from '../../package.json' with { type: 'json' };

const VERSION: string = packageJson.version;

const COMMANDS: Record<string, Command> = {
  init: initCommand,
  run: runCommand,
  status: statusCommand,
  tree: treeCommand,
  show: showCommand,
  compare: compareCommand,
  summary: summaryCommand,
  keep: keepCommand,
  discard: discardCommand,
  record: recordCommand,
  hint: hintCommand,
  cap: capCommand,
  prune: pruneCommand,
  apply: applyCommand,
};

/** Commands that print one JSON document with --json. */
const JSON_COMMANDS = Object.keys(COMMANDS).filter((name) => COMMANDS[name]!.json);

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  // Known before the arguments parse, so that even a bad option answers in JSON.
  const json = argv.includes('--json');
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    if (json) return reportError(new UsageError((e as Error).message), io, true);
    io.err(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [name, ...args] = positionals;
  if (o.version) {
    io.out(`autoresearch ${VERSION}`);
    return 0;
  }
  // `help`, `help <command>`, `<command> --help`.
  if (name === 'help' || (name && o.help)) {
    const topic = name === 'help' ? args[0] : name;
    const text = topic ? commandHelp(topic) : HELP;
    if (text === null) {
      io.err(`No command "${topic}". Run \`autoresearch help\` for the list.`);
      return 2;
    }
    io.out(text);
    return 0;
  }
  if (o.help || !name) {
    io.out(HELP);
    return name || o.help ? 0 : 2;
  }
  try {
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
    if (json && !command?.json) throw new UsageError(`--json is for ${JSON_COMMANDS.join(', ')}; ${name} prints text only.`);
    if (o.noise !== undefined && name !== 'summary') throw new UsageError('--noise is for summary of a results file: autoresearch summary results.tsv --noise 0.0007');
    if (!command) throw new UsageError(`Unknown command "${name}".`);
    return await command.run({ cwd: o.cwd ?? process.cwd(), o, args, io, json });
  } catch (e) {
    return reportError(e, io, json);
  }
}

/** Whether this module is the program (dist/cli.js, or the `autoresearch` link an install puts on PATH), not an import. */
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    // The bundle is CommonJS (__filename); run from source it is a module (import.meta.url).
    const self = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    return realpathSync(process.argv[1]) === realpathSync(self);
  } catch {
    return false;
  }
}

/**
 * `autoresearch show 3 | head`: a reader that closed the pipe has read what it wanted, which is no error (it was an
 * unhandled `Error: write EPIPE` with a stack). What is left to print is dropped; a session (`run | head`) goes on.
 */
export function quietOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

if (isEntryPoint()) {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const debug = process.argv.includes('--debug') || !!process.env.AUTORESEARCH_DEBUG;
  const argv = process.argv.slice(2).filter((a) => a !== '--debug');
  main(argv).then((code) => process.exit(code), (e) => {
    // An error nobody caught is ours, not the user's: one line, the stack with --debug.
    process.stderr.write(debug ? `Error: ${(e as Error).stack ?? e}\n` : `Error: ${(e as Error).message ?? e} (run again with --debug for the details)\n`);
    process.exit(1);
  });
}
