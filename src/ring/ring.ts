/**
 * A SharedArrayBuffer ring of fixed-size Float64 records: one writer, any number of readers in any
 * thread, and the writer never waits. When full, the oldest record is overwritten, so the newest
 * samples are always there even when nobody reads (the seed's deque(maxlen)).
 *
 * Consistency is a seqlock per record. The writer makes the record's version odd (Atomics.store),
 * writes the fields, makes the version even again, then publishes the slot as newest. A reader
 * loads the version, copies the fields, then reads the version again with an atomic
 * read-modify-write (Atomics.or with 0). It keeps the copy only if both versions are equal and even
 * and the record's sequence number is the one it expected. The RMW matters: on weakly ordered CPUs
 * a plain acquire load would let the field copies be satisfied after it; a RMW orders every access
 * before it. So a reader never returns a torn or half-overwritten record, and counts a record the
 * writer took back while it read as missed.
 */
import { InvalidOptionError } from '../errors.js';
import { checkInteger, checkNumber } from '../validate.js';
import { gaugeNames, RingViews } from './views.js';
import { CACHE_LINE, H, R, RING_MAGIC, RING_VERSION, ringGeometry, type RingGeometry } from './layout.js';
import { FIELD_COUNT } from '../probe/layout.js';

/** Position of a reader that consumes everything since its last call. Mutated in place. */
export interface RingCursor {
  /** Sequence number of the next record to read. */
  next: number;
  /** Records overwritten before this cursor could read them, in total. */
  missed: number;
}

/** The caller-owned array a read copies into. */
function checkOut(out: unknown): void {
  if (!(out instanceof Float64Array)) throw new InvalidOptionError('out', 'a Float64Array', out);
}

/** Allocate and initialise a ring. */
export function createRingBuffer(capacity: number, gaugeSlots = 0): SharedArrayBuffer {
  const g = ringGeometry(capacity, gaugeSlots);
  const sab = allocate(g);
  const hdr = new Int32Array(sab, 0, (3 * CACHE_LINE) / 4);
  hdr[H.MAGIC] = RING_MAGIC;
  hdr[H.VERSION] = RING_VERSION;
  hdr[H.CAPACITY] = capacity;
  hdr[H.STRIDE] = g.stride;
  hdr[H.GAUGE_SLOTS] = gaugeSlots;
  hdr[H.ROW_FIELDS] = FIELD_COUNT;
  hdr[H.LAST_SLOT] = -1;
  // Unset gauges are NaN, so records written before a gauge got its first value say "no value"
  // rather than a made-up 0.
  new Float64Array(sab, g.gaugesByte, gaugeSlots).fill(NaN);
  return sab;
}

/**
 * The ring's memory, or an InvalidOptionError naming the capacity when it cannot be had: a
 * SharedArrayBuffer past what the process may map (its address-space limit, the machine's
 * memory) throws a bare RangeError ("Array buffer allocation failed") that names nothing.
 */
function allocate(g: RingGeometry): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(g.byteLength);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const what = `a ring this process can allocate (${g.byteLength} bytes with ${g.gaugeSlots} gauge slots failed: ${err.message})`;
    throw new InvalidOptionError('capacity', what, g.capacity);
  }
}

/**
 * The single writer. `begin()` opens the next record and returns the Float64 offset of its row
 * within `records`, where the probe writes directly; `commit()` publishes it.
 */
export class RingWriter {
  readonly views: RingViews;
  readonly records: Float64Array;
  #slot = 0;
  #seq = 0;
  #base = 0;

  constructor(sab: SharedArrayBuffer) {
    this.views = new RingViews(sab);
    this.records = this.views.records;
    // Resume after the newest record, so that a restarted sampler keeps numbering (and readers'
    // cursors stay valid).
    const last = Atomics.load(this.views.header, H.LAST_SLOT);
    if (last >= 0) {
      this.#seq = this.records[last * this.views.geometry.stride + R.SEQ]! + 1;
      this.#slot = this.#seq % this.views.geometry.capacity;
    }
  }

  /** Sequence number the next record will get. */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Continue at `seq` after records were written outside this object (the sampler's native loop). */
  seekTo(seq: number): void {
    this.#seq = seq;
    this.#slot = seq % this.views.geometry.capacity;
  }

  /** Open the next record; returns the offset of its first field (R.SEQ) in `records`. */
  begin(): number {
    const { versions } = this.views;
    const slot = this.#slot;
    // Odd: being written. `| 1` rather than `+ 1`: a writer killed between begin() and commit()
    // leaves an odd version, and a restarted writer must not flip the parity.
    Atomics.store(versions, slot, versions[slot]! | 1);
    const base = slot * this.views.geometry.stride;
    this.records[base + R.SEQ] = this.#seq;
    this.#base = base;
    return base;
  }

  /** Copy the gauges in, mark the record complete and publish it as newest. */
  commit(): void {
    const { versions, gauges, header } = this.views;
    const base = this.#base;
    const slot = this.#slot;
    const rec = this.records;
    for (let i = 0; i < gauges.length; i++) rec[base + R.GAUGES + i] = gauges[i]!;
    Atomics.store(versions, slot, (versions[slot]! + 1) | 0); // even: complete
    Atomics.store(header, H.LAST_SLOT, slot);
    this.#seq++;
    this.#slot = slot + 1 === this.views.geometry.capacity ? 0 : slot + 1;
  }
}

/**
 * A reader; attach one in any thread to the buffer (`monitor.sharedBuffer`). Methods that take a
 * caller-owned Float64Array allocate nothing; `stride` Float64 values are copied per record, fields
 * at the offsets of R (src/ring/layout.ts).
 */
export class RingReader {
  readonly views: RingViews;
  readonly capacity: number;
  /** Float64 values per record. */
  readonly stride: number;
  #latestSeq = -1;
  readonly #scratch: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.views = new RingViews(sab);
    this.capacity = this.views.geometry.capacity;
    this.stride = this.views.geometry.stride;
    this.#scratch = new Float64Array(this.stride);
  }

