// What a hyperparameter is (the Hyperparameter record), the shapes of the values the proposer edits, and how a literal
// read by one of the parsers becomes a Hyperparameter (literalParam).

/** Where a hyperparameter is written: a Python assignment, an argparse/click default, or a config file's key. */
export type HyperparameterSource = 'python' | 'argparse' | 'yaml' | 'json' | 'toml';

/** One literal value the proposer may edit. */
export interface Hyperparameter {
  file: string;
  /** `LR`, `learning_rate`, `lr` (from `--lr`), `optimizer.lr` (a nested config key). */
  name: string;
  source: HyperparameterSource;
  kind: 'float' | 'int' | 'power' | 'bool' | 'choice';
  /** The value as written (`0.01`, `1e-3`, `True`, `"relu"`, `2**19`). */
  text: string;
  /** Offset of the value text in the file's content. */
  start: number;
  end: number;
  /**
   * Alternatives from a trailing `# choices: a, b` comment, a string's `# tanh | relu` comment that lists its own value
   * among others, or argparse's `choices=`, as they would be written.
   */
  choices: string[] | null;
  /** Bounds from a trailing `# range: lo, hi` comment. */
  range: [number, number] | null;
}

export const FLOAT = /^[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?$/;
export const INT = /^[-+]?\d+$/;
export const POWER = /^(\d+)(\s*\*\*\s*)(\d+)$/;
export const BOOL = /^(?:True|False|true|false)$/;
export const STRING = /^(?:"[^"\\]*"|'[^'\\]*')$/;

export interface Literal {
  file: string;
  source: HyperparameterSource;
  name: string;
  text: string;
  start: number;
  /** The trailing comment of the value's line, without `#`. */
  comment: string;
  /** The quote of a string value (`''` for a plain YAML string); null when the value is not a string. */
  quote: string | null;
  /** Alternatives the code itself lists (argparse `choices=`), as written. */
  listed?: string[] | null;
}

/** One name in a `# a | b` comment: letters, digits, `_ . -`, quoted or not. */
const BAR_LIST = /^\s*(["']?[\w.-]+["']?(?:\s*\|\s*["']?[\w.-]+["']?)+)\s*$/;

/**
 * A string setting's alternatives when its whole trailing comment lists them with `|` (`activation: tanh  # tanh |
 * relu`, as config files often document them) and names its own value among them; null otherwise, so a comment that
 * only mentions a `|` is no list.
 */
function barList(comment: string, text: string, quote: string): string[] | null {
  const m = BAR_LIST.exec(comment);
  if (!m) return null;
  const names = m[1]!.split('|').map((c) => c.trim().replace(/^(["'])(.*)\1$/, '$2'));
  const own = quote === '' ? text : text.slice(1, -1);
  return names.includes(own) ? names : null;
}

export function literalParam(l: Literal): Hyperparameter | null {
  if (l.text === '' || l.text.includes('\n')) return null;
  const choices = /\bchoices\s*:\s*(.+)$/i.exec(l.comment);
  const range = /\brange\s*:\s*\[?\s*([-+.\deE]+)\s*,\s*([-+.\deE]+)\s*\]?/i.exec(l.comment);
  const listed = choices ? choices[1]!.split(/[,|]/) : l.listed ?? (l.quote !== null ? barList(l.comment, l.text, l.quote) : null);
  let kind: Hyperparameter['kind'];
  if (l.quote !== null) {
    if (!listed) return null;
    kind = 'choice';
  } else if (BOOL.test(l.text)) kind = 'bool';
  else if (INT.test(l.text)) kind = 'int';
  else if (FLOAT.test(l.text)) kind = 'float';
  else if (POWER.test(l.text)) kind = 'power';
  else return null;
  let parsedChoices: string[] | null = null;
  if (listed) {
    const quote = l.quote ?? '';
    parsedChoices = listed.map((c) => c.trim().replace(/^(["'])(.*)\1$/, '$2')).filter((c) => c !== '').map((c) => `${quote}${c}${quote}`);
    if (kind === 'choice' || parsedChoices.length > 1) kind = 'choice';
  }
  let bounds: [number, number] | null = null;
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (Number.isFinite(lo) && Number.isFinite(hi)) bounds = [Math.min(lo, hi), Math.max(lo, hi)];
  }
  return { file: l.file, name: l.name, source: l.source, kind, text: l.text, start: l.start, end: l.start + l.text.length, choices: parsedChoices, range: bounds };
}
