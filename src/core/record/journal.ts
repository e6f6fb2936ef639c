// The session's single source of truth: an append-only JSON-lines file, fsync'd per record.
// A kill at any instant leaves at most one partial last line, which the next open drops and reports.
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, ftruncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { faultPoint } from '../faults.js';
import type { CapChange } from '../spend.js';
import type { DecidedBy, DecidedStatus, ExperimentNode, Hint, PlatformInfo, ProposerInfo, ResearchConfig, RunResult, SessionState } from '../types.js';

export type NodeCreated = Pick<ExperimentNode,
  'id' | 'parentId' | 'mergedFrom' | 'operator' | 'commit' | 'description' | 'plan' | 'editKey' | 'changedFiles' | 'policyReason' | 'proposer' | 'hint' | 'createdAt'>;

export type JournalEntry =
  | { type: 'session'; tag: string; config: ResearchConfig; baseCommit: string; baseBranch: string | null; platform: PlatformInfo | null; startedAt: string }
  | { type: 'resume'; at: string; pid: number; config: ResearchConfig }
  /**
   * A new attempt of the session from `baseCommit`: the nodes so far become attempt `attempt - 1`, their refs and logs
   * moved under `attempts/<n>/` (logsFrom → logsTo), and the tree starts again at a new baseline.
   */
  | { type: 'restart'; at: string; attempt: number; reason: string; config: ResearchConfig; baseCommit: string; baseBranch: string | null; logsFrom: string; logsTo: string }
  | { type: 'node'; node: NodeCreated }
  | { type: 'start'; id: number; slot: number; startedAt: string; logPath: string; pid?: number; handle?: string }
  | { type: 'finish'; id: number; run: RunResult; finishedAt: string }
  /** The intermediate values a run printed, compacted (curves.ts); before its finish record. */
  | { type: 'curve'; id: number; points: [number, number][]; /** Points read, of which `points` keeps at most 60; absent in older journals. */ printed?: number }
  /** `restored`: the rule's own decision again, written when a person's override was undone (decisions.ts). */
  | { type: 'decide'; id: number; status: DecidedStatus; metric: number | null; memoryGb: number | null; secondary: Record<string, number>; reason: string; decidedBy: DecidedBy; logTail?: string; restored?: true }
  /** The config's `checks` after the rule said keep, before the decision (a failure makes it a discard). */
  | { type: 'checks'; id: number; passed: boolean; logPath: string; wallMs: number; reason: string; at: string }
  | { type: 'hint'; hint: Hint }
  /** A person changed the spend cap (spend.ts): it holds until they change it again or edit it in the config. */
  | { type: 'cap'; cap: CapChange; at: string }
  /** A person turned early stopping on or off; it holds until the next such record, across resumes. */
  | { type: 'prune'; on: boolean; at: string }
  /** What a proposal cost that made no node (dropped, or the session stopped): the cost ledger outside the nodes. */
  | { type: 'spend'; proposer: ProposerInfo; why: string; at: string }
  | { type: 'state'; state: SessionState; reason?: string; at: string }
  /** Which protection is in force for the runs from here on (sandbox.ts), written at every start. */
  | { type: 'protection'; sandboxed: boolean; text: string; at: string };

export type JournalRecord = JournalEntry & { seq: number };

export interface JournalRecovery {
  /** Human-readable notes about what was repaired while opening. */
  notes: string[];
}

