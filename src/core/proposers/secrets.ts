// Keys and redaction for the model-backed proposers. A key is only ever held in memory: it comes from a registered
// source (VS Code's SecretStorage) or the environment, is withheld from every child process, and every text that
// leaves a proposer goes through redact() first.
import { toDisposable, type Disposable } from '../lifecycle.js';

const knownSecrets = new Set<string>();

/** Shapes of keys that must never be written even when we were not told about them. */
const SECRET_SHAPES: readonly RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{12,}/g,
  /\b(?:ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /(\b[Bb]earer\s+)[A-Za-z0-9._~+/=-]{12,}/g,
  /((?:x-api-key|api-key|authorization)["']?\s*[:=]\s*["']?)[^\s"',}]{12,}/gi,
];

/** Remembers a secret so redact() removes it from everything written from now on. */
export function addSecret(secret: string | undefined): void {
  if (secret && secret.trim().length >= 6) knownSecrets.add(secret.trim());
}

/** The text with every known secret replaced by [REDACTED]; for code, where key-like shapes may be legitimate. */
export function redactKnown(text: string): string {
  let out = text;
  for (const s of [...knownSecrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('[REDACTED]');
  return out;
}

/** The text with every known secret and anything shaped like an API key replaced by [REDACTED]. */
export function redact(text: string): string {
  let out = redactKnown(text);
  for (const re of SECRET_SHAPES) out = out.replace(re, (m, prefix?: unknown) => (typeof prefix === 'string' && m.startsWith(prefix) ? `${prefix}[REDACTED]` : '[REDACTED]'));
  return out;
}

/** Values of the environment variables that look like credentials (`*_KEY`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v && v.length >= 8 && /(?:_KEY|^KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)/i.test(k) && !/^(?:TERM|COLORTERM|KEYMAP)$/.test(k))
    .map(([, v]) => v!);
}

/** Where a key can come from besides the environment: VS Code's SecretStorage registers one. */
export type ApiKeySource = (ref: { kind: string; env: string; signal?: AbortSignal }) => Promise<string | undefined> | string | undefined;

const keySources: ApiKeySource[] = [];

export function registerApiKeySource(source: ApiKeySource): Disposable {
  keySources.unshift(source);
  return toDisposable(() => {
    const i = keySources.indexOf(source);
    if (i >= 0) keySources.splice(i, 1);
  });
}

export function hasApiKeySources(): boolean {
  return keySources.length > 0;
}

const withheld = new Map<string, string>();

/**
 * Moves a key out of the process environment into memory, so that no child process (an experiment's
 * run, whose script the model edits; git; an agent) inherits it and can print it into a log.
 */
export function withholdFromChildren(env: string | undefined): void {
  if (!env) return;
  const value = process.env[env];
  if (!value) return;
  withheld.set(env, value);
  addSecret(value);
  delete process.env[env];
}

/** A key from the environment, or one withheld from it earlier. */
export function environmentKey(env: string): string | undefined {
  return process.env[env] || withheld.get(env) || undefined;
}

/** The key for a backend: registered sources first (SecretStorage), then the environment variable. */
export async function resolveApiKey(kind: string, env: string, signal?: AbortSignal): Promise<string | undefined> {
  for (const source of keySources) {
    const key = await source({ kind, env, signal });
    if (key) {
      addSecret(key);
      return key;
    }
  }
  const key = environmentKey(env);
  addSecret(key);
  return key;
}
