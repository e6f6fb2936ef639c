// The built-in proposer that needs no model: it nudges one hyperparameter of the editable files (`LR = 0.01` ->
// `LR = 0.02`, `optimizer.lr: 3e-4` → `6e-4`). Its edits form a finite set per parent, it never repeats an editKey
// tried from that parent, and the same seed, parent and history give the same pick.
//
// What counts as a hyperparameter: a number or a True/False value written as a literal in one of these places
// (a string only when a trailing `# choices: a, b` or `# a | b` comment or argparse's `choices=` lists the alternatives):
//   Python         a top-level assignment at column 0 (`LR = 0.01`, `learning_rate: float = 6e-4`); lower-case names
//                  only in the settings block at the top of the file, before the first statement that runs something
//                  (`exec(...)`, `main()`, `for ...`), since what follows is the script's state (`iter_num = 0`);
//   argparse/click `add_argument('--lr', type=float, default=1e-3)`, `@click.option('--n-layer', default=6)`: the
//                  `default=` value, named after the first `--long` option (`lr`, `n_layer`), anywhere in the file;
//   YAML/JSON/TOML a leaf value of a mapping, named by its dotted key path (`optimizer.lr`); lists are structure.
// Names in NOT_HYPERPARAMETERS are left alone, and so are settings the run command sets itself (`--max_iters=2000`,
// `--lr 0.1`, Hydra's `optimizer.lr=1e-3`, a config file after the script), where an edit would not reach the run.
// Along one line of the tree it never sets a value back to one the line already had (`tanh -> sigmoid` after
// `sigmoid -> tanh`), nor a head count the width does not divide (mutate/heads.ts). An edit replaces the value's
// characters and nothing else. From a node, a number is doubled or halved before it is moved by a quarter (coarse to
// fine). The first try from a kept change of a number repeats its step (the direction that paid); a draft changes a
// setting no kept experiment has changed yet.
import type { Proposal, ProposalRequest, Proposer } from './proposer.js';
import type { ExperimentNode, Operator, ResearchConfig } from '../types.js';
import { keepsHeadsWhole } from './mutate/heads.js';
import { mentions } from './mutate/hint.js';
import type { Hyperparameter } from './mutate/hyperparameter.js';
import { overriddenBy, runOverrides, withConfigFiles } from './mutate/overrides.js';
import { hash, mulberry32 } from '../random.js';
import { candidatesFor, editKeyOf, type MutationCandidate } from './mutate/rules.js';
import { describeSearchSpace, scanSearchSpace, type SearchSpace } from './mutate/searchSpace.js';

export type { Hyperparameter, HyperparameterSource } from './mutate/hyperparameter.js';
export { isHyperparameterName, NOT_HYPERPARAMETERS } from './mutate/names.js';
export { parseHyperparameters, readValues } from './mutate/parse.js';
export { mulberry32 } from '../random.js';
export { candidatesFor, editKeyOf, formatFloat, type MutationCandidate } from './mutate/rules.js';
export { describeSearchSpace, scanSearchSpace, TUNABLE_FORMS, type SearchSpace } from './mutate/searchSpace.js';

export class MutateProposer implements Proposer {
  readonly kind = 'mutate';
  readonly operators: ReadonlySet<Operator> = new Set<Operator>(['draft', 'improve']);
  private readonly seed: number;
  private nothingNew: string | null = null;
  /** The note on settings the run command sets, once it has been said. */
  private saidOverrides = '';

  constructor(options: { seed: number }) {
    this.seed = options.seed;
  }

  /** What the proposer reads in a worktree's editable files. */
  scan(worktree: string, editable: readonly string[]): SearchSpace {
    return scanSearchSpace(worktree, editable);
  }

  /**
   * Why the last `propose` returned null, when that is something the user can fix: the editable files hold nothing
   * it can tune (describeSearchSpace). Null after a proposal, or when it has only run out of new edits.
   */
  explainNothingNew(): string | null {
    return this.nothingNew;
  }

  /** Before a session runs anything: why the editable files in `root` give it nothing to tune, or null. */
  nothingToTune(root: string, config: Pick<ResearchConfig, 'editable' | 'run'>): string | null {
    return this.tunable(root, config).nothing;
  }

  /** The settings it may tune in a worktree (those the run command does not set), or why there are none. */
  private tunable(worktree: string, config: Pick<ResearchConfig, 'editable' | 'run'>) {
    const space = this.scan(worktree, config.editable);
    const set = withConfigFiles(runOverrides(config.run), worktree);
    const overridden = space.params.map((p) => [p, overriddenBy(p, set)] as const).filter(([, by]) => by !== null);
    const params = space.params.filter((p) => !overridden.some(([o]) => o === p));
    const settings = whatSetsThem(overridden);
    const nothing = params.length > 0 ? null : space.params.length
      ? `The mutate proposer has nothing to tune: the run command sets every setting it found in the editable files, so an edit there would not reach the run (${settings}). Take them off the command line, or make editable the file the run reads them from.`
      : describeSearchSpace(space, config.editable);
    return { space, params, overridden, settings, nothing };
  }

