// Builds the proposer and executor a config names. Model-backed proposers and cluster executors
// register here as they arrive; an unavailable kind is refused with what to use instead.
import { isAbsolute, join } from 'node:path';
import { AutoResearchError } from './errors.js';
import type { Executor } from './executors/executor.js';
import { LocalExecutor } from './executors/localExecutor.js';
import { ManualExecutor } from './executors/manualExecutor.js';
import { SlurmExecutor, slurmOptions } from './executors/slurmExecutor.js';
import type { Proposer } from './proposers/proposer.js';
import { createAgentCliProposer } from './proposers/agentCli.js';
import { createAnthropicProposer } from './proposers/anthropic.js';
import { MutateProposer } from './proposers/mutate.js';
import { createOpenAiCompatibleProposer } from './proposers/openaiCompatible.js';
import { PatchesProposer } from './proposers/patches.js';
import type { ResearchConfig, SlurmExecutorConfig } from './types.js';

export class UnavailableError extends AutoResearchError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'UnavailableError';
  }
}

export type ProposerFactory = (config: ResearchConfig, root: string) => Proposer;

const extraProposers = new Map<string, ProposerFactory>();

/** Lets a host (the VS Code extension) provide a proposer kind the engine cannot build itself. */
export function registerProposer(kind: string, factory: ProposerFactory): { dispose(): void } {
  extraProposers.set(kind, factory);
  return { dispose: () => extraProposers.delete(kind) };
}

export function createProposer(config: ResearchConfig, root: string): Proposer {
  const p = config.proposer;
  if (p.kind === 'mutate') return new MutateProposer({ seed: config.seed });
  if (p.kind === 'patches') {
    const dir = String((p as { dir: string }).dir);
    return new PatchesProposer({ dir: isAbsolute(dir) ? dir : join(root, dir) });
  }
  const extra = extraProposers.get(p.kind);
  if (extra) return extra(config, root);
  // Model-backed kinds; a host may register its own factory for one of them first (above).
  if (p.kind === 'openai-compatible') return createOpenAiCompatibleProposer(config, root);
  if (p.kind === 'anthropic') return createAnthropicProposer(config, root);
  if (p.kind === 'agent-cli') return createAgentCliProposer(config);
  if (p.kind === 'vscode-lm') {
    throw new UnavailableError('The proposer "vscode-lm" uses VS Code\'s language models and works only inside VS Code. From the command line use `proposer: {kind: openai-compatible, baseUrl, model, apiKeyEnv}`, `{kind: anthropic, model}` or `{kind: agent-cli, command}`.');
  }
  throw new UnavailableError(`The proposer "${p.kind}" is not available here. Use \`proposer: mutate\` (built in) or \`proposer: {kind: patches, dir: <folder>}\`.`);
}

export function createExecutor(config: ResearchConfig): Executor {
  const kind = config.executor.kind;
  if (kind === 'local') return new LocalExecutor();
  if (kind === 'manual') return new ManualExecutor();
  if (kind === 'slurm') return new SlurmExecutor({ ...slurmOptions(config.executor as SlurmExecutorConfig), sandboxRequired: config.sandbox?.mode === 'on' });
  throw new UnavailableError(`The executor "${kind}" is not available yet. Use \`executor: local\`, \`executor: manual\` or \`executor: {kind: slurm, ...}\`.`);
}
