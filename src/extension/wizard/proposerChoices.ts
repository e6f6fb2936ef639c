// What the config wizard offers for who proposes the changes and how small a win counts. Plain data (no vscode
// import), so the choices, their defaults and the config each one writes are checked without an editor.
import { parseConfig } from '../../core/config.js';
import { readAgentCliSettings } from '../../core/proposers/agentCli.js';
import { DEFAULT_ANTHROPIC_KEY_ENV, readAnthropicSettings } from '../../core/proposers/anthropic.js';
import { readOpenAiCompatibleSettings } from '../../core/proposers/openaiCompatible.js';

/** One of the kind's own keys, asked after the kind is picked. */
export interface ProposerQuestion {
  key: string;
  prompt: string;
  /** The suggested answer. */
  value: string;
  /** Undefined when the answer will do, else what is wrong with it. */
  check(answer: string): string | undefined;
}

export interface ProposerChoice {
  kind: 'vscode-lm' | 'anthropic' | 'openai-compatible' | 'agent-cli' | 'mutate' | 'patches';
  label: string;
  description: string;
  questions: ProposerQuestion[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const nonEmpty = (what: string) => (v: string) => (v.trim() ? undefined : `Enter ${what}`);

/** Every proposer the extension can run, models first; `lm` says whether VS Code has a language model right now. */
export function proposerChoices(lm: boolean): ProposerChoice[] {
  return [
    {
      kind: 'vscode-lm', label: 'vscode-lm',
      description: lm
        ? 'a language model in VS Code (Copilot or another provider) writes each change'
        : 'a language model in VS Code writes each change: none is installed now (install GitHub Copilot or another provider first)',
      questions: [],
    },
    {
      kind: 'anthropic', label: 'anthropic',
      description: `Claude writes each change, through the Anthropic API (a key in ${DEFAULT_ANTHROPIC_KEY_ENV}, or stored with "AutoResearch: Set API Key")`,
      questions: [
        { key: 'model', prompt: 'The Claude model', value: 'claude-sonnet-4-6', check: nonEmpty('a model name') },
        { key: 'apiKeyEnv', prompt: 'The environment variable that holds the API key ("AutoResearch: Set API Key" can store it instead)', value: DEFAULT_ANTHROPIC_KEY_ENV, check: (v) => (ENV_NAME.test(v.trim()) ? undefined : 'A variable name like ANTHROPIC_API_KEY') },
      ],
    },
    {
      kind: 'openai-compatible', label: 'openai-compatible',
      description: 'a model behind an OpenAI-style API writes each change: OpenAI, Ollama, vLLM, llama.cpp, LM Studio',
      questions: [
        { key: 'baseUrl', prompt: 'The API\'s base URL (Ollama: http://localhost:11434/v1; OpenAI: https://api.openai.com/v1)', value: 'http://localhost:11434/v1', check: checkUrl },
        { key: 'model', prompt: 'The model name the server knows', value: 'qwen2.5-coder:32b', check: nonEmpty('a model name') },
        { key: 'apiKeyEnv', prompt: 'The environment variable that holds the API key (empty for a local server without one)', value: '', check: (v) => (v.trim() === '' || ENV_NAME.test(v.trim()) ? undefined : 'A variable name like OPENAI_API_KEY, or empty') },
      ],
    },
    {
      kind: 'agent-cli', label: 'agent-cli',
      description: 'an agent CLI (Claude Code, Codex, aider) edits the experiment\'s copy; its diff is checked like any other',
      questions: [
        {
          key: 'command', prompt: 'The agent\'s command line: {prompt} passes the task as one argument, {promptFile} as a file', value: 'claude -p {prompt} --permission-mode acceptEdits',
          check: (v) => (/\{(prompt|promptFile)\}/.test(v) ? undefined : 'The command must pass the task: put {prompt} or {promptFile} in it'),
        },
      ],
    },
    { kind: 'mutate', label: 'mutate', description: 'built in: changes one hyperparameter at a time (Python settings, YAML/JSON/TOML configs, argparse defaults), no model needed', questions: [] },
    {
      kind: 'patches', label: 'patches', description: 'tries the diffs in a folder you prepare, one per experiment',
      questions: [{ key: 'dir', prompt: 'Folder of patches (unified diffs), relative to the workspace folder', value: 'patches/', check: nonEmpty('a folder') }],
    },
  ];
}

function checkUrl(v: string): string | undefined {
  try {
    const u = new URL(v.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'An http(s) URL';
  } catch {
    return 'An http(s) URL, like http://localhost:11434/v1';
  }
}

/**
 * Checks a written config as the engine will when the session starts, the proposer's own keys included: the
 * wizard never leaves a config that fails later. Throws the engine's ConfigError.
 */
export function checkWrittenConfig(text: string): void {
  const config = parseConfig(text);
  const kind = config.proposer.kind;
  if (kind === 'anthropic') readAnthropicSettings(config);
  else if (kind === 'openai-compatible') readOpenAiCompatibleSettings(config);
  else if (kind === 'agent-cli') readAgentCliSettings(config);
}

