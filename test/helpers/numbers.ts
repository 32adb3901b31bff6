/**
 * Arithmetic the tests do on their own numbers, written here rather than taken from
 * src/analysis/stats.ts, so that a figure procprobe computes is checked against an independent one.
 */

/** The middle value of `v` (the mean of the two middle ones for an even count); `v` is not changed. */
export const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
