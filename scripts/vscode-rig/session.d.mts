// Types for session.mjs, for the TypeScript tests that use the rig.
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import type { Rig } from './provision.mjs';

export declare const CHROMIUM_FLAGS: string[];
export declare const DEFAULT_SETTINGS: Record<string, unknown>;

export interface SessionOptions {
  rig: Rig;
  /** Folder or .code-workspace file to open; none opens an empty window. */
  folder?: string;
  extensionDevelopmentPath?: string | string[];
  extensionTestsPath?: string;
  /** VSIX files installed with --install-extension before code-server starts. */
  vsix?: string[];
  /** Added to code-server's environment, which its extension host inherits. */
  env?: Record<string, string>;
  /** User settings merged over DEFAULT_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Folder for <logName>.server.log and <logName>.console.log (default: the scratch folder, removed on dispose). */
  logDir?: string;
  logName?: string;
  viewport?: { width: number; height: number };
  log?: (line: string) => void;
  /** Receives each browser console line instead of log. */
  onConsole?: (text: string, type: string) => void;
}

export interface Session {
  page: Page;
  context: BrowserContext;
  port: number;
  url: string;
  scratch: string;
  serverLog: string;
  /** The code the workbench passes to codeAutomationExit when extension tests finish. */
  exitCode: Promise<number>;
  /** Closes the browser, kills code-server's process group and removes the scratch folder. */
  dispose(): Promise<void>;
}

export declare function consoleText(msg: ConsoleMessage): Promise<string>;
export declare function startSession(options: SessionOptions): Promise<Session>;
