/**
 * The one definition of CPU % every room uses (the sampler's C loop has its twin in
 * native/loop.cc): CPU time over wall time, 100 = one core busy for the whole interval.
 * OpenTelemetry's process.cpu.utilization is another figure (a fraction of all cores) and is
 * computed where it is exported.
 */

/** CPU % of one core from CPU time and wall time in the same unit; NaN when no wall time passed. */
export function cpuPercent(cpu: number, wall: number): number {
  return wall > 0 ? (cpu / wall) * 100 : NaN;
}
