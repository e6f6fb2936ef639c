// The argparse/click defaults parser: the `default=` of `add_argument(...)`, `add_option(...)` and `click.option(...)`
// calls, named after their `--long` option, with argparse's `choices=` as the alternatives.
import { BOOL, FLOAT, INT, literalParam, STRING, type Hyperparameter } from './hyperparameter.js';
import { stringEnd, trailingComment } from './text.js';

const CLI_CALL = /\b(?:add_argument|add_option|option)\s*\(/g;

/** The `default=` of `add_argument(...)`, `add_option(...)` and `click.option(...)` calls with a `--long` option. */
export function cliDefaults(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  for (const m of content.matchAll(CLI_CALL)) {
    const lineStart = content.lastIndexOf('\n', m.index) + 1;
    if (content.slice(lineStart, m.index).trimStart().startsWith('#')) continue;
    const args = bracketItems(content, m.index + m[0].length - 1);
    if (!args) continue;
    let name: string | null = null;
    let value: Span | null = null;
    let listed: string[] | null = null;
    for (const a of args) {
      const kw = /^([A-Za-z_]\w*)\s*=(?!=)\s*/.exec(a.text);
      if (!kw) {
        const option = /^[rRuU]?(["'])(--[^"']*)\1$/.exec(a.text)?.[2];
        // `--compile/--no-compile` is click's on/off pair.
        if (option && name === null) name = option.split('/')[0]!.slice(2).replace(/-/g, '_');
        continue;
      }
      const v = { text: a.text.slice(kw[0].length), start: a.start + kw[0].length };
      if (kw[1] === 'default') value = v;
      else if (kw[1] === 'choices') listed = literalItems(content, v);
    }
    if (!name || !/^[A-Za-z]\w*$/.test(name) || !value) continue;
    const comment = trailingComment(content, value.start + value.text.length);
    const param = literalParam({ file, source: 'argparse', name, text: value.text, start: value.start, comment, quote: STRING.test(value.text) ? value.text[0]! : null, listed });
    if (param) out.push(param);
  }
  return out;
}

interface Span {
  text: string;
  start: number;
}

/**
 * The top-level, comma-separated items of the Python bracket opening at `open`, without comments or surrounding
 * blanks; null when it does not close.
 */
function bracketItems(src: string, open: number): Span[] | null {
  const items: Span[] = [];
  let depth = 0;
  let first = -1;
  let last = -1;
  const push = (): void => {
    if (first >= 0) items.push({ text: src.slice(first, last), start: first });
    first = last = -1;
  };
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i]!;
    if (c === '#') {
      const nl = src.indexOf('\n', i);
      if (nl < 0) return null;
      i = nl;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (depth === 0 && c === ',') {
      push();
      continue;
    }
    if (depth === 0 && (c === ')' || c === ']' || c === '}')) {
      push();
      return items;
    }
    if (first < 0) first = i;
    if (c === '"' || c === "'") {
      const end = stringEnd(src, i);
      if (end < 0) return null;
      i = end - 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    last = i + 1;
  }
  return null;
}

/** The literal items of a `[...]` or `(...)` value, as written; null when it is anything else. */
function literalItems(src: string, value: Span): string[] | null {
  if (!/^[[(]/.test(value.text)) return null;
  const items = bracketItems(src, value.start);
  if (!items?.length || !items.every((x) => STRING.test(x.text) || FLOAT.test(x.text) || INT.test(x.text) || BOOL.test(x.text))) return null;
  return items.map((x) => x.text);
}
