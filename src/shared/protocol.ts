// The one message protocol between the results panel's host (src/extension/results) and its webview
// (webview-ui). The webview says `ready` first; the host answers with a whole `snapshot`, then `delta`s
// numbered after it. A webview that sees a gap in the numbering says `ready` again and gets a snapshot.
// Plain data only: no vscode, no DOM, and nothing of the engine: the core builds these (core/report/snapshot.ts),
// so a change in the engine's model that the protocol cannot carry fails to compile there.
import type { DecidedBy, Direction, NodeStatus, Operator, SessionState } from './vocabulary.js';

/** The panel's view type, for createWebviewPanel and registerWebviewPanelSerializer. */
export const RESULTS_VIEW_TYPE = 'autoresearch.results';

/** One experiment as the webview sees it: what the chart, the tree and the table show, nothing more. */
export interface NodeDto {
  id: number;
  parentId: number | null;
  commit: string | null;
  description: string;
  status: NodeStatus;
  memoryGb: number | null;
  decidedBy: DecidedBy | null;
  reason: string;
  startedAt: string | null;
  finishedAt: string | null;
  wallMs: number | null;
  /** Null for rows read from a results.tsv, which does not say. */
  operator: Operator | null;
  /** Finite or null: JSON has no NaN, and a crash's NaN is shown by its status, not its value. */
  metric: number | null;
  /** 1-based line in results.tsv, for rows read from a file. */
  line?: number;
  /** Why the policy expanded this node's parent with this operator (the engine's words); absent for file rows. */
  policyReason?: string;
  /** A merge's second parent: the node whose line was brought onto `parentId` (operator `merge`). */
  mergedFrom?: number;
  /** A run the engine added to measure noise (a baseline repeat, a confirmation): drawn, but not counted as an experiment. */
  measurement?: boolean;
  /** The learning curve, when the run printed intermediate values: the journal's (at most 60 points), or a running node's so far. */
  curve?: CurvePointDto[];
}

/** [elapsed fraction of the budget, value]; null where the value was NaN or infinite (JSON has neither). */
export type CurvePointDto = [fraction: number, value: number | null];

/** The most points of one running node's live curve kept on either side; past it, every other point goes. */
export const LIVE_CURVE_MAX = 240;

/**
 * Appends a live point, halving the curve (its last point kept) when it grows past LIVE_CURVE_MAX. A point earlier in
 * the budget than the last one starts the curve over: the run started again (a cluster job the scheduler requeued).
 */
export function appendLivePoint(points: CurvePointDto[], p: CurvePointDto): void {
  if (points.length && p[0] < points[points.length - 1]![0]) points.length = 0;
  points.push(p);
  if (points.length <= LIVE_CURVE_MAX) return;
  const last = points[points.length - 1]!;
  let k = 0;
  for (let i = 0; i < points.length - 1; i += 2) points[k++] = points[i]!;
  points[k++] = last;
  points.length = k;
}

export type ResultsSource =
  | { kind: 'session' }
  /** A results.tsv opened on its own (this extension's or the original autoresearch format); `path` is a URI string. */
  | { kind: 'file'; path: string };

export interface ParseErrorDto {
  line: number;
  message: string;
  text: string;
}

/** The study as a whole: what the headline and the labels need. */
export interface SessionDto {
  source: ResultsSource;
  /** The session tag, or the file's name. */
  title: string;
  metricName: string;
  direction: Direction;
  /** False when the direction was inferred (a bare results.tsv does not say); the webview lets the user flip it. */
  directionKnown: boolean;
  budgetSeconds: number | null;
  budgetText: string | null;
  maxExperiments: number | null;
  parallel: number;
  startedAt: string | null;
  state: SessionState | null;
  stateReason: string | null;
  /** The engine's best node (it alone knows about overrides); null when nothing was kept. */
  bestId: number | null;
  /** Malformed lines of a results.tsv, with their line numbers. */
  errors: ParseErrorDto[];
  /** The host's clock when this was sent, so elapsed times do not depend on the webview's clock. */
  hostNow: string;
  /** The noise band of a session with `noise` configured: a change must beat its parent by more than `threshold`. */
  noise?: NoiseDto;
  /** What model-backed proposers used over the session; absent when no proposal reported tokens. */
  usage?: UsageDto;
  /** What the curves' values are called: the metric, or the words before a `progress` pattern's value ("val loss"). */
  curveLabel?: string;
  /** Which wins are real: every keep weighed against the noise (core/report/realWins.ts), in `direction`. */
  wins?: WinsDto;
  /** The same in the other direction, for a file whose direction was guessed and can be flipped in the view. */
  winsIfFlipped?: WinsDto;
}

/** Where the noise came from: the session's baseline runs or re-runs, a floor given for a file, or a file's own same-code runs. */
export type NoiseSourceDto = 'baseline-repeats' | 'reruns' | 'given' | 'log' | 'none';

