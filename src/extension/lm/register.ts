// Wires model-backed proposers into the editor: the `vscode-lm` proposer kind on VS Code's language
// models, the model picker, consent asked from a user action, a blocked model waiting for the person
// instead of failing the session, and API keys from SecretStorage for the HTTP backends.
import * as vscode from 'vscode';
import { fmtTokens } from '../../shared/format.js';
import { registerProposer } from '../../core/factory.js';
import type { BlockedHandler } from '../../core/proposers/llm.js';
import { environmentKey, registerApiKeySource, type ApiKeySource } from '../../core/proposers/secrets.js';
import type { ModelError } from '../../core/proposers/transport.js';
import type { ResearchConfig } from '../../core/types.js';
import { ApiKeys } from '../secrets.js';
import { createVscodeLmProposer, readVscodeLmSettings, VSCODE_LM_KIND, type LanguageModelHost, type ModelChoice } from './languageModelProposer.js';

/** Where the model picked with chooseLanguageModel() is remembered. */
export const CHOSEN_MODEL_KEY = 'autoresearch.languageModel';

export const languageModelHost: LanguageModelHost = {
  selectChatModels: (selector) => vscode.lm.selectChatModels(selector),
  userMessage: (text) => vscode.LanguageModelChatMessage.User(text),
  assistantMessage: (text) => vscode.LanguageModelChatMessage.Assistant(text),
  cancellation: (signal) => {
    const source = new vscode.CancellationTokenSource();
    const cancel = () => source.cancel();
    if (signal.aborted) source.cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    return { token: source.token, dispose: () => { signal.removeEventListener('abort', cancel); source.dispose(); } };
  },
  errorCode: (e) => (e instanceof vscode.LanguageModelError ? e.code : undefined),
};

export interface LanguageModelProposerOptions {
  /**
   * What to do when the model needs the person (no consent, quota, a missing key). The session service
   * should pause the session here and resolve 'retry' on Resume, 'fail' on Stop. Default: a warning
   * with Retry / Choose Model / Skip that the proposal waits on.
   */
  onBlocked?: BlockedHandler;
  log?: (message: string) => void;
}

/** The model a person chose, if any. */
export function chosenModel(context: vscode.ExtensionContext): ModelChoice | undefined {
  return context.globalState.get<ModelChoice>(CHOSEN_MODEL_KEY);
}

/**
 * Registers the `vscode-lm` proposer with the engine and a SecretStorage source for API keys.
 * Push the result to `context.subscriptions` (or the root disposable) in activate().
 */
export function registerLanguageModelProposer(context: vscode.ExtensionContext, options: LanguageModelProposerOptions = {}): vscode.Disposable {
  const onBlocked = options.onBlocked ?? defaultBlockedHandler(context);
  const proposer = registerProposer(VSCODE_LM_KIND, (config) => createVscodeLmProposer(config, languageModelHost, {
    chosenModel: () => chosenModel(context), onBlocked, onLog: options.log,
  }));
  const keys = registerApiKeySource(secretStorageKeys(context.secrets));
  return new vscode.Disposable(() => {
    proposer.dispose();
    keys.dispose();
  });
}

/**
 * Keys for `openai-compatible` and `anthropic` from SecretStorage, stored under the name of the
 * environment variable the config names (`apiKeyEnv`). Missing there and in the environment, the
 * person is asked once; the answer is stored in SecretStorage, never in settings or files.
 */
export function secretStorageKeys(secrets: vscode.SecretStorage): ApiKeySource {
  const keys = new ApiKeys(secrets);
  return async ({ kind, env }: { kind: string; env: string }): Promise<string | undefined> => {
    const stored = await keys.get(env);
    if (stored) return stored;
    // The environment (or the copy the engine withheld from child processes) comes next.
    if (environmentKey(env)) return undefined;
    const entered = await vscode.window.showInputBox({
      title: `API key for the ${kind} proposer`,
      prompt: `AutoResearch needs the key that ${env} would hold. It is kept in VS Code's secret storage, never in a file.`,
      password: true, ignoreFocusOut: true, placeHolder: env,
    });
    if (!entered?.trim()) return undefined;
    await keys.set(env, entered.trim());
    return entered.trim();
  };
}

