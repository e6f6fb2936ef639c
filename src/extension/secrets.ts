// API keys for model-backed proposers live in VS Code's SecretStorage (the OS keychain), never in
// settings or files. Stored under the name of the environment variable a proposer's apiKeyEnv names
// (lm/register.ts: asked once when first needed, or "AutoResearch: Set API Key").
import type * as vscode from 'vscode';

const PREFIX = 'autoresearch.apiKey.';

export class ApiKeys {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(provider: string): Thenable<string | undefined> {
    return this.secrets.get(PREFIX + provider);
  }

  set(provider: string, key: string): Thenable<void> {
    return this.secrets.store(PREFIX + provider, key);
  }

  delete(provider: string): Thenable<void> {
    return this.secrets.delete(PREFIX + provider);
  }
}
