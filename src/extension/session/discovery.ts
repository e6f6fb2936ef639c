// Finds the study in the open folders: the folder with autoresearch.config.yaml, the git repository around
// it (where the engine keeps .autoresearch/ and results.tsv), and the session's tag.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, ConfigError, loadConfig } from '../../core/config.js';
import { repositoryRoot } from '../../core/git.js';
import { listSessions } from '../../core/offline.js';
import { sessionPaths } from '../../core/record/store.js';
import type { ResearchConfig } from '../../core/types.js';

export interface SessionLocation {
  /** The folder holding autoresearch.config.yaml: the wizard writes there and the controller starts there. */
  configDir: string;
  /** The git repository root; the folder itself when it is not in a repository (yet). */
  repoRoot: string;
  isGitRepo: boolean;
  hasConfig: boolean;
  config: ResearchConfig | undefined;
  configError: ConfigError | undefined;
  /** The session shown: the config's tag, or the most recent session when the config cannot be read. */
  tag: string | undefined;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function newestSession(repoRoot: string): string | undefined {
  let best: { tag: string; mtime: number } | undefined;
  for (const tag of listSessions(repoRoot)) {
    const mtime = statSync(sessionPaths(repoRoot, tag).journal).mtimeMs;
    if (!best || mtime > best.mtime) best = { tag, mtime };
  }
  return best?.tag;
}

/** What is in one folder; undefined when it has neither a config nor a recorded session. */
export async function locate(folder: string): Promise<SessionLocation | undefined> {
  const configDir = real(folder);
  const root = await repositoryRoot(configDir);
  const repoRoot = root ? real(root) : configDir;
  const hasConfig = existsSync(join(configDir, CONFIG_FILE));
  let config: ResearchConfig | undefined;
  let configError: ConfigError | undefined;
  if (hasConfig) {
    try {
      config = loadConfig(configDir);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      configError = e;
    }
  }
  const tag = config?.tag ?? newestSession(repoRoot);
  if (!hasConfig && !tag) return undefined;
  return { configDir, repoRoot, isGitRepo: root !== undefined, hasConfig, config, configError, tag };
}

/** The first folder with a config, else the first with a recorded session. */
export async function discover(folders: readonly string[]): Promise<SessionLocation | undefined> {
  const found: SessionLocation[] = [];
  for (const f of folders) {
    const loc = await locate(f).catch(() => undefined);
    if (loc) found.push(loc);
  }
  return found.find((l) => l.hasConfig) ?? found[0];
}
