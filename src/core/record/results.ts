// results.tsv: the engine writes the original autoresearch format (commit, metric, memory_gb, status,
// description), one row per decided experiment, baseline first, derived from the journal. It reads any
// team's layout: columns are found by their header names, so forks with other metrics read the same way.
import { loadConfig } from '../config.js';
import { metricDirection } from '../metricProbe.js';
import type { Direction, ExperimentNode } from '../types.js';

export const RESULTS_FILE = 'results.tsv';

export interface ResultsRow {
  commit: string;
  /** The metric; null for a crash (its 0.000000 is a placeholder) and for an invalid row without one. */
  metric: number | null;
  /** The metric as the file wrote it, shown as is: `0.997900` stays `0.997900`, `25169.987156` stays whole. */
  metricText: string;
  /** Only from a column called memory_gb; a second metric in third place is not memory. */
  memoryGb: number | null;
  /** Every numeric column besides the metric (memory_gb among them), by header name; null where missing. */
  secondary: Record<string, number | null>;
  /** Every column besides commit, status and description, by header name, as written. */
  cells: Record<string, string>;
  status: string;
  description: string;
  /** 1-based line in the file it came from. */
  line: number;
}

/** How the header's names were mapped. */
export interface ResultsColumns {
  /** The header's names as written. */
  header: string[];
  metric: string;
  /** Why that column is the metric, for the summary. */
  metricWhy: string;
  /** Numeric columns besides the metric, in file order; memory_gb among them when the file has it. */
  secondary: string[];
  /** Columns of text (a pass/fail flag): shown as written, never read as a metric. */
  other: string[];
}

export type DirectionBasis = 'given' | 'config' | 'name' | 'rows' | 'default';

/** Which way is better and what said so: one rule for the CLI, the summary and the editor. */
export interface DirectionChoice {
  direction: Direction;
  basis: DirectionBasis;
  why: string;
}

export interface ParsedResults {
  metricName: string;
  /** Null when the header could not be mapped (then there are no rows and line 1 is in errors). */
  columns: ResultsColumns | null;
  rows: ResultsRow[];
  /** Lines that cannot be read, with their line number, never silently dropped. */
  errors: { line: number; message: string; text: string }[];
  direction: DirectionChoice;
  /** Index in `rows` of the best kept row in that direction (the first of equals); null when none was kept. */
  best: number | null;
}

/** The study's metric from its research config. */
export interface ConfiguredMetric {
  name: string;
  direction: Direction;
}

