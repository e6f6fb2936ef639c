// What a model call costs: list prices of the models whose price is known, and the cost of a reply's tokens.

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

// List prices (USD per million tokens) of the models whose price was known when this was written, by
// exact name (a dated snapshot of one counts too). Any other model has no cost unless `proposer.price`
// gives one: a cost that is not known is left out rather than guessed.
const ANTHROPIC_PRICES: Record<string, Price> = {
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
};
const OPENAI_PRICES: Record<string, Price> = {
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'o3': { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
};

/** The list price of a model where it is known: some of Anthropic's models, and OpenAI's on api.openai.com. */
export function listPrice(kind: 'anthropic' | 'openai', model: string): Price | undefined {
  const table = kind === 'anthropic' ? ANTHROPIC_PRICES : OPENAI_PRICES;
  // `claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`, `claude-3-7-sonnet-latest`: the snapshot's base name.
  const base = model.toLowerCase().replace(/(?:-\d{8}|-\d{4}-\d{2}-\d{2}|-latest|@\d+)$/, '');
  return Object.hasOwn(table, base) ? table[base] : undefined;
}

export function costOf(price: Price | undefined, tokensIn: number | undefined, tokensOut: number | undefined): number | undefined {
  if (!price || tokensIn === undefined || tokensOut === undefined) return undefined;
  return (tokensIn * price.input + tokensOut * price.output) / 1e6;
}
