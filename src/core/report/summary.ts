// autoresearch-summary.md: baseline vs best, kept changes ranked, what did not work, crashes and why,
// the tree's shape and next steps. Written from the session model, or from a results.tsv alone.
import { isMeasurement, type SessionModel } from '../model.js';
import { groupByChange, logWins, sessionWins, type RealWins, type Verdict } from './realWins.js';
import { bestIndex, type DirectionChoice, type ParsedResults, type ResultsRow } from '../record/results.js';
import { capReached, hasCap, spendText } from '../spend.js';
import type { Direction, ExperimentNode, NoiseBand, PlatformInfo } from '../types.js';
import { curveRange, sparklines, valueAt } from '../judging/curves.js';
import { bandRule, minDeltaAt, minDeltaText } from '../judging/judge.js';
import { ALPHA } from '../config.js';
import { keptAt, keptByChance, zForAlpha, type ChanceSetting } from '../judging/chance.js';
import { oneLook } from '../random.js';
import { maxRuns } from '../judging/evidence.js';
import { budgetWithRoom, closeToBudget } from '../configTemplate.js';
import { DASH, directionText, fmtCost, fmtDelta, fmtDeltaAsWritten, fmtDuration, fmtMemory, fmtNum, fmtChance, fmtShare, fmtTokens } from '../../shared/format.js';

export const SUMMARY_FILE = 'autoresearch-summary.md';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

export function describePlatform(p: PlatformInfo | null): string {
  if (!p) return 'unknown';
  const acc = p.accelerator === 'cuda'
    ? `${p.gpus.length}× ${p.gpus[0]?.name ?? 'NVIDIA GPU'}`
    : p.accelerator === 'mps' ? 'Apple MPS' : 'CPU only';
  const fw = Object.entries(p.frameworks).map(([k, v]) => `${k} ${v}`).join(', ');
  return [acc, `${p.cpus} CPUs`, `${p.memoryGb} GB RAM`, `${p.os}/${p.arch}`, p.python ? `Python ${p.python}` : null, fw || null].filter(Boolean).join(' · ');
}

/** `Noise: spread ±0.1 (pooled standard deviation of 3 baseline runs); a change must beat its parent by more than 0.2 = max(minDelta 0, 2 × spread)` */
export function noiseLine(band: NoiseBand): string {
  if (band.spread === null) return `Noise: not measured yet (${band.samples} of ${band.repeats} baseline runs have a metric); minDelta ${minDeltaText(band)} decides`;
  return `Noise: spread ±${fmtNum(band.spread)} (pooled standard deviation of ${band.source}); a change must beat its parent by more than ${bandRule(band, band)}`;
}

/** The session's noise rule as chance.ts models it, once the spread is measured: minDelta in spreads. */
function sessionChance(model: SessionModel) {
  const cfg = model.config;
  const noise = cfg?.noise;
  const spread = model.noiseBand()?.spread;
  const base = model.estimate(0)?.mean ?? model.baseline?.metric;
  if (!cfg || !noise || !spread || base === null || base === undefined) return null;
  const minDelta = minDeltaAt(cfg, base) / spread;
  const setting: ChanceSetting = {
    z: noise.z, repeats: noise.repeats, maxRuns: maxRuns(noise), confirm: noise.confirm, minDelta,
    ...(noise.effect === undefined ? {} : { effect: noise.effect }),
  };
  return { cfg, noise, spread, base, minDelta, setting };
}

/** Changes decided by the rule (not the baseline's repeats, re-runs or confirmations). */
function decidedChanges(model: SessionModel): ExperimentNode[] {
  return model.nodes.filter((n): n is ExperimentNode => !!n && n.id !== 0 && !isMeasurement(n) && (n.status === 'keep' || n.status === 'discard'));
}

/**
 * What chance alone would have kept: how often this session's noise rule keeps a change that does nothing (z holds
 * at each look, and every run again is one more), against the changes it decided. Null until the spread is measured.
 */
