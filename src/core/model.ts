// The session as a tree of experiments, derived from the journal by replay. Applying one record is
// O(1), so a live session and a 10,000-node reload go through the same code.
import type { JournalRecord } from './journal.js';
import type { ExperimentNode, Hint, PlatformInfo, ResearchConfig, SessionState } from './types.js';

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

  get baseline(): ExperimentNode | undefined {
    return this.nodes[0];
  }

  get best(): ExperimentNode | undefined {
    return this.bestId === null ? undefined : this.nodes[this.bestId];
  }

  /** Is `a` a better metric than `b` in the configured direction? */
  better(a: number, b: number): boolean {
    return this.config?.metric.direction === 'maximize' ? a > b : a < b;
  }

  apply(r: JournalRecord): void {
    switch (r.type) {
      case 'session':
        this.config = r.config;
        this.tag = r.tag;
        this.baseCommit = r.baseCommit;
        this.baseBranch = r.baseBranch;
        this.platform = r.platform;
        this.startedAt = r.startedAt;
        break;
      case 'resume':
        this.config = r.config;
        break;
      case 'node': {
        const n: ExperimentNode = {
          ...r.node,
          status: 'pending', metric: null, memoryGb: null, secondary: {}, decidedBy: null, reason: '', ruleStatus: null,
          logPath: null, logTail: null, slot: null, startedAt: null, finishedAt: null, wallMs: null, exitCode: null, timedOut: false,
        };
        this.nodes[n.id] = n;
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
        break;
      }
      case 'decide': {
        const n = this.nodes[r.id];
        if (!n) break;
        const wasDecided = n.decidedBy !== null;
        if (r.decidedBy === 'rule') n.ruleStatus = r.status;
        // A human override carries no measurement: it changes the status, never the numbers.
        if (r.metric !== null) n.metric = r.metric;
        if (r.memoryGb !== null) n.memoryGb = r.memoryGb;
        if (Object.keys(r.secondary).length) n.secondary = r.secondary;
        n.status = r.status;
        n.decidedBy = r.decidedBy;
        n.reason = r.reason;
        if (r.logTail !== undefined) n.logTail = r.logTail;
        if (!wasDecided && n.id !== 0) this.decidedCount++;
        this.updateBest(n);
        break;
      }
      case 'hint':
        this.hints.push({ ...r.hint });
        break;
      case 'state':
        this.state = r.state;
        this.stateReason = r.reason;
        break;
    }
  }

  private updateBest(changed: ExperimentNode): void {
    const current = this.best;
    if (changed.status === 'keep' && changed.metric !== null && Number.isFinite(changed.metric)) {
      if (!current || current.id === changed.id || this.better(changed.metric, current.metric!)) {
        this.bestId = changed.id;
        return;
      }
    }
    // Only an override that demotes the best forces a scan; ordinary decisions stay O(1).
    if (current && current.id === changed.id && changed.status !== 'keep') {
      this.bestId = null;
      for (const n of this.nodes) {
        if (n && n.status === 'keep' && n.metric !== null && Number.isFinite(n.metric) && (this.bestId === null || this.better(n.metric, this.nodes[this.bestId]!.metric!))) this.bestId = n.id;
      }
    }
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

  counts(): Record<'keep' | 'discard' | 'crash' | 'invalid' | 'running' | 'pending', number> {
    const c = { keep: 0, discard: 0, crash: 0, invalid: 0, running: 0, pending: 0 };
    for (const n of this.nodes) if (n && n.id !== 0) c[n.status]++;
    return c;
  }
}
