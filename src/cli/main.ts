// `autoresearch`: the headless CLI on the same engine as the editor.
// Exit codes: 0 done, 1 runtime failure, 2 bad usage or bad config.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIG_FILE, configTemplate, loadConfig, parseConfig, parseDuration } from '../core/config.js';
import { Controller, type ControllerEvent } from '../core/controller.js';
import { AutoResearchError } from '../core/errors.js';
import { createExecutor, createProposer } from '../core/factory.js';
import { Lab, nodeRef } from '../core/git.js';
import { listSessions, loadSession, sendCommand, writeSummaryFor } from '../core/offline.js';
import { configuredMetric, parseResults, RESULTS_FILE, whyUnreadable } from '../core/results.js';
import { logTail, probeLogPath, probeRun, withMetricPattern, withProbedMetric, type MetricCandidate } from '../core/metricProbe.js';
import { sparkline } from '../core/curves.js';
import { COST_EXPECTED, parseCost, parseTokens, spendLine, spendText, TOKENS_EXPECTED, type CapChange } from '../core/spend.js';
import { noiseLine, resultsWins, SUMMARY_FILE, summarizeResults } from '../core/summary.js';
import { applyBest } from '../core/apply.js';
import { renderTree } from './tree.js';
import { reportError, UsageError } from './errors.js';
import { defaultIo, type Io } from './io.js';
import { fileSummaryDocument, sessionSummaryDocument, showDocument, statusDocument, treeDocument } from './json.js';
import type { SessionModel } from '../core/model.js';
import type { Direction, ResearchConfig } from '../core/types.js';
import { directionText, fmtDuration, fmtMemory, fmtNum } from '../shared/format.js';

import packageJson from '../../package.json' with { type: 'json' };

const VERSION: string = packageJson.version;

const HELP = `autoresearch: an autonomous ML research loop in your repo

Usage: autoresearch <command> [options]

  init                 write a commented autoresearch.config.yaml (detects train.py, prepare.py)
                       [--probe] run the command once and take the metric from what it prints
                       [--budget 5m] (the budget written, and the probe's time limit)  [--tag T] [--force]
                       with a config here, --probe --force runs its run: and changes only its metric
  run                  start or resume the session  [--max-experiments N] [--proposer KIND] [--policy tree|greedy]
                       [--restart] begin a new attempt (the earlier one stays in the journal); a session
                       whose baseline failed starts a new attempt without it
  status               where the session stands  [--json]
  tree                 the experiment tree, best path marked  [--json]
  show <node>          one experiment: decision, metric, plan, diff against its parent  [--json]
  compare <a> <b>      diff between two experiments' code
  summary [FILE.tsv]   write autoresearch-summary.md from the session, or FILE-summary.md from any results.tsv
                       [--from FILE] (same as a .tsv argument)  [--metric COLUMN] [--direction minimize|maximize]
                       [--out FILE] where a file's summary goes (never over a session's summary)
                       columns are read by header name; the direction is --direction, else the config's,
                       else the metric's name, else the kept rows' trend, and the summary says which
                       [--noise X] the noise floor of a file's runs (how far a seed-only change moves the
                       metric); else it is estimated from the file's seed-only and repeated runs, if any
                       [--json] one JSON document instead of text (the summary file is written too)
  keep <node>          override: keep an experiment (it may be expanded)  [--reason TEXT]
  discard <node>       override: drop an experiment from the search       [--reason TEXT]
  record <node> <value>  record the metric of a manual run  [--memory-gb G] [--crash REASON]
  hint "<text>"        queue a hypothesis for the next proposals
  cap                  the model spend so far against the spend cap; change the cap with
                       [--cost USD|unlimited] [--tokens N|unlimited] (500k, 2M): a running session goes on
                       under it at once, one that ended at its cap goes on with \`autoresearch run\`
  prune on|off         early stopping from now on, whatever the config says; a running session applies it to
                       the experiments running now, a stopped one when it resumes
  apply                bring the best experiment onto your branch  [--chain] (default: one squashed commit)

  help [command]       this text, or one command's

Common options: --config FILE (default autoresearch.config.yaml), --cwd DIR, --help, --version
--json (status, tree, show, summary): one JSON document on stdout, schema autoresearch/<command>@1; an error is
  {"error": {"kind", "message", "exitCode"}} on stdout, with the same exit code (docs/json.md)
Exit codes: 0 done, 1 runtime failure, 2 bad usage or bad config.`;

