// The session as a tree of experiments, derived from the journal by replay. Applying one record is
// O(1), so a live session and a 10,000-node reload go through the same code.
import type { JournalRecord } from './record/journal.js';
import { addSpend, emptySpend, type Spend, type SpendCap } from './spend.js';
import { pooledSpread } from './judging/evidence.js';
import type { ExperimentNode, Hint, NoiseBand, PlatformInfo, ResearchConfig, SessionState } from './types.js';

type StartRecord = Extract<JournalRecord, { type: 'start' }>;
type FinishRecord = Extract<JournalRecord, { type: 'finish' }>;
type DecideRecord = Extract<JournalRecord, { type: 'decide' }>;

/**
 * Runs the engine adds to measure noise (baseline repeats, confirmations, a parent's re-runs for a candidate's
 * evidence): not experiments, so not counted.
 */
export function isMeasurement(n: Pick<ExperimentNode, 'operator' | 'editKey'>): boolean {
  return n.operator === 'rerun' && (n.editKey.startsWith('noise:') || n.editKey.startsWith('confirm:') || n.editKey.startsWith('measure:'));
}

/**
 * The edit key of a parent's `k`-th re-run (from 1) for its child `candidateId`'s evidence: a re-run of the parent's
 * code like a noise check (pooled into its samples, never into its recorded metric), naming the candidate it is for.
 */
export function parentRunKey(parentId: number, candidateId: number, k: number): string {
  return `measure:${parentId}:for:${candidateId}:${k}`;
}

/** The candidate a parent's re-run was for (parentRunKey), or null for any other node. */
export function parentRunFor(n: Pick<ExperimentNode, 'operator' | 'editKey'>): number | null {
  const m = n.operator === 'rerun' ? /^measure:\d+:for:(\d+):\d+$/.exec(n.editKey) : null;
  return m ? Number(m[1]) : null;
}

/** A baseline repeat of the noise estimate. */
export function isBaselineRepeat(n: Pick<ExperimentNode, 'operator' | 'editKey' | 'parentId'>): boolean {
  return n.operator === 'rerun' && n.parentId === 0 && n.editKey.startsWith('noise:');
}

/** Sample standard deviation (n - 1); null for fewer than two values. */
export function sampleStdDev(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
}

export class SessionModel {
  readonly nodes: ExperimentNode[] = [];
  readonly children = new Map<number, number[]>();
  readonly hints: Hint[] = [];
  config: ResearchConfig | null = null;
  tag = '';
  baseCommit = '';
  baseBranch: string | null = null;
  platform: PlatformInfo | null = null;
  startedAt: string | null = null;
  state: SessionState = 'starting';
  stateReason: string | undefined;
  /** Decided experiments after the baseline: what maxExperiments counts. */
  decidedCount = 0;
  private bestId: number | null = null;
  /** Kept nodes with a finite metric, and crashed ones: what the policy looks at, without scanning every node. */
  readonly keptIds = new Set<number>();
  readonly crashedIds = new Set<number>();
  /** The last start and finish record of each node, and the seq of the last stop: recovery reads them by id. */
  readonly lastStart = new Map<number, StartRecord>();
  readonly lastFinish = new Map<number, FinishRecord>();
  /** Each node's last decision by the rule: what undoing a person's override goes back to. */
  private readonly ruleDecisions = new Map<number, DecideRecord>();
  lastStopSeq = -1;
  /** The protection the runs have: the sandbox, or detection only (null before it was recorded). */
  protection: { sandboxed: boolean; text: string } | null = null;
  /** The session's own time from its state records: running, paused, and since when it runs (null when not running). */
  readonly clock = { runningMs: 0, pausedMs: 0, since: null as number | null, pausedSince: null as number | null };
  /** This attempt of the session (a new start after a failed one, or `run --restart`, begins the next). */
  attempt = 1;
  /** Earlier attempts, oldest first: their nodes as they were, logs where they were moved. */
  /** The budget as the session went: each text from the experiment number it applied to (a resume can change it). */
  readonly budgets: { from: number; text: string }[] = [];
  readonly attempts: { attempt: number; baseCommit: string; startedAt: string | null; endedAt: string; reason: string; nodes: ExperimentNode[] }[] = [];
  /** What the proposer has cost, every attempt and every proposal with a node or a spend record (spend.ts). */
  readonly spend: Spend = emptySpend();
  /** The spend cap in force: the config's, unless a person changed it since (a `cap` record). */
  readonly cap: SpendCap = { maxCost: null, maxTokens: null };
  /** Early stopping as a person last set it (`prune` records), or null: as the config says. */
  pruneSet: boolean | null = null;
  /** The cap the config said when last read: a resumed session keeps a person's change unless the config's value changed too. */
  private readonly configCap: SpendCap = { maxCost: null, maxTokens: null };
  /** Nodes whose code ran more than once (the baseline's repeats, confirmation runs, re-runs): the spread pools them. */
  private readonly repeated = new Set<number>([0]);

