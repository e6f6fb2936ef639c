// results.tsv: the original autoresearch format (commit, metric, memory_gb, status, description),
// one row per decided experiment, baseline first. Derived from the journal; appended per decision.
import type { ExperimentNode } from './types.js';

export const RESULTS_FILE = 'results.tsv';

export interface ResultsRow {
  commit: string;
  metric: number | null;
  memoryGb: number | null;
  status: string;
  description: string;
  /** 1-based line in the file it came from. */
  line: number;
}

export interface ParsedResults {
  metricName: string;
  rows: ResultsRow[];
  /** Malformed lines, reported with their line number, never silently dropped. */
  errors: { line: number; message: string; text: string }[];
}

export function resultsHeader(metricName: string): string {
  return `commit\t${metricName}\tmemory_gb\tstatus\tdescription\n`;
}

function clean(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ').trim();
}

/** One row; crashes carry 0.000000 like the original format, so its readers keep working. */
export function resultsRow(n: ExperimentNode): string {
  const metric = n.status === 'crash' || n.metric === null || !Number.isFinite(n.metric) ? '0.000000' : n.metric.toFixed(6);
  const mem = (n.memoryGb ?? 0).toFixed(1);
  const commit = n.commit ? n.commit.slice(0, 7) : '-------';
  let description = clean(n.description);
  if (n.decidedBy === 'human') description += ` [${n.status} by human${n.ruleStatus ? `; rule said ${n.ruleStatus}` : ''}]`;
  return `${commit}\t${metric}\t${mem}\t${n.status}\t${description}\n`;
}

export function formatResults(metricName: string, decided: readonly ExperimentNode[]): string {
  return resultsHeader(metricName) + decided.map(resultsRow).join('');
}

const STATUSES = new Set(['keep', 'discard', 'crash', 'invalid']);

export function parseResults(text: string): ParsedResults {
  const lines = text.split(/\r?\n/);
  const errors: ParsedResults['errors'] = [];
  const rows: ResultsRow[] = [];
  const header = (lines[0] ?? '').split('\t');
  let metricName = 'metric';
  if (header.length < 5 || header[0] !== 'commit' || header[3] !== 'status') {
    errors.push({ line: 1, message: 'expected the header "commit<TAB><metric><TAB>memory_gb<TAB>status<TAB>description"', text: lines[0] ?? '' });
  } else {
    metricName = header[1]!;
  }
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === '') continue;
    const cols = text.split('\t');
    const line = i + 1;
    if (cols.length < 5) {
      errors.push({ line, message: `expected 5 tab-separated columns, found ${cols.length}`, text });
      continue;
    }
    const [commit, metricText, memText, status] = cols as [string, string, string, string];
    const description = cols.slice(4).join(' ');
    const metric = Number(metricText);
    const memoryGb = memText === '' ? null : Number(memText);
    if (!STATUSES.has(status)) {
      errors.push({ line, message: `unknown status "${status}" (expected keep, discard, crash or invalid)`, text });
      continue;
    }
    if (metricText === '' || Number.isNaN(metric)) {
      errors.push({ line, message: `metric "${metricText}" is not a number`, text });
      continue;
    }
    if (memoryGb !== null && Number.isNaN(memoryGb)) {
      errors.push({ line, message: `memory_gb "${memText}" is not a number`, text });
      continue;
    }
    rows.push({ commit, metric: status === 'crash' ? null : metric, memoryGb, status, description, line });
  }
  return { metricName, rows, errors };
}
