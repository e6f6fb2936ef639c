// Text formatting of the results view alone (counts, file names, SVG escapes); numbers, deltas, times, memory,
// model spend and cut text read as everywhere else through src/shared/format.ts.

/** 10,000: by hand, because the first toLocaleString call builds an ICU formatter (~20 ms). */
export function fmtCount(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < s.length; i++) out += (i > 0 && (s.length - i) % 3 === 0 ? ',' : '') + s[i];
  return (n < 0 ? '-' : '') + out;
}

/** A session's title as the start of a file name: `nanogpt lr 2` → `nanogpt-lr-2`. */
export function fileStem(title: string): string {
  return title.replace(/[^\w.-]+/g, '-');
}

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Descriptions come from proposers (models, patches): they reach SVG text only through this. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML[c]!);
}