  static fromRecords(records: readonly JournalRecord[]): SessionModel {
    const m = new SessionModel();
    for (const r of records) m.apply(r);
    return m;
  }

  get(id: number): ExperimentNode | undefined {
    return this.nodes[id];
  }

  childrenOf(id: number): ExperimentNode[] {
    return (this.children.get(id) ?? []).map((c) => this.nodes[c]!);
  }

  /**
   * The edits already made from a node: its children's edit keys, re-runs left out. A re-run is the node's own code
   * again, and how many of them exist when a proposal is prepared depends on timing (a baseline repeat still being
   * journaled): counted, they changed what a seeded proposer drew, so the same seed gave another session.
   */
  editsFrom(id: number): Set<string> {
    return new Set(this.childrenOf(id).filter((c) => c.operator !== 'rerun').map((c) => c.editKey));
  }

  get baseline(): ExperimentNode | undefined {
    return this.nodes[0];
  }

  get best(): ExperimentNode | undefined {
    return this.bestId === null ? undefined : this.nodes[this.bestId];
  }

  /** The rule's own last decision on a node (its status, reason and measurement), whatever a person made of it since. */
  ruleDecision(id: number): Readonly<DecideRecord> | undefined {
    return this.ruleDecisions.get(id);
  }

  /** Is `a` a better metric than `b` in the configured direction? */
  better(a: number, b: number): boolean {
    return this.config?.metric.direction === 'maximize' ? a > b : a < b;
  }