export function chanceLine(model: SessionModel): string | null {
  const at = sessionChance(model);
  if (!at) return null;
  const { cfg, noise, base, minDelta, setting } = at;
  const rate = keptByChance(setting);
  // A minDelta of many spreads keeps none by chance: the looks do not matter there.
  if (rate < 0.0005) return `By chance: at these settings a change that does nothing is almost never kept (minDelta ${minDeltaText(cfg, base)} is ${minDelta.toFixed(1)} spreads)`;
  const changes = decidedChanges(model);
  const decided = changes.length;
  const kept = changes.filter((n) => n.status === 'keep').length;
  const expected = rate * decided;
  const z = noise.alpha === undefined ? `z ${noise.z}` : `z ${noise.z}, chosen for alpha ${fmtChance(noise.alpha)}${minDelta > 0 ? ' at minDelta 0' : ''},`;
  const rule = `By chance: at these settings a change that does nothing is kept about ${fmtChance(rate)} of the time (${z} holds at each look, ${fmtChance(oneLook(noise.z))} for one, and every run again is one more look)`;
  if (!decided) return rule;
  return `${rule}: had none of the ${decided} change${decided === 1 ? '' : 's'} decided here done anything, about ${expected < 10 ? expected.toFixed(1) : Math.round(expected)} would have been kept; ${kept} ${kept === 1 ? 'was' : 'were'}`;
}

/** What `noise:` to try where real gains as small as the spread are missed: the futility bound, with more runs. */
const FINER = { effect: 1, maxRuns: 24 };

/**
 * The other half of the rule: how often it keeps a real gain of one spread (its power), the same Monte Carlo as the
 * chance line. With `suggest` (the summary), where changes that measured better than their parent were turned away and
 * `effect` is off, what `{effect: 1, maxRuns: 24}` would find at the same rate by chance (alpha), and what it costs
 * in runs. Null until the spread is measured.
 */
export function powerLine(model: SessionModel, suggest = false): string | null {
  const at = sessionChance(model);
  if (!at) return null;
  const { cfg, noise, spread, base, minDelta, setting } = at;
  const one = keptAt(setting, 1);
  const head = `Power: at these settings a real gain of one spread (${fmtNum(spread)}) is kept about ${fmtChance(one.kept)} of the time, of two ${fmtChance(keptAt(setting, 2).kept)}`;
  // Where minDelta is a spread or more, it decides what is found, not the runs.
  if (minDelta >= 1) return `${head} (minDelta ${minDeltaText(cfg, base)} is ${minDelta.toFixed(1)} spreads: it decides what is found more than the runs do)`;
  const missed = decidedChanges(model).filter((n) => {
    const parent = n.parentId === null ? null : model.rankValue(n.parentId);
    return n.status === 'discard' && n.metric !== null && parent !== null && model.better(n.metric, parent);
  }).length;
  if (!suggest || noise.effect !== undefined || !missed) return head;
  // The same rate by chance as now (at minDelta 0, as alpha is); none where that is outside what alpha may be (z 3).
  const alpha = noise.alpha ?? Math.round(1000 * keptByChance({ ...setting, minDelta: 0 })) / 1000;
  if (alpha < ALPHA.min || alpha > ALPHA.max) return head;
  const finer = { ...setting, ...FINER, z: zForAlpha(alpha, { repeats: noise.repeats, confirm: noise.confirm, ...FINER }) };
  const found = keptAt(finer, 1).kept;
  if (found <= one.kept) return head;
  const cost = (c: ChanceSetting) => keptAt(c, 0).runs.toFixed(1);
  return `${head}; ${missed} change${missed === 1 ? '' : 's'} turned away here measured better than ${missed === 1 ? 'its' : 'their'} parent. ` +
    `With \`noise: {repeats: ${noise.repeats}, effect: ${FINER.effect}, maxRuns: ${FINER.maxRuns}, alpha: ${fmtChance(alpha).replace(' ', '')}}\` ` +
    `(the same rate by chance) a gain of one spread would be kept about ${fmtChance(found)} of the time, at about ${cost(finer)} runs for a change that does nothing where these settings take ${cost(setting)}`;
}

