// The research-config wizard: eleven short steps with defaults read from the workspace and the user's
// settings; writes autoresearch.config.yaml with the engine's own template, checks it with the engine's
// parser, and shows it beside a confirmation that leaves it in view.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE, parseDuration } from '../../core/config.js';
import { checkMinDelta, configTemplate, fromRepositoryRoot, suggestMinDelta, type TemplateOptions } from '../../core/configTemplate.js';
import { Lab } from '../../core/git.js';
import { logTail, probeRun, trainingOnlyWarning, withMetricPattern, type MetricCandidate, type ProbeRun } from '../../core/metricProbe.js';
import { dataFilesRead } from '../../core/dataFiles.js';
import { STATE_DIR } from '../../core/files.js';
import { fmtDuration, fmtRunClock, truncate } from '../../shared/format.js';
import { confirmPick } from '../confirm.js';
import { Settings } from '../constants.js';
import { languageModelAvailable } from '../lm/register.js';
import { defaultTag, detect, guessDirection, metricNames, readScript } from './detect.js';
import { InputButton, MultiStepInput, type Step } from './multiStepInput.js';
import { checkWrittenConfig, proposerChoices, type ProposerChoice } from './proposerChoices.js';

const TITLE = 'Create the research config';
const STEPS = 11;
const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface Item extends vscode.QuickPickItem {
  value: string;
}

interface ProposerItem extends vscode.QuickPickItem {
  choice: ProposerChoice;
}

interface CandidateItem extends vscode.QuickPickItem {
  candidate: MetricCandidate | undefined;
}

/** Runs the command once with a cancellable notification, as `autoresearch init --probe` does. */
function probeWithProgress(folder: string, command: string, budget: string, tag: string): Thenable<ProbeRun> {
  const budgetSeconds = parseDuration(budget) ?? 300;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Running \`${command}\` once to find the metric (up to ${budget})`, cancellable: true }, async (progress, token) => {
    const stop = new AbortController();
    const cancel = token.onCancellationRequested(() => stop.abort());
    const started = Date.now();
    const ticker = setInterval(() => progress.report({ message: `${fmtRunClock(Date.now() - started, budgetSeconds * 1000)}; Cancel stops it and uses what it printed so far` }), 1000);
    try {
      return await probeRun({ cwd: folder, command, budgetSeconds, tag, signal: stop.signal });
    } finally {
      clearInterval(ticker);
      cancel.dispose();
    }
  });
}

/** What became of the run, in a few words, for the pick's placeholder. */
function runOutcome(run: ProbeRun): string {
  const r = run.result;
  if (r.startError) return `could not start: ${r.startError}`;
  if (r.timedOut) return 'was still running at the budget and stopped';
  if (r.signal) return `stopped (${r.signal})`;
  return r.exitCode === 0 ? `finished in ${fmtDuration(r.wallMs)}` : `failed with exit code ${r.exitCode}`;
}

async function sessionBranches(root: string): Promise<Set<string>> {
  try {
    return await (await Lab.open(root)).sessionBranchTags();
  } catch {
    return new Set();
  }
}

export interface WizardResult {
  path: string;
  /** The person confirmed it: start the session now. */
  start: boolean;
}

/**
 * Asks for everything a config needs and writes it to `<folder>/autoresearch.config.yaml`.
 * Resolves undefined when cancelled (nothing is written).
 */
