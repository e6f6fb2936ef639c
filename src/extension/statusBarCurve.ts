// What the status bar says of a running experiment's learning curve: its latest value and its parent's at the same
// point of the budget, read from the engine's progress events. No vscode here, so the wording is tested in Node.
import type { ControllerEvent } from '../core/controller.js';
import type { Direction } from '../core/types.js';
import { fmtNum, fmtShare, NA } from '../shared/format.js';

type Progress = Extract<ControllerEvent, { type: 'run-progress' }>;

export interface CurveReading {
  /** Elapsed fraction of the budget where the value was read. */
  fraction: number;
  value: number;
  /** The parent's curve there; null when it has none or did not reach that far. */
  parentValue: number | null;
}

/** The reading after a progress event; a clock-only event keeps the one before. */
export function nextReading(prev: CurveReading | undefined, e: Progress): CurveReading | undefined {
  if (e.value === undefined) return prev;
  const fraction = e.point ? e.point[0] : prev?.fraction ?? (e.budgetMs > 0 ? e.elapsedMs / e.budgetMs : 0);
  return { fraction, value: e.value, parentValue: e.parentValue ?? null };
}

/** Four significant digits: enough to compare at a glance. */
const short = (v: number): string => fmtNum(v, NA, 4);

/** "val_loss 2.41 vs 2.38 (#7)", or "val_loss 2.41" when the parent has no value at that point. */
export function curveTickerText(r: CurveReading, label: string, parentId: number | null): string {
  const mine = `${label} ${short(r.value)}`;
  return r.parentValue === null || parentId === null ? mine : `${mine} vs ${short(r.parentValue)} (#${parentId})`;
}

/** "#12 at 38 % of the budget: val_loss 2.41; parent #7 at the same point: 2.38 (worse by 0.03)". */
export function curveTooltipText(r: CurveReading, label: string, id: number, parentId: number | null, direction: Direction): string {
  const head = `#${id} at ${fmtShare(r.fraction)} of the budget: ${label} ${short(r.value)}`;
  if (parentId === null) return head;
  if (r.parentValue === null) return `${head}; parent #${parentId} has no value at that point`;
  const d = r.value - r.parentValue;
  const better = direction === 'minimize' ? d < 0 : d > 0;
  const how = !Number.isFinite(d) ? '' : d === 0 ? ' (level)' : ` (${better ? 'better' : 'worse'} by ${short(Math.abs(d))})`;
  return `${head}; parent #${parentId} at the same point: ${short(r.parentValue)}${how}`;
}
