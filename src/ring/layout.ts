/**
 * Every offset of the shared ring, defined once and imported by the writer (the sampler worker)
 * and every reader (any thread). Nothing else computes an offset into the buffer.
 *
 *   byte 0    line 0  static header (Int32): magic, version, capacity, stride, gauge slots, row fields
 *   byte 64   line 1  writer-hot (Int32): newest complete slot, missed deadlines, writer state
 *   byte 128  line 2  control, written by the owner (Int32): stop request, gauges defined
 *   byte 192  gauges: gaugeSlots Float64 values, set by any thread, copied into each record
 *   ...       gauge names: gaugeSlots x GAUGE_NAME_BYTES of UTF-8, NUL-padded
 *   ...       record versions: capacity Int32 (odd while the record is being written)
 *   ...       records: capacity x stride Float64
 *
 * Each section starts on a 64-byte line so that words written by different threads never share
 * a cache line: the writer's per-sample words (line 1) are apart from the owner's (line 2) and
 * from the gauges, which other threads write.
 */
import { InvalidOptionError } from '../errors.js';
import { F, FIELD_COUNT } from '../probe/layout.js';

export const RING_MAGIC = 0x70707262; // 'pprb'
export const RING_VERSION = 2; // 2: R.PSS_BYTES before the row
export const CACHE_LINE = 64;

/** Int32 word indices of the header. */
export const H = Object.freeze({
  MAGIC: 0,
  VERSION: 1,
  CAPACITY: 2,
  STRIDE: 3,
  GAUGE_SLOTS: 4,
  ROW_FIELDS: 5,
  /** Line 1: slot of the newest complete record, -1 before the first. */
  LAST_SLOT: CACHE_LINE / 4,
  /** Line 1: deadlines the sampler missed (wraps at 2^31). */
  MISSED: CACHE_LINE / 4 + 1,
  /** Line 1: WriterState. */
  WRITER_STATE: CACHE_LINE / 4 + 2,
  /** Line 2: set to 1 (and notified) to ask the writer to stop. */
  STOP: (2 * CACHE_LINE) / 4,
  /** Line 2: number of gauge slots that have a name. */
  GAUGES_DEFINED: (2 * CACHE_LINE) / 4 + 1,
  /** Line 2: set to 1 to ask a tree sampler to rescan descendants at its next tick. */
  RESCAN: (2 * CACHE_LINE) / 4 + 2,
  /** Line 2: set to 1 (and notify STOP) to pause the writer; 0 (and notify PAUSE) resumes it. */
  PAUSE: (2 * CACHE_LINE) / 4 + 3,
  /**
   * Line 2: set to 1 to have a tree sampler start its totals from zero at its next record: the
   * CPU, faults and switches of members that exited before (a new session of the CLI's --runs).
   */
  RESET_TOTALS: (2 * CACHE_LINE) / 4 + 4,
  /** Line 2: set to 1 to have a tree sampler post its process list at its next tick. */
  PROCESSES: (2 * CACHE_LINE) / 4 + 5,
});

export const WriterState = Object.freeze({ IDLE: 0, RUNNING: 1, STOPPED: 2, FAILED: 3, PAUSED: 4 } as const);

/** Float64 field indices within one record. */
export const R = Object.freeze({
  /** Sequence number of this record: 0, 1, 2, ... (exact up to 2^53). */
  SEQ: 0,
  /** ProbeStatus of the read (a failed read keeps the row NaN). */
  STATUS: 1,
  /** How late the sampler woke for this record's deadline, µs. */
  LAG_US: 2,
  /** Processes summed into the row (1 unless sampling a tree). */
  PROCESSES: 3,
  /**
   * Proportional set size, bytes (a tree: its members' sum) in the records where it was read
   * (every pssIntervalMs: reading it walks page tables), NaN in the others (src/probe/pss.ts).
   */
  PSS_BYTES: 4,
  /** The probe row: FIELD_COUNT fields in src/probe/layout.ts order. */
  ROW: 5,
  /** Gauge values follow the row. */
  GAUGES: 5 + FIELD_COUNT,
});

