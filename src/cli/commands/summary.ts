import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { AutoResearchError } from '../../core/errors.js';
import { loadSession, writeSummaryFor } from '../../core/offline.js';
import { configuredMetric, parseResults, RESULTS_FILE, whyUnreadable } from '../../core/record/results.js';
import { resultsWins, SUMMARY_FILE, summarizeResults } from '../../core/report/summary.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { fileSummaryDocument, sessionSummaryDocument } from '../json.js';
import { sessionOf } from '../locate.js';
import type { Options } from '../options.js';

export const summaryCommand: Command = { run: summary, json: true };

/** `summary [FILE.tsv]`: the session's summary file, or a summary of any results.tsv. */
async function summary({ cwd, o, args, io }: CommandContext): Promise<number> {
  if (args.length > 1) throw new UsageError(`summary takes one results file at most, got: ${args.join(' ')}`);
  const [file] = args;
  if (file !== undefined && !/\.tsv$/i.test(file)) throw new UsageError(`summary reads a session or a .tsv file, got "${file}"; for a file named otherwise use --from ${file}`);
  if (file !== undefined && o.from !== undefined && file !== o.from) throw new UsageError(`Two files to summarise (${file} and --from ${o.from}); give one.`);
  const from = o.from ?? file;
  if (from !== undefined) return summaryFrom(cwd, from, o, io);
  if (o.metric !== undefined || o.direction !== undefined || o.noise !== undefined) throw new UsageError('--metric, --direction and --noise are for a results file: autoresearch summary results.tsv --noise 0.0007; a session measures its own noise (noise: {repeats: 3} in the config)');
  try {
    const { root, tag } = await sessionOf(cwd, o);
    const wrote = writeSummaryFor(root, tag);
    if (o.json) io.out(JSON.stringify(sessionSummaryDocument(tag, loadSession(root, tag).model, wrote)));
    else io.out(`Wrote ${wrote}`);
    return 0;
  } catch (e) {
    const here = join(cwd, RESULTS_FILE);
    if (e instanceof Error && existsSync(here)) e.message += `\nThere is a ${RESULTS_FILE} here: \`autoresearch summary ${RESULTS_FILE}\` summarises it.`;
    throw e;
  }
}

/** `summary --from FILE`: any team's results.tsv, read by header name; a file with no readable row exits 2. */
function summaryFrom(cwd: string, from: string, o: Options, io: Io): number {
  const path = resolve(cwd, from);
  if (!existsSync(path)) throw new UsageError(`No file ${from}.`);
  if (statSync(path).isDirectory()) throw new UsageError(`${from} is a folder, not a results file.`);
  const direction = o.direction;
  if (direction !== undefined && direction !== 'minimize' && direction !== 'maximize') throw new UsageError(`--direction: expected minimize or maximize, got "${direction}"`);
  const noise = o.noise === undefined ? null : Number(o.noise);
  if (noise !== null && (o.noise!.trim() === '' || !Number.isFinite(noise) || noise < 0)) throw new UsageError(`--noise: expected a number of at least 0 in the metric's units (like 0.0007), got "${o.noise}"`);
  const parsed = parseResults(readFileSync(path, 'utf8'), { metric: o.metric, direction, config: configuredMetric(cwd, o.config) });
  const refused = whyUnreadable(parsed);
  if (refused) throw new AutoResearchError('unreadable', `Cannot summarise ${from}: ${refused}`);
  // With --json the unreadable rows are in the document instead.
  if (!o.json) for (const e of parsed.errors) io.err(`${from}:${e.line}: ${e.message}`);
  // Never the session's own autoresearch-summary.md: <file>-summary.md beside the file, or --out.
  const out = o.out ? resolve(cwd, o.out) : join(dirname(path), `${basename(path).replace(/\.[^.]+$/, '')}-summary.md`);
  if (basename(out) === SUMMARY_FILE && existsSync(out)) throw new UsageError(`${relative(cwd, out) || out} is a session's summary; write this one elsewhere with --out FILE.`);
  writeFileSync(out, summarizeResults(parsed, null, from, { noise }));
  if (o.json) {
    io.out(JSON.stringify(fileSummaryDocument(from, parsed, noise, out)));
    return 0;
  }
  const cols = parsed.columns!;
  const bad = parsed.errors.map((e) => e.line);
  io.out(`Read ${from}: ${parsed.rows.length} rows${bad.length ? `; ${bad.length} unreadable (line${bad.length === 1 ? '' : 's'} ${bad.join(', ')}), listed above` : ''}`);
  io.out(`  metric: ${cols.metric} (${cols.metricWhy})${cols.secondary.length ? `; secondary: ${cols.secondary.join(', ')}` : ''}${cols.other.length ? `; other columns: ${cols.other.join(', ')}` : ''}`);
  io.out(`  direction: ${parsed.direction.direction}, because ${parsed.direction.why}`);
  const base = parsed.rows[0];
  const best = parsed.best === null ? undefined : parsed.rows[parsed.best];
  io.out(best
    ? `  ${cols.metric}: ${base?.metric != null ? `baseline ${base.metricText} -> ` : ''}best ${best.metricText} (line ${best.line}, commit ${best.commit}: ${best.description})`
    : '  no kept row with a metric');
  const wins = resultsWins(parsed, null, noise);
  io.out(`  ${wins.headline}${wins.noise.hint ? `; ${wins.noise.hint}` : ''}`);
  io.out(`Wrote ${out}`);
  return 0;
}
