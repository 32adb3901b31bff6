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

/**
 * A suggestion's evidence as a person reads it: the key in words, the value in its unit, from
 * the key's suffix (`phaseMedianMs 176.211` -> `phase median 176 ms`; Bytes, Percent the same).
 */
export function evidenceText(key: string, v: number | string): [string, string] {
  const unit = /(Ms|Bytes|Percent)$/.exec(key)?.[1];
  const words = key.slice(0, unit ? -unit.length : undefined).replace(/([a-z\d])([A-Z])/g, '$1 $2').toLowerCase().replace(/\b(rss|cpu)\b/g, (w) => w.toUpperCase());
  if (typeof v !== 'number') return [words, v];
  if (unit === 'Ms') return [words, fmtMs(v)];
  if (unit === 'Bytes') return [words, fmtMiB(v)];
  if (unit === 'Percent') return [words, fmtPct(v)];
  return [words, num(v, Number.isInteger(v) ? 0 : Math.abs(v) < 1 ? 3 : 1)];
}