export const GAUGE_NAME_BYTES = 64;
const HEADER_BYTES = 3 * CACHE_LINE;

function alignLine(bytes: number): number {
  return Math.ceil(bytes / CACHE_LINE) * CACHE_LINE;
}

/** Byte offsets and sizes of every section for a ring of `capacity` records. */
export interface RingGeometry {
  capacity: number;
  gaugeSlots: number;
  /** Float64 fields per record. */
  stride: number;
  gaugesByte: number;
  namesByte: number;
  versionsByte: number;
  recordsByte: number;
  byteLength: number;
}

/** The most gauge slots a ring has (the sampler's maxGauges, the monitor's with its own three). */
export const MAX_GAUGE_SLOTS = 1024;

/** The most records a ring holds (the sampler's capacity option). */
export const MAX_RING_CAPACITY = 2 ** 26;

/** The layout of a ring of `capacity` records with `gaugeSlots` gauges; InvalidOptionError for either out of range. */
export function ringGeometry(capacity: number, gaugeSlots: number): RingGeometry {
  if (!Number.isInteger(capacity) || capacity < 2 || capacity > MAX_RING_CAPACITY) {
    throw new InvalidOptionError('capacity', `an integer from 2 to ${MAX_RING_CAPACITY}`, capacity);
  }
  if (!Number.isInteger(gaugeSlots) || gaugeSlots < 0 || gaugeSlots > MAX_GAUGE_SLOTS) {
    throw new InvalidOptionError('gaugeSlots', `an integer from 0 to ${MAX_GAUGE_SLOTS}`, gaugeSlots);
  }
  const stride = R.GAUGES + gaugeSlots;
  const gaugesByte = HEADER_BYTES;
  const namesByte = gaugesByte + alignLine(gaugeSlots * 8);
  const versionsByte = namesByte + alignLine(gaugeSlots * GAUGE_NAME_BYTES);
  const recordsByte = versionsByte + alignLine(capacity * 4);
  const byteLength = recordsByte + capacity * stride * 8;
  return { capacity, gaugeSlots, stride, gaugesByte, namesByte, versionsByte, recordsByte, byteLength };
}

/**
 * The offsets the sampler's C loop (native/loop.cc) writes records with, by name, in the order
 * of `enum pp_loop_layout` in native/loop.h: the C side defines no offset of its own, so a field
 * added or moved here reaches it, and a name out of order fails test/ring.layout.test.ts.
 */
export const LOOP_LAYOUT = Object.freeze([
  'capacity', 'stride', 'gauge_count',
  'h_last_slot', 'h_missed', 'h_stop', 'h_pause',
  'r_seq', 'r_status', 'r_lag', 'r_processes', 'r_pss', 'r_row', 'r_gauges',
  'f_pid', 'f_timestamp', 'f_cpu_user', 'f_cpu_system', 'f_cpu_percent',
] as const);
export type LoopLayoutName = (typeof LOOP_LAYOUT)[number];

/** The layout array runLoop takes, for a ring of this geometry. */
export function loopLayout(g: RingGeometry): Int32Array {
  const at: Record<LoopLayoutName, number> = {
    capacity: g.capacity, stride: g.stride, gauge_count: g.gaugeSlots,
    h_last_slot: H.LAST_SLOT, h_missed: H.MISSED, h_stop: H.STOP, h_pause: H.PAUSE,
    r_seq: R.SEQ, r_status: R.STATUS, r_lag: R.LAG_US, r_processes: R.PROCESSES, r_pss: R.PSS_BYTES, r_row: R.ROW, r_gauges: R.GAUGES,
    f_pid: F.pid, f_timestamp: F.timestamp, f_cpu_user: F.cpuUserUs, f_cpu_system: F.cpuSystemUs, f_cpu_percent: F.cpuPercent,
  };
  return Int32Array.from(LOOP_LAYOUT, (name) => at[name]);
}

/** How runLoop returns: `enum pp_loop_exit` in native/loop.h. */
export const LoopExit = Object.freeze({ STOP: 0, PAUSE: 1, TARGET: 2, UNSUPPORTED: 3, YIELD: 4 } as const);
