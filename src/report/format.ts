/** Numbers as the HTML report writes them: thousands separated, an em dash for what was not measured. */
export const MiB = 1024 * 1024;

export const num = (v: number, digits = 0): string =>
  Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—';
export const fmtMs = (v: number): string => (Number.isFinite(v) ? `${num(v, Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0)} ms` : '—');
export const fmtMiB = (b: number): string => (Number.isFinite(b) ? `${num(b / MiB, 1)} MiB` : '—');
export const fmtPct = (v: number): string => (Number.isFinite(v) ? `${num(v, 1)} %` : '—');