  apply(r: JournalRecord): void {
    switch (r.type) {
      case 'session':
        this.config = r.config;
        this.budgets.splice(0, this.budgets.length, { from: 0, text: r.config.budgetText });
        this.tag = r.tag;
        this.baseCommit = r.baseCommit;
        this.baseBranch = r.baseBranch;
        this.platform = r.platform;
        this.startedAt = r.startedAt;
        this.readCap(r.config, true);
        break;
      case 'resume':
        this.config = r.config;
        if (this.budgets.at(-1)?.text !== r.config.budgetText) {
          // Changed again before any experiment had it: the earlier change never applied.
          if (this.budgets.at(-1)?.from === this.nodes.length) this.budgets.pop();
          if (this.budgets.at(-1)?.text !== r.config.budgetText) this.budgets.push({ from: this.nodes.length, text: r.config.budgetText });
        }
        this.readCap(r.config, false);
        break;
      case 'restart': {
        const moved = (p: string) => (p.startsWith(r.logsFrom) ? r.logsTo + p.slice(r.logsFrom.length) : p);
        const nodes = this.nodes.filter(Boolean).map((n) => ({ ...n, logPath: n.logPath && moved(n.logPath), ...(n.checks && { checks: { ...n.checks, logPath: moved(n.checks.logPath) } }) }));
        this.attempts.push({ attempt: this.attempt, baseCommit: this.baseCommit, startedAt: this.startedAt, endedAt: r.at, reason: r.reason, nodes });
        this.attempt = r.attempt;
        this.config = r.config;
        this.budgets.splice(0, this.budgets.length, { from: 0, text: r.config.budgetText });
        this.readCap(r.config, false);
        this.baseCommit = r.baseCommit;
        this.baseBranch = r.baseBranch;
        this.startedAt = r.at;
        this.nodes.length = 0;
        for (const set of [this.children, this.keptIds, this.crashedIds, this.lastStart, this.lastFinish, this.repeated, this.ruleDecisions]) set.clear();
        this.repeated.add(0);
        this.decidedCount = 0;
        this.bestId = null;
        break;
      }
      case 'node': {
        const n: ExperimentNode = {
          ...r.node,
          status: 'pending', metric: null, memoryGb: null, secondary: {}, decidedBy: null, reason: '', ruleStatus: null,
          logPath: null, logTail: null, slot: null, startedAt: null, finishedAt: null, wallMs: null, exitCode: null, timedOut: false,
        };
        this.nodes[n.id] = n;
        addSpend(this.spend, n.proposer);
        if (n.parentId !== null) {
          const list = this.children.get(n.parentId) ?? [];
          list.push(n.id);
          this.children.set(n.parentId, list);
        }
        if (n.hint) {
          const h = this.hints.find((x) => x.text === n.hint && x.takenBy === null);
          if (h) h.takenBy = n.id;
        }
        break;
      }
      case 'start': {
        const n = this.nodes[r.id];
        if (!n) break;
        n.status = 'running';
        n.slot = r.slot;
        n.startedAt = r.startedAt;
        n.logPath = r.logPath;
        this.lastStart.set(r.id, r);
        break;
      }
      case 'curve': {
        const n = this.nodes[r.id];
        if (n) {
          n.curve = r.points;
          if (r.printed !== undefined) n.curvePrinted = r.printed;
        }
        break;
      }
      case 'checks': {
        const n = this.nodes[r.id];
        if (n) n.checks = { passed: r.passed, logPath: r.logPath, wallMs: r.wallMs, reason: r.reason };
        break;
      }
      case 'finish': {
        const n = this.nodes[r.id];
        if (!n) break;
        n.finishedAt = r.finishedAt;
        n.wallMs = r.run.wallMs;
        if (r.run.queuedMs !== undefined) n.queuedMs = r.run.queuedMs;
        n.exitCode = r.run.exitCode;
        n.timedOut = r.run.timedOut;
        this.lastFinish.set(r.id, r);
        break;
      }
      case 'decide': {
        const n = this.nodes[r.id];
        if (!n) break;
        const wasDecided = n.decidedBy !== null;
        if (r.decidedBy === 'rule') {
          n.ruleStatus = r.status;
          this.ruleDecisions.set(r.id, r);
        }
        // A human override carries no measurement: it changes the status, never the numbers.
        if (r.metric !== null) n.metric = r.metric;
        if (r.memoryGb !== null) n.memoryGb = r.memoryGb;
        if (Object.keys(r.secondary).length) n.secondary = r.secondary;
        n.status = r.status;
        n.decidedBy = r.decidedBy;
        n.reason = r.reason;
        if (r.logTail !== undefined) n.logTail = r.logTail;
        if (!wasDecided && n.id !== 0 && !isMeasurement(n)) this.decidedCount++;
        if (n.status === 'keep' && n.metric !== null && Number.isFinite(n.metric)) this.keptIds.add(n.id);
        else this.keptIds.delete(n.id);
        if (n.status === 'crash') this.crashedIds.add(n.id);
        else this.crashedIds.delete(n.id);
        if (n.operator === 'rerun' && n.parentId !== null) this.repeated.add(n.parentId);
        this.updateBest(n);
        break;
      }
      case 'protection':
        this.protection = { sandboxed: r.sandboxed, text: r.text };
        break;
      case 'hint':
        this.hints.push({ ...r.hint });
        break;
      case 'prune':
        this.pruneSet = r.on;
        break;
      case 'cap':
        if (r.cap.maxCost !== undefined) this.cap.maxCost = r.cap.maxCost;
        if (r.cap.maxTokens !== undefined) this.cap.maxTokens = r.cap.maxTokens;
        break;
      case 'spend':
        addSpend(this.spend, r.proposer);
        break;
      case 'state':
        this.tick(r.state, Date.parse(r.at));
        this.state = r.state;
        this.stateReason = r.reason;
        if (r.state === 'stopping' || r.state === 'stopped') this.lastStopSeq = r.seq;
        break;
    }
  }

