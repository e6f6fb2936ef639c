// Small scanners over source text that the parsers share: counting a needle, the end of a string literal and the
// trailing comment of a line.

export function count(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** The offset just after the string literal opening at `i` (Python or JSON quoting); -1 when it does not close. */
export function stringEnd(src: string, i: number): number {
  const q = src[i]!;
  const triple = q.repeat(3);
  if (src.startsWith(triple, i)) {
    const close = src.indexOf(triple, i + 3);
    return close < 0 ? -1 : close + 3;
  }
  for (let j = i + 1; j < src.length; j++) {
    const c = src[j];
    if (c === '\\') j++;
    else if (c === q) return j + 1;
    else if (c === '\n') return -1;
  }
  return -1;
}

/** The comment after `from` on its line (`#` outside quotes), without the `#`; empty when there is none. */
export function trailingComment(src: string, from: number): string {
  let quote: string | null = null;
  for (let i = from; i < src.length && src[i] !== '\n'; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') {
      const nl = src.indexOf('\n', i);
      return src.slice(i + 1, nl < 0 ? undefined : nl).replace(/\r$/, '');
    }
  }
  return '';
}
