// Types for provision.mjs, for the TypeScript tests that use the rig.
export declare const CODE_SERVER_VERSION: string;
export declare const VSCODE_VERSION: string;
export declare const NODE_VERSION: string;
export declare const repoRoot: string;

export interface ReadyRig {
  status: 'ready';
  cacheDir: string;
  nodeDir: string;
  nodeBin: string;
  codeServerEntry: string;
  chromium: string;
  codeServerVersion: string;
  vscodeVersion: string;
}
export interface UnavailableRig {
  status: 'skipped' | 'failed';
  reason: string;
}
export type Rig = ReadyRig | UnavailableRig;

export interface ProvisionOptions {
  /** Also make sure Chromium is there (default true). */
  browser?: boolean;
  log?: (line: string) => void;
  /** Where install logs go (default test-output/vscode-rig). */
  logDir?: string;
  env?: NodeJS.ProcessEnv;
}

export declare function rigCacheDir(env?: NodeJS.ProcessEnv): string;
export declare function chromiumPath(env?: NodeJS.ProcessEnv): string;
/** The environment for the rig's nested npm installs: the outer npm's settings and lifecycle variables removed. */
export declare function rigNpmEnv(env: NodeJS.ProcessEnv, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export declare function provision(options?: ProvisionOptions): Promise<Rig>;