const VERDICT: Record<Verdict, string> = { larger: 'larger than the noise', within: 'within noise', unknown: 'noise unknown' };

/** The headline of which wins are real, and with no noise known, how to give it. */
function winsLines<T>(wins: RealWins<T>): string[] {
  return [`**${wins.headline}.**${wins.noise.hint ? ` To know: ${wins.noise.hint}.` : ''}`, ''];
}

export interface TreeShape {
  experiments: number;
  branches: number;
  leaves: number;
  maxDepth: number;
}

export function treeShape(model: SessionModel): TreeShape {
  let branches = 0;
  let leaves = 0;
  let maxDepth = 0;
  const depth = new Map<number, number>();
  for (const n of model.nodes) {
    if (!n) continue;
    const d = n.parentId === null ? 0 : (depth.get(n.parentId) ?? 0) + 1;
    depth.set(n.id, d);
    maxDepth = Math.max(maxDepth, d);
    const kids = model.children.get(n.id)?.length ?? 0;
    if (kids > 1) branches++;
    if (kids === 0) leaves++;
  }
  return { experiments: Math.max(0, model.nodes.length - 1), branches, leaves, maxDepth };
}

/**
 * What a best measured over all its runs, which is what ranked it (SessionModel.rankValue), where that is not its
 * recorded metric: re-runs for its children's evidence are pooled into its estimate, never into its recorded metric.
 */
export function pooledRuns(model: SessionModel, id: number): { mean: number; runs: number } | null {
  const e = model.estimate(id);
  const recorded = model.get(id)?.metric;
  if (!e || e.runs < 2 || recorded === null || recorded === undefined) return null;
  return Math.abs(e.mean - recorded) > 1e-9 * Math.max(1, Math.abs(recorded)) ? e : null;
}

/** `; ranked by the mean of its 3 runs, 0.9` where the best's ranking is not its recorded metric, else ''. */
export function rankedNote(model: SessionModel, id: number): string {
  const e = pooledRuns(model, id);
  return e ? `; ranked by the mean of its ${e.runs} runs, ${fmtNum(e.mean)}` : '';
}

function pooledText(model: SessionModel, id: number): string {
  const e = pooledRuns(model, id);
  const best = e ? ` Its code ran ${e.runs} times (its own run, confirmations and re-runs for its children's evidence), mean ${fmtNum(e.mean)}: the best is ranked by that mean.` : '';
  // The headline's baseline is its first run; with noise repeats, the mean of all of them is the fairer start.
  const base = pooledRuns(model, 0);
  const to = model.rankValue(id);
  const gain = base && to !== null ? ` The baseline's ${base.runs} runs average ${fmtNum(base.mean)}: against that, the best is ${fmtDelta(base.mean, to)}.` : '';
  return best + gain;
}

