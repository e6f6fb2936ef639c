// How the CLI answers an error: one table from the error's kind to its exit code, its `--json` kind and its words.
// Exit codes are a contract (README, docs/json.md): 0 done, 1 runtime failure, 2 bad usage or bad config.
import { CONFIG_FILE } from '../core/config.js';
import { AutoResearchError, errorKind, type ErrorKind } from '../core/errors.js';
import { errorDocument, type JsonErrorKind } from './json.js';
import type { Io } from './io.js';

/** The command line asks for something that is not there. */
export class UsageError extends AutoResearchError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

interface Answer {
  exitCode: 1 | 2;
  /** The kind in the `--json` error document (docs/json.md lists them). */
  json: JsonErrorKind;
  /** The text on stderr. */
  text: (message: string) => string;
  /** `message` in the `--json` document, when it is not the error's own. */
  jsonMessage?: (message: string) => string;
}

const invalidConfig = (m: string) => `Invalid ${CONFIG_FILE}:\n${m}`;
const cannotContinue: Answer = { exitCode: 2, json: 'session', text: (m) => `Cannot continue: ${m}` };
const runtime: Answer = { exitCode: 1, json: 'runtime', text: (m) => `Error: ${m}` };

const ANSWERS: Record<ErrorKind | 'internal', Answer> = {
  usage: { exitCode: 2, json: 'usage', text: (m) => `${m}\nRun \`autoresearch --help\` for usage.` },
  config: { exitCode: 2, json: 'config', text: invalidConfig, jsonMessage: invalidConfig },
  unreadable: { exitCode: 2, json: 'usage', text: (m) => m },
  preflight: cannotContinue,
  uncommitted: cannotContinue,
  unavailable: cannotContinue,
  sandbox: cannotContinue,
  'no-session': cannotContinue,
  busy: cannotContinue,
  git: cannotContinue,
  apply: { exitCode: 1, json: 'apply', text: (m) => `Cannot apply: ${m}` },
  proposal: runtime,
  edit: runtime,
  model: runtime,
  internal: runtime,
};

/** Prints the error as text on stderr, or with `--json` as one document on stdout (nothing on stderr); the exit code. */
export function reportError(e: unknown, io: Io, json: boolean): number {
  const answer = ANSWERS[errorKind(e)];
  const message = String((e as Error)?.message ?? e);
  if (json) io.out(JSON.stringify(errorDocument(answer.json, answer.jsonMessage?.(message) ?? message, answer.exitCode)));
  else io.err(answer.text(message));
  return answer.exitCode;
}
