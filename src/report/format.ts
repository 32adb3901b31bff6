/** Numbers as the HTML report writes them: thousands separated, an em dash for what was not measured. */
export const MiB = 1024 * 1024;

/**
 * One en-US formatter per number of decimals, made once: Number#toLocaleString builds a new
 * Intl.NumberFormat on every call (about 65 µs each on a loaded 2-core VM), and a report of a
 * tree writes thousands of numbers. Same output: toLocaleString is specified as that format().
 */
const formatters = new Map<number, Intl.NumberFormat>();
function formatter(digits: number): Intl.NumberFormat {
  let f = formatters.get(digits);
  if (!f) formatters.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

/** `v` with exactly `digits` decimals, thousands separated; '—' when not finite. */
export const num = (v: number, digits = 0): string => (Number.isFinite(v) ? formatter(digits).format(v) : '—');
export const fmtMs = (v: number): string => (Number.isFinite(v) ? `${num(v, Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0)} ms` : '—');
export const fmtMiB = (b: number): string => (Number.isFinite(b) ? `${num(b / MiB, 1)} MiB` : '—');
export const fmtPct = (v: number): string => (Number.isFinite(v) ? `${num(v, 1)} %` : '—');