  /** The config's caps: taken at the session's start, and later only where the config's own value changed. */
  private readCap(config: ResearchConfig, first: boolean): void {
    for (const key of ['maxCost', 'maxTokens'] as const) {
      const value = config[key] ?? null;
      if (first || value !== this.configCap[key]) this.cap[key] = value;
      this.configCap[key] = value;
    }
  }

  /** Running time counts from `running` to the next state that is not running; paused time the same for `paused`. */
  private tick(next: SessionState, at: number): void {
    if (!Number.isFinite(at)) return;
    const c = this.clock;
    if (c.since !== null && next !== 'running') {
      c.runningMs += Math.max(0, at - c.since);
      c.since = null;
    }
    if (c.pausedSince !== null && next !== 'paused') {
      c.pausedMs += Math.max(0, at - c.pausedSince);
      c.pausedSince = null;
    }
    if (next === 'running' && c.since === null) c.since = at;
    if (next === 'paused' && c.pausedSince === null) c.pausedSince = at;
  }

  /** Milliseconds the session ran (and was paused), counting a running stretch up to `now` while it goes on. */
  activeTime(now = Date.now()): { runningMs: number; pausedMs: number } {
    const c = this.clock;
    return {
      runningMs: c.runningMs + (c.since !== null ? Math.max(0, now - c.since) : 0),
      pausedMs: c.pausedMs + (c.pausedSince !== null ? Math.max(0, now - c.pausedSince) : 0),
    };
  }

  /**
   * What a kept node is ranked by: the mean of every run of its code (its estimate) once it ran more than once, else
   * its recorded metric. A node kept on a lucky first run whose re-runs (for its children's evidence) measure worse is
   * then no longer the best: a child proven better than it is.
   */
  rankValue(id: number): number | null {
    const n = this.nodes[id];
    if (!n || n.metric === null) return null;
    const e = this.estimate(id);
    return e && e.runs > 1 ? e.mean : n.metric;
  }

  private updateBest(changed: ExperimentNode): void {
    const current = this.best;
    // A re-run moves its parent's estimate: the best, measured worse, may lose its place; another node may take it.
    if (changed.operator === 'rerun' && changed.parentId !== null && this.keptIds.has(changed.parentId)) {
      const p = changed.parentId;
      if (current?.id === p) this.rescanBest();
      else if (!current || this.better(this.rankValue(p)!, this.rankValue(current.id)!)) this.bestId = p;
      return;
    }
    if (changed.status === 'keep' && changed.metric !== null && Number.isFinite(changed.metric)) {
      if (!current || current.id === changed.id || this.better(this.rankValue(changed.id)!, this.rankValue(current.id)!)) {
        this.bestId = changed.id;
        return;
      }
    }
    // Only an override that demotes the best forces a scan; ordinary decisions stay O(1).
    if (current && current.id === changed.id && changed.status !== 'keep') this.rescanBest();
  }

  private rescanBest(): void {
    this.bestId = null;
    let bestValue = 0;
    for (const id of this.keptIds) {
      const v = this.rankValue(id)!;
      if (this.bestId === null || this.better(v, bestValue)) {
        this.bestId = id;
        bestValue = v;
      }
    }
  }