/** The lines of HELP that describe one command (its line and the indented ones after it), with the usage line. */
export function commandHelp(command: string): string | null {
  const lines = HELP.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^  ${command.replace(/[^\w-]/g, '')}(\\s|$)`).test(l));
  if (start < 0 || !command.trim()) return null;
  const own = [lines[start]!];
  for (let i = start + 1; i < lines.length && /^ {4,}\S/.test(lines[i]!) && lines[i]!.search(/\S/) >= 20; i++) own.push(lines[i]!);
  const common = lines.findIndex((l) => l.startsWith('Common options'));
  const exits = lines.findIndex((l) => l.startsWith('Exit codes'));
  return [`Usage: autoresearch ${command} [options]`, '', ...own, '', ...lines.slice(common, exits + 1)].join('\n');
}

/** Commands that print one JSON document with --json. */
const JSON_COMMANDS = new Set(['status', 'tree', 'show', 'summary']);

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  // Known before the arguments parse, so that even a bad option answers in JSON.
  const json = argv.includes('--json');
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' }, cwd: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' },
        'max-experiments': { type: 'string' }, proposer: { type: 'string' }, policy: { type: 'string' },
        from: { type: 'string' }, direction: { type: 'string' }, metric: { type: 'string' }, reason: { type: 'string' },
        'memory-gb': { type: 'string' }, crash: { type: 'string' }, chain: { type: 'boolean' }, squash: { type: 'boolean' },
        tag: { type: 'string' }, force: { type: 'boolean' }, out: { type: 'string' }, restart: { type: 'boolean' }, probe: { type: 'boolean' }, budget: { type: 'string' },
        cost: { type: 'string' }, tokens: { type: 'string' },
        json: { type: 'boolean' }, noise: { type: 'string' },
      },
    });
  } catch (e) {
    if (json) return reportError(new UsageError((e as Error).message), io, true);
    io.err(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [command, ...args] = positionals;
  if (o.version) {
    io.out(`autoresearch ${VERSION}`);
    return 0;
  }
  // `help`, `help <command>`, `<command> --help`.
  if (command === 'help' || (command && o.help)) {
    const topic = command === 'help' ? args[0] : command;
    const text = topic ? commandHelp(topic) : HELP;
    if (text === null) {
      io.err(`No command "${topic}". Run \`autoresearch help\` for the list.`);
      return 2;
    }
    io.out(text);
    return 0;
  }
  if (o.help || !command) {
    io.out(HELP);
    return command || o.help ? 0 : 2;
  }
  const cwd = o.cwd ?? process.cwd();
  try {
    if (json && !JSON_COMMANDS.has(command)) throw new UsageError(`--json is for ${[...JSON_COMMANDS].join(', ')}; ${command} prints text only.`);
    if (o.noise !== undefined && command !== 'summary') throw new UsageError('--noise is for summary of a results file: autoresearch summary results.tsv --noise 0.0007');
    switch (command) {
      case 'init': return await init(cwd, o, io);
      case 'run': return await run(cwd, o, io);
      case 'status': return status(await sessionOf(cwd, o), io, json);
      case 'tree': {
        const { model, tag } = await sessionOf(cwd, o);
        io.out(json ? JSON.stringify(treeDocument(tag, model)) : renderTree(model));
        return 0;
      }
      case 'show': return await show(cwd, o, nodeArg(args[0]), io, json);
      case 'compare': return await compare(cwd, o, nodeArg(args[0]), nodeArg(args[1]), io);
      case 'summary': return await summary(cwd, o, args, io);
      case 'keep':
      case 'discard': {
        const id = nodeArg(args[0]);
        const { root, tag } = await sessionOf(cwd, o);
        const r = await sendCommand(root, tag, { type: 'override', id, status: command, reason: o.reason ?? `${command === 'keep' ? 'kept' : 'discarded'} by a person from the CLI` });
        io.out(r.delivered === 'running' ? `Sent to the running session (pid ${r.holder.pid}): ${command} #${id}.` : `#${id} is now ${command} (${r.restored ? "the rule's own decision again" : 'decided by human'}); results.tsv updated.`);
        return 0;
      }
      case 'record': {
        const id = nodeArg(args[0]);
        const { root, tag } = await sessionOf(cwd, o);
        if (o.crash) {
          await sendCommand(root, tag, { type: 'record-crash', id, reason: o.crash });
          io.out(`Recorded #${id} as crashed: ${o.crash}`);
          return 0;
        }
        const value = Number(args[1]);
        if (args[1] === undefined || Number.isNaN(value)) throw new UsageError('record needs a node and a number: autoresearch record <node> <value>');
        const memoryGb = o['memory-gb'] === undefined ? null : Number(o['memory-gb']);
        const r = await sendCommand(root, tag, { type: 'record', id, metric: value, memoryGb });
        io.out(r.delivered === 'running' ? `Sent to the running session: #${id} = ${value}.` : `Queued: #${id} = ${value}; it is applied when the session resumes (\`autoresearch run\`).`);
        return 0;
      }
      case 'hint': {
        const text = args.join(' ').trim();
        if (!text) throw new UsageError('hint needs the hypothesis text: autoresearch hint "try a cosine schedule"');
        const { root, tag } = await sessionOf(cwd, o);
        const r = await sendCommand(root, tag, { type: 'hint', text });
        io.out(r.delivered === 'running' ? `Sent to the running session: "${text}"` : `Queued for the next proposals: "${text}"`);
        return 0;
      }
      case 'cap': return await cap(cwd, o, io);
      case 'prune': {
        const want = args[0];
        if (want !== 'on' && want !== 'off') throw new UsageError(`prune needs on or off: autoresearch prune off${want === undefined ? '' : ` (got "${want}")`}`);
        const { root, tag } = await sessionOf(cwd, o);
        const r = await sendCommand(root, tag, { type: 'prune', on: want === 'on' });
        const again = want === 'off' ? ' An experiment stopped early runs again in full with Re-run to Check Noise in the Experiments view.' : '';
        io.out(r.delivered === 'running'
          ? `Sent to the running session: early stopping ${want}, the experiments running now included.${again}`
          : `Early stopping ${want} for session ${tag}; \`autoresearch run\` goes on that way.${again}`);
        return 0;
      }
      case 'apply': {
        const { root, tag, model } = await sessionOf(cwd, o);
        const res = await applyBest(root, model, tag, o.chain ? 'chain' : 'squash');
        io.out(res.message);
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (e) {
    return reportError(e, io, json);
  }
}

function nodeArg(text: string | undefined): number {
  const id = Number(text?.replace(/^#/, ''));
  if (text === undefined || !Number.isInteger(id) || id < 0) throw new UsageError(`Expected an experiment number (like 3 or #3), got "${text ?? ''}".`);
  return id;
}

async function repoRoot(cwd: string): Promise<string> {
  return (await Lab.open(cwd)).root;
}

async function configOf(cwd: string, o: { config?: string; 'max-experiments'?: string; proposer?: string; policy?: string }): Promise<{ root: string; config: ResearchConfig }> {
  const root = existsSync(join(cwd, o.config ?? CONFIG_FILE)) ? cwd : await repoRoot(cwd).catch(() => cwd);
  const overrides: Parameters<typeof loadConfig>[2] = {};
  if (o['max-experiments'] !== undefined) {
    const t = o['max-experiments'];
    const n = Number(t);
    if (t !== 'unlimited' && (!Number.isInteger(n) || n <= 0)) throw new UsageError(`--max-experiments: expected a positive integer or "unlimited", got "${t}"`);
    overrides.maxExperiments = t === 'unlimited' ? null : n;
  }
  if (o.proposer !== undefined) overrides.proposer = o.proposer;
  if (o.policy !== undefined) overrides.policy = o.policy;
  return { root, config: loadConfig(root, o.config, overrides) };
}

async function sessionOf(cwd: string, o: { config?: string; tag?: string }): Promise<{ root: string; tag: string; model: SessionModel; config: ResearchConfig }> {
  const root = await repoRoot(cwd);
  let tag = o.tag;
  if (!tag) {
    if (existsSync(join(root, o.config ?? CONFIG_FILE))) tag = loadConfig(root, o.config).tag;
    else {
      const tags = listSessions(root);
      if (tags.length !== 1) throw new UsageError(tags.length ? `Several sessions here (${tags.join(', ')}); pick one with --tag.` : `No ${CONFIG_FILE} and no session in ${root}. Run \`autoresearch init\` first.`);
      tag = tags[0]!;
    }
  }
  const { model } = loadSession(root, tag);
  return { root, tag, model, config: model.config! };
}

const SCRIPTS = ['train.py', 'main.py', 'run.py', 'train.ts', 'train.js'];
const DEFAULT_BUDGET = '5m';

/** The training script: a usual name first, else the one file at the top whose name says train. */
function findScript(cwd: string): string | null {
  const known = SCRIPTS.find((f) => existsSync(join(cwd, f)));
  if (known) return known;
  const named = readdirSync(cwd).filter((f) => /train.*\.(py|ts|js)$/i.test(f)).sort();
  return named.length === 1 ? named[0]! : null;
}

interface ProbedMetric {
  name: string;
  direction: Direction;
  /** null: the template's default `^<name>:\s*(\S+)`. */
  pattern: string | null;
  /** Comment lines written above `metric:`. */
  comments: string[];
}

const GUESS: ProbedMetric = { name: 'val_loss', direction: 'minimize', pattern: null, comments: [] };

async function init(cwd: string, o: { force?: boolean; tag?: string; probe?: boolean; budget?: string }, io: Io): Promise<number> {
  const path = join(cwd, CONFIG_FILE);
  if (existsSync(path) && !o.force) throw new UsageError(`${CONFIG_FILE} already exists here; use --force to overwrite it (\`--probe --force\` keeps it and sets only the metric its run command prints).`);
  const budget = (o.budget ?? DEFAULT_BUDGET).trim();
  const budgetSeconds = parseDuration(budget);
  if (budgetSeconds === null) throw new UsageError(`--budget: expected a duration like 90s, 5m or 1h, got "${o.budget}"`);
  // With a config here, --probe runs the command that config runs and changes only its metric.
  if (o.probe && existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    let config: ResearchConfig | null = null;
    try {
      config = parseConfig(text);
    } catch (e) {
      io.err(`The ${CONFIG_FILE} here is not valid, so init writes a new one (${(e as Error).message.split('\n')[0]}).`);
    }
    if (config) return await reprobe(cwd, text, config, o.budget === undefined ? null : { budget, budgetSeconds }, io);
  }
  const has = (f: string) => existsSync(join(cwd, f));
  const script = findScript(cwd);
  const readonly = ['prepare.py', 'evaluate.py', 'eval.py'].filter(has);
  const python = await pythonCommand();
  const editable = script ?? 'train.py';
  const run = editable.endsWith('.py') ? `${python} ${editable}` : `node ${editable}`;
  const tag = o.tag ?? defaultTag();
  if (script) io.out(`Found ${script}: the script the loop changes and runs (\`${run}\`).`);
  else io.err(`No training script here: none of ${SCRIPTS.join(', ')}, and no single *train*.py/.ts/.js. The config gets \`run: ${run}\` as a placeholder: set run and editable to your own.`);

  let metric = GUESS;
  if (o.probe && !script) io.err('Not running anything to find the metric: there is no script to run.');
  else if (o.probe) metric = await probe(cwd, { command: run, tag, budget, budgetSeconds }, io);

  let text = configTemplate({
    tag, editable: [editable], readonly, run, budget,
    metricName: metric.name, direction: metric.direction, maxExperiments: 20, proposer: 'mutate', policy: 'tree', notes: has('program.md') ? 'program.md' : null,
  });
  text = withMetricPattern(text, metric.pattern, metric.comments);
  if (!script) text = text.replace(/^run: /m, () => `# FIX ME: \`autoresearch init\` found no training script (${SCRIPTS.join(', ')}); set run and editable.\nrun: `);
  // The engine's own parser checks what is written: init never leaves a config that \`run\` refuses.
  parseConfig(text);
  writeFileSync(path, text);
  io.out(`Wrote ${path}\n  editable: ${editable}${script ? '' : ' (placeholder: not found)'}\n  protected: ${readonly.join(', ') || '(none found)'}\n  run: ${run}\n  budget: ${budget}\n  metric: ${metric.name}, ${metric.direction}${metric.pattern ? `, pattern ${metric.pattern}` : ' (the default pattern: a line "' + metric.name + ': <value>")'}`);
  io.out(`Review it (${o.probe ? 'the metric above' : 'metric name and pattern'}, budget), commit your code, then \`autoresearch run\`.${o.probe || !script ? '' : ' `autoresearch init --probe --force` runs the script once to find the metric.'}`);
  return 0;
}

/** `init --probe` with a config here: runs its `run:` once and sets the metric it finds; the other keys stay as written. */
async function reprobe(cwd: string, text: string, config: ResearchConfig, limit: { budget: string; budgetSeconds: number } | null, io: Io): Promise<number> {
  const path = join(cwd, CONFIG_FILE);
  io.out(`Probing the run command of ${CONFIG_FILE}, \`${config.run}\`; only its metric changes, and only if the probe finds one.`);
  const metric = await probe(cwd, { command: config.run, tag: config.tag, ...(limit ?? { budget: config.budgetText, budgetSeconds: config.budgetSeconds }) }, io);
  if (metric.pattern === null) {
    io.err(`${CONFIG_FILE} is left as it was (metric: ${config.metric.name}, ${config.metric.direction}).`);
    return 0;
  }
  const next = withProbedMetric(text, { name: metric.name, direction: metric.direction, pattern: metric.pattern }, metric.comments);
  if (next === null) {
    io.err(`${CONFIG_FILE} is left as it was: its metric is not a mapping init can edit. Set it to {name: ${metric.name}, direction: ${metric.direction}, pattern: '${metric.pattern.replace(/'/g, "''")}'}.`);
    return 1;
  }
  // The engine's own parser checks what is written.
  parseConfig(next);
  writeFileSync(path, next);
  io.out(`Updated ${path}: metric ${config.metric.name} (${config.metric.direction}) -> ${metric.name} (${metric.direction}), pattern ${metric.pattern}; the other keys are as they were.`);
  io.out('Review the metric above, commit your code, then `autoresearch run`.');
  return 0;
}

function tailOf(log: string): string {
  return logTail(log).map((l) => `    ${clip(l)}`).join('\n') || '    (it printed nothing)';
}

function clip(line: string, width = 160): string {
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** Runs the command once, as an experiment would run, and proposes the metric from what it printed. */
async function probe(cwd: string, r: { command: string; tag: string; budget: string; budgetSeconds: number }, io: Io): Promise<ProbedMetric> {
  io.out(`Running \`${r.command}\` once to find the metric: up to ${r.budget} (the budget), output kept in ${relative(cwd, probeLogPath(cwd))}. Ctrl-C stops it and uses what it printed so far.`);
  const stop = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  const started = Date.now();
  const ticker = io.isTTY ? setInterval(() => process.stdout.write(`\r\x1b[2K  running: ${Math.round((Date.now() - started) / 1000)}s of ${Math.round(r.budgetSeconds)}s`), 1000) : null;
  let run;
  try {
    run = await probeRun({ cwd, command: r.command, budgetSeconds: r.budgetSeconds, tag: r.tag, signal: stop.signal });
  } finally {
    if (ticker) {
      clearInterval(ticker);
      process.stdout.write('\r\x1b[2K');
    }
    process.off('SIGINT', onSignal);
  }
  const { result, log, candidates } = run;
  const took = fmtDuration(result.wallMs);
  let comments: string[] = [];
  let tailShown = result.startError !== undefined;
  if (result.startError) {
    io.err(`It could not start: ${result.startError}`);
    comments = [`FIX ME: \`${r.command}\` could not start when init ran it (${result.startError}).`];
  } else if (result.timedOut) {
    io.err(`It was still running at the budget (${r.budget}) and was stopped after ${took}. Every experiment would end the same way, as a crash: make the script stop in time (it gets AUTORESEARCH_BUDGET_SECONDS) or give a larger --budget.`);
    comments = [`Note: \`${r.command}\` was still running at the ${r.budget} budget when init ran it; the metric is from what it printed by then.`];
  } else if (interrupted) {
    io.out(`Stopped after ${took}; looking for the metric in what it printed so far.`);
  } else if (result.exitCode !== 0) {
    tailShown = true;
    io.err(`It failed: ${result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`} after ${took}. Last lines of the log:\n${tailOf(log)}`);
    comments = [`Note: \`${r.command}\` failed (${result.signal ?? `exit code ${result.exitCode}`}) when init ran it; the metric below is a guess from what it printed.`];
  } else {
    io.out(`Finished in ${took} (exit code 0).`);
  }

  const best = candidates[0];
  if (!best) {
    io.err(`Nothing it printed looks like a metric (a name and a number, like "val_loss: 0.35").${tailShown ? '' : ` Last lines of the log:\n${tailOf(log)}`}\nThe config gets the default, ${GUESS.name} (${GUESS.direction}) read from a line "${GUESS.name}: <value>": make the script print it, or set metric.name and metric.pattern.`);
    return { ...GUESS, comments: [...comments, `FIX ME: init ran \`${r.command}\` and found no metric in its output; print "${GUESS.name}: <value>" or set name and pattern to what it prints.`] };
  }
  const direction: Direction = best.direction ?? 'minimize';
  io.out(`Metric: ${best.name}, ${best.direction ?? 'direction unknown from its name: written as minimize, check it'}; ${best.matches} line${best.matches === 1 ? '' : 's'}, the last reads ${best.valueText}`);
  io.out(`  matched: ${clip(best.line)}`);
  io.out(`  pattern: ${best.pattern}`);
  const others = candidates.slice(1, 4);
  if (others.length) io.out(`Other candidates:\n${others.map((c) => `  ${candidateLine(c)}`).join('\n')}`);
  return {
    name: best.name, direction, pattern: best.pattern,
    comments: [
      ...comments,
      `Found by \`autoresearch init --probe\`: the last of ${best.matches} matching line${best.matches === 1 ? '' : 's'} of its output was`,
      `  ${clip(best.line, 200)}`,
      ...(best.direction ? [] : [`FIX ME: the direction of ${best.name} is a guess (minimize); set it.`]),
      ...(others.length ? ['Other candidates (name: pattern):', ...others.map((c) => `  ${c.name}: ${c.pattern}`)] : []),
    ],
  };
}

function candidateLine(c: MetricCandidate): string {
  return `${c.name} (${c.direction ?? 'direction unknown'}) = ${c.valueText}: ${clip(c.line, 100)}`;
}

/** Like the original loop's tags: the date, as in `nov25`. */
function defaultTag(d = new Date()): string {
  return d.toLocaleString('en-US', { month: 'short' }).toLowerCase() + d.getDate();
}

async function pythonCommand(): Promise<string> {
  const { execa } = await import('execa');
  for (const cand of ['python3', 'python']) {
    const r = await execa(cand, ['--version'], { reject: false }).catch(() => null);
    if (r && r.exitCode === 0) return cand;
  }
  return 'python3';
}

async function run(cwd: string, o: Parameters<typeof configOf>[1] & { restart?: boolean }, io: Io): Promise<number> {
  const { root, config } = await configOf(cwd, o);
  const controller = new Controller({ root, config, proposer: createProposer(config, root), executor: createExecutor(config), restart: o.restart });
  const progress = new ProgressLine(io, config);
  controller.onEvent((e) => progress.handle(e));
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      progress.clear();
      io.err('Stopping: ending the running experiment (Ctrl-C again to quit now; the session resumes with `autoresearch run`).');
      controller.stop();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await controller.run();
    progress.clear();
    const m = outcome.model;
    const base = m.baseline;
    const best = outcome.best;
    io.out('');
    io.out(`Session ${config.tag} ${outcome.state}: ${/[.!?]$/.test(outcome.reason) ? outcome.reason : `${outcome.reason}.`}`);
    if (base?.metric != null && best?.metric != null) io.out(`${config.metric.name}: baseline ${fmtNum(base.metric)} -> best ${fmtNum(best.metric)} (#${best.id}, commit ${best.commit?.slice(0, 7)}, ${directionText(config.metric.direction)})`);
    io.out(`results:  ${controller.paths.results}`);
    io.out(`summary:  ${controller.paths.summary}`);
    io.out(`tree:     autoresearch tree${o.config ? ` --config ${o.config}` : ''}   (branch autoresearch/${config.tag} points at the best)`);
    return outcome.state === 'failed' ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    controller.dispose();
  }
}

/** The live line on a terminal; plain lines otherwise. */
class ProgressLine {
  private timer: NodeJS.Timeout | null = null;
  private running = new Map<number, { started: number; line: string }>();
  private shown = false;
  private best: number | null = null;
  private decided = 0;

  constructor(private readonly io: Io, private readonly config: ResearchConfig) {}

  handle(e: ControllerEvent): void {
    switch (e.type) {
      case 'experiment':
        this.clear();
        this.io.out(e.line);
        if (e.node.id !== 0) this.decided++;
        break;
      case 'run-started':
        this.running.set(e.node.id, { started: Date.now(), line: '' });
        if (!this.io.isTTY) this.io.out(`running #${e.node.id} (${e.node.description}) in slot ${e.slot}, budget ${this.config.budgetText}`);
        this.ensureTimer();
        break;
      case 'run-progress': {
        const r = this.running.get(e.nodeId);
        if (r) r.line = e.line;
        break;
      }
      case 'run-finished':
        this.running.delete(e.node.id);
        break;
      case 'node-updated':
        if (e.node.status === 'keep' && e.node.metric !== null && (this.best === null || (this.config.metric.direction === 'minimize' ? e.node.metric < this.best : e.node.metric > this.best))) this.best = e.node.metric;
        break;
      case 'report':
        this.clear();
        this.io.out(e.text);
        break;
      case 'log':
        if (e.level !== 'info' || !this.io.isTTY) {
          this.clear();
          (e.level === 'info' ? this.io.out : this.io.err)(`${e.level === 'info' ? '' : `${e.level}: `}${e.message}`);
        }
        break;
      case 'state':
        if (e.state === 'done' || e.state === 'stopped' || e.state === 'failed') this.stopTimer();
        break;
      default:
        break;
    }
  }

  private ensureTimer(): void {
    if (!this.io.isTTY || this.timer) return;
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private draw(): void {
    const max = this.config.maxExperiments ?? '∞';
    const parts = [...this.running.entries()].map(([id, r]) => `#${id} ${Math.round((Date.now() - r.started) / 1000)}s/${this.config.budgetSeconds}s${r.line ? ` · ${r.line.slice(0, 40)}` : ''}`);
    const text = `experiment ${Math.min(this.decided + 1, Number(max) || Infinity)} of ${max} · ${parts.join(' | ') || 'proposing'} · best ${fmtNum(this.best)}`;
    const width = process.stdout.columns ?? 100;
    process.stdout.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) {
      process.stdout.write('\r\x1b[2K');
      this.shown = false;
    }
  }
}

function status(s: { tag: string; model: SessionModel; root: string }, io: Io, json = false): number {
  const { model } = s;
  if (json) {
    io.out(JSON.stringify(statusDocument(s.tag, model)));
    return 0;
  }
  const c = model.counts();
  const cfg = model.config!;
  io.out(`Session ${s.tag}: ${model.state}${model.stateReason ? ` (${model.stateReason})` : ''}`);
  io.out(`  experiments: ${model.decidedCount} of ${cfg.maxExperiments ?? 'unlimited'} decided: ${c.keep} kept, ${c.discard} discarded, ${c.crash} crashed, ${c.invalid} invalid${c.running ? `, ${c.running} running` : ''}`);
  io.out(`  ${cfg.metric.name} (${directionText(cfg.metric.direction)}): baseline ${fmtNum(model.baseline?.metric)}, best ${fmtNum(model.best?.metric)}${model.best ? ` (#${model.best.id})` : ''}`);
  const band = model.noiseBand();
  if (band) io.out(`  ${noiseLine(band)}`);
  const spent = spendLine(model.spend, model.cap);
  if (spent) io.out(`  ${spent}`);
  const open = model.hints.filter((h) => h.takenBy === null);
  if (open.length) io.out(`  queued hypotheses: ${open.map((h) => `"${h.text}"`).join(', ')}`);
  return 0;
}

/** `cap`: spend against the cap, or a new cap sent to the session (journaled at once when none runs it). */
async function cap(cwd: string, o: { config?: string; tag?: string; cost?: string; tokens?: string }, io: Io): Promise<number> {
  const change: CapChange = {};
  if (o.cost !== undefined) {
    const v = parseCost(o.cost);
    if (v === undefined) throw new UsageError(`--cost: expected ${COST_EXPECTED}, got "${o.cost}"`);
    change.maxCost = v;
  }
  if (o.tokens !== undefined) {
    const v = parseTokens(o.tokens);
    if (v === undefined) throw new UsageError(`--tokens: expected ${TOKENS_EXPECTED}, got "${o.tokens}"`);
    change.maxTokens = v;
  }
  const { root, tag, model } = await sessionOf(cwd, o);
  if (o.cost === undefined && o.tokens === undefined) {
    io.out(`Session ${tag}: model spend ${spendText(model.spend, model.cap)}. Change the cap with \`autoresearch cap --cost USD\` or \`--tokens N\`.`);
    return 0;
  }
  const r = await sendCommand(root, tag, { type: 'cap', cap: change });
  const cap = { ...model.cap, ...change };
  io.out(r.delivered === 'running'
    ? `Sent to the running session (pid ${r.holder.pid}): spend cap now ${spendText(model.spend, cap)}; it goes on under it.`
    : `Spend cap of session ${tag} now ${spendText(model.spend, cap)}. \`autoresearch run\` goes on under it.`);
  return 0;
}

async function show(cwd: string, o: { config?: string; tag?: string }, id: number, io: Io, json = false): Promise<number> {
  const { root, model, config, tag } = await sessionOf(cwd, o);
  const n = model.get(id);
  if (!n) throw new UsageError(`There is no experiment #${id}.`);
  const parent = n.parentId === null ? undefined : model.get(n.parentId);
  if (json) {
    const diff = parent?.commit && n.commit ? await (await Lab.open(root)).diff(parent.commit, n.commit) : null;
    io.out(JSON.stringify(showDocument(tag, model, n, diff)));
    return 0;
  }
  io.out(`#${n.id} ${n.description}`);
  io.out(`  status: ${n.status}${n.decidedBy ? ` (decided by ${n.decidedBy}${n.decidedBy === 'human' && n.ruleStatus ? `; rule said ${n.ruleStatus}` : ''})` : ''}: ${n.reason}`);
  io.out(`  ${config.metric.name}: ${fmtNum(n.metric)}${parent ? ` (parent #${parent.id}: ${fmtNum(parent.metric)})` : ''}   memory: ${fmtMemory(n.memoryGb)}   time: ${fmtDuration(n.wallMs)}${typeof n.queuedMs === 'number' ? ` (+${fmtDuration(n.queuedMs)} in the queue)` : ''}`);
  io.out(`  commit: ${n.commit ?? 'none'}   operator: ${n.operator}   why here: ${n.policyReason}`);
  if (n.curve?.length) {
    const last = n.curve.at(-1)!;
    io.out(`  curve: ${sparkline(n.curve)}  ${n.curve.length} points, last ${fmtNum(last[1])} at ${Math.round(last[0] * 100)} % of the budget${parent?.curve?.length ? `   parent: ${sparkline(parent.curve)}` : ''}`);
  }
  if (n.plan) io.out(`  plan: ${n.plan}`);
  if (n.hint) io.out(`  tests the hypothesis: "${n.hint}"`);
  if (n.logPath) io.out(`  log: ${n.logPath}`);
  if (n.checks) io.out(`  checks: ${n.checks.passed ? 'passed' : `failed, ${n.checks.reason}`} in ${fmtDuration(n.checks.wallMs)} (log: ${n.checks.logPath})`);
  if (n.logTail) io.out(`  log tail:\n${n.logTail.split('\n').map((l) => `    ${l}`).join('\n')}`);
  if (parent?.commit && n.commit) io.out('\n' + await (await Lab.open(root)).diff(parent.commit, n.commit));
  return 0;
}

async function compare(cwd: string, o: { config?: string; tag?: string }, a: number, b: number, io: Io): Promise<number> {
  const { root, model, tag } = await sessionOf(cwd, o);
  const lab = await Lab.open(root);
  for (const id of [a, b]) if (!model.get(id)?.commit) throw new UsageError(`Experiment #${id} has no code to compare.`);
  io.out(await lab.diff(nodeRef(tag, a), nodeRef(tag, b)));
  return 0;
}

interface SummaryOptions { config?: string; tag?: string; from?: string; direction?: string; metric?: string; out?: string; noise?: string; json?: boolean }

async function summary(cwd: string, o: SummaryOptions, args: string[], io: Io): Promise<number> {
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
function summaryFrom(cwd: string, from: string, o: SummaryOptions, io: Io): number {
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

/** Whether this module is the program (dist/cli.js, or the `autoresearch` link an install puts on PATH), not an import. */
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    // The bundle is CommonJS (__filename); run from source it is a module (import.meta.url).
    const self = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    return realpathSync(process.argv[1]) === realpathSync(self);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const debug = process.argv.includes('--debug') || !!process.env.AUTORESEARCH_DEBUG;
  const argv = process.argv.slice(2).filter((a) => a !== '--debug');
  main(argv).then((code) => process.exit(code), (e) => {
    // An error nobody caught is ours, not the user's: one line, the stack with --debug.
    process.stderr.write(debug ? `Error: ${(e as Error).stack ?? e}\n` : `Error: ${(e as Error).message ?? e} (run again with --debug for the details)\n`);
    process.exit(1);
  });
}
