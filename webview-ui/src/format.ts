// Number, time and text formatting shared by the headline, the tooltips, the table and the exports.

/** Six significant digits, no trailing zeros: what the engine prints, so the numbers match the log. */
export function fmtNum(v: number | null | undefined, digits = 6): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtSigned(v: number | null | undefined, digits = 6): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const s = fmtNum(Math.abs(v), digits);
  return v > 0 ? `+${s}` : v < 0 ? `−${s}` : '±0';
}

export function fmtPct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const s = Math.abs(v) >= 100 ? Math.abs(v).toFixed(0) : Math.abs(v).toFixed(1);
  return v > 0 ? `+${s}%` : v < 0 ? `−${s}%` : '0%';
}

/** 950ms, 12.3s, 4m 05s, 2h 03m. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  if (m < 60) return `${m}m ${String(total % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

/** 10,000: by hand, because the first toLocaleString call builds an ICU formatter (~20 ms). */
export function fmtCount(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = 0; i < s.length; i++) out += (i > 0 && (s.length - i) % 3 === 0 ? ',' : '') + s[i];
  return (n < 0 ? '-' : '') + out;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Descriptions come from proposers (models, patches): they reach SVG text only through this. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML[c]!);
}

/** Token counts: 1234 → 1.2k, 2500000 → 2.5M. */
export function fmtTokens(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
