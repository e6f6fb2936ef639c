// The config file parsers: leaf values of YAML, JSON and TOML mappings, named by their dotted key path; lists are
// structure, and the TOML tables of tools (NOT_HYPERPARAMETERS.tables) are not read.
import { isMap, isScalar, parseAllDocuments } from 'yaml';
import { literalParam, STRING, type Hyperparameter } from './hyperparameter.js';
import { NOT_HYPERPARAMETERS } from './names.js';
import { count, stringEnd, trailingComment } from './text.js';

const TOML_KEY = /^(\s*)((?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*'))*)(\s*=\s*)/;
const TOML_TABLE = /^\s*(\[\[?)\s*([^\]]+?)\s*\]/;

/** Leaf scalars of YAML mappings, named by their key path; none when the file does not parse. */
export function yamlValues(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) if (isScalar(pair.key) && pair.key.value !== null) walk(pair.value, [...path, String(pair.key.value)]);
      return;
    }
    if (!isScalar(node) || !node.range || path.length === 0) return;
    const text = content.slice(node.range[0], node.range[1]);
    let quote: string | null = null;
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') quote = text[0] ?? '';
    else if (node.type !== 'PLAIN') return;
    else if (typeof node.value === 'string') quote = '';
    else if (typeof node.value !== 'number' && typeof node.value !== 'boolean') return;
    const param = literalParam({ file, source: 'yaml', name: path.join('.'), text, start: node.range[0], comment: trailingComment(content, node.range[1]), quote });
    if (param) out.push(param);
  };
  try {
    const docs = parseAllDocuments(content);
    if (docs.some((d) => d.errors.length > 0)) return [];
    for (const doc of docs) walk(doc.contents, []);
  } catch {
    return [];
  }
  return out;
}

/** Numeric and boolean members of JSON objects, named by their key path; comments and trailing commas (JSONC) are tolerated. */
export function jsonValues(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  // NaN and Infinity are not JSON, but Python's json.dump writes them.
  const scalar = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity/y;
  let i = 0;
  const fail = (): never => {
    throw new SyntaxError(`unexpected ${content[i] ?? 'end'} at ${i}`);
  };
  const blank = (): void => {
    for (;;) {
      while (i < content.length && /\s/.test(content[i]!)) i++;
      if (content.startsWith('//', i)) {
        const nl = content.indexOf('\n', i);
        i = nl < 0 ? content.length : nl;
      } else if (content.startsWith('/*', i)) {
        const close = content.indexOf('*/', i + 2);
        if (close < 0) fail();
        i = close + 2;
      } else return;
    }
  };
  const string = (): string => {
    const end = content[i] === '"' ? stringEnd(content, i) : -1;
    if (end < 0) fail();
    const s = JSON.parse(content.slice(i, end)) as string;
    i = end;
    return s;
  };
  // `path` is null inside arrays: their members are structure, not settings.
  const value = (path: string[] | null): void => {
    blank();
    const open = content[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      blank();
      while (content[i] !== close) {
        let key: string | null = null;
        if (open === '{') {
          key = string();
          blank();
          if (content[i] !== ':') fail();
          i++;
        }
        value(path && key !== null ? [...path, key] : null);
        blank();
        if (content[i] === ',') {
          i++;
          blank();
        } else if (content[i] !== close) fail();
      }
      i++;
    } else if (open === '"') string();
    else {
      scalar.lastIndex = i;
      const m = scalar.exec(content) ?? fail();
      if (path?.length && m[0] !== 'null') {
        const param = literalParam({ file, source: 'json', name: path.join('.'), text: m[0], start: i, comment: '', quote: null });
        if (param) out.push(param);
      }
      i += m[0].length;
    }
  };
  try {
    value([]);
    blank();
    if (i < content.length) fail();
  } catch {
    return [];
  }
  return out;
}

/** `key = value` lines of TOML, named by their `[table]` and dotted key; arrays, inline tables and multi-line strings are skipped. */
export function tomlValues(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  const tables: readonly string[] = NOT_HYPERPARAMETERS.tables;
  let table: string[] | null = [];
  let closing: string | null = null;
  let depth = 0;
  let offset = 0;
  for (const rawLine of content.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (closing) {
      if (line.includes(closing)) closing = null;
      continue;
    }
    if (depth > 0) {
      depth += bracketDepth(line);
      continue;
    }
    const key = TOML_KEY.exec(line);
    if (!key) {
      const header = TOML_TABLE.exec(line);
      if (header) {
        const path = tomlKeyPath(header[2]!);
        const dotted = path.join('.');
        // An array of tables is a list: structure, not settings.
        table = header[1] === '[[' || tables.some((t) => dotted === t || dotted.startsWith(`${t}.`)) ? null : path;
      }
      continue;
    }
    const rest = line.slice(key[0].length);
    const triple = /^(?:"""|''')/.exec(rest)?.[0];
    if (triple) {
      if (count(rest, triple) < 2) closing = triple;
      continue;
    }
    if (rest.startsWith('[') || rest.startsWith('{')) {
      depth = bracketDepth(rest);
      continue;
    }
    if (!table) continue;
    const comment = trailingComment(line, 0);
    const hash = comment === '' ? line.length : line.length - comment.length - 1;
    const text = line.slice(key[0].length, hash).trimEnd();
    const quote = STRING.test(text) ? text[0]! : null;
    const param = literalParam({ file, source: 'toml', name: [...table, ...tomlKeyPath(key[2]!)].join('.'), text, start: lineStart + key[0].length, comment, quote });
    if (param) out.push(param);
  }
  return out;
}

function tomlKeyPath(key: string): string[] {
  return (key.match(/"[^"]*"|'[^']*'|[^.\s]+/g) ?? []).map((k) => k.replace(/^(["'])(.*)\1$/, '$2'));
}

/** Opening minus closing brackets on a line, outside strings and comments. */
function bracketDepth(line: string): number {
  let d = 0;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '[' || c === '{') d++;
    else if (c === ']' || c === '}') d--;
  }
  return d;
}