/** JSON has no NaN or Infinity; the journal keeps them as strings so a crash's metric survives a replay. */
function encodeNumbers(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

function reviveNumbers(_key: string, v: unknown): unknown {
  return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
}

export class Journal {
  private fd: number;
  private expectedSize: number;
  private expectedMtime: number;
  private readonly lines: string[];
  private nextSeq: number;
  /** An append found someone else's write and put the file back; tampered() says so until restore(). */
  private restoredUnseen = false;

  private constructor(readonly path: string, fd: number, lines: string[], readonly records: JournalRecord[], readonly recovery: JournalRecovery) {
    this.fd = fd;
    this.lines = lines;
    const st = fstatSync(fd);
    this.expectedSize = st.size;
    this.expectedMtime = st.mtimeMs;
    this.nextSeq = records.length ? records[records.length - 1]!.seq + 1 : 0;
  }

  /** Reads what is there (repairing a torn tail) and opens the file for appending. */
  static open(path: string): Journal {
    mkdirSync(dirname(path), { recursive: true });
    const notes: string[] = [];
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const { records, lines, validBytes, problems } = Journal.parse(text);
    notes.push(...problems);
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    if (validBytes !== Buffer.byteLength(text)) {
      // Rewrite whole records only: a torn or corrupt record is dropped, never half-read.
      const body = lines.map((l) => l + '\n').join('');
      ftruncateSync(fd, 0);
      writeSync(fd, body, 0);
      fsyncSync(fd);
    }
    return new Journal(path, fd, lines, records, { notes });
  }

  /** Parses journal text; exported for readers that must not take the writer's place. */
  static parse(text: string): { records: JournalRecord[]; lines: string[]; validBytes: number; problems: string[] } {
    const records: JournalRecord[] = [];
    const lines: string[] = [];
    const problems: string[] = [];
    let offset = 0;
    let lineNo = 0;
    let validBytes = 0;
    // Bytes read so far, counted line by line: measuring the whole prefix per record made a 10,000-node journal take half a minute.
    let bytes = 0;
    let clean = true;
    while (offset < text.length) {
      lineNo++;
      const nl = text.indexOf('\n', offset);
      if (nl === -1) {
        problems.push(`journal line ${lineNo}: dropped a partial last record (${text.length - offset} bytes) left by an interrupted write`);
        clean = false;
        break;
      }
      const line = text.slice(offset, nl);
      offset = nl + 1;
      bytes += Buffer.byteLength(line) + 1;
      if (line.trim() === '') continue;
      try {
        // The reviver costs three times the parse; only a line holding one of its strings needs it.
        const rec = (line.includes('"NaN"') || line.includes('Infinity"') ? JSON.parse(line, reviveNumbers) : JSON.parse(line)) as JournalRecord;
        if (typeof rec !== 'object' || rec === null || typeof rec.type !== 'string') throw new Error('not a record');
        records.push(rec);
        lines.push(line);
        if (clean) validBytes = bytes;
      } catch {
        problems.push(`journal line ${lineNo}: dropped an unreadable record`);
        clean = false;
      }
    }
    if (clean) validBytes = Buffer.byteLength(text);
    return { records, lines, validBytes, problems };
  }

  static read(path: string): JournalRecord[] {
    return existsSync(path) ? Journal.parse(readFileSync(path, 'utf8')).records : [];
  }

  /**
   * True when someone other than this writer changed the file since the last append (an experiment
   * writing outside its worktree, say). `restore()` puts back what was written.
   */
  tampered(): boolean {
    return this.restoredUnseen || this.changedOnDisk();
  }

  private changedOnDisk(): boolean {
    const st = fstatSync(this.fd);
    return st.size !== this.expectedSize || st.mtimeMs !== this.expectedMtime;
  }

  restore(): void {
    const tmp = `${this.path}.restore`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, this.lines.map((l) => l + '\n').join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'r+');
    this.remember();
    this.restoredUnseen = false;
  }

  append(entry: JournalEntry): JournalRecord {
    if (entry.type === 'node') faultPoint('committing', entry.node.id);
    // Put back before appending, and still reported by tampered(): the run that wrote it must not pass for clean.
    if (this.changedOnDisk()) {
      this.restore();
      this.restoredUnseen = true;
    }
    const record = { seq: this.nextSeq++, ...entry } as JournalRecord;
    const line = JSON.stringify(record, encodeNumbers);
    writeSync(this.fd, line + '\n', this.expectedSize);
    fsyncSync(this.fd);
    this.lines.push(line);
    this.records.push(record);
    this.remember();
    // The journal sees every phase of an experiment end: the fault suite's kill points (inert unless set).
    if (entry.type === 'start') faultPoint('running', entry.id);
    else if (entry.type === 'finish') faultPoint('judging', entry.id);
    else if (entry.type === 'decide' && entry.decidedBy === 'rule') faultPoint('writing', entry.id);
    return record;
  }

  private remember(): void {
    const st = fstatSync(this.fd);
    this.expectedSize = st.size;
    this.expectedMtime = st.mtimeMs;
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}
