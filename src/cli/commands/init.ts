import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, normalize, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CONFIG_FILE, parseConfig, parseDuration } from '../../core/config.js';
import { explainCrash, interpretersWith, whichReal } from '../../core/crashHints.js';
import { dataFilesRead } from '../../core/dataFiles.js';
import { STATE_DIR, statOrNull } from '../../core/files.js';
import { Lab, repositoryRoot } from '../../core/git.js';
import { planShared } from '../../core/protection/sharedInputs.js';
import { describeSearchSpace, scanSearchSpace } from '../../core/proposers/mutate.js';
import { budgetWithRoom, closeToBudget, configTemplate, NEAR_BUDGET_RISK, fromRepositoryRoot, suggestMinDelta } from '../../core/configTemplate.js';
import { logTail, probeLogPath, probeRun, progressCandidate, trainingOnlyWarning, withAtBudgetLast, withMetricPattern, withProbedMetric, withProgressPattern, type MetricCandidate } from '../../core/metricProbe.js';
import type { Direction, ResearchConfig } from '../../core/types.js';
import { fmtDuration, fmtRunClock, truncate } from '../../shared/format.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';

export const initCommand: Command = { run: init };

const SCRIPTS = ['train.py', 'main.py', 'run.py', 'train.ts', 'train.js'];
const DEFAULT_BUDGET = '5m';

/** Folders where research repositories keep the training script when it is not at the top (lightning-hydra-template's src/train.py). */
const SCRIPT_DIRS = ['src', 'scripts', 'tools'];

/**
 * The training script: a usual name first, else the one file at the top whose name says train; else the same in
 * src/, scripts/ or tools/ (train.py, or the one *train* file there), as a path from the top, where the run starts;
 * else the one Python file at the top that runs as a program (karpathy/makemore's makemore.py).
 */
function findScript(cwd: string): string | null {
  const known = SCRIPTS.find((f) => existsSync(join(cwd, f)));
  if (known) return known;
  const named = trainFiles(cwd);
  if (named.length === 1) return named[0]!;
  for (const dir of SCRIPT_DIRS) {
    if (!isDir(join(cwd, dir))) continue;
    if (existsSync(join(cwd, dir, 'train.py'))) return `${dir}/train.py`;
    const inDir = trainFiles(join(cwd, dir));
    if (inDir.length === 1) return `${dir}/${inDir[0]!}`;
  }
  const programs = programFiles(cwd);
  if (programs.length === 1) return programs[0]!;
  // No guard (karpathy/ng-video-lecture's gpt.py): the one file at the top that trains a model.
  const training = trainingFiles(cwd);
  return programs.length === 0 && training.length === 1 ? training[0]! : null;
}

/** A model's training step, in PyTorch (`loss.backward()`, `optimizer.step()`), Keras or scikit-learn (`.fit(`). */
const TRAINS = /\.backward\(|\boptim\w*\.step\(|\.fit\(/;

/** Python files at the top of `dir` that train a model (TRAINS), guard or not. */
function trainingFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.py') && f !== 'setup.py' && TRAINS.test(readText(join(dir, f)))).sort();
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function trainFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /train.*\.(py|ts|js)$/i.test(f)).sort();
}

/** Python files in `dir` with an `if __name__ == "__main__":` guard: the ones a person runs. */
function programFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.py') && f !== 'setup.py' && isProgram(join(dir, f))).sort();
}

