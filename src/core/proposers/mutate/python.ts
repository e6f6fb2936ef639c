// The Python settings parser: top-level `NAME = literal` assignments (lower-case names only in the settings block
// before the script starts running), the fields of a config class (`lr: float = 3e-4` in a dataclass, CleanRL's
// `Args`, nanoGPT's `GPTConfig`), and the `config.lr = 0.1` lines of a config function (ml_collections'
// `get_config()`, minGPT's `C.trainer.learning_rate = 5e-4`).
import { literalParam, STRING, type Hyperparameter } from './hyperparameter.js';
import { count } from './text.js';

const UPPER = /^[A-Z][A-Z0-9_]*$/;
// NAME [: annotation] = value [comment]
const ASSIGN = /^([A-Za-z][A-Za-z0-9_]*)(\s*(?::\s*[A-Za-z_][\w.[\], ]*?\s*)?=\s*)(.*?)(\s*(?:#(.*))?)$/;
// A top-level statement that runs the script (a loop, `with`, the main guard, a call other than setup such as
// seeding, warnings or logging): lower-case names assigned after it are the script's state, not its settings.
const RUNS = /^(?:(?:for|while|with|assert|del|raise)\b|if\s+__name__\b|(?!(?:torch|np|numpy|random|warnings|logging|os|sys|load_dotenv|set_seed|seed_everything|pl|L)\b)[A-Za-z_][\w.]*\s*\()/;

// A config block's head: a class that a decorator makes a record (`@dataclass`, `@dataclasses.dataclass(frozen=True)`,
// attrs' `@define`) or whose name says it holds settings, or a function whose name says it builds them.
const DECORATOR = /^@\s*([\w.]+)/;
const RECORD_DECORATOR = /^(?:(?:dataclasses|attr|attrs|pydantic)\.)?(?:dataclass|define|frozen|s)$/;
const CLASS = /^class\s+([A-Za-z_]\w*)\s*[(:]/;
const CONFIG_CLASS = /(?:Config|Configuration|Args|Arguments|Hparams|HParams|HyperParameters|Hyperparameters|Settings|Options)$/;
const DEF = /^def\s+([A-Za-z_]\w*)\s*\(/;
const CONFIG_DEF = /config|hparams|hyperparam/i;
// In a block's body: a field `name[: annotation] = value`, or (in a function) an attribute `obj.a.b = value`.
const FIELD = /^(\s+)([A-Za-z_]\w*)(\s*(?::\s*([^=#]+?)\s*)?=\s*)(.*?)(\s*(?:#(.*))?)$/;
const ATTRIBUTE = /^(\s+)([A-Za-z_]\w*\.)((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)(\s*=\s*)(.*?)(\s*(?:#(.*))?)$/;
// `Literal["adam", "sgd"]` (typing's, however imported): a string field's alternatives.
const LITERAL_TYPE = /^(?:[\w.]+\.)?Literal\[\s*((?:"[^"]*"|'[^']*')(?:\s*,\s*(?:"[^"]*"|'[^']*'))*)\s*,?\s*\]$/;

interface Block {
  kind: 'class' | 'def';
  /** The indentation of the body's statements, from its first line; deeper lines are nested code, not settings. */
  indent: string | null;
}

/** The block a top-level line opens, after the decorators above it; null when it is no config block. */
function blockOf(line: string, decorators: readonly string[]): Block | null {
  const cls = CLASS.exec(line);
  if (cls) return decorators.some((d) => RECORD_DECORATOR.test(d)) || CONFIG_CLASS.test(cls[1]!) ? { kind: 'class', indent: null } : null;
  const fn = DEF.exec(line);
  return fn && CONFIG_DEF.test(fn[1]!) ? { kind: 'def', indent: null } : null;
}

// A field's docstring that says the script sets it (CleanRL's `batch_size: int = 0` """the batch size (computed in runtime)""").
const COMPUTED = /^\s*(?:"{3}|'{3}).*\bcomputed\b/i;

/**
 * A setting on a line of a config block's body, at `lineStart` in the file; null when the line holds none, or when the
 * docstring on the `next` line says the value is computed when the script runs (an edit would never reach the run).
 */
function blockSetting(file: string, line: string, lineStart: number, block: Block, next: string): Hyperparameter | null {
  if (COMPUTED.test(next)) return null;
  const attr = block.kind === 'def' ? ATTRIBUTE.exec(line) : null;
  if (attr) {
    const [, indent = '', object = '', name = '', assign = '', text = '', , comment = ''] = attr;
    const start = lineStart + indent.length + object.length + name.length + assign.length;
    return literalParam({ file, source: 'python', name, text, start, comment, quote: STRING.test(text) ? text[0]! : null });
  }
  const field = FIELD.exec(line);
  if (!field) return null;
  const [, indent = '', name = '', assign = '', annotation = '', text = '', , comment = ''] = field;
  const quote = STRING.test(text) ? text[0]! : null;
  const literal = LITERAL_TYPE.exec(annotation.trim());
  const listed = quote !== null && literal ? literal[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '') : null;
  return literalParam({ file, source: 'python', name, text, start: lineStart + indent.length + name.length + assign.length, comment, quote, listed });
}

/** The settings of a Python file, outside triple-quoted strings. */
export function pythonAssignments(file: string, content: string): Hyperparameter[] {
  const out: Hyperparameter[] = [];
  let inTripleQuote: string | null = null;
  let settings = true;
  let block: Block | null = null;
  let decorators: string[] = [];
  let offset = 0;
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const rawLine = lines[i]!;
    const lineStart = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (inTripleQuote) {
      if (count(line, inTripleQuote) % 2 === 1) inTripleQuote = null;
      continue;
    }
    const code = line.trim() !== '' && !line.trimStart().startsWith('#');
    const indent = /^\s*/.exec(line)![0];
    if (code && indent === '') {
      const decorator = DECORATOR.exec(line);
      block = decorator ? null : blockOf(line, decorators);
      decorators = decorator ? [...decorators, decorator[1]!] : [];
    } else if (code && block) {
      block.indent ??= indent;
      if (indent === block.indent) {
        const param = blockSetting(file, line, lineStart, block, lines[i + 1] ?? '');
        if (param) {
          out.push(param);
          continue;
        }
      }
    }
    const m = indent === '' ? ASSIGN.exec(line) : null;
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
