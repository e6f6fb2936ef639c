// The table's rows: which experiments pass the filter, in which order. Sorting keeps empty cells last in
// both directions; live updates re-place only the rows that changed.
import type { NodeStatus, TableColumn } from '../../src/shared/protocol.js';
import { DASH, fmtDuration, fmtMemory, fmtNum, fmtSigned } from '../../src/shared/format.js';
import type { ResultsStore } from './store.js';
import { WIN_FILTER, WIN_MARK } from './wins.js';

export interface TableQuery {
  sortKey: TableColumn;
  sortDesc: boolean;
  filter: string;
  hidden: ReadonlySet<NodeStatus>;
}

export interface ColumnDef {
  key: TableColumn;
  label: string;
  title: string;
  numeric: boolean;
  /** CSS grid track. */
  width: string;
  /** Shown only for sessions (a bare results.tsv has no tree or timings). */
  sessionOnly: boolean;
}

export const COLUMNS: readonly ColumnDef[] = [
  { key: 'id', label: '#', title: 'Experiment number (0 is the baseline)', numeric: true, width: '56px', sessionOnly: false },
  { key: 'commit', label: 'commit', title: 'Commit of the experiment', numeric: false, width: '72px', sessionOnly: false },
  { key: 'metric', label: 'metric', title: 'The metric', numeric: true, width: '92px', sessionOnly: false },
  { key: 'delta', label: 'Δ', title: 'Change against what it was judged against: its parent, or in a results.tsv the best kept value before it', numeric: true, width: '92px', sessionOnly: false },
  { key: 'win', label: 'vs noise', title: 'Is a keep\'s gain larger than the noise? real: larger; ≈ noise: within it (hover for the figures)', numeric: false, width: '72px', sessionOnly: false },
  { key: 'memoryGb', label: 'memory', title: 'Peak memory (results.tsv\'s memory_gb), in MB below 1 GB', numeric: true, width: '84px', sessionOnly: false },
  { key: 'status', label: 'status', title: 'keep, discard, crash, invalid, running', numeric: false, width: '84px', sessionOnly: false },
  { key: 'description', label: 'description', title: 'What the experiment changed', numeric: false, width: 'minmax(160px, 1fr)', sessionOnly: false },
  { key: 'parentId', label: 'parent', title: 'The node it was built on', numeric: true, width: '60px', sessionOnly: true },
  { key: 'depth', label: 'depth', title: 'Depth in the search tree', numeric: true, width: '54px', sessionOnly: true },
  { key: 'wallMs', label: 'duration', title: 'Wall time of the run', numeric: true, width: '76px', sessionOnly: true },
  { key: 'decidedBy', label: 'decided by', title: 'Who decided: the rule or a person', numeric: false, width: '96px', sessionOnly: true },
];

export function visibleColumns(isFile: boolean): ColumnDef[] {
  return COLUMNS.filter((c) => !isFile || !c.sessionOnly);
}

type Value = number | string | null;

export function cellValue(store: ResultsStore, id: number, key: TableColumn): Value {
  const n = store.nodes[id];
  if (!n) return null;
  switch (key) {
    case 'id': return n.id;
    case 'commit': return n.commit ? n.commit.slice(0, 7) : null;
    case 'metric': return n.metric;
    case 'delta': return store.delta(id);
    // Sorted by how far the gain clears the noise; the text is the verdict.
    case 'win': {
      const k = store.winOf(id);
      const t = store.wins?.threshold;
      return !k || k.verdict === 'unknown' || t === null || t === undefined ? null : k.gain - t;
    }
    case 'memoryGb': return n.memoryGb;
    case 'status': return n.status;
    case 'description': return n.description;
    case 'parentId': return n.parentId;
    case 'depth': return store.isFile ? null : store.depth[id] ?? null;
    case 'wallMs': return n.wallMs;
    case 'decidedBy': return n.decidedBy;
  }
}

export function cellText(store: ResultsStore, id: number, key: TableColumn): string {
  const v = cellValue(store, id, key);
  if (v === null) return key === 'metric' && store.nodes[id]?.status === 'crash' ? 'crash' : '';
  switch (key) {
    case 'metric': return fmtNum(v as number, DASH);
    case 'delta': return fmtSigned(v as number, DASH, 4);
    case 'win': return WIN_MARK[store.winOf(id)!.verdict];
    // A 15.3 MB run read 0.0 in GB.
    case 'memoryGb': return fmtMemory(v as number, true, DASH);
    case 'wallMs': return fmtDuration(v as number, DASH);
    case 'parentId': return `#${v}`;
    default: return String(v);
  }
}