function isProgram(path: string): boolean {
  return /^if\s+__name__\s*==\s*['"]__main__['"]\s*:/m.test(readText(path));
}

function isDir(path: string): boolean {
  return statOrNull(path)?.isDirectory() ?? false;
}

/** What init looked for, and the files here that could be the script when there are several to choose from. */
function noScriptText(cwd: string, run: string): string {
  const programs = programFiles(cwd);
  const training = trainingFiles(cwd).filter((f) => !programs.includes(f));
  const candidates = [...programs, ...training];
  const what = [programs.length ? `${programs.join(', ')} run${programs.length === 1 ? 's' : ''} as a program` : '', training.length ? `${training.join(', ')} train${training.length === 1 ? 's' : ''} a model` : ''].filter(Boolean).join('; ');
  const which = candidates.length ? ` Here ${what}: \`autoresearch init --script ${candidates[0]} --force\` takes the one you name.` : ' `autoresearch init --script FILE --force` takes the one you name.';
  return `No training script here: none of ${SCRIPTS.join(', ')}, no single *train*.py/.ts/.js here or in ${SCRIPT_DIRS.map((d) => `${d}/`).join(', ')}, and no single Python file that runs as a program (an \`if __name__ == "__main__":\` guard) or trains a model. The config gets \`run: ${run}\` as a placeholder.${which}`;
}

interface ProbedMetric {
  name: string;
  direction: Direction;
  /** null: the template's default `^<name>:\s*(\S+)`. */
  pattern: string | null;
  /** Comment lines written above `metric:`. */
  comments: string[];
  /** The pattern of the metric's learning curve when the chosen pattern reads only the final line; null otherwise. */
  progress?: { pattern: string; comments: string[] } | null;
  /** The run was still going at the budget and printed the metric by then: judge runs on that (`atBudget: last`). */
  atBudget?: boolean;
  /** The last value it printed (absent when nothing was found). */
  value?: number;
}

const GUESS: ProbedMetric = { name: 'val_loss', direction: 'minimize', pattern: null, comments: [] };

/** `init`: writes a commented config for the script here; `--probe` runs it once and takes the metric from what it prints. */
async function init({ cwd, o, io }: CommandContext): Promise<number> {
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
  if (o.script !== undefined && !(has(o.script) && !isDir(join(cwd, o.script)))) throw new UsageError(`--script: there is no file ${o.script} here (${cwd}); name the training script by its path from this folder.`);
  const script = o.script === undefined ? findScript(cwd) : normalize(o.script).replace(/\\/g, '/');
  const readonly = [...new Set([...['prepare.py', 'evaluate.py', 'eval.py'].filter(has), ...(script ? dataFilesRead(cwd, script) : [])])];
  const interpreter = script?.endsWith('.py') ? await pythonFor(cwd, script) : { python: await pythonCommand(), why: null, found: true };
  const editable = [script ?? 'train.py'];
  let run = editable[0]!.endsWith('.py') ? `${interpreter.python} ${editable[0]}` : `node ${editable[0]}`;
  const tag = o.tag ?? defaultTag();
  const takesConfig = script ? configFileNote(cwd, script, run) : null;
  if (takesConfig?.adopt) {
    run = takesConfig.line;
    editable.push(takesConfig.adopt);
  }
  const yamlConfigs = script && !takesConfig ? yamlConfigNote(cwd, script) : null;
  if (yamlConfigs) editable.push(...yamlConfigs.files);
  if (script) io.out(`Found ${script}: the script the loop changes and runs (\`${run}\`).`);
  else io.err(noScriptText(cwd, run));
  if (interpreter.why && interpreter.found) io.out(interpreter.why);
  else if (interpreter.why) io.err(interpreter.why);
  if (takesConfig) io.out(takesConfig.text);
  if (yamlConfigs) io.out(yamlConfigs.text);
  const ignoredEditable = await gitIgnored(cwd, editable.filter((f) => !/[*?[{]/.test(f) && existsSync(join(cwd, f))));
  if (ignoredEditable.length) {
    io.err(`${ignoredEditable.join(', ')} ${ignoredEditable.length === 1 ? 'is' : 'are'} ignored by git; \`git check-ignore -v ${ignoredEditable[0]}\` names the rule (\`data/\` also matches configs/data/, \`/data/\` only the top folder). So no experiment's commit has ${ignoredEditable.length === 1 ? 'it' : 'them'} and nothing there can be tuned: change the rule, then \`git add\` and commit ${ignoredEditable.length === 1 ? 'it' : 'them'}.`);
  }
  const inputs = await sharedPreview(cwd, readonly);
  if (inputs) io.out(inputs);

  // A session works from the repository root (each experiment is a whole checkout): from a folder below it, the config
  // names files from the root and runs from this folder, as the probe does (minGPT's projects/chargpt).
  const root = (await repositoryRoot(cwd)) ?? cwd;
  const { below, file: fromRoot, run: inFolder } = fromRepositoryRoot(root, cwd);
  const runFromRoot = inFolder(run);
  if (below) io.out(`This folder is ${below}/ of the repository at ${root}. A session works from the repository root, so the config names files from there (${fromRoot(editable[0]!)}) and runs \`${runFromRoot}\`.`);

  let metric = GUESS;
  if (o.probe && !script) io.err('Not running anything to find the metric: there is no script to run.');
  else if (o.probe) metric = await probe(root, { command: runFromRoot, tag, budget, budgetSeconds }, io);

  // The same minDelta the editor's wizard suggests: a share of the parent's value where the probe read one.
  const minDelta = metric.value === undefined ? null : suggestMinDelta(metric.value);
  if (minDelta) io.out(`minDelta: ${minDelta.value}. ${minDelta.why}`);
  let text = configTemplate({
    tag, editable: editable.map(fromRoot), readonly: readonly.map(fromRoot), run: runFromRoot, budget, ...(minDelta ? { minDelta: minDelta.value } : {}),
    metricName: metric.name, direction: metric.direction, maxExperiments: 20, proposer: 'mutate', policy: 'tree', notes: has('program.md') ? 'program.md' : null,
    ...(metric.atBudget ? { atBudget: 'last' as const } : {}),
  });
  text = withMetricPattern(text, metric.pattern, metric.comments);
  if (metric.progress) text = withProgressPattern(text, metric.progress.pattern, metric.progress.comments);
  if (!script) text = text.replace(/^run: /m, () => `# FIX ME: \`autoresearch init\` found no training script (${SCRIPTS.join(', ')}); set run and editable.\nrun: `);
  else if (takesConfig) text = text.replace(/^run: /m, () => `${takesConfig.comment.map((l) => `# ${l}`).join('\n')}\nrun: `);
  if (yamlConfigs) text = text.replace(/^editable: /m, () => `# ${yamlConfigs.comment}\neditable: `);
  if (interpreter.why) text = text.replace(/^run: /m, () => `# ${interpreter.found ? '' : 'FIX ME: '}${interpreter.why}\nrun: `);
  // The engine's own parser checks what is written: init never leaves a config that \`run\` refuses.
  parseConfig(text);
  writeFileSync(path, text);
  io.out(`Wrote ${path}\n  editable: ${editable.map(fromRoot).join(', ')}${script ? '' : ' (placeholder: not found)'}\n  protected: ${readonly.map(fromRoot).join(', ') || '(none found)'}\n  run: ${runFromRoot}\n  budget: ${budget}\n  metric: ${metric.name}, ${metric.direction}${metric.pattern ? `, pattern ${metric.pattern}` : ' (the default pattern: a line "' + metric.name + ': <value>")'}`);
  // What the built-in proposer will change, read as it reads an experiment's worktree: a user sees it before the first run.
  if (script) io.out(describeSearchSpace(scanSearchSpace(cwd, editable, await ignoredHere(cwd)), editable));
  io.out(`Review it (${o.probe ? 'the metric above' : 'metric name and pattern'}, budget), commit your code, then \`autoresearch run\`.${o.probe || !script ? '' : ' `autoresearch init --probe --force` runs the script once to find the metric.'}`);
  // Written, but not ready to run: a script to name, or a metric the probe did not find. A script that goes on to
  // \`autoresearch run\` stops here (exit code 1: the config is there to fix).
  return !script || (o.probe && metric.pattern === null) ? 1 : 0;
}

/** `init --probe` with a config here: runs its `run:` once and sets the metric it finds; the other keys stay as written. */
async function reprobe(cwd: string, text: string, config: ResearchConfig, limit: { budget: string; budgetSeconds: number } | null, io: Io): Promise<number> {
  const path = join(cwd, CONFIG_FILE);
  io.out(`Probing the run command of ${CONFIG_FILE}, \`${config.run}\`; only its metric changes, and only if the probe finds one.`);
  // As a session runs it: from the repository root, whichever folder the config is in.
  const metric = await probe((await repositoryRoot(cwd)) ?? cwd, { command: config.run, tag: config.tag, ...(limit ?? { budget: config.budgetText, budgetSeconds: config.budgetSeconds }) }, io);
  if (metric.pattern === null) {
    io.err(`${CONFIG_FILE} is left as it was (metric: ${config.metric.name}, ${config.metric.direction}).`);
    return 1;
  }
  let next = withProbedMetric(text, { name: metric.name, direction: metric.direction, pattern: metric.pattern }, metric.comments);
  // A progress pattern of the user's own stays; one is added only where there is none.
  const addProgress = next !== null && metric.progress && (config.progress ?? null) === null;
  if (next !== null && addProgress) next = withProgressPattern(next, metric.progress!.pattern, metric.progress!.comments);
  const addAtBudget = next !== null && metric.atBudget && config.atBudget !== 'last';
  if (next !== null && addAtBudget) next = withAtBudgetLast(next);
  if (next === null) {
    io.err(`${CONFIG_FILE} is left as it was: its metric is not a mapping init can edit. Set it to {name: ${metric.name}, direction: ${metric.direction}, pattern: '${metric.pattern.replace(/'/g, "''")}'}.`);
    return 1;
  }
  // The engine's own parser checks what is written.
  parseConfig(next);
  writeFileSync(path, next);
  io.out(`Updated ${path}: metric ${config.metric.name} (${config.metric.direction}) -> ${metric.name} (${metric.direction}), pattern ${metric.pattern}${addProgress ? ', and progress (the learning curve)' : ''}${addAtBudget ? ', and atBudget: last' : ''}; the other keys are as they were.`);
  // Only the metric changes; a minDelta of 0 (what init writes without a probe) is worth a word.
  if (metric.value !== undefined && config.minDelta === 0 && config.minDeltaShare === undefined) {
    const s = suggestMinDelta(metric.value);
    io.out(`minDelta is 0 in ${CONFIG_FILE}: ${s.why.replace(/^At 0 /, 'at 0 ')} Set \`minDelta: ${s.value}\` there to take it.`);
  }
  io.out('Review the metric above, commit your code, then `autoresearch run`.');
  return 0;
}

function tailOf(log: string): string {
  return logTail(log).map((l) => `    ${truncate(l, 160)}`).join('\n') || '    (it printed nothing)';
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
  const untrackedBefore = new Set(await untrackedHere(cwd));
  const started = Date.now();
  const ticker = io.isTTY ? setInterval(() => process.stdout.write(`\r\x1b[2K  running: ${fmtRunClock(Date.now() - started, r.budgetSeconds * 1000)}`), 1000) : null;
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
  // The probe runs in the checkout: what it wrote there (makemore's out/model.pt) is in the next `git add -A`.
  const written = (await untrackedHere(cwd)).filter((p) => !untrackedBefore.has(p) && !p.split('/').includes(STATE_DIR) && !p.endsWith(CONFIG_FILE));
  if (written.length) {
    const shown = written.slice(0, 5).map((p) => `\`${p}\``).join(', ') + (written.length > 5 ? ` and ${written.length - 5} more` : '');
    io.err(`The run wrote ${shown} here, which git does not ignore: \`git add -A\` would commit ${written.length === 1 ? 'it' : 'them'} with your code, into the baseline and every experiment. Add ${written.length === 1 ? 'it' : 'them'} to .gitignore (what a run writes is not code; the engine does not share it between runs either).`);
  }
  let comments: string[] = [];
  let tailShown = result.startError !== undefined;
  if (result.startError) {
    io.err(`It could not start: ${result.startError}`);
    comments = [`FIX ME: \`${r.command}\` could not start when init ran it (${result.startError}).`];
  } else if (result.timedOut) {
    // ng-video-lecture's gpt.py on a CPU printed only `10.788929 M parameters` in 90 s: its first evaluation comes later.
    if (!candidates.length) io.err(`It was still running at the budget (${r.budget}) and was stopped after ${took}, before it printed anything that looks like a metric: its first evaluation comes later than that. Every experiment would end the same way, as a crash: make the script stop in time (it gets AUTORESEARCH_BUDGET_SECONDS), make a run smaller (fewer steps, a smaller model, fewer evaluation batches) or give a larger --budget.`);
    comments = [`Note: \`${r.command}\` was still running at the ${r.budget} budget when init ran it; the metric is from what it printed by then.`];
  } else if (interrupted) {
    io.out(`Stopped after ${took}; looking for the metric in what it printed so far.`);
  } else if (result.exitCode !== 0) {
    tailShown = true;
    io.err(`It failed: ${result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`} after ${took}. Last lines of the log:\n${tailOf(log)}`);
    comments = [`Note: \`${r.command}\` failed (${result.signal ?? `exit code ${result.exitCode}`}) when init ran it; the metric below is a guess from what it printed.`];
    // What a run would be told (the wrong Python on PATH, and the one that has the module): the probe runs in the checkout.
    const hint = explainCrash(log.slice(-8192), { worktree: cwd, root: cwd, run: r.command, shared: null, leftOut: [] });
    if (hint) {
      io.err(`To fix it: ${hint}, then \`autoresearch init --probe --force\` again.`);
      comments.push(`FIX ME: ${hint}.`);
    }
  } else {
    io.out(`Finished in ${took} (exit code 0).`);
    const share = result.wallMs / (r.budgetSeconds * 1000);
    if (share < 0.1) {
      const fits = Math.max(10, Math.ceil((3 * result.wallMs) / 1000));
      io.out(`That is ${share < 0.01 ? 'under 1 %' : `${Math.round(share * 100)} %`} of the ${r.budget} budget. Early stopping compares runs at the same share of the budget and never before 25 % of it, so it cannot stop runs this short; a budget of about 3× this run (\`budget: ${fits}s\` in ${CONFIG_FILE}) lets it, and leaves room for changes that make a run slower.`);
    } else if (closeToBudget(result.wallMs, r.budgetSeconds)) {
      io.err(`That is ${Math.round(share * 100)} % of the ${r.budget} budget: ${NEAR_BUDGET_RISK}. \`budget: ${budgetWithRoom(result.wallMs)}\` in ${CONFIG_FILE} is about twice this run.`);
    }
  }

  const best = candidates[0];
  if (!best) {
    io.err(`Nothing it printed looks like a metric (a name and a number, like "val_loss: 0.35").${tailShown ? '' : ` Last lines of the log:\n${tailOf(log)}`}\nThe config gets the default, ${GUESS.name} (${GUESS.direction}) read from a line "${GUESS.name}: <value>": make the script print it, or set metric.name and metric.pattern.`);
    return { ...GUESS, comments: [...comments, `FIX ME: init ran \`${r.command}\` and found no metric in its output; print "${GUESS.name}: <value>" or set name and pattern to what it prints.`] };
  }
  const direction: Direction = best.direction ?? 'minimize';
  io.out(`Metric: ${best.name}, ${best.direction ?? 'direction unknown from its name: written as minimize, check it'}; ${best.matches} line${best.matches === 1 ? '' : 's'}, the last reads ${best.valueText}`);
  io.out(`  matched: ${truncate(best.line, 160)}`);
  io.out(`  pattern: ${best.pattern}`);
  const trainingOnly = trainingOnlyWarning(best, candidates);
  if (trainingOnly) io.err(trainingOnly);
  const others = candidates.slice(1, 4);
  if (others.length) io.out(`Other candidates:\n${others.map((c) => `  ${candidateLine(c)}`).join('\n')}`);
  const curve = progressCandidate(candidates, best);
  if (curve) {
    io.out(`Learning curve: ${curve.name} in the step lines (${curve.matches} lines, the last reads ${curve.valueText}), set as progress, so that early stopping and the curves in \`show\` and the summary have points on the way:`);
    io.out(`  progress: ${curve.pattern}`);
  }
  // A run that prints its metric as it goes but stops at a step count, not a time (nanoGPT's max_iters): every
  // experiment would time out; judged on the last value it printed by the budget, every run compares at equal time.
  const atBudget = result.timedOut && !interrupted;
  if (atBudget) {
    io.out(`It was still running at the budget (${r.budget}) and was stopped after ${took}, but it printed ${best.name} as it went: the config judges each run on the last value it printed when the budget stops it (atBudget: last), so runs compare at equal time. To compare at equal steps instead, make the script stop in time (it gets AUTORESEARCH_BUDGET_SECONDS) or raise \`budget\` in ${CONFIG_FILE}, and take atBudget out.`);
  }
  const value = Number(best.valueText);
  return {
    ...(atBudget ? { atBudget } : {}),
    ...(Number.isFinite(value) ? { value } : {}),
    progress: curve ? { pattern: curve.pattern, comments: [`The learning curve (found by \`autoresearch init --probe\`): ${curve.name} in lines like`, `  ${truncate(curve.line, 200)}`] } : null,
    name: best.name, direction, pattern: best.pattern,
    comments: [
      ...comments,
      `Found by \`autoresearch init --probe\`: the last of ${best.matches} matching line${best.matches === 1 ? '' : 's'} of its output was`,
      `  ${truncate(best.line, 200)}`,
      ...(best.direction ? [] : [`FIX ME: the direction of ${best.name} is a guess (minimize); set it.`]),
      ...(others.length ? ['Other candidates (name: pattern):', ...others.map((c) => `  ${c.name}: ${c.pattern}`)] : []),
    ],
  };
}

function candidateLine(c: MetricCandidate): string {
  return `${c.name} (${c.direction ?? 'direction unknown'}) = ${c.valueText}: ${truncate(c.line, 100)}`;
}

/**
 * nanoGPT and the scripts made from it read their settings from a Python file named after the script
 * (`python train.py config/train_shakespeare_char.py`, applied by configurator.py): run bare, they train the script's
 * defaults (GPT-2 on openwebtext, on CUDA). Says which config files there are, which of them have their dataset
 * prepared, and the run line for one (`adopt`: the only one whose data is prepared, which the run then uses); null
 * when the script takes no such file.
 */
function configFileNote(cwd: string, script: string, run: string): { text: string; comment: string[]; adopt: string | null; line: string } | null {
  if (!script.endsWith('.py')) return null;
  let source: string;
  try {
    source = readFileSync(join(cwd, script), 'utf8');
  } catch {
    return null;
  }
  if (!/\bconfigurator\b|exec\(\s*open\(/.test(source)) return null;
  const dir = ['config', 'configs'].find((d) => existsSync(join(cwd, d)));
  if (!dir) return null;
  const files = readdirSync(join(cwd, dir)).filter((f) => f.endsWith('.py')).sort().map((f) => `${dir}/${f}`);
  if (files.length === 0) return null;
  // A config whose `dataset = 'x'` has data/x prepared (files besides the prepare script and its notes) is ready to run.
  const ready = files.filter((f) => {
    const dataset = /^dataset\s*=\s*['"]([\w.-]+)['"]/m.exec(readFileSync(join(cwd, f), 'utf8'))?.[1];
    const data = dataset ? join(cwd, 'data', dataset) : null;
    return data !== null && existsSync(data) && readdirSync(data).some((x) => !/\.(py|md|txt)$/i.test(x));
  });
  // Exactly one config with its data prepared is the one the user means: the run trains with it.
  const adopt = ready.length === 1 ? ready[0]! : null;
  const pick = ready[0] ?? files[0]!;
  const cpu = /^device\s*=\s*['"]cuda/m.test(source) && !hasNvidiaSmi() ? ` --device=cpu${/^compile\s*=\s*True/m.test(source) ? ' --compile=False' : ''}` : '';
  const line = `${run} ${pick}${cpu}`;
  const names = (all: string[]): string => {
    const listed = all.map((f) => f.slice(dir.length + 1) + (ready.includes(f) ? ' (its data is prepared)' : ''));
    return listed.length > 8 ? `${listed.slice(0, 8).join(', ')} and ${listed.length - 8} more` : listed.join(', ');
  };
  const noGpu = cpu ? ` (${cpu.trim()}: no GPU here)` : '';
  const head = `${script} takes a config file after it (exec of configurator.py); run bare, it trains its own defaults. ${dir}/ has ${names(files)}.`;
  if (adopt) {
    return {
      adopt, line,
      text: `${head}\n  The run trains with ${adopt}, the one whose data is prepared${noGpu}, and it is editable too, so that its settings can be tuned.`,
      comment: [`${script} takes a config file after it: ${dir}/ has ${names(files)}; init chose ${adopt}, the one whose data is prepared.`],
    };
  }
  return {
    adopt, line,
    text: `${head}\n  To train with one, set \`run: ${line}\` and add ${pick} to editable, so that its settings can be tuned${noGpu}.`,
    comment: [`${script} takes a config file after it: ${dir}/ has ${names(files)}.`, `For one of them: run: ${line}  (and add ${pick} to editable)`],
  };
}

// Config groups of a Hydra defaults list that hold no setting of the model or its training: where files go, logging,
// callbacks, Hydra's own, debugging and sweeps. Their files are not made editable.
const NOT_TUNED_GROUPS = new Set(['hydra', 'paths', 'logger', 'callbacks', 'extras', 'debug', 'local', 'hparams_search', 'launcher', 'sweeper']);

/**
 * A script that reads its settings from YAML files (Hydra's `@hydra.main`, OmegaConf, PyYAML) in configs/, conf/ or
 * config/: the primary config and the files its defaults list selects (`- model: mnist` is configs/model/mnist.yaml), so
 * that the settings can be tuned where they are written; every YAML file of the folder when there is no such list.
 * Null when the script reads no YAML or there is no such folder.
 */
function yamlConfigNote(cwd: string, script: string): { files: string[]; text: string; comment: string } | null {
  let source: string;
  try {
    source = readFileSync(join(cwd, script), 'utf8');
  } catch {
    return null;
  }
  if (!/^\s*(?:import|from)\s+(?:yaml|hydra|omegaconf)\b/m.test(source)) return null;
  const main = /@hydra\.main\(([^)]*)\)/.exec(source)?.[1] ?? '';
  const arg = (k: string) => new RegExp(`${k}\\s*=\\s*['"]([^'"]+)['"]`).exec(main)?.[1];
  const hydraPath = arg('config_path');
  const fromScript = hydraPath ? normalize(join(dirname(script), hydraPath)).replace(/\\/g, '/').replace(/\/$/, '') : null;
  const dir = [fromScript, 'configs', 'conf', 'config'].find((d): d is string => !!d && !d.startsWith('..') && isDir(join(cwd, d)));
  if (!dir) return null;
  const yamls = readdirSync(join(cwd, dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const stem = script.replace(/^.*\//, '').replace(/\.\w+$/, '');
  const wanted = (arg('config_name') ?? stem).replace(/\.ya?ml$/, '');
  const primary = [`${wanted}.yaml`, `${wanted}.yml`, 'config.yaml', 'config.yml'].find((f) => yamls.includes(f)) ?? (yamls.length === 1 ? yamls[0]! : null);
  const everything = (): { files: string[]; text: string; comment: string } => ({
    files: [`${dir}/**/*.yaml`],
    text: `${script} reads its settings from YAML files in ${dir}/: ${dir}/**/*.yaml is editable too, so that their values can be tuned (what the run command sets, key=value, is left alone).`,
    comment: `${script} reads its settings from ${dir}/: its YAML files are editable, so that their values can be tuned.`,
  });
  if (!primary) return yamls.length || readdirSync(join(cwd, dir)).some((f) => isDir(join(cwd, dir, f))) ? everything() : null;
  let defaults: unknown;
  try {
    defaults = (parseYaml(readFileSync(join(cwd, dir, primary), 'utf8')) as { defaults?: unknown } | null)?.defaults;
  } catch {
    return everything();
  }
  const chosen: string[] = [];
  for (const entry of Array.isArray(defaults) ? defaults : []) {
    // `- base` (a config of the same folder, merged in), besides `_self_`.
    if (typeof entry === 'string' && entry !== '_self_') {
      const file = [`${dir}/${entry}.yaml`, `${dir}/${entry}.yml`].find((f) => existsSync(join(cwd, f)));
      if (file && !NOT_TUNED_GROUPS.has(entry.split('/')[0]!)) chosen.push(file);
      continue;
    }
    if (!entry || typeof entry !== 'object') continue;
    for (const [key, option] of Object.entries(entry as Record<string, unknown>)) {
      // `optional local`, `override hydra/launcher`, `model@net`: the group is the path before any @.
      const group = key.replace(/^(?:optional|override)\s+/, '').replace(/@.*$/, '').trim();
      if (typeof option !== 'string' || NOT_TUNED_GROUPS.has(group.split('/')[0]!)) continue;
      const file = [`${dir}/${group}/${option}.yaml`, `${dir}/${group}/${option}.yml`].find((f) => existsSync(join(cwd, f)));
      if (file) chosen.push(file);
    }
  }
  const files = [`${dir}/${primary}`, ...chosen];
  const picked = chosen.map((f) => f.slice(dir.length + 1).replace(/\.ya?ml$/, ''));
  const selects = picked.length ? `, whose defaults list selects ${picked.join(', ')}` : '';
  return {
    files,
    text: `${script} reads its settings from ${dir}/${primary}${selects}: ${picked.length ? 'those files are' : 'it is'} editable too, so that their values can be tuned (what the run command sets, key=value, is left alone; another option of a group, such as model=cnn on the command line, needs its file added to editable).`,
    comment: `${script} reads its settings from ${dir}/${primary}${selects}; they are editable so that their values can be tuned.`,
  };
}

/**
 * What git ignores here that every experiment will get as links (the session's automatic `shared` choice), and what it
 * leaves out as outputs: prepared data is the input a worktree lacks (issue 10). Null outside git or with nothing ignored.
 */
async function sharedPreview(cwd: string, readonly: readonly string[]): Promise<string | null> {
  let plan;
  try {
    const lab = await Lab.open(cwd);
    plan = planShared({ root: lab.root, snapshotDir: join(lab.root, STATE_DIR, 'init'), shared: null, readonly, ignored: await lab.untracked(true), untracked: await lab.untracked(false) });
  } catch {
    return null;
  }
  // The session's own record at the root is no output of the user's runs.
  const leftOut = plan.leftOut.filter((p) => p !== 'results.tsv' && p !== 'autoresearch-summary.md');
  if (plan.links.length === 0 && leftOut.length === 0) return null;
  const list = (xs: readonly string[]) => (xs.length > 6 ? `${xs.slice(0, 6).join(', ')} and ${xs.length - 6} more` : xs.join(', '));
  const linked = plan.links.length ? `Every experiment gets links to what git ignores here: ${list(plan.links.map((l) => l.path))}` : 'Nothing git ignores here is shared with the experiments';
  return `${linked}${leftOut.length ? ` (left out as outputs: ${list(leftOut)})` : ''}; \`shared:\` in the config chooses instead.`;
}

/** Untracked paths git does not ignore, a new folder whole (`out/`); none outside a repository. */
async function untrackedHere(cwd: string): Promise<string[]> {
  try {
    return await (await Lab.open(cwd)).untracked(false);
  } catch {
    return [];
  }
}

/** Which of these files git ignores here (none outside a git repository). */
async function gitIgnored(cwd: string, files: readonly string[]): Promise<string[]> {
  return files.length === 0 ? [] : files.filter(await ignoredHere(cwd));
}

/** Whether git ignores a path (relative to cwd) here: never outside a git repository. */
async function ignoredHere(cwd: string): Promise<(file: string) => boolean> {
  try {
    const lab = await Lab.open(cwd);
    // Ignored folders come whole (`configs/data/`), files by name.
    const ignored = await lab.untracked(true);
    return (f) => {
      const p = relative(lab.root, join(cwd, f)).replace(/\\/g, '/');
      return ignored.some((i) => p === i || (i.endsWith('/') && p.startsWith(i)));
    };
  } catch {
    return () => false;
  }
}

function hasNvidiaSmi(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, 'nvidia-smi')));
}

/** Like the original loop's tags: the date, as in `nov25`. */
function defaultTag(d = new Date()): string {
  return d.toLocaleString('en-US', { month: 'short' }).toLowerCase() + d.getDate();
}

/**
 * The interpreter for a Python script: python3 on PATH, unless it cannot import what the script imports at its top
 * (torch) and another interpreter can, as when pyenv's python3 is first on PATH and torch came from Debian for
 * /usr/bin/python3. `why` says what was chosen and why; `found` is false when no interpreter here has it.
 */
async function pythonFor(cwd: string, script: string): Promise<{ python: string; why: string | null; found: boolean }> {
  const python = await pythonCommand();
  let source = '';
  try {
    source = readFileSync(join(cwd, script), 'utf8');
  } catch {
    return { python, why: null, found: true };
  }
  const imported = [...new Set([...source.matchAll(/^(?:import|from)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!))];
  if (imported.length === 0) return { python, why: null, found: true };
  const { execa } = await import('execa');
  // Run in the checkout, so that the script's own modules (model.py) are found as the run finds them: `python src/train.py`
  // also finds those beside it (src/models.py), its folder being the first on sys.path.
  const check = 'import importlib.util, sys; sys.path.insert(0, sys.argv[1]); print(" ".join(m for m in sys.argv[2:] if importlib.util.find_spec(m) is None))';
  const r = await execa(python, ['-c', check, dirname(script) === '.' ? '' : dirname(script), ...imported], { cwd, reject: false }).catch(() => null);
  const unfound = r && r.exitCode === 0 ? String(r.stdout).trim().split(/\s+/).filter(Boolean) : [];
  // The repository's own package in a folder above (minGPT's mingpt/ for projects/chargpt/chargpt.py): found on
  // PYTHONPATH, as its README runs it, not in another interpreter.
  const own = await ownPackages(cwd, unfound);
  const missing = unfound.filter((m) => !own.modules.includes(m));
  const path = own.path ? `PYTHONPATH=${own.path} ` : '';
  const ownWhy = own.path ? `${own.modules.join(', ')} ${own.modules.length === 1 ? 'is' : 'are'} this repository's own (in ${own.path}), which python finds on PYTHONPATH: the run sets \`PYTHONPATH=${own.path}\`.` : '';
  if (missing.length === 0) return { python: `${path}${python}`, why: ownWhy || null, found: true };
  const other = interpretersWith(missing, process.env.PATH ?? '', whichReal(python, process.env.PATH ?? '', cwd))[0];
  const names = missing.join(', ');
  const sep = ownWhy ? ' ' : '';
  return other
    ? { python: `${path}${other}`, why: `${ownWhy}${sep}${python} on PATH cannot import ${names}, which ${script} imports; ${other} can, so the run uses it.`, found: true }
    : { python: `${path}${python}`, why: `${ownWhy}${sep}${python} on PATH cannot import ${names}, which ${script} imports, and no other interpreter here can: install ${missing.length > 1 ? 'them' : 'it'}, or set run to the interpreter that has ${missing.length > 1 ? 'them' : 'it'}.`, found: false };
}

/**
 * Which of `modules` are packages or modules of this repository in a folder above `cwd` (up to its root), and that
 * folder from `cwd` (`../..`): the first folder up that has any of them.
 */
async function ownPackages(cwd: string, modules: readonly string[]): Promise<{ modules: string[]; path: string | null }> {
  const root = await repositoryRoot(cwd);
  if (!root || modules.length === 0) return { modules: [], path: null };
  for (let dir = dirname(cwd); relative(root, dir).split(/[\\/]/)[0] !== '..'; dir = dirname(dir)) {
    const found = modules.filter((m) => existsSync(join(dir, m, '__init__.py')) || existsSync(join(dir, `${m}.py`)));
    if (found.length) return { modules: found, path: relative(cwd, dir).replace(/\\/g, '/') };
    if (dir === root || dirname(dir) === dir) break;
  }
  return { modules: [], path: null };
}

async function pythonCommand(): Promise<string> {
  const { execa } = await import('execa');
  for (const cand of ['python3', 'python']) {
    const r = await execa(cand, ['--version'], { reject: false }).catch(() => null);
    if (r && r.exitCode === 0) return cand;
  }
  return 'python3';
}