  async propose(req: ProposalRequest): Promise<Proposal | null> {
    this.nothingNew = null;
    if (req.operator !== 'draft' && req.operator !== 'improve') return null;
    const { space, params, overridden, settings, nothing } = this.tunable(req.worktree, req.config);
    const { contents } = space;
    const note = overridden.length ? ` Left alone because the run command sets them, so an edit in the file would not reach the run: ${settings}.` : '';
    if (nothing !== null) {
      this.nothingNew = nothing;
      return null;
    }
    const held = valuesOfLine(req.parent, req.history);
    const whole = keepsHeadsWhole(params);
    let pool = params
      .map((p) => candidatesFor(p).filter((c) => !req.triedFromParent.has(c.editKey) && !held.get(editKeyOf(p.file, p.name, ''))?.has(c.newText) && whole(c)))
      .filter((cs) => cs.length > 0);
    if (pool.length === 0) return null;

    const hint = req.hint?.text ?? '';
    let hinted = hint ? pool.filter((cs) => mentions(hint, cs[0]!.param.name)) : [];
    // `matrix lr` names MATRIX_LR, not LR as well.
    hinted = hinted.filter((cs) => !hinted.some((o) => o !== cs && o[0]!.param.name !== cs[0]!.param.name && mentions(o[0]!.param.name.replace(/[_.]/g, ' '), cs[0]!.param.name)));
    if (hinted.length) pool = hinted;
    else {
      // A setting whose change measured exactly its parent's value does not reach the metric (makemore's n_embd2,
      // read by one model type of several, took 4 of 6 tries): the others first, while there are others.
      const inert = inertSettings(req.history, req.parent.id);
      const live = pool.filter((cs) => !inert.has(editKeyOf(cs[0]!.param.file, cs[0]!.param.name, '')));
      if (live.length) pool = live;
    }
    if (!hinted.length && req.operator === 'draft') {
      // Independent drafts: prefer a parameter no sibling has changed yet.
      // Siblings in the history, and edits other slots are proposing or hold ready from this parent (tried).
      const siblings = [...req.history.filter((n) => n.parentId === req.parent.id).map((n) => n.editKey), ...req.triedFromParent];
      const fresh = pool.filter((cs) => {
        const prefix = editKeyOf(cs[0]!.param.file, cs[0]!.param.name, '');
        return !siblings.some((key) => key.startsWith(prefix));
      });
      if (fresh.length) pool = fresh;
      // A draft starts a line of its own: a setting no kept experiment of the tree has changed, where one is left,
      // so that what it finds can later be merged onto the best instead of repeating it.
      const changed = req.history.filter((n) => n.status === 'keep' && n.parentId !== null).map((n) => n.editKey);
      const untouched = pool.filter((cs) => !changed.some((key) => key.startsWith(editKeyOf(cs[0]!.param.file, cs[0]!.param.name, ''))));
      if (untouched.length) pool = untouched;
    }

    const rng = mulberry32(hash(`${this.seed}|${req.parent.id}|${req.triedFromParent.size}|${req.operator}`));
    const again = hinted.length || req.operator !== 'improve' ? null : sameStepAgain(req.parent, pool);
    const group = again ? [again] : coarseFirst(pool[Math.floor(rng() * pool.length)]!);
    const pick = again ?? group[Math.floor(rng() * group.length)]!;
    const p = pick.param;
    const content = contents.get(p.file)!;
    const several = new Set(space.params.map((x) => x.file)).size > 1;
    const said = note && note !== this.saidOverrides ? note : '';
    if (said) this.saidOverrides = note;
    const plan = `${pick.action} (${p.text} → ${pick.newText}) ${pick.because}.${hinted.length ? ` Tests the hint: ${hint}` : ''}${said}`;
    return {
      description: `${several ? `${p.file}: ` : ''}${p.name} ${p.text} → ${pick.newText}`,
      plan,
      editKey: pick.editKey,
      files: { [p.file]: content.slice(0, p.start) + pick.newText + content.slice(p.end) },
      proposer: { kind: this.kind },
    };
  }

  dispose(): void {
    // Nothing held.
  }
}

/**
 * Coarse to fine, as a pattern search steps: from a node, a number is doubled or halved before it is moved by a quarter
 * (once both coarse steps were tried there, or one of them would set a value the line already had). Large steps first
 * find the region of a setting in fewer runs, and a line that stops paying sooner leaves room for the tree's other
 * lines. In the search simulator (100 seeds, K = 30) it took both policies closer to the optimum on every shape, with
 * the starting values on the optima's grid of doublings and off it (each setting moved by up to half a doubling).
 */