  /**
   * Every run of `id`'s code the rule measured: its own first run, then its confirmation runs, then other re-runs of
   * it (the baseline's noise repeats, a person's noise checks, its re-runs for a child's evidence: `measure:`, which
   * its recorded metric never includes). Empty while it has no measured run of its own.
   */
  samples(id: number): number[] {
    const own = this.ruleDecisions.get(id)?.metric;
    if (own === null || own === undefined || !Number.isFinite(own)) return [];
    const confirmations: number[] = [];
    const others: number[] = [];
    for (const c of this.childrenOf(id)) {
      const v = c.operator === 'rerun' ? this.ruleDecisions.get(c.id)?.metric : undefined;
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      (c.editKey.startsWith('confirm:') ? confirmations : others).push(v);
    }
    // A node decided on its confirmation runs records the mean of them and its own: its first run is what remains.
    const first = confirmations.length ? own * (confirmations.length + 1) - confirmations.reduce((a, b) => a + b, 0) : own;
    return [first, ...confirmations, ...others];
  }

  /** What `id`'s code measures, pooled over every run of it: the mean and how many runs; null without one. */
  estimate(id: number): { mean: number; runs: number } | null {
    const runs = this.samples(id);
    return runs.length ? { mean: runs.reduce((a, b) => a + b, 0) / runs.length, runs: runs.length } : null;
  }

  /**
   * The run-to-run spread, pooled over every code that ran more than once (the baseline's repeats first, then
   * confirmation runs and re-runs as they come), and the margin one run must beat its parent's by; null when the
   * session has no `noise` config. Before two runs of one code have a metric, the spread is null and minDelta rules.
   */
  noiseBand(): NoiseBand | null {
    const noise = this.config?.noise;
    if (!noise) return null;
    const minDelta = this.config!.minDelta;
    const base = this.samples(0).length;
    const more = [...this.repeated].filter((id) => id !== 0).map((id) => this.samples(id)).filter((g) => g.length > 1);
    const { spread, samples } = pooledSpread([this.samples(0), ...more]);
    const extra = more.reduce((a, g) => a + g.length, 0);
    const source = more.length ? `${base} baseline run${base === 1 ? '' : 's'} and ${extra} runs of ${more.length} experiment${more.length === 1 ? '' : 's'} run more than once` : `${base} baseline run${base === 1 ? '' : 's'}`;
    const share = this.config!.minDeltaShare;
    return { spread, samples: spread === null ? base : samples, source, repeats: noise.repeats, z: noise.z, ...(noise.alpha === undefined ? {} : { alpha: noise.alpha }), minDelta, ...(share === undefined ? {} : { minDeltaShare: share }), threshold: spread === null ? minDelta : Math.max(minDelta, noise.z * spread) };
  }

  /** Nodes from the root to `id`. */
  pathTo(id: number): ExperimentNode[] {
    const path: ExperimentNode[] = [];
    for (let n = this.nodes[id]; n; n = n.parentId === null ? undefined : this.nodes[n.parentId]) path.unshift(n);
    return path;
  }

  depth(id: number): number {
    return this.pathTo(id).length - 1;
  }

  nextHint(): Hint | undefined {
    return this.hints.find((h) => h.takenBy === null);
  }

  get nextId(): number {
    return this.nodes.length;
  }

  /** Nodes that exist but were never decided: interrupted by a stop or a crash of the controller. */
  undecided(): ExperimentNode[] {
    return this.nodes.filter((n) => n && n.decidedBy === null);
  }

  /**
   * The nodes after the baseline by status; with `measurements` false, the changes alone (decidedCount's), not the
   * runs that measure noise (the baseline's repeats, confirmations), which `status --json` counts (docs/json.md).
   */
  counts(measurements = true): Record<'keep' | 'discard' | 'crash' | 'invalid' | 'running' | 'pending', number> {
    const c = { keep: 0, discard: 0, crash: 0, invalid: 0, running: 0, pending: 0 };
    for (const n of this.nodes) if (n && n.id !== 0 && (measurements || !isMeasurement(n))) c[n.status]++;
    return c;
  }
}