export interface ReadOptions {
  /** The metric's column by name (`--metric`); a file without that column is refused. */
  metric?: string;
  /** Which way is better (`--direction`): wins over everything else. */
  direction?: Direction;
  /** The research config's metric: its column is the metric when the header has it, and its direction goes with it. */
  config?: ConfiguredMetric | null;
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

const STATUSES = new Map([['keep', 'keep'], ['kept', 'keep'], ['discard', 'discard'], ['discarded', 'discard'], ['crash', 'crash'], ['crashed', 'crash'], ['invalid', 'invalid']]);
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
/** What writers put where a value is missing or not finite. */
const MISSING = new Set(['', '-', 'n/a', 'na', 'nan', '-nan', 'none', 'null', 'inf', '-inf', '+inf', 'infinity', '-infinity']);
const MEMORY = 'memory_gb';
const EXAMPLE = 'commit<TAB>val_bpb<TAB>memory_gb<TAB>status<TAB>description';

function numberOf(text: string): number | null {
  return NUMBER.test(text) ? Number(text) : null;
}

/** The study's metric from the research config in `dir`, or null when there is none or it does not load. */
export function configuredMetric(dir: string, file?: string): ConfiguredMetric | null {
  try {
    const c = loadConfig(dir, file);
    return { name: c.metric.name, direction: c.metric.direction };
  } catch {
    return null;
  }
}

/**
 * The one direction rule: given (`--direction`), else the config's for its own metric, else the metric's
 * name (loss, bpb, rmse… minimize; acc, f1, score… maximize), else the trend of the kept rows, else minimize.
 */
export function chooseDirection(metricName: string, rows: readonly { status: string; metric: number | null }[], opts: Pick<ReadOptions, 'direction' | 'config'> = {}): DirectionChoice {
  if (opts.direction) return { direction: opts.direction, basis: 'given', why: `it was given (--direction ${opts.direction})` };
  if (opts.config && opts.config.name.toLowerCase() === metricName.toLowerCase()) {
    return { direction: opts.config.direction, basis: 'config', why: `the research config says ${opts.config.direction} for ${metricName}` };
  }
  const named = metricDirection(metricName);
  if (named) return { direction: named, basis: 'name', why: `the name ${metricName} says ${named === 'minimize' ? 'lower' : 'higher'} is better` };
  // In a greedy loop each keep beats the one before, so the kept rows' trend is the direction.
  const kept = rows.filter((r) => r.status === 'keep' && r.metric !== null && Number.isFinite(r.metric)).map((r) => r.metric!);
  let down = 0;
  let up = 0;
  for (let i = 1; i < kept.length; i++) {
    if (kept[i]! < kept[i - 1]!) down++;
    else if (kept[i]! > kept[i - 1]!) up++;
  }
  if (down !== up) {
    const direction: Direction = down > up ? 'minimize' : 'maximize';
    return { direction, basis: 'rows', why: `the name ${metricName} does not say, and the kept rows mostly go ${down > up ? 'down' : 'up'} (${Math.max(down, up)} of ${kept.length - 1} steps)` };
  }
  return { direction: 'minimize', basis: 'default', why: `neither the name ${metricName} nor the kept rows say which way is better, so lower is assumed (--direction maximize if higher is better)` };
}

/** Index of the best kept row with a metric in `direction`, the first of equals; null when none. */
export function bestIndex(rows: readonly { status: string; metric: number | null }[], direction: Direction): number | null {
  let best: number | null = null;
  rows.forEach((r, i) => {
    if (r.status !== 'keep' || r.metric === null || !Number.isFinite(r.metric)) return;
    const b = best === null ? null : rows[best]!.metric!;
    if (b === null || (direction === 'minimize' ? r.metric < b : r.metric > b)) best = i;
  });
  return best;
}

interface Line {
  line: number;
  text: string;
  cols: string[];
  status: string | undefined;
}

/**
 * Reads a results.tsv from any writer: columns by header name (commit, status, description; the metric is the
 * one asked for, the config's, else the first numeric column after commit; other numeric columns are secondary
 * metrics, memory_gb only by that name). Numbers keep their text for display. The CLI and the editor both read here.
 */
export function parseResults(text: string, opts: ReadOptions = {}): ParsedResults {
  const lines = text.split(/\r?\n/);
  const errors: ParsedResults['errors'] = [];
  const headerText = (lines[0] ?? '').replace(/^\uFEFF/, '');
  const header = headerText.split('\t').map((h) => h.trim());
  const keys = header.map((h) => h.toLowerCase());
  const refuse = (message: string, metricName = opts.metric ?? 'metric'): ParsedResults => {
    errors.unshift({ line: 1, message, text: headerText });
    return { metricName, columns: null, rows: [], errors, direction: chooseDirection(metricName, [], opts), best: null };
  };
  const commitAt = keys.indexOf('commit');
  const statusAt = keys.indexOf('status');
  const descAt = keys.indexOf('description');
  if (commitAt < 0 || statusAt < 0) {
    const missing = commitAt < 0 && statusAt < 0 ? '"commit" and "status" columns' : `"${commitAt < 0 ? 'commit' : 'status'}" column`;
    const looksLikeRow = keys.some((k) => STATUSES.has(k));
    return refuse(looksLikeRow
      ? `it is a row, not a header: a results.tsv starts with its column names, tab-separated (like ${EXAMPLE})`
      : `expected a tab-separated header naming commit, the metric, status and description (like ${EXAMPLE}); it has no ${missing}`);
  }
  const width = header.length;
  const shaped: Line[] = [];
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.trim() === '') continue;
    let cols = text.split('\t');
    // A description that itself holds tabs, when it is the last column.
    if (cols.length > width && descAt === width - 1) cols = [...cols.slice(0, descAt), cols.slice(descAt).join(' ')];
    if (cols.length !== width) errors.push({ line: i + 1, message: `expected ${width} tab-separated columns, found ${cols.length}`, text });
    else {
      for (let c = 0; c < width; c++) cols[c] = cols[c]!.trim();
      shaped.push({ line: i + 1, text, cols, status: STATUSES.get(cols[statusAt]!.toLowerCase()) });
    }
  }

  const candidates = header.map((_, i) => i).filter((i) => i !== commitAt && i !== statusAt && i !== descAt);
  // Kept and discarded rows hold measurements; crash rows only placeholders. With no row at all, trust the order.
  const measured = shaped.filter((l) => l.status === 'keep' || l.status === 'discard');
  const sample = measured.length ? measured : shaped;
  const numericCache = new Map<number, boolean>();
  const numeric = (i: number): boolean => {
    if (sample.length === 0) return true;
    let known = numericCache.get(i);
    if (known === undefined) {
      let numbers = 0;
      let words = 0;
      for (const l of sample) {
        const v = l.cols[i]!;
        if (NUMBER.test(v)) numbers++;
        else if (!MISSING.has(v.toLowerCase())) words++;
      }
      known = numbers > 0 && numbers >= words;
      numericCache.set(i, known);
    }
    return known;
  };

  let metricAt: number;
  let metricWhy: string;
  const configAt = opts.config ? keys.indexOf(opts.config.name.toLowerCase()) : -1;
  if (opts.metric !== undefined) {
    metricAt = keys.indexOf(opts.metric.trim().toLowerCase());
    if (metricAt < 0 || !candidates.includes(metricAt)) return refuse(`no column "${opts.metric}" to read as the metric; the columns are ${header.join(', ')}`);
    metricWhy = 'named with --metric';
  } else if (configAt >= 0 && candidates.includes(configAt)) {
    metricAt = configAt;
    metricWhy = 'named in the research config';
  } else {
    const order = [...candidates.filter((i) => i > commitAt), ...candidates.filter((i) => i < commitAt)].filter((i) => keys[i] !== MEMORY);
    const first = order.find(numeric);
    // With no column of numbers, the first other column is the metric, so each row says what is wrong with it.
    metricAt = first ?? order[0] ?? -1;
    if (metricAt < 0) return refuse(`expected a column for the metric besides ${header.join(', ')} (like ${EXAMPLE})`);
    metricWhy = `the first ${first === undefined ? '' : 'numeric '}column after commit${opts.config ? `; the config's ${opts.config.name} is not a column here` : ''}`;
  }
  const metricName = header[metricAt]!;
  const secondary = candidates.filter((i) => i !== metricAt && (keys[i] === MEMORY || numeric(i)));
  const other = candidates.filter((i) => i !== metricAt && !secondary.includes(i));

  const memoryAt = keys.indexOf(MEMORY);
  const rows: ResultsRow[] = [];
  for (const { cols, line, text, status } of shaped) {
    if (!status) {
      errors.push({ line, message: `unknown status "${cols[statusAt]}" (expected keep, discard, crash or invalid)`, text });
      continue;
    }
    const measuredRow = status === 'keep' || status === 'discard';
    const metricText = cols[metricAt]!;
    const metric = status === 'crash' ? null : numberOf(metricText);
    if (measuredRow && metric === null) {
      errors.push({ line, message: `metric "${metricText}" is not a number, in column ${metricName}`, text });
      continue;
    }
    const values: Record<string, number | null> = {};
    let bad: string | null = null;
    for (const i of secondary) {
      const v = cols[i]!;
      const n = numberOf(v);
      if (n === null && measuredRow && !MISSING.has(v.toLowerCase())) bad ??= `${header[i]} "${v}" is not a number`;
      values[header[i]!] = n;
    }
    if (bad) {
      errors.push({ line, message: bad, text });
      continue;
    }
    const cells: Record<string, string> = {};
    for (const i of candidates) cells[header[i]!] = cols[i]!;
    rows.push({
      commit: cols[commitAt]!,
      metric,
      metricText,
      memoryGb: memoryAt >= 0 && memoryAt !== metricAt ? values[header[memoryAt]!] ?? null : null,
      secondary: values,
      cells,
      status,
      description: descAt >= 0 ? cols[descAt]! : '',
      line,
    });
  }
  errors.sort((a, b) => a.line - b.line);
  const direction = chooseDirection(metricName, rows, opts);
  return {
    metricName,
    columns: { header, metric: metricName, metricWhy, secondary: secondary.map((i) => header[i]!), other: other.map((i) => header[i]!) },
    rows,
    errors,
    direction,
    best: bestIndex(rows, direction.direction),
  };
}

/** Why a file gives nothing to summarise, in one line; null when it has a readable row. */
export function whyUnreadable(parsed: ParsedResults): string | null {
  if (parsed.rows.length > 0) return null;
  const head = parsed.errors.find((e) => e.line === 1 && !parsed.columns);
  if (head) return `line 1: ${head.message}`;
  const expected = `one tab-separated row per experiment under the header, with a number in ${parsed.metricName} and a status of keep, discard, crash or invalid`;
  if (parsed.errors.length === 0) return `no rows; expected ${expected}`;
  const shown = parsed.errors.slice(0, 3).map((e) => `line ${e.line}: ${e.message}`).join('; ');
  const more = parsed.errors.length > 3 ? `; and ${parsed.errors.length - 3} more` : '';
  return `none of its ${parsed.errors.length} rows can be read (${shown}${more}); expected ${expected}`;
}