/** Sorts by the column, empty cells last either way, ties by experiment number. */
export function comparator(store: ResultsStore, key: TableColumn, desc: boolean): (a: number, b: number) => number {
  return (a, b) => {
    const va = cellValue(store, a, key);
    const vb = cellValue(store, b, key);
    if (va === null || vb === null) {
      if (va === vb) return a - b;
      return va === null ? 1 : -1;
    }
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    if (c !== 0) return desc ? -c : c;
    return a - b;
  };
}

const FIELD = /^(metric|delta|mem|memory|depth|duration|id|parent)(<=|>=|<|>|=)(-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?)(ms|s|m)?$/i;

interface Term {
  test(store: ResultsStore, id: number): boolean;
}

/**
 * The filter box: words (all must appear in the description, commit, status, operator, reason or `#id`),
 * comparisons like `metric<0.3`, `delta<0`, `depth>=3`, `mem<2`, `duration>30s`, and `is:real` / `is:noise` for
 * keeps larger than the noise or within it.
 */
export function parseFilter(text: string): Term[] {
  const terms: Term[] = [];
  for (const raw of text.trim().split(/\s+/).filter(Boolean)) {
    const is = /^is:(real|noise)$/i.exec(raw);
    if (is) {
      const verdict = WIN_FILTER[is[1]!.toLowerCase()];
      terms.push({ test: (store, id) => store.winOf(id)?.verdict === verdict });
      continue;
    }
    const m = FIELD.exec(raw);
    if (m) {
      const field = m[1]!.toLowerCase();
      const op = m[2]!;
      let value = Number(m[3]);
      const unit = m[4]?.toLowerCase();
      if (field === 'duration') value *= unit === 'm' ? 60_000 : unit === 'ms' ? 1 : 1000;
      const key: TableColumn = field === 'mem' || field === 'memory' ? 'memoryGb' : field === 'duration' ? 'wallMs' : field === 'parent' ? 'parentId' : field as TableColumn;
      terms.push({
        test: (store, id) => {
          const v = cellValue(store, id, key);
          if (typeof v !== 'number') return false;
          return op === '<' ? v < value : op === '<=' ? v <= value : op === '>' ? v > value : op === '>=' ? v >= value : v === value;
        },
      });
      continue;
    }
    const word = raw.toLowerCase();
    terms.push({
      test: (store, id) => {
        const n = store.nodes[id]!;
        if (word.startsWith('#') && word === `#${id}`) return true;
        return n.description.toLowerCase().includes(word)
          || (n.commit?.toLowerCase().startsWith(word) ?? false)
          || n.status === word
          || (n.operator ?? '').includes(word)
          || n.reason.toLowerCase().includes(word);
      },
    });
  }
  return terms;
}

export function matches(store: ResultsStore, id: number, q: TableQuery, terms: readonly Term[]): boolean {
  const n = store.nodes[id];
  if (!n || q.hidden.has(n.status)) return false;
  for (const t of terms) if (!t.test(store, id)) return false;
  return true;
}

export function tableRows(store: ResultsStore, q: TableQuery): number[] {
  const terms = parseFilter(q.filter);
  const rows: number[] = [];
  for (const id of store.ids()) if (matches(store, id, q, terms)) rows.push(id);
  if (!(q.sortKey === 'id' && !q.sortDesc)) rows.sort(comparator(store, q.sortKey, q.sortDesc));
  return rows;
}

/** Re-places the touched rows in an already sorted and filtered list, in place. */
export function updateRows(rows: number[], store: ResultsStore, q: TableQuery, touched: readonly number[]): void {
  const terms = parseFilter(q.filter);
  const cmp = comparator(store, q.sortKey, q.sortDesc);
  const set = new Set(touched);
  if (set.size === 0) return;
  // One pass removes every touched row; then each is inserted where it now belongs.
  let w = 0;
  for (let r = 0; r < rows.length; r++) if (!set.has(rows[r]!)) rows[w++] = rows[r]!;
  rows.length = w;
  for (const id of set) {
    if (!matches(store, id, q, terms)) continue;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(rows[mid]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    rows.splice(lo, 0, id);
  }
}
