// What a subcommand gets from the dispatcher (src/cli/main.ts) and what it gives back: its exit code.
import type { Io } from './io.js';
import type { Options } from './options.js';

export interface CommandContext {
  /** The folder the command runs in (--cwd, else the process's). */
  cwd: string;
  o: Options;
  /** The positionals after the command's name. */
  args: string[];
  io: Io;
  /** --json: print one document (only the commands that declare it get it). */
  json: boolean;
}

export interface Command {
  run(c: CommandContext): Promise<number> | number;
  /** Prints one JSON document with --json. */
  json?: true;
}