/** Whether a keep's gain is larger than the noise; `unknown` when no noise is known. */
export type WinVerdict = 'larger' | 'within' | 'unknown';

export interface WinsDto {
  /** "2 of 4 keeps are larger than the noise (noise ±0.0007, estimated from the log: …)", or why it is unknown. */
  headline: string;
  /** Keeps larger than the noise, of `keeps.length`. */
  larger: number;
  source: NoiseSourceDto;
  /** The run-to-run noise, ±; null when none is known. */
  noise: number | null;
  /** What a keep must beat what it was judged against by; null when no noise is known. */
  threshold: number | null;
  /** How the noise was measured, for people. */
  how: string;
  /** With no noise known: how to measure or give it. */
  hint: string | null;
  keeps: KeepWinDto[];
  /**
   * A session with `noise:`, once the spread is measured: what chance alone would have kept ("By chance: …") and the
   * rule's power ("Power: …"), as the summary and `status` say them; absent for a results.tsv and older hosts.
   */
  chance?: string | null;
  power?: string | null;
}

export interface KeepWinDto {
  id: number;
  /** What it is weighed against: its parent, or in a results.tsv the kept row above it. */
  against: number;
  /** Improvement over `against` in the direction: positive is better. */
  gain: number;
  verdict: WinVerdict;
}

export interface UsageDto {
  tokensIn: number;
  tokensOut: number;
  /** USD, where the model's price is known; null when no proposal had a cost. */
  costUsd: number | null;
}

export interface NoiseDto {
  /** Sample standard deviation of the baseline's runs; null until two have a metric. */
  spread: number | null;
  /** max(minDelta, z × spread). */
  threshold: number;
  z: number;
  /** Baseline runs the spread is computed from. */
  samples: number;
}

/** Host → webview. */
export type HostMessage =
  /** Everything; replaces what the webview had, while it keeps its zoom, selection, sort and filters. */
  | { type: 'snapshot'; rev: number; session: SessionDto | null; nodes: NodeDto[]; emptyReason?: string }
  /** Nodes added or changed since `rev - 1`, and the study when it changed. */
  | { type: 'delta'; rev: number; session?: SessionDto; nodes: NodeDto[] }
  /**
   * A running experiment's clock and last log line, and the curve point its output just added (`point`); not numbered:
   * a lost clock is harmless, and a lost point is back with the next snapshot.
   */
  | { type: 'progress'; nodeId: number; elapsedMs: number; budgetMs: number; line: string; point?: CurvePointDto }
  /** The selection changed elsewhere (the Experiments tree view). */
  | { type: 'select'; nodeId: number | null };

export type ExportView = 'chart' | 'tree';
export type ExportFormat = 'svg' | 'png';

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'select'; nodeId: number | null }
  | { type: 'open-diff'; nodeId: number }
  /** `data` is SVG text, or a PNG as a base64 data URL. */
  | { type: 'export'; view: ExportView; format: ExportFormat; data: string; fileName: string }
  /** Something the user should hear about (an export that failed in the webview). */
  | { type: 'error'; message: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Messages from a webview are untrusted input: the host acts only on ones this accepts. */
export function isWebviewMessage(m: unknown): m is WebviewMessage {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'ready': return true;
    case 'select': return o.nodeId === null || isInt(o.nodeId);
    case 'open-diff': return isInt(o.nodeId);
    case 'export':
      return (o.view === 'chart' || o.view === 'tree') && (o.format === 'svg' || o.format === 'png')
        && typeof o.data === 'string' && typeof o.fileName === 'string';
    case 'error': return typeof o.message === 'string';
    default: return false;
  }
}

export function isHostMessage(m: unknown): m is HostMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'snapshot' || t === 'delta' || t === 'progress' || t === 'select';
}

/** What the webview keeps in vscode.setState, so a hidden or reloaded panel comes back as it was. */
export interface ViewState {
  v: 1;
  source: ResultsSource;
  selectedId: number | null;
  chart: { x: [number, number] | null; y: [number, number] | null; log: boolean };
  /** `view`: the user's zoom and pan, with the level spacing it was made at (`g`); null follows the data. */
  tree: { collapseDead: boolean; expanded: number[]; view: { k: number; x: number; y: number; g?: number } | null };
  table: { sortKey: TableColumn; sortDesc: boolean; filter: string; hidden: NodeStatus[] };
  /** The user's answer for a file whose direction had to be guessed. */
  direction: Direction | null;
}

export type TableColumn = 'id' | 'commit' | 'metric' | 'delta' | 'win' | 'memoryGb' | 'status' | 'description' | 'parentId' | 'depth' | 'wallMs' | 'decidedBy';

export type { DecidedBy, Direction, NodeStatus, Operator, SessionState };