function coarseFirst(group: readonly MutationCandidate[]): readonly MutationCandidate[] {
  const coarse = group.filter((c) => !c.fine);
  return coarse.length ? coarse : group;
}

/**
 * The settings (`file:name=` edit-key prefixes) of changes tried from `parent` or a node above it that measured
 * exactly their parent's value: there, the run does not read them. Noise makes an exact tie rare where the metric
 * moves at all, so one is enough. Only along the line: a setting masked in one basin (a trap where only the learning
 * rate matters) may matter in another.
 */
function inertSettings(history: readonly ExperimentNode[], parent: number): Set<string> {
  const byId = new Map(history.map((n) => [n.id, n]));
  const line = new Set<number>();
  for (let id: number | null | undefined = parent; id !== null && id !== undefined && !line.has(id); id = byId.get(id)?.parentId) line.add(id);
  const inert = new Set<string>();
  for (const n of history) {
    if (n.parentId === null || !line.has(n.parentId) || n.status !== 'discard' || (n.operator !== 'improve' && n.operator !== 'draft') || n.metric === null || !Number.isFinite(n.metric)) continue;
    if (byId.get(n.parentId)?.metric !== n.metric) continue;
    // `file:name=value` (editKeyOf): the value may hold an `=`, the name never does.
    const setting = /^[^:]*:[^=]*=/.exec(n.editKey)?.[0];
    if (setting) inert.add(setting);
  }
  return inert;
}

/**
 * The step that made `parent`, once more (LR 0.1 → 0.05 was kept: now 0.05 → 0.025), while it is untried from
 * there: a kept change of a number shows a direction that pays, so the first try from it follows that direction, as a
 * pattern search does. In bench:search it brought both policies closer to the optimum on the smooth, ridge and
 * plateau shapes, and left the others level.
 */
function sameStepAgain(parent: ExperimentNode, pool: readonly MutationCandidate[][]): MutationCandidate | null {
  if (parent.status !== 'keep') return null;
  const m = /(?:^|: )(\S+) (\S+) (?:->|→) (\S+)$/.exec(parent.description);
  if (!m) return null;
  const ratio = Number(m[3]) / Number(m[2]);
  if (!Number.isFinite(ratio) || ratio <= 0 || ratio === 1) return null;
  for (const cs of pool) {
    const p = cs[0]!.param;
    if (p.name !== m[1] || !parent.editKey.startsWith(editKeyOf(p.file, p.name, '')) || p.text !== m[3]) continue;
    // Ints round their steps (80 → 100 by a quarter, then 100 → 125): the nearest candidate within 3 %.
    const want = Number(p.text) * ratio;
    return cs.find((c) => Math.abs(Number(c.newText) - want) <= 0.03 * Math.abs(want)) ?? null;
  }
  return null;
}

/**
 * The settings the run command sets, by file and by what sets them: `in train.py, lr (--lr 3e-4), batch_size,
 * block_size and 5 more (config/train_small.py)`. Without the file, `batch_size (config/train_small.py)` read as if
 * the setting in that file were left alone, not train.py's.
 */
function whatSetsThem(overridden: readonly (readonly [Hyperparameter, string | null])[]): string {
  const byFile = new Map<string, Map<string, string[]>>();
  for (const [p, by] of overridden) {
    const groups = byFile.get(p.file) ?? new Map<string, string[]>();
    groups.set(by!, [...(groups.get(by!) ?? []), p.name]);
    byFile.set(p.file, groups);
  }
  return [...byFile].map(([file, groups]) => `in ${file}, ${[...groups].map(([by, names]) => `${listed(names)} (${by})`).join(', ')}`).join('; ');
}

function listed(xs: readonly string[], max = 8): string {
  return xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', ');
}

/**
 * The values each setting (by editKeyOf(file, name, '')) has had along the line from the baseline to `parent`, as the
 * proposer's own descriptions say (`name from → to`, or `->` as older sessions wrote it): setting one back would undo a change the line made.
 */
function valuesOfLine(parent: ExperimentNode, history: readonly ExperimentNode[]): Map<string, Set<string>> {
  const byId = new Map(history.map((n) => [n.id, n]));
  const held = new Map<string, Set<string>>();
  const seen = new Set<number>();
  for (let n: ExperimentNode | undefined = parent; n && !seen.has(n.id); n = n.parentId === null ? undefined : byId.get(n.parentId)) {
    seen.add(n.id);
    const m = /(?:^|: )(\S+) (\S+) (?:->|→) (\S+)$/.exec(n.description);
    if (!m) continue;
    const [, name = '', from = '', to = ''] = m;
    const key = n.editKey.slice(0, n.editKey.length - to.length);
    if (!n.editKey.endsWith(`:${name}=${to}`)) continue;
    const values = held.get(key) ?? new Set<string>();
    values.add(from).add(to);
    held.set(key, values);
  }
  return held;
}
