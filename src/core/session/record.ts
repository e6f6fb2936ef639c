// The record of a session. Everything the controller learns goes to the journal first; results.tsv, the summary
// and the session branch are derived from it, here.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { sessionBranch } from '../git.js';
import { WatchedFile } from '../protection/guard.js';
import { Journal, type JournalEntry, type NodeCreated } from '../record/journal.js';
import { formatResults, resultsHeader, resultsRow } from '../record/results.js';
import { buildSummary } from '../report/summary.js';
import { fmtMemory, fmtNum } from '../../shared/format.js';
import type { ExperimentNode } from '../types.js';
import type { SessionContext } from './context.js';

export function experimentLine(tag: string, metricName: string, n: ExperimentNode): string {
  const commit = n.commit ? n.commit.slice(0, 7) : '-------';
  const metric = fmtNum(n.metric);
  // Like results.tsv, an unreported memory reads 0.0GB so the line keeps its shape; under 1 GB it reads in MB.
  const mem = fmtMemory(n.memoryGb ?? 0, false);
  // A run early stopping ended has no metric: the line says where it stopped, not only `n/a`.
  const stopped = /^stopped early at (\S+ %) of the budget/.exec(n.reason ?? '')?.[1];
  return `[EXP] ${tag} ${n.id} | commit:${commit} | ${metricName}:${metric} | mem:${mem} | status:${n.status} | ${n.description}${stopped ? ` (stopped early at ${stopped} of the budget)` : ''}`;
}

export class SessionRecord {
  private journal: Journal | undefined;
  private results!: WatchedFile;
  private branchCommit: string | null = null;
  private branchUpdate: Promise<void> = Promise.resolve();
  private nodeIdQueue: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: SessionContext) {}

  /** The journal is open: what the session learns can be recorded. */
  get opened(): boolean {
    return this.journal !== undefined;
  }

  /** Opens the journal where the session's paths say, and replays it into the model. */
  open(): void {
    const { paths, model } = this.ctx;
    this.results = new WatchedFile(paths.results);
    this.journal = Journal.open(paths.journal);
    for (const note of this.journal.recovery.notes) this.ctx.log(`recovered: ${note}`, 'warn');
    for (const r of this.journal.records) model.apply(r);
  }

  append(entry: JournalEntry): void {
    const rec = this.journal!.append(entry);
    this.ctx.model.apply(rec);
  }

  close(): void {
    this.journal!.close();
  }

  /**
   * Journals a new node under the next id; `made` runs once it is journaled, or failed to be, before the next
   * id is taken. Parallel slots take ids one at a time, from reading nextId to journaling the node, or two would
   * commit the same #id.
   */
  async addNode(make: (id: number) => Promise<NodeCreated>, made?: () => void): Promise<ExperimentNode> {
    const unlock = await this.lockNodeIds();
    let id: number;
    try {
      id = this.ctx.model.nextId;
      this.append({ type: 'node', node: await make(id) });
    } finally {
      made?.();
      unlock();
    }
    const node = this.ctx.model.get(id)!;
    this.ctx.emit({ type: 'node-added', node });
    return node;
  }

  /** Waits for the node-id lock; resolves to its release. */
  private lockNodeIds(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const ready = this.nodeIdQueue.then(() => release);
    this.nodeIdQueue = this.nodeIdQueue.then(() => held);
    return ready;
  }

  /** Notes results.tsv as it is before a run, so a run that writes it is caught. */
  rememberResults(): void {
    this.results.remember();
  }

  /** Puts back the records a run may not write (the journal, results.tsv); names those it had to put back. */
  restoreAfterRun(): string[] {
    const records: string[] = [];
    if (this.journal!.tampered()) {
      this.journal!.restore();
      records.push('the session journal');
    }
    if (this.results.changed()) {
      this.rewriteResults();
      records.push('results.tsv');
    }
    return records;
  }

  /** Moves the session branch to the best, one git call at a time and in order; settled() waits for the last. */
  updateBranch(): Promise<void> {
    const best = this.ctx.model.best;
    // Most decisions do not change the best: no git call for them.
    if (!best?.commit || best.commit === this.branchCommit) return this.branchUpdate;
    const commit = best.commit;
    this.branchCommit = commit;
    this.branchUpdate = this.branchUpdate.then(() => this.ctx.lab.setBranch(sessionBranch(this.ctx.config.tag), commit))
      .catch((e: Error) => this.ctx.log(`could not move the session branch: ${e.message}`, 'warn'));
    return this.branchUpdate;
  }

  settled(): Promise<void> {
    return this.branchUpdate;
  }

  // ---- derived files -----------------------------------------------------------------------

  private decidedNodes(): ExperimentNode[] {
    return this.ctx.model.nodes.filter((n) => n && n.decidedBy !== null);
  }

  rewriteResults(): void {
    writeFileSync(this.ctx.paths.results, formatResults(this.ctx.config.metric.name, this.decidedNodes()));
    this.results.remember();
  }

  appendResultsRow(node: ExperimentNode): void {
    const { paths } = this.ctx;
    if (this.results.changed() || !existsSync(paths.results)) {
      this.rewriteResults();
      return;
    }
    appendFileSync(paths.results, existsSync(paths.results) ? resultsRow(node) : resultsHeader(this.ctx.config.metric.name) + resultsRow(node));
    this.results.remember();
  }

  writeSummary(): string {
    const text = buildSummary(this.ctx.model);
    writeFileSync(this.ctx.paths.summary, text);
    return this.ctx.paths.summary;
  }
}
