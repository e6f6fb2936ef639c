// The `proposer:` keys of the model-backed kinds, read and checked: every bad key is collected into one ConfigError
// that names `proposer.<key>`, and the settings every chat backend shares.
import { ConfigError, parseDuration, type ConfigIssue } from '../config.js';
import type { Price } from './prices.js';

/** Checks the keys of a `proposer:` mapping; collects every problem and throws one ConfigError naming `proposer.<key>`. */
export class ProposerConfigReader {
  private readonly issues: ConfigIssue[] = [];
  constructor(private readonly raw: Record<string, unknown>, private readonly known: readonly string[]) {
    for (const k of Object.keys(raw)) {
      if (k === 'kind' || known.includes(k)) continue;
      if (/^(?:api_?key|key|token|secret|password)$/i.test(k)) {
        this.issues.push({ path: `proposer.${k}`, value: '(hidden)', expected: `no key in the config (it would be recorded with the session); put it in an environment variable and name that variable with \`apiKeyEnv\`` });
      } else this.issues.push({ path: `proposer.${k}`, value: raw[k], expected: `no such key; known keys are kind, ${known.join(', ')}` });
    }
  }

  fail(key: string, value: unknown, expected: string): undefined {
    this.issues.push({ path: `proposer.${key}`, value, expected });
    return undefined;
  }

  string(key: string, required: boolean, example: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return required ? this.fail(key, v, `a non-empty string (e.g. ${example})`) : undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.fail(key, v, `a non-empty string (e.g. ${example})`);
    return v.trim();
  }

  url(key: string, required: boolean, example: string): string | undefined {
    const s = this.string(key, required, example);
    if (s === undefined) return undefined;
    try {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
      if (u.username || u.password || [...u.searchParams.keys()].some((k) => /key|token|secret|sig|password/i.test(k))) {
        return this.fail(key, '(hidden)', 'a URL without credentials in it (it is recorded with the session); put the key in an environment variable named by apiKeyEnv');
      }
    } catch {
      return this.fail(key, s, `an http(s) URL (e.g. ${example})`);
    }
    return s.replace(/\/+$/, '');
  }

  envName(key: string, fallback?: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) {
      // Never echo it: people paste the key itself here.
      return this.fail(key, '(hidden)', 'the NAME of an environment variable that holds the key (e.g. OPENAI_API_KEY), not the key itself');
    }
    return v;
  }

  number(key: string, fallback: number, min: number, max: number, integer = false): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(key, v, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return v;
  }

  optionalNumber(key: string, min: number, max: number): number | undefined {
    return this.raw[key] === undefined || this.raw[key] === null ? undefined : this.number(key, min, min, max);
  }

  duration(key: string, fallbackSeconds: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallbackSeconds * 1000;
    const d = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
    if (d === null) {
      this.fail(key, v, 'a duration like 90s, 5m or 1h');
      return fallbackSeconds * 1000;
    }
    return d * 1000;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.fail(key, v, 'true or false');
      return fallback;
    }
    return v;
  }

  price(key: string): Price | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (v === 0) return { input: 0, output: 0 };
    const ok = typeof v === 'object' && !Array.isArray(v) && ['input', 'output'].every((k) => typeof (v as Record<string, unknown>)[k] === 'number' && (v as Record<string, number>)[k]! >= 0)
      && Object.keys(v).every((k) => k === 'input' || k === 'output');
    if (!ok) return this.fail(key, v, 'USD per million tokens as {input: 3, output: 15}, or 0 for a free local model');
    return v as Price;
  }

  strings(key: string, fallback: string[]): string[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return fallback;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.trim() !== '')) {
      this.fail(key, v, 'a glob or a list of globs');
      return fallback;
    }
    return list as string[];
  }

  /** Throws the collected issues, if any. */
  done(): void {
    if (this.issues.length) throw new ConfigError(this.issues);
  }
}

/** The settings every chat backend shares. */
export interface ChatSettings {
  maxTokens: number;
  temperature?: number;
  /** The model's context window we may use (prompt and reply). */
  contextTokens: number;
  timeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
  price?: Price;
  transcripts: boolean;
}

export const CHAT_KEYS = ['maxTokens', 'temperature', 'contextTokens', 'timeout', 'idleTimeout', 'retries', 'price', 'transcripts'] as const;

export function readChatSettings(r: ProposerConfigReader, defaults: { contextTokens: number; maxTokens: number }): ChatSettings {
  const maxTokens = r.number('maxTokens', defaults.maxTokens, 256, 1_000_000, true);
  const contextTokens = r.number('contextTokens', defaults.contextTokens, 2048, 10_000_000, true);
  if (contextTokens <= maxTokens + 1024) r.fail('contextTokens', contextTokens, `more than maxTokens (${maxTokens}) + 1024: the prompt needs room too`);
  const timeoutMs = r.duration('timeout', 600);
  return {
    maxTokens,
    temperature: r.optionalNumber('temperature', 0, 2),
    contextTokens,
    timeoutMs,
    idleTimeoutMs: Math.min(timeoutMs, r.duration('idleTimeout', 180)),
    retries: r.number('retries', 4, 0, 20, true),
    price: r.price('price'),
    transcripts: r.boolean('transcripts', true),
  };
}
