// Every id the extension shares with package.json: commands, views, settings, context keys and the URI
// scheme. test/unit/manifest.test.ts checks this module against the manifest both ways.

export const EXTENSION_ID = 'autoresearch.autoresearch';

export const Commands = {
  start: 'autoresearch.start',
  stop: 'autoresearch.stop',
  pause: 'autoresearch.pause',
  resume: 'autoresearch.resume',
  createConfig: 'autoresearch.createConfig',
  openConfig: 'autoresearch.openConfig',
  showResults: 'autoresearch.showResults',
  showSummary: 'autoresearch.showSummary',
  addHypothesis: 'autoresearch.addHypothesis',
  recordResult: 'autoresearch.recordResult',
  applyBest: 'autoresearch.applyBest',
  revealBest: 'autoresearch.revealBest',
  showLog: 'autoresearch.showLog',
  refresh: 'autoresearch.refresh',
  openNodeDiff: 'autoresearch.openNodeDiff',
  openNodeLog: 'autoresearch.openNodeLog',
  compareWithBest: 'autoresearch.compareWithBest',
  branchFromNode: 'autoresearch.branchFromNode',
  rerunNode: 'autoresearch.rerunNode',
  checkoutNode: 'autoresearch.checkoutNode',
  keepNode: 'autoresearch.keepNode',
  discardNode: 'autoresearch.discardNode',
  explainProtected: 'autoresearch.explainProtected',
  chooseLanguageModel: 'autoresearch.chooseLanguageModel',
  setApiKey: 'autoresearch.setApiKey',
  raiseSpendCap: 'autoresearch.raiseSpendCap',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

export const ViewContainers = {
  activityBar: 'autoresearch',
} as const;

export const Views = {
  experiments: 'autoresearch.experiments',
} as const;
export type ViewId = (typeof Views)[keyof typeof Views];

export const Walkthroughs = {
  gettingStarted: 'gettingStarted',
} as const;

/** Settings under the `autoresearch.` section, by their full key. */
export const Settings = {
  proposer: 'autoresearch.proposer',
  policy: 'autoresearch.policy',
  budget: 'autoresearch.budget',
  maxExperiments: 'autoresearch.maxExperiments',
  protectFiles: 'autoresearch.protectFiles',
  openSummaryOnFinish: 'autoresearch.openSummaryOnFinish',
} as const;
export type SettingKey = (typeof Settings)[keyof typeof Settings];

/** Context keys for `when` clauses; values are documented where they are set (session/sessionService.ts). */
export const ContextKeys = {
  /** none | starting | running | paused | stopping | stopped | done | failed | interrupted */
  phase: 'autoresearch.phase',
  /** here | elsewhere | none: who runs the session. */
  owner: 'autoresearch.owner',
  hasSession: 'autoresearch.hasSession',
  /** The folder has an autoresearch.config.yaml (the welcome view says Start rather than Create). */
  hasConfig: 'autoresearch.hasConfig',
  canStart: 'autoresearch.canStart',
  canStop: 'autoresearch.canStop',
  canPause: 'autoresearch.canPause',
  canResume: 'autoresearch.canResume',
  hasBest: 'autoresearch.hasBest',
  waitingForResult: 'autoresearch.waitingForResult',
  /** Absolute paths of the files protected while a session runs (for `resourcePath in …`). */
  protectedPaths: 'autoresearch.protectedPaths',
} as const;
export type ContextKey = (typeof ContextKeys)[keyof typeof ContextKeys];

/** Tree item contextValue tokens, matched with `viewItem =~ /…/` in package.json menus. */
export const NodeContext = {
  node: 'node',
  canKeep: 'canKeep',
  canDiscard: 'canDiscard',
  hasCode: 'hasCode',
  hasLog: 'hasLog',
  canRerun: 'canRerun',
} as const;

/** Read-only documents of an experiment's code, read from git objects. */
export const NODE_SCHEME = 'autoresearch-node';

/** Read-only run logs of experiments, with a header (logs/runLogs.ts). */
export const LOG_SCHEME = 'autoresearch-log';

export const OUTPUT_CHANNEL = 'AutoResearch';