  get sharedBuffer(): SharedArrayBuffer {
    return this.views.sab;
  }

  /** Copy the record in `slot` if it is complete, unchanged during the copy, and has `expect` as its sequence (any if -1). */
  #copy(slot: number, expect: number, out: Float64Array, at: number): boolean {
    const { versions, records } = this.views;
    const stride = this.stride;
    const v1 = Atomics.load(versions, slot);
    if ((v1 & 1) !== 0) return false;
    const base = slot * stride;
    for (let i = 0; i < stride; i++) out[at + i] = records[base + i]!;
    const v2 = Atomics.or(versions, slot, 0); // RMW: orders the copies above before it
    return v1 === v2 && (expect < 0 || out[at + R.SEQ] === expect);
  }

  /** Sequence number of the newest complete record, or -1 when the ring is empty. */
  latestSeq(): number {
    const scratch = this.#scratch;
    for (let attempt = 0; attempt < 100; attempt++) {
      const slot = Atomics.load(this.views.header, H.LAST_SLOT);
      if (slot < 0) return -1;
      if (this.#copy(slot, -1, scratch, 0)) {
        this.#latestSeq = scratch[R.SEQ]!;
        return this.#latestSeq;
      }
      // The writer lapped the ring onto this very slot while we read it: look again.
    }
    return this.#latestSeq;
  }

  /** Records available right now (at most capacity). */
  get size(): number {
    const latest = this.latestSeq();
    return latest < 0 ? 0 : Math.min(latest + 1, this.capacity);
  }

  /**
   * Copy the newest `count` records (at most what fits in `out`), oldest first, to `out` at stride
   * intervals. Returns how many were copied; a record overwritten during the copy is left out.
   */
  readLatest(out: Float64Array, count?: number): number {
    checkOut(out);
    if (count === undefined) count = Math.floor(out.length / this.stride);
    else checkInteger('count', count, 0);
    const latest = this.latestSeq();
    if (latest < 0 || !(count >= 1)) return 0;
    const n = Math.min(Math.floor(count), Math.floor(out.length / this.stride), latest + 1, this.capacity);
    let copied = 0;
    for (let seq = latest - n + 1; seq <= latest; seq++) {
      if (this.#copy(seq % this.capacity, seq, out, copied * this.stride)) copied++;
    }
    return copied;
  }

  /**
   * Copy every record since `cursor.next`, oldest first, up to what fits in `out`, and advance the
   * cursor. Records overwritten before they could be read are added to `cursor.missed` (exactly:
   * each lost sequence number counts once). Returns the number copied.
   */
  readSince(cursor: RingCursor, out: Float64Array): number {
    if (cursor === null || typeof cursor !== 'object') throw new InvalidOptionError('cursor', 'a RingCursor { next, missed }', cursor);
    checkInteger('cursor.next', cursor.next, 0);
    checkNumber('cursor.missed', cursor.missed, 0);
    checkOut(out);
    const latest = this.latestSeq();
    if (latest < 0 || cursor.next > latest) return 0;
    let start = cursor.next;
    const oldest = latest - this.capacity + 1;
    if (start < oldest) {
      cursor.missed += oldest - start;
      start = oldest;
    }
    const room = Math.floor(out.length / this.stride);
    const end = Math.min(latest, start + room - 1);
    let copied = 0;
    for (let seq = start; seq <= end; seq++) {
      if (this.#copy(seq % this.capacity, seq, out, copied * this.stride)) copied++;
      else cursor.missed++; // overwritten by the writer while we were getting to it
    }
    cursor.next = end + 1;
    return copied;
  }

  /** A cursor positioned at the oldest record still in the ring (or at the next one to come). */
  cursorAtOldest(): RingCursor {
    const latest = this.latestSeq();
    return { next: latest < 0 ? 0 : Math.max(0, latest - this.capacity + 1), missed: 0 };
  }

  /** A cursor that will see only records written after this call. */
  cursorAtEnd(): RingCursor {
    return { next: this.latestSeq() + 1, missed: 0 };
  }

  /** Deadlines the writer missed so far. */
  get missedDeadlines(): number {
    return Atomics.load(this.views.header, H.MISSED);
  }

  /** WriterState of the sampler. */
  get writerState(): number {
    return Atomics.load(this.views.header, H.WRITER_STATE);
  }

  /** Names of the gauges defined so far, in slot order (allocates). */
  gaugeNames(): string[] {
    return gaugeNames(this.views);
  }

  /** Current gauge values, in slot order (a live view: not a copy). */
  get gaugeValues(): Float64Array {
    return this.views.gauges;
  }
}
