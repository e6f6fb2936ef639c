// Linear and log scales, nice ticks, and the zoom arithmetic of the chart: plain numbers, tested in Node.

export interface Scale {
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  readonly log: boolean;
  (v: number): number;
  invert(px: number): number;
  ticks(count: number): number[];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const k = (r1 - r0) / span;
  const f = ((v: number) => r0 + (v - d0) * k) as Scale;
  Object.assign(f, {
    domain: [d0, d1] as const,
    range: [r0, r1] as const,
    log: false,
    invert: (px: number) => d0 + (px - r0) / k,
    ticks: (count: number) => niceTicks(Math.min(d0, d1), Math.max(d0, d1), count),
  });
  return f;
}

/** A log10 scale; the domain must be positive. */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const l0 = Math.log10(domain[0]);
  const l1 = Math.log10(domain[1]);
  const inner = linearScale([l0, l1], range);
  const f = ((v: number) => inner(Math.log10(v))) as Scale;
  Object.assign(f, {
    domain: [domain[0], domain[1]] as const,
    range: [range[0], range[1]] as const,
    log: true,
    invert: (px: number) => 10 ** inner.invert(px),
    ticks: (count: number) => logTicks(Math.min(domain[0], domain[1]), Math.max(domain[0], domain[1]), count),
  });
  return f;
}

/** Ticks at 1, 2 or 5 × 10^k, about `count` of them, inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || count < 1) return [];
  if (lo === hi) return [lo];
  const step = niceStep((hi - lo) / Math.max(1, count));
  const start = Math.ceil(lo / step);
  const end = Math.floor(hi / step);
  const out: number[] = [];
  for (let i = start; i <= end && out.length < 1000; i++) out.push(cleanFloat(i * step));
  return out;
}

export function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m >= 7.5 ? 10 : m >= 3.5 ? 5 : m >= 1.5 ? 2 : 1) * p;
}

function cleanFloat(v: number): number {
  return Number(v.toPrecision(12));
}

export function logTicks(lo: number, hi: number, count: number): number[] {
  if (!(lo > 0) || !(hi > 0)) return [];
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.ceil(Math.log10(hi));
  const decades = e1 - e0;
  // Few decades: 1, 2, 5 per decade; many: powers of ten only, thinned to about `count`.
  const mult = decades <= count / 3 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil(decades / count));
  const out: number[] = [];
  for (let e = e0; e <= e1; e++) {
    if (mult.length === 1 && (e - e0) % every !== 0) continue;
    for (const m of mult) {
      const v = cleanFloat(m * 10 ** e);
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  if (out.length < 2) return niceTicks(lo, hi, count).filter((v) => v > 0);
  return out;
}

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const frac = pos - i;
  const a = sorted[i]!;
  const b = sorted[Math.min(i + 1, sorted.length - 1)]!;
  return a + (b - a) * frac;
}

export interface YDomain {
  domain: [number, number];
  /** True when outliers on the worse side were left outside; they are drawn as markers on the edge. */
  clipped: boolean;
}

/**
 * The y range a person wants to read: every value on the better side (a great result is never hidden),
 * the baseline and every kept value, but a diverged run 1000× worse does not flatten the rest: values
 * beyond Q3 + 3·IQR on the worse side are left out and marked on the edge.
 */
export function autoYDomain(values: readonly number[], direction: 'minimize' | 'maximize', mustShow: readonly number[] = [], log = false): YDomain {
  const must = mustShow.filter((v) => Number.isFinite(v) && (!log || v > 0));
  // A typed array sorts numbers three times faster than an array with a comparator.
  const sorted = Float64Array.from(values.filter((v) => Number.isFinite(v) && (!log || v > 0))).sort();
  if (sorted.length === 0 && must.length === 0) return { domain: log ? [0.1, 10] : [0, 1], clipped: false };
  let lo = sorted.length ? sorted[0]! : Infinity;
  let hi = sorted.length ? sorted[sorted.length - 1]! : -Infinity;
  let clipped = false;
  if (sorted.length >= 8) {
    const t = (v: number) => (log ? Math.log10(v) : v);
    const u = (v: number) => (log ? 10 ** v : v);
    const q1 = t(quantile(sorted, 0.25));
    const q3 = t(quantile(sorted, 0.75));
    const iqr = q3 - q1;
    if (iqr > 0) {
      if (direction === 'minimize') {
        const fence = u(q3 + 3 * iqr);
        if (hi > fence) { hi = fence; clipped = true; }
      } else {
        const fence = u(q1 - 3 * iqr);
        if (lo < fence) { lo = fence; clipped = true; }
      }
    }
  }
  for (const v of must) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (clipped) clipped = sorted.some((v) => v < lo || v > hi);
  return { domain: pad(lo, hi, log), clipped };
}

function pad(lo: number, hi: number, log: boolean): [number, number] {
  if (log) {
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    const p = l1 - l0 > 0 ? (l1 - l0) * 0.06 : 0.5;
    return [10 ** (l0 - p), 10 ** (l1 + p)];
  }
  if (lo === hi) {
    const d = Math.abs(lo) * 0.05 || 1;
    return [lo - d, hi + d];
  }
  const p = (hi - lo) * 0.06;
  return [lo - p, hi + p];
}

/**
 * Zooms [a, b] by `factor` (< 1 zooms in) around `anchor`, kept inside `limits`, never narrower than `minSpan`.
 * Returns null when the result covers all of `limits`: the view is back to "show everything".
 */
export function zoomRange(range: readonly [number, number], factor: number, anchor: number, limits: readonly [number, number], minSpan: number): [number, number] | null {
  const [a, b] = range;
  const span = Math.max(minSpan, Math.min(limits[1] - limits[0], (b - a) * factor));
  const t = b - a > 0 ? (anchor - a) / (b - a) : 0.5;
  let na = anchor - t * span;
  let nb = na + span;
  [na, nb] = clampRange(na, nb, limits);
  if (na <= limits[0] && nb >= limits[1]) return null;
  return [na, nb];
}

/** Pans [a, b] by `delta` data units, kept inside `limits`. */
export function panRange(range: readonly [number, number], delta: number, limits: readonly [number, number]): [number, number] {
  return clampRange(range[0] + delta, range[1] + delta, limits);
}

function clampRange(a: number, b: number, limits: readonly [number, number]): [number, number] {
  const span = b - a;
  if (span >= limits[1] - limits[0]) return [limits[0], limits[1]];
  if (a < limits[0]) return [limits[0], limits[0] + span];
  if (b > limits[1]) return [limits[1] - span, limits[1]];
  return [a, b];
}
