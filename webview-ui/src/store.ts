// The webview's copy of the study: nodes by id, the tree's shape, and what is derived from them (depth,
// best-so-far, the best path). Snapshots replace it, deltas patch it; every view reads from here.
import type { Direction, KeepWinDto, NodeDto, SessionDto, WinsDto } from '../../src/shared/protocol.js';

export interface Changes {
  /** Every node replaced (a snapshot). */
  reset: boolean;
  /** Ids seen for the first time. */
  added: number[];
  /** Ids already known whose data changed. */
  changed: number[];
  session: boolean;
}

export type ApplyResult = Changes | { gap: true; expected: number; got: number };

export interface Step {
  /** The experiment (x) from which this best value holds. */
  x: number;
  id: number;
  value: number;
}

export class ResultsStore {
  session: SessionDto | null = null;
  emptyReason: string | undefined;
  /** Indexed by node id; ids are dense from 0 in a session and in a file. */
  readonly nodes: NodeDto[] = [];
  readonly children = new Map<number, number[]>();
  readonly depth: number[] = [];
  rev = -1;
  /** Set by the user for a file whose direction was guessed. */
  directionOverride: Direction | null = null;
  /** When the last snapshot or delta arrived, on the webview's clock, matched with session.hostNow. */
  receivedAt = 0;
  private derivedFor = -1;
  private version = 0;
  private stepsCache: Step[] = [];
  private bestIdCache: number | null = null;
  private winsCache = new Map<number, KeepWinDto>();

  /** The host's time now, from the webview's `nowMs` (performance.now()): what the host's views would draw with. */
  hostNow(nowMs: number): number {
    return this.session ? Date.parse(this.session.hostNow) + Math.max(0, nowMs - this.receivedAt) : Date.now();
  }

  get direction(): Direction {
    return this.directionOverride ?? this.session?.direction ?? 'minimize';
  }

  get size(): number {
    return this.nodes.length;
  }

  get isFile(): boolean {
    return this.session?.source.kind === 'file';
  }

  get(id: number): NodeDto | undefined {
    return this.nodes[id];
  }

  /** Which wins are real in the direction shown: the host's verdicts (for a guessed direction, both ways come). */
  get wins(): WinsDto | null {
    const s = this.session;
    if (!s?.wins) return null;
    return this.direction === s.direction ? s.wins : s.winsIfFlipped ?? null;
  }

  /** A keep's verdict against the noise; undefined for anything not weighed (discards, the baseline). */
  winOf(id: number): KeepWinDto | undefined {
    this.derive();
    return this.winsCache.get(id);
  }

  /** Is `a` better than `b` in the study's direction? */
  better(a: number, b: number): boolean {
    return this.direction === 'maximize' ? a > b : a < b;
  }

  applySnapshot(m: { rev: number; session: SessionDto | null; nodes: readonly NodeDto[]; emptyReason?: string }, now = 0): Changes {
    this.rev = m.rev;
    this.session = m.session;
    this.emptyReason = m.emptyReason;
    this.receivedAt = now;
    this.nodes.length = 0;
    this.depth.length = 0;
    this.children.clear();
    // A snapshot may list nodes in any order; parents come first by id.
    const sorted = [...m.nodes].sort((a, b) => a.id - b.id);
    for (const n of sorted) this.put(n);
    this.version++;
    return { reset: true, added: sorted.map((n) => n.id), changed: [], session: true };
  }

  applyDelta(m: { rev: number; session?: SessionDto; nodes: readonly NodeDto[] }, now = 0): ApplyResult {
    if (m.rev !== this.rev + 1) return { gap: true, expected: this.rev + 1, got: m.rev };
    this.rev = m.rev;
    const added: number[] = [];
    const changed: number[] = [];
    const sorted = [...m.nodes].sort((a, b) => a.id - b.id);
    for (const n of sorted) (this.nodes[n.id] ? changed : added).push(n.id);
    for (const n of sorted) this.put(n);
    if (m.session) {
      this.session = m.session;
      this.emptyReason = undefined;
      this.receivedAt = now;
    }
    if (added.length || changed.length || m.session) this.version++;
    return { reset: false, added, changed, session: !!m.session };
  }

  /** Marks derived data stale after a change the store cannot see (the user flipped the direction). */
  invalidate(): void {
    this.version++;
  }

  private put(n: NodeDto): void {
    const old = this.nodes[n.id];
    this.nodes[n.id] = n;
    if (!old && n.parentId !== null) {
      const list = this.children.get(n.parentId);
      if (list) list.push(n.id);
      else this.children.set(n.parentId, [n.id]);
    }
    const parentDepth = n.parentId === null ? -1 : this.depth[n.parentId] ?? -1;
    this.depth[n.id] = parentDepth + 1;
  }

  childrenOf(id: number): readonly number[] {
    return this.children.get(id) ?? [];
  }

  /** Ids of nodes that exist (a snapshot could in principle skip one). */
  *ids(): Iterable<number> {
    for (let i = 0; i < this.nodes.length; i++) if (this.nodes[i]) yield i;
  }

  get baseline(): NodeDto | undefined {
    return this.nodes[0];
  }

  /** The best kept node: the engine's word when it knows the direction, else ours. */
  get bestId(): number | null {
    this.derive();
    return this.bestIdCache;
  }

  get best(): NodeDto | undefined {
    const id = this.bestId;
    return id === null ? undefined : this.nodes[id];
  }

  /**
   * The best-so-far line: one step each time a kept node beats every kept node before it (in experiment
   * order). It steps down when minimizing and up when maximizing.
   */
  get steps(): readonly Step[] {
    this.derive();
    return this.stepsCache;
  }

  /** The parent's metric, or, for a flat results.tsv, the best kept value before this row: what it was judged against. */
  reference(id: number): number | null {
    const n = this.nodes[id];
    if (!n) return null;
    if (n.parentId !== null) return this.nodes[n.parentId]?.metric ?? null;
    if (!this.isFile || id === 0) return null;
    const steps = this.steps;
    let lo = 0;
    let hi = steps.length - 1;
    let found: Step | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid]!.x < id) { found = steps[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return found?.value ?? null;
  }

  delta(id: number): number | null {
    const m = this.nodes[id]?.metric;
    const ref = this.reference(id);
    return m === null || m === undefined || ref === null ? null : m - ref;
  }

  /** Root → id. */
  pathTo(id: number): number[] {
    const path: number[] = [];
    for (let n = this.nodes[id]; n; n = n.parentId === null ? undefined : this.nodes[n.parentId]) {
      path.push(n.id);
      if (path.length > this.nodes.length) break;
    }
    return path.reverse();
  }

  private derive(): void {
    if (this.derivedFor === this.version) return;
    this.derivedFor = this.version;
    const steps: Step[] = [];
    let cur: number | null = null;
    for (const n of this.nodes) {
      if (!n || n.status !== 'keep' || n.metric === null) continue;
      if (cur === null || this.better(n.metric, cur)) {
        cur = n.metric;
        steps.push({ x: n.id, id: n.id, value: n.metric });
      }
    }
    this.stepsCache = steps;
    this.winsCache = new Map((this.wins?.keeps ?? []).map((k) => [k.id, k]));
    const s = this.session;
    const engineBest = s && s.directionKnown && !this.directionOverride ? s.bestId : undefined;
    this.bestIdCache = engineBest !== undefined && engineBest !== null && this.nodes[engineBest]
      ? engineBest
      : steps.length ? steps[steps.length - 1]!.id : null;
  }
}