export async function runConfigWizard(folder: string, repoRoot: string): Promise<WizardResult | undefined> {
  const settings = vscode.workspace.getConfiguration();
  const found = await detect(folder, vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath'));
  const branches = await sessionBranches(repoRoot);
  // A language model (Copilot or another provider) is the default proposer when there is one and the user set none.
  const lm = await languageModelAvailable().catch(() => false);
  const proposerSetting = settings.inspect<string>(Settings.proposer);
  const proposerSet = proposerSetting?.workspaceFolderValue ?? proposerSetting?.workspaceValue ?? proposerSetting?.globalValue;
  const taken = (t: string) => branches.has(t) || existsSync(join(repoRoot, STATE_DIR, t));
  // The answers are relative to this folder; the config names them from the repository root, where a session works.
  const place = fromRepositoryRoot(repoRoot, folder);

  const a: TemplateOptions = {
    tag: defaultTag(taken),
    editable: [],
    readonly: [],
    run: '',
    budget: settings.get<string>(Settings.budget, '5m'),
    metricName: 'val_loss',
    direction: 'minimize',
    maxExperiments: settings.get<number>(Settings.maxExperiments, 20),
    proposer: proposerSet ?? (lm ? 'vscode-lm' : 'mutate'),
    policy: settings.get<string>(Settings.policy, 'tree'),
    notes: found.notes,
  };
  let script = found.scripts[0] ?? 'train.py';
  // Set when the metric was found by running the script once: its pattern, where it was read and its last value.
  let probed = null as { name: string; direction: TemplateOptions['direction']; pattern: string; comments: string[]; value: number } | null;
  // The answers to the chosen proposer's own questions, by key; kept when the person steps back and forth.
  const proposerAnswers = new Map<string, Record<string, string>>();

  const pickScript: Step = async (input) => {
    const items: Item[] = found.scripts.slice(0, 30).map((f) => ({ label: f, value: f, description: f === found.scripts[0] ? 'detected' : undefined }));
    items.push({ label: '$(edit) Another file…', value: '', description: 'type a path relative to the folder' });
    const pick = await input.pick({ title: TITLE, step: 1, totalSteps: STEPS, items, placeholder: 'The training script: the file the loop changes and runs' });
    if (pick.value) script = pick.value;
    else {
      script = await input.input({
        title: TITLE, step: 1, totalSteps: STEPS, value: script, prompt: 'Path of the training script, relative to the workspace folder',
        validate: (v) => (!v.trim() ? 'Enter a path' : existsSync(join(folder, v.trim())) ? undefined : `There is no ${v.trim()} in this folder`),
      });
    }
    return pickProtected;
  };

  const pickProtected: Step = async (input) => {
    // The data the chosen script reads by name (`open('input.txt')`) is ticked, as prepare.py is.
    const reads = dataFilesRead(folder, script);
    const guesses = [...found.protectedGuesses, ...reads];
    const names = [...guesses, ...found.otherFiles.filter((f) => f !== script && /\.(py|ts|js|sh|json|ya?ml|toml|cfg)$/.test(f))].filter((f, i, all) => all.indexOf(f) === i).slice(0, 40);
    const items: Item[] = names.map((f) => ({ label: f, value: f, description: reads.includes(f) ? `data ${script} reads` : found.protectedGuesses.includes(f) ? 'data or evaluation' : undefined }));
    const selected = items.filter((i) => guesses.includes(i.value) || a.readonly.includes(i.value));
    const picks = await input.pick({
      title: TITLE, step: 2, totalSteps: STEPS, items, selected, canSelectMany: true,
      placeholder: 'Protected files: data and evaluation the loop must never change (none is fine)',
    });
    a.readonly = picks.map((p) => p.value);
    return inputRun;
  };

  const inputRun: Step = async (input) => {
    const suggested = a.run || (script.endsWith('.py') ? `${found.python} ${script}` : script.endsWith('.sh') ? `bash ${script}` : `node ${script}`);
    a.run = await input.input({
      title: TITLE, step: 3, totalSteps: STEPS, value: suggested,
      prompt: place.below
        ? `The command that runs one experiment, from this folder (it gets AUTORESEARCH_BUDGET_SECONDS). A session works from the repository root, so the config runs it as \`${place.run('…')}\``
        : 'The command that runs one experiment, from the repository root (it gets AUTORESEARCH_BUDGET_SECONDS)',
      validate: (v) => (v.trim() ? undefined : 'Enter a command'),
    });
    return inputBudget;
  };

  const inputBudget: Step = async (input) => {
    a.budget = await input.input({
      title: TITLE, step: 4, totalSteps: STEPS, value: a.budget,
      prompt: 'Wall-clock budget per experiment (90s, 5m, 1h): past it, the run is terminated',
      validate: (v) => (parseDuration(v) === null ? 'A duration like 90s, 5m or 1h' : undefined),
    });
    return inputMetric;
  };

  const runOnce = new InputButton(new vscode.ThemeIcon('play'), 'Run the script once to find the metric in what it prints');
  const inputMetric: Step = async (input) => {
    const names = metricNames(readScript(folder, script));
    if (!probed && names.length && !names.includes(a.metricName)) a.metricName = names[0]!;
    for (;;) {
      const answer = await input.input({
        title: TITLE, step: 5, totalSteps: STEPS, value: a.metricName, buttons: [runOnce],
        prompt: `The metric: the script prints a line "<name>: <value>"${names.length ? ` (found in ${script}: ${names.slice(0, 5).join(', ')})` : ''}. ▶ runs it once to find the metric.`,
        validate: (v) => (/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(v.trim()) ? undefined : 'Letters, digits and _ . / - (e.g. val_loss)'),
      });
      if (typeof answer === 'string') {
        // A name typed over the probed one drops its pattern: the default `^<name>:` is read instead.
        if (probed?.name !== answer) probed = null;
        a.metricName = answer;
        a.direction = probed?.direction ?? guessDirection(a.metricName);
        return pickDirection;
      }
      // From the root, as a session runs it: the probe's log goes to the repository's .autoresearch/, not this folder's.
      const run = await probeWithProgress(repoRoot, place.run(a.run), a.budget, a.tag);
      if (!run.candidates.length) {
        await vscode.window.showWarningMessage(`The run ${runOutcome(run)}, and nothing it printed looks like a metric (a name and a number, like "val_loss: 0.35").${run.result.timedOut ? ' Make it stop in time or raise the budget, or have it print the metric as it goes.' : ''} Type the name it should print.`, { modal: true, detail: logTail(run.log, 5).join('\n') || '(it printed nothing)' });
        continue;
      }
      const items: CandidateItem[] = run.candidates.slice(0, 8).map((c, i) => ({
        label: c.name, candidate: c,
        description: `${c.direction ?? 'direction unknown'} · last ${c.valueText} · ${c.matches} line${c.matches === 1 ? '' : 's'}${i === 0 ? ' · best guess' : ''}`,
        detail: truncate(c.line, 160),
      }));
      items.push({ label: '$(edit) Type the metric name instead', candidate: undefined });
      const pick = await input.pick<CandidateItem>({ title: TITLE, step: 5, totalSteps: STEPS, items, placeholder: `The run ${runOutcome(run)}${run.result.timedOut ? ': each run will be judged on the last value it printed by then (atBudget: last)' : ''}. Which of the numbers it printed is the metric?` });
      const c = pick.candidate;
      if (!c) continue;
      a.metricName = c.name;
      a.direction = c.direction ?? guessDirection(c.name);
      // Said beside the wizard, not over it: the person may have no held-out metric to offer.
      const trainingOnly = trainingOnlyWarning(c, run.candidates);
      if (trainingOnly) void vscode.window.showWarningMessage(trainingOnly);
      probed = { name: c.name, direction: a.direction, pattern: c.pattern, comments: ['Found by running the script once from the wizard: the last matching line of its output was', `  ${c.line.slice(0, 200)}`], value: Number(c.valueText) };
      // A run still going at the budget that printed the metric as it went (a fixed step count, nanoGPT's max_iters)
      // would time out every time: judged on its last value instead, every run compares at equal time.
      if (run.result.timedOut) a.atBudget = 'last';
      else delete a.atBudget;
      return pickDirection;
    }
  };

  const pickDirection: Step = async (input) => {
    const items: Item[] = [
      { label: 'minimize', value: 'minimize', description: `lower ${a.metricName} is better (loss, error, perplexity)` },
      { label: 'maximize', value: 'maximize', description: `higher ${a.metricName} is better (accuracy, reward)` },
    ];
    const pick = await input.pick({ title: TITLE, step: 6, totalSteps: STEPS, items, active: items.filter((i) => i.value === a.direction), placeholder: `Which way is better for ${a.metricName}?` });
    a.direction = pick.value as TemplateOptions['direction'];
    return inputMinDelta;
  };

  const inputMinDelta: Step = async (input) => {
    const suggestion = suggestMinDelta(probed?.name === a.metricName ? probed.value : null);
    const v = await input.input({
      title: TITLE, step: 7, totalSteps: STEPS, value: a.minDelta === undefined ? suggestion.value : String(a.minDelta),
      prompt: `minDelta: how much a change must beat its parent's ${a.metricName} by to be kept. ${suggestion.why}`,
      validate: checkMinDelta,
    });
    a.minDelta = /%\s*$/.test(v) ? v.trim().replace(/\s*%$/, '%') : Number(v.trim());
    return inputMax;
  };

  const inputMax: Step = async (input) => {
    const v = await input.input({
      title: TITLE, step: 8, totalSteps: STEPS, value: String(a.maxExperiments),
      prompt: 'How many experiments after the baseline (a number, or unlimited)',
      validate: (s) => (s.trim() === 'unlimited' || (/^\d+$/.test(s.trim()) && Number(s) > 0) ? undefined : 'A positive whole number, or unlimited'),
    });
    a.maxExperiments = v === 'unlimited' ? 'unlimited' : Number(v);
    return pickScope;
  };

  const pickScope: Step = async (input) => {
    const dir = script.includes('/') ? script.slice(0, script.lastIndexOf('/') + 1) : '';
    const ext = script.slice(script.lastIndexOf('.'));
    const items: Item[] = [
      { label: `Only ${script}`, value: script, description: 'the proposer changes one file' },
      { label: `${script} and the other ${ext} files ${dir ? `in ${dir}` : 'at the root'}`, value: `${dir}*${ext}`, description: 'protected files stay protected' },
      { label: '$(edit) Custom globs…', value: '' },
    ];
    const pick = await input.pick({ title: TITLE, step: 9, totalSteps: STEPS, items, placeholder: 'Scope of changes: which files a proposal may touch' });
    if (pick.value) a.editable = [pick.value];
    else {
      const globs = await input.input({
        title: TITLE, step: 9, totalSteps: STEPS, value: script, prompt: 'Editable globs, comma-separated (train.py, src/**/*.py)',
        validate: (v) => (v.split(',').some((g) => g.trim()) ? undefined : 'Enter at least one glob'),
      });
      a.editable = globs.split(',').map((g) => g.trim()).filter(Boolean);
    }
    return pickProposer;
  };

  const pickProposer: Step = async (input) => {
    const items: ProposerItem[] = proposerChoices(lm).map((choice) => ({ label: choice.label, description: choice.description, choice }));
    const pick = await input.pick<ProposerItem>({ title: TITLE, step: 10, totalSteps: STEPS, items, active: items.filter((i) => i.choice.kind === a.proposer), placeholder: 'Who proposes the changes' });
    const { kind, questions } = pick.choice;
    a.proposer = kind;
    const answers = proposerAnswers.get(kind) ?? {};
    for (const q of questions) {
      const answer = await input.input({ title: `${TITLE}: ${kind}`, step: 10, totalSteps: STEPS, value: answers[q.key] ?? q.value, prompt: q.prompt, validate: (v) => q.check(v) });
      answers[q.key] = answer.trim();
    }
    proposerAnswers.set(kind, answers);
    if (kind === 'patches') a.patchesDir = answers.dir;
    a.proposerKeys = kind === 'patches' ? undefined : answers;
    return inputTag;
  };

  const inputTag: Step = async (input) => {
    a.tag = await input.input({
      title: TITLE, step: 11, totalSteps: STEPS, value: a.tag,
      prompt: 'Session tag: names the branch autoresearch/<tag> that will point at the best experiment',
      validate: (v) => {
        const t = v.trim();
        if (!TAG_RE.test(t) || t.includes('..') || t.endsWith('.lock') || t.endsWith('.')) return 'Letters, digits, ".", "_" or "-", starting with a letter or digit';
        if (taken(t)) return `A session or branch autoresearch/${t} already exists; choose another tag`;
        return undefined;
      },
    });
  };

  if (!(await MultiStepInput.run(pickScript))) return undefined;

  const written: TemplateOptions = { ...a, editable: a.editable.map(place.file), readonly: a.readonly.map(place.file), run: place.run(a.run) };
  let text = configTemplate(written);
  if (probed) text = withMetricPattern(text, probed.pattern, probed.comments);
  // The engine's own parsers check what was written, the proposer's keys too: the wizard never leaves a config the engine refuses.
  checkWrittenConfig(text);
  const path = join(folder, CONFIG_FILE);
  writeFileSync(path, text);
  // The config opens beside what is open, and the question stays out of its way (not a modal over it): the person
  // reads, scrolls or edits it, then answers. Escape is "not now"; the file stays written either way.
  const beside = vscode.window.visibleTextEditors.length > 0 ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: false, viewColumn: beside });
  const wrote = `${written.editable.join(', ')} changes, ${written.readonly.length ? `${written.readonly.join(', ')} protected` : 'nothing protected'}, ${a.budget} per run, ${a.direction} ${a.metricName}, ${a.maxExperiments} experiments`;
  const pick = await confirmPick<vscode.QuickPickItem & { start: boolean }>({
    title: `Wrote ${CONFIG_FILE}: ${wrote}`,
    placeholder: 'Review the config in the editor, then start the session (Escape: not now)',
    items: [
      { start: true, label: '$(play) Start the session', description: 'the baseline is your last commit: commit the training code first' },
      { start: false, label: '$(edit) Not now: edit the config first', description: 'then ▶ in the editor title starts it' },
    ],
  });
  const start = pick?.start === true;
  // Edits made while the question waited are what the session starts with.
  if (start) await vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path && d.isDirty)?.save();
  return { path, start };
}
