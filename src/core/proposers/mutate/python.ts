// The Python settings parser: top-level `NAME = literal` assignments, lower-case names only in the settings block
// before the script starts running.
import { literalParam, STRING, type Hyperparameter } from './hyperparameter.js';
import { count } from './text.js';

const UPPER = /^[A-Z][A-Z0-9_]*$/;
// NAME [: annotation] = value [comment]
const ASSIGN = /^([A-Za-z][A-Za-z0-9_]*)(\s*(?::\s*[A-Za-z_][\w.[\], ]*?\s*)?=\s*)(.*?)(\s*(?:#(.*))?)$/;
// A top-level statement that runs the script (a loop, `with`, the main guard, a call other than setup such as
// seeding, warnings or logging): lower-case names assigned after it are the script's state, not its settings.
const RUNS = /^(?:(?:for|while|with|assert|del|raise)\b|if\s+__name__\b|(?!(?:torch|np|numpy|random|warnings|logging|os|sys|load_dotenv|set_seed|seed_everything|pl|L)\b)[A-Za-z_][\w.]*\s*\()/;

/** Top-level `name = literal` lines, outside triple-quoted strings. */
export function pythonAssignments(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  let inTripleQuote: string | null = null;
  let settings = true;
  let offset = 0;
  for (const rawLine of content.split('\n')) {
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (inTripleQuote) {
      if (count(line, inTripleQuote) % 2 === 1) inTripleQuote = null;
      continue;
    }
    const m = ASSIGN.exec(line);
    if (m && (settings || UPPER.test(m[1]!))) {
      const [, name = '', assign = '', text = '', , comment = ''] = m;
      const param = literalParam({ file, source: 'python', name, text, start: lineStart + name.length + assign.length, comment, quote: STRING.test(text) ? text[0]! : null });
      if (param) {
        out.push(param);
        continue;
      }
    }
    if (!m && RUNS.test(line)) settings = false;
    for (const q of ['"""', "'''"]) {
      if (count(line, q) % 2 === 1) {
        inTripleQuote = q;
        break;
      }
    }
  }
  return out;
}