export function buildSummary(model: SessionModel, now = new Date()): string {
  const cfg = model.config!;
  const name = cfg.metric.name;
  const base = model.baseline;
  const best = model.best;
  // Baseline repeats and confirmation runs measure noise: they are listed apart, not as experiments.
  const measurements = model.nodes.filter((n): n is ExperimentNode => !!n && isMeasurement(n));
  const nodes = model.nodes.filter((n): n is ExperimentNode => !!n && n.id !== 0 && !isMeasurement(n));
  const decided = nodes.filter((n) => n.decidedBy !== null);
  const counts = model.counts(false);
  const band = model.noiseBand();
  const out: string[] = [];
  out.push(`# AutoResearch summary: ${model.tag}`, '');
  if (base && best && base.metric !== null && best.metric !== null) {
    const improved = best.id !== base.id;
    out.push(`**${name}: ${fmtNum(base.metric)} → ${fmtNum(best.metric)}** (${fmtDelta(base.metric, best.metric)}, ${directionText(cfg.metric.direction)}). `
      + (improved ? `Best is #${best.id}, commit \`${best.commit?.slice(0, 7)}\`, on branch \`autoresearch/${model.tag}\`: ${best.description}.${pooledText(model, best.id)}` : 'No experiment beat the baseline.'));
  } else if (base?.status === 'crash') {
    out.push(`**The baseline crashed**: ${base.reason}. Fix the run command or the script and start again.`);
  } else if (base?.checks?.passed === false) {
    out.push(`**The baseline failed its checks**: ${base.reason}.`);
  } else {
    out.push('No result yet.');
  }
  out.push('');
  const wins = sessionWins(model);
  const verdicts = new Map(wins.keeps.map((k) => [k.keep.id, k.verdict]));
  if (base?.metric != null) out.push(...winsLines(wins));
  // The session's own time, from its state records: a summary read tomorrow says the same as one read today.
  const { runningMs, pausedMs } = model.activeTime(now.getTime());
  const runMs = [...nodes, ...measurements].reduce((s, n) => s + (n.wallMs ?? 0), 0);
  out.push(`- Experiments: ${decided.length} decided (${counts.keep} kept, ${counts.discard} discarded, ${counts.crash} crashed, ${counts.invalid} invalid)${counts.running + counts.pending ? `, ${counts.running + counts.pending} not finished` : ''}`);
  out.push(`- Time: ${fmtDuration(runningMs)} running${pausedMs ? `, ${fmtDuration(pausedMs)} paused` : ''}, ${fmtDuration(runMs)} of it in runs; budget ${cfg.budgetText} per experiment${earlierBudgets(model)}${cfg.atBudget === 'last' ? `, a run still going then judged on the last value it printed (atBudget: last; ${model.nodes.filter((n) => n?.timedOut && n.status !== 'crash').length} were)` : ''}`);
  const queued = nodes.filter((n) => typeof n.queuedMs === 'number');
  if (queued.length) {
    const wait = queued.reduce((s, n) => s + n.queuedMs!, 0);
    const longest = queued.reduce((a, b) => (b.queuedMs! > a.queuedMs! ? b : a));
    out.push(`- Queue: ${fmtDuration(wait)} waiting for the scheduler vs ${fmtDuration(runMs)} running (${queued.length} jobs; longest wait ${fmtDuration(longest.queuedMs!)}, #${longest.id})`);
  }
  const packed = (cfg.slotsPerGpu ?? 1) > 1 && cfg.gpus.length ? ` (up to ${cfg.slotsPerGpu} per GPU on GPU ${cfg.gpus.join(', ')}; the largest peak memory a run reported: ${fmtMemory(peakMemory(model))})` : '';
  out.push(`- Policy \`${cfg.policy}\`, proposer \`${cfg.proposer.kind}\`, ${cfg.parallel} at a time${packed}, minDelta ${minDeltaText(cfg)}`);
  if (band) out.push(`- ${noiseLine(band)}; ${measurements.length} noise run(s) (baseline repeats and confirmation runs) are not counted as experiments`);
  const chance = chanceLine(model);
  if (chance) out.push(`- ${chance}`);
  const power = powerLine(model, true);
  if (power) out.push(`- ${power}`);
  out.push(`- Platform: ${describePlatform(model.platform)}`);
  if (model.protection) out.push(`- Protection: ${model.protection.text}`);
  const checked = nodes.filter((n) => n.checks);
  if (cfg.checks || checked.length) out.push(`- ${checksLine(cfg.checks, checked)}`);
  if (model.attempts.length) out.push(`- Attempt ${model.attempt}; earlier: ${model.attempts.map((a) => `#${a.attempt} on \`${a.baseCommit.slice(0, 7)}\` (${a.reason})`).join('; ')}`);
  const tokens = nodes.reduce((s, n) => ({ i: s.i + (n.proposer.tokensIn ?? 0), o: s.o + (n.proposer.tokensOut ?? 0), c: s.c + (n.proposer.costUsd ?? 0) }), { i: 0, o: 0, c: 0 });
  if (tokens.i || tokens.o) out.push(`- Proposer usage: ${fmtTokens(tokens.i)} tokens in, ${fmtTokens(tokens.o)} out${tokens.c ? `, ${fmtCost(tokens.c)}` : ''}`);
  // Against the cap, the whole ledger counts: every attempt, and proposals that never became a node.
  if (hasCap(model.cap)) out.push(`- Spend cap: ${spendText(model.spend, model.cap)}${capReached(model.spend, model.cap) ? ' (reached)' : ''}`);
  out.push('');

  const kept = nodes.filter((n) => n.status === 'keep' && n.metric !== null)
    .sort((a, b) => (model.better(a.metric!, b.metric!) ? -1 : model.better(b.metric!, a.metric!) ? 1 : a.id - b.id));
  out.push('## Kept changes, best first', '');
  if (kept.length === 0) out.push('None.');
  else {
    out.push(`| # | node | commit | ${name} | vs parent | change | decided by |`, '|---|---|---|---|---|---|---|');
    kept.forEach((n, i) => {
      const parent = n.parentId === null ? undefined : model.get(n.parentId);
      const verdict = verdicts.get(n.id);
      const vs = (parent?.metric !== null && parent?.metric !== undefined ? fmtDelta(parent.metric, n.metric!) : 'n/a') + (verdict && verdict !== 'unknown' ? `, ${VERDICT[verdict]}` : '');
      out.push(`| ${i + 1} | #${n.id} (from #${n.parentId}) | \`${n.commit?.slice(0, 7) ?? '-'}\` | ${fmtNum(n.metric)} | ${vs} | ${cell(n.description)} | ${n.decidedBy === 'human' ? `human (rule said ${n.ruleStatus ?? 'n/a'})` : 'rule'} |`);
    });
  }
  out.push('');
  if (best && best.id !== 0) {
    out.push('## Path to the best', '');
    out.push(model.pathTo(best.id).map((n) => n.id === 0 ? `#0 baseline (${fmtNum(n.metric)})` : `#${n.id} ${n.description} (${fmtNum(n.metric)})`).join(' → '), '');
    out.push(...chainCurves(model, model.pathTo(best.id)));
  }

  const discarded = nodes.filter((n) => n.status === 'discard');
  out.push('## What did not work, by what it changed', '');
  if (discarded.length === 0) out.push('Nothing was discarded.', '');
  for (const g of groupByChange(discarded, kept, (n) => n.description)) {
    out.push(`### ${cell(g.change)}: ${g.discarded.length} discarded${g.kept ? `, ${g.kept} kept` : ''}`, '');
    out.push(`| node | ${name} | change | why |`, '|---|---|---|---|');
    for (const n of g.discarded) out.push(`| #${n.id} (from #${n.parentId}) | ${fmtNum(n.metric)} | ${cell(n.description)} | ${cell(n.reason)}${n.decidedBy === 'human' ? ' (human)' : ''} |`);
    out.push('');
  }

  const crashed = nodes.filter((n) => n.status === 'crash' || n.status === 'invalid');
  out.push('## Crashes and invalid proposals', '');
  if (crashed.length === 0) out.push('None.');
  else for (const n of crashed) out.push(`- #${n.id} \`${n.commit?.slice(0, 7) ?? '-'}\` **${n.status}**: ${cell(n.description)}: ${cell(n.reason)}`);
  out.push('');

  const humans = nodes.filter((n) => n.decidedBy === 'human');
  if (humans.length) {
    out.push('## Human decisions', '');
    for (const n of humans) out.push(`- #${n.id} marked **${n.status}** (rule said ${n.ruleStatus ?? 'n/a'}): ${cell(n.reason)}`);
    out.push('');
  }

  const shape = treeShape(model);
  out.push('## Shape of the search', '');
  out.push(`${shape.experiments} experiments in a tree ${shape.maxDepth} deep, with ${shape.branches} branching points and ${shape.leaves} leaves.`, '');

  out.push('## Next steps', '');
  out.push(...nextSteps(model, kept, crashed).map((s) => `- ${s}`), '');
  return out.join('\n');
}

/** The largest peak memory any run of the session reported, in GB; null when none did. */
function peakMemory(model: SessionModel): number | null {
  const all = model.nodes.flatMap((n) => (n?.memoryGb !== null && n?.memoryGb !== undefined ? [n.memoryGb] : []));
  return all.length ? Math.max(...all) : null;
}

/** ` from #6 (40s for #0–#5)`: the budgets the session's experiments had before a resume changed it; empty if none. */
function earlierBudgets(model: SessionModel): string {
  const ran = model.budgets.filter((b) => b.from < model.nodes.length);
  if (ran.length < 2) return '';
  const spans = ran.slice(0, -1).map((b, i) => `${b.text} for #${b.from}–#${ran[i + 1]!.from - 1}`);
  return ` from #${ran.at(-1)!.from} (${spans.join(', ')})`;
}

/** Shares of the budget at which the summary reads each curve of the kept chain. */
export const CURVE_FRACTIONS = [0.1, 0.25, 0.5, 0.75];

/**
 * The kept chain's learning curves, from the journal: each run's value at fixed shares of the budget, where it last
 * printed one, and a sparkline on one scale and one time axis for all of them, so where each step gained shows.
 */
function chainCurves(model: SessionModel, path: ExperimentNode[]): string[] {
  const cfg = model.config!;
  const curves = path.map((n) => n.curve ?? []);
  if (!curves.some((c) => c.length)) return [];
  const range = curveRange(curves);
  const end = Math.max(1, ...curves.map((c) => c.at(-1)?.[0] ?? 0));
  const lines = sparklines(curves);
  const num = (v: number | null) => fmtNum(v, DASH, 4);
  const out = [`## Learning curves on the path to the best`, ''];
  // A progress pattern may read another value than the metric (a train loss beside a val_bpb): name what was read.
  const what = cfg.progress ? `The value \`progress\` reads (\`${cfg.progress}\`)` : cfg.metric.name;
  out.push(`${what} as each run went, by share of the ${cfg.budgetText} budget, from the values it printed while it ran (${directionText(cfg.metric.direction)}; — where it printed none yet or had stopped). The curves share one scale, ${num(range?.[0] ?? null)} to ${num(range?.[1] ?? null)}, from 0 to ${fmtShare(end)} of the budget.`, '');
  out.push(`| node | ${CURVE_FRACTIONS.map(fmtShare).join(' | ')} | last printed | curve |`, `|---|${CURVE_FRACTIONS.map(() => '---:|').join('')}---:|---|`);
  path.forEach((n, i) => {
    const c = curves[i]!;
    const label = n.id === 0 ? '#0 baseline' : `#${n.id} ${cell(n.description)}`;
    if (!c.length) {
      out.push(`| ${label} | ${CURVE_FRACTIONS.map(() => '—').join(' | ')} | — | no values printed |`);
      return;
    }
    const within = (f: number) => (f >= c[0]![0] && f <= c.at(-1)![0] ? valueAt(c, f) : null);
    const last = c.at(-1)!;
    out.push(`| ${label} | ${CURVE_FRACTIONS.map((f) => num(within(f))).join(' | ')} | ${num(last[1])} at ${fmtShare(last[0])} | \`${lines[i]}\` |`);
  });
  out.push('');
  return out;
}

/** Whether checks were in force, and how many keeps they turned away. */
function checksLine(command: string | null | undefined, checked: ExperimentNode[]): string {
  const failed = checked.filter((n) => !n.checks!.passed);
  const away = failed.length ? `${failed.length} turned away (${failed.map((n) => `#${n.id}`).join(', ')})` : 'none turned away';
  return `Checks: ${command ? `\`${command}\`` : 'the config\'s checks'} in force before every keep: ${checked.length} candidate(s) that won on the metric checked, ${away}`;
}

function nextSteps(model: SessionModel, kept: ExperimentNode[], crashed: ExperimentNode[]): string[] {
  const steps: string[] = [];
  const best = model.best;
  if (best && best.id !== 0 && !model.config?.noise?.confirm) steps.push(`Re-run #${best.id} a few times to confirm its gain is not noise, then \`autoresearch apply\` to bring it onto your branch.`);
  if (kept.length > 1) steps.push(`Continue from #${best?.id}: the kept changes (${kept.slice(0, 3).map((n) => n.description).join('; ')}) suggest pushing further in the same direction.`);
  // A run stopped at the budget says nothing about its values: the runs of that line take longer than the budget
  // (nanoGPT stops at max_iters, not at the budget; a kept change that adds compute slows its children too).
  const timedOut = crashed.filter((n) => n.timedOut);
  if (timedOut.length) {
    const finished = model.nodes.filter((n) => n && n.status === 'keep' && n.wallMs !== null && !n.timedOut);
    const slowest = finished.reduce<ExperimentNode | null>((a, n) => (a && a.wallMs! >= n.wallMs! ? a : n), null);
    const budget = model.config?.budgetText ?? 'the budget';
    const took = slowest ? ` (the slowest kept run, #${slowest.id}, took ${fmtDuration(slowest.wallMs!)} of ${budget})` : '';
    // Kept runs close to the budget: a little slower (the change, a busier machine) was enough.
    const room = slowest && model.config && closeToBudget(slowest.wallMs!, model.config.budgetSeconds) ? ` (\`budget: ${budgetWithRoom(slowest.wallMs!)}\` is about twice that run's time)` : '';
    steps.push(`${timedOut.length} experiment(s) timed out at the ${budget} budget (${timedOut.map((n) => `#${n.id}`).join(', ')})${took}: stopped before they printed a result, they say nothing about their changes' values. Raise \`budget\`${room}, make the script stop once AUTORESEARCH_BUDGET_SECONDS have passed${model.config?.atBudget === 'last' ? '' : ', or set `atBudget: last` to judge each run on the last value it printed by then'}.`);
  }
  const otherCrashes = crashed.length - timedOut.length;
  if (otherCrashes) steps.push(`${otherCrashes} experiment(s) crashed or were invalid; read their logs (\`autoresearch show <node>\`) before trying nearby values.`);
  const failedChecks = model.nodes.filter((n) => n && n.id !== 0 && n.checks?.passed === false && n.status !== 'keep');
  if (failedChecks.length) steps.push(`${failedChecks.length} candidate(s) won on ${model.config?.metric.name ?? 'the metric'} but failed the checks (${failedChecks.map((n) => `#${n.id}`).join(', ')}): their checks logs say what broke; fix it by hand, or \`autoresearch keep <node>\` to keep one anyway.`);
  const open = model.hints.filter((h) => h.takenBy === null);
  if (open.length) steps.push(`Untested hypotheses in the queue: ${open.map((h) => `"${h.text}"`).join(', ')}.`);
  if (kept.length === 0) steps.push('Nothing beat the baseline: try larger changes (a model-backed proposer), a longer budget, or revisit the research notes.');
  return steps;
}

/**
 * A summary for a results.tsv written by any tool (the original autoresearch format included). Numbers are
 * shown as the file wrote them. `direction` overrides the file's own choice (parsed.direction) when given.
 */
export function summarizeResults(parsed: ParsedResults, direction: Direction | null, source: string, opts: { noise?: number | null } = {}): string {
  const { rows, metricName: name } = parsed;
  const choice: DirectionChoice = direction ? { direction, basis: 'given', why: 'it was given' } : parsed.direction;
  const bestAt = direction ? bestIndex(rows, direction) : parsed.best;
  const best = bestAt === null ? undefined : rows[bestAt];
  const base = rows[0];
  const better = (a: number, b: number) => (choice.direction === 'minimize' ? a < b : a > b);
  const kept = rows.filter((r) => r.status === 'keep' && r.metric !== null);
  const count = (...s: string[]) => rows.filter((r) => s.includes(r.status)).length;
  const out: string[] = [`# AutoResearch summary: ${source}`, ''];
  const bestText = best ? (best === base ? 'The first row (the baseline) is the best kept one.' : `Best commit \`${best.commit}\` (line ${best.line}): ${best.description}.`) : '';
  if (base?.metric != null && best) {
    out.push(`**${name}: ${base.metricText} → ${best.metricText}** (${fmtDeltaAsWritten(base.metricText, best.metricText)}, ${directionText(choice.direction)}). ${bestText}`);
  } else if (best) {
    out.push(`**${name}: best ${best.metricText}** (${directionText(choice.direction)}; the first row has no ${name} to compare with). ${bestText}`);
  } else out.push('No kept result with a metric.');
  const wins = resultsWins(parsed, direction, opts.noise ?? null);
  const verdicts = new Map<ResultsRow, RealWins<ResultsRow>['keeps'][number]>(wins.keeps.map((k) => [k.keep, k]));
  out.push('', ...winsLines(wins).slice(0, 1));
  const invalid = count('invalid');
  out.push('', `- Rows: ${rows.length} (${kept.length} kept, ${count('discard')} discarded, ${count('crash')} crashed${invalid ? `, ${invalid} invalid` : ''})`);
  if (parsed.errors.length) out.push(`- ${parsed.errors.length} unreadable line(s) skipped: ${parsed.errors.map((e) => `line ${e.line}: ${cell(e.message)}`).join('; ')}`);
  const cols = parsed.columns;
  const list = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ');
  if (cols) out.push(`- Metric: \`${name}\` (${cols.metricWhy})${cols.secondary.length ? `; secondary metrics: ${list(cols.secondary)}` : ''}${cols.other.length ? `; other columns: ${list(cols.other)}` : ''}`);
  out.push(`- Direction: ${choice.direction} (${directionText(choice.direction)}), because ${choice.why}`);
  out.push('', '## Kept changes, best first', '');
  // Stable: equal values stay in file order.
  const ranked = [...kept].sort((a, b) => (better(a.metric!, b.metric!) ? -1 : better(b.metric!, a.metric!) ? 1 : 0));
  const extra = cols ? [...cols.secondary, ...cols.other] : [];
  if (ranked.length === 0) out.push('None.');
  else {
    out.push(`| # | commit | ${[name, ...extra].map(cell).join(' | ')} | description | vs the kept row before | noise |`, `|${'---|'.repeat(extra.length + 6)}`);
    ranked.forEach((r, i) => {
      const k = verdicts.get(r);
      const vs = k ? `${fmtDeltaAsWritten(k.parent.metricText, r.metricText)} (line ${k.parent.line})` : 'first kept row';
      out.push(`| ${i + 1} | \`${r.commit}\` | ${[r.metricText, ...extra.map((c) => r.cells[c] || 'n/a')].map(cell).join(' | ')} | ${cell(r.description)} | ${vs} | ${k ? VERDICT[k.verdict] : 'n/a'} |`);
    });
  }
  out.push('', '## What did not work, by what it changed', '');
  const discards = rows.filter((r) => r.status === 'discard');
  if (discards.length === 0) out.push('Nothing was discarded.');
  for (const g of groupByChange(discards, kept, (r) => r.description)) {
    out.push(`- **${cell(g.change)}**: ${g.discarded.length} discarded${g.kept ? `, ${g.kept} kept` : ''}`);
    out.push(...g.discarded.map((r) => `  - \`${r.commit}\` ${r.metricText}: ${cell(r.description)} (line ${r.line})`));
  }
  if (wins.noise.pairs.length) {
    out.push('', '## Runs of the same code (the noise)', '', 'Each row is taken to build on the last kept row above it, as in the original loop.', '');
    out.push(...wins.noise.pairs.map((p) => `- ${p.run} against ${p.repeats} (${p.why}): ${name} moved by ${fmtNum(p.difference)}`));
  }
  out.push('', '## Crashes', '');
  const crashes = rows.filter((r) => r.status === 'crash' || r.status === 'invalid');
  out.push(...(crashes.length ? crashes.map((r) => `- \`${r.commit}\` ${r.status}: ${cell(r.description)}`) : ['None.']));
  out.push('');
  return out.join('\n');
}

/** Which wins of a results file are real, in the direction the summary uses; `noise` is `--noise`. */
export function resultsWins(parsed: ParsedResults, direction: Direction | null, noise: number | null): RealWins<ResultsRow> {
  return logWins(parsed.rows, direction ?? parsed.direction.direction, noise, parsed.metricName);
}