/** Stores a key for `apiKeyEnv` in SecretStorage (for a "Set API Key" command). */
export async function setApiKey(secrets: vscode.SecretStorage, env: string): Promise<boolean> {
  const entered = await vscode.window.showInputBox({ title: `API key for ${env}`, password: true, ignoreFocusOut: true, prompt: 'Kept in VS Code\'s secret storage.' });
  if (!entered?.trim()) return false;
  await new ApiKeys(secrets).set(env, entered.trim());
  return true;
}

/** Whether any language model is available now (the wizard suggests `vscode-lm` when one is). */
export async function languageModelAvailable(): Promise<boolean> {
  return (await vscode.lm.selectChatModels({})).length > 0;
}

/** A quick pick of the available models; the choice is remembered for sessions whose config names none. */
export async function chooseLanguageModel(context: vscode.ExtensionContext): Promise<ModelChoice | undefined> {
  const models = await vscode.lm.selectChatModels({});
  if (models.length === 0) {
    void vscode.window.showWarningMessage('No language model is available. Install and sign in to a provider such as GitHub Copilot, or use an HTTP proposer (openai-compatible, anthropic) in autoresearch.config.yaml.');
    return undefined;
  }
  const current = chosenModel(context);
  const pick = await vscode.window.showQuickPick(models.map((m) => ({
    label: m.name || m.id, description: `${m.vendor} · ${m.family}`, detail: `${fmtTokens(m.maxInputTokens)} input tokens`,
    picked: current?.id === m.id && current?.vendor === m.vendor, model: m,
  })), { title: 'Language model for AutoResearch', placeHolder: 'The model that proposes experiments when the config does not name one' });
  if (!pick) return undefined;
  const choice: ModelChoice = { vendor: pick.model.vendor, id: pick.model.id };
  await context.globalState.update(CHOSEN_MODEL_KEY, choice);
  return choice;
}

/**
 * Call from the Start command (a user action) before the session begins: finds the model and, if
 * consent was never asked, asks now with a one-line request, not hours later in the middle of the loop.
 * Returns a message for the person when the model cannot be used, undefined when it can.
 */
export async function ensureLanguageModelAccess(context: vscode.ExtensionContext, config: ResearchConfig, token?: vscode.CancellationToken): Promise<string | undefined> {
  if (config.proposer.kind !== VSCODE_LM_KIND) return undefined;
  const settings = readVscodeLmSettings(config);
  const selector = Object.keys(settings.selector).length ? settings.selector : chosenModel(context) ?? {};
  const [model] = await vscode.lm.selectChatModels(selector);
  if (!model) return 'No language model matches the config. Install and sign in to a provider such as GitHub Copilot, or run "Choose Language Model".';
  const allowed = context.languageModelAccessInformation.canSendRequest(model);
  if (allowed === true) return undefined;
  try {
    const r = await model.sendRequest([vscode.LanguageModelChatMessage.User('Reply with the single word OK.')], { justification: settings.justification }, token);
    for await (const _ of r.text) { /* drain */ }
    return undefined;
  } catch (e) {
    return e instanceof vscode.LanguageModelError && e.code === 'NoPermissions'
      ? `AutoResearch may not use ${model.name}: permission was not given.`
      : `${model.name} cannot be used: ${(e as Error).message}`;
  }
}

/** The fallback when the host gives no pause-aware handler: a warning the proposal waits on. */
export function defaultBlockedHandler(context: vscode.ExtensionContext): BlockedHandler {
  return async (error: ModelError, signal: AbortSignal) => {
    const RETRY = 'Retry';
    const CHOOSE = 'Choose Model';
    const SKIP = 'Skip This Experiment';
    const shown = vscode.window.showWarningMessage(`AutoResearch is waiting: ${error.message}`, RETRY, CHOOSE, SKIP);
    const stopped = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    const choice = await Promise.race([shown, stopped]);
    if (choice === CHOOSE) return (await chooseLanguageModel(context)) ? 'retry' : 'fail';
    return choice === RETRY ? 'retry' : 'fail';
  };
}
