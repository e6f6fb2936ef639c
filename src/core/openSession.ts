// The one way a host opens a session, so the CLI, the extension and the benchmarks cannot drift: the config (as
// recorded, or read from the file with the host's overrides), nobody else running it, the proposer and executor
// it names, and the controller that runs it.
import { loadConfig, type ConfigOverrides } from './config.js';
import { Controller, type ControllerOptions } from './controller.js';
import type { Executor } from './executors/executor.js';
import { createExecutor, createProposer } from './factory.js';
import { repositoryRoot } from './git.js';
import type { Disposable } from './lifecycle.js';
import type { Proposer } from './proposers/proposer.js';
import { readLock, SessionBusyError, sessionPaths, type LockInfo } from './record/store.js';
import type { ResearchConfig } from './types.js';

export interface SessionOptions extends Omit<ControllerOptions, 'config' | 'proposer' | 'executor'> {
  /** The config file's folder, inside the repository: paths in the config (a patches dir) are read from here. */
  root: string;
  /** The protocol to run as it is (a session's recorded one, a benchmark's); without it the config file is read. */
  config?: ResearchConfig;
  /** The config file, absolute or relative to `root`; autoresearch.config.yaml by default. */
  configFile?: string;
  /** What the host's own controls set over the file's values (--max-experiments, --proposer, --policy). */
  overrides?: ConfigOverrides;
  /** A proposer the caller built and keeps (a benchmark's); otherwise the one the config names, owned by the session. */
  proposer?: Proposer;
  /** An executor the caller built and keeps; otherwise the one the config names, owned by the session. */
  executor?: Executor;
  /** The host's words for a session another process runs; the engine's SessionBusyError otherwise. */
  busy?: (holder: LockInfo, config: ResearchConfig) => Error;
}

/** A session ready to run: `controller.run()` opens it (preflight, locks) and runs it. */
export interface OpenedSession extends Disposable {
  readonly config: ResearchConfig;
  readonly controller: Controller;
}

/**
 * Reads the config and refuses a session another process runs before anything is built (a proposer may start an
 * agent or look for a key); then builds what the config names.
 */
export async function openSession(options: SessionOptions): Promise<OpenedSession> {
  const { configFile, overrides, busy, proposer: givenProposer, executor: givenExecutor, ...controllerOptions } = options;
  const { root } = options;
  const config = options.config ?? loadConfig(root, configFile, overrides);
  const repo = await repositoryRoot(root);
  const holder = repo === undefined ? null : readLock(sessionPaths(repo, config.tag).lock);
  if (holder) throw busy ? busy(holder, config) : new SessionBusyError(holder, config.tag);
  const owned: Disposable[] = [];
  const own = <T extends Disposable>(d: T): T => { owned.push(d); return d; };
  try {
    const proposer = givenProposer ?? own(createProposer(config, root));
    const executor = givenExecutor ?? own(createExecutor(config));
    const controller = new Controller({ ...controllerOptions, config, proposer, executor });
    // The controller first: it stops its runs while the executor is still there to end them; each is closed even
    // when one before it throws, and the first error is rethrown.
    return {
      config,
      controller,
      dispose: () => {
        const failed = disposeAll([controller, ...owned]);
        if (failed !== undefined) throw failed;
      },
    };
  } catch (e) {
    disposeAll(owned);
    throw e;
  }
}

/** Disposes each one even when one before it throws; the first error, if any. */
function disposeAll(all: readonly Disposable[]): unknown {
  let first: unknown;
  for (const d of all) {
    try {
      d.dispose();
    } catch (e) {
      first ??= e;
    }
  }
  return first;
}
