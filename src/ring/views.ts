/**
 * Typed views over one ring's SharedArrayBuffer, and the gauge names in it: what the writer, the
 * readers and the gauges all stand on. Its own module so that ring.ts and gauge.ts both import
 * it and not each other.
 */
import { InvalidOptionError } from '../errors.js';
import { FIELD_COUNT } from '../probe/layout.js';
import { CACHE_LINE, GAUGE_NAME_BYTES, H, MAX_GAUGE_SLOTS, MAX_RING_CAPACITY, RING_MAGIC, RING_VERSION, ringGeometry, type RingGeometry } from './layout.js';

/** Typed views over one ring, shared by writer and readers. */
export class RingViews {
  readonly sab: SharedArrayBuffer;
  readonly geometry: RingGeometry;
  readonly header: Int32Array;
  readonly versions: Int32Array;
  /** All records; record of slot s starts at s * stride. */
  readonly records: Float64Array;
  readonly gauges: Float64Array;
  readonly names: Uint8Array;

  constructor(sab: unknown) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new InvalidOptionError('buffer', 'a SharedArrayBuffer made by procprobe', sab);
    }
    const notRing = (): InvalidOptionError => new InvalidOptionError('buffer', `a procprobe ring (version ${RING_VERSION})`, sab);
    if (sab.byteLength < 3 * CACHE_LINE) throw notRing();
    const hdr = new Int32Array(sab, 0, (3 * CACHE_LINE) / 4);
    if (hdr[H.MAGIC] !== RING_MAGIC || hdr[H.VERSION] !== RING_VERSION || hdr[H.ROW_FIELDS] !== FIELD_COUNT) throw notRing();
    const capacity = hdr[H.CAPACITY]!;
    const slots = hdr[H.GAUGE_SLOTS]!;
    if (capacity < 2 || capacity > MAX_RING_CAPACITY || slots < 0 || slots > MAX_GAUGE_SLOTS) throw notRing();
    const g = ringGeometry(capacity, slots);
    if (hdr[H.STRIDE] !== g.stride || sab.byteLength < g.byteLength) throw notRing();
    this.sab = sab;
    this.geometry = g;
    this.header = hdr;
    this.versions = new Int32Array(sab, g.versionsByte, g.capacity);
    this.records = new Float64Array(sab, g.recordsByte, g.capacity * g.stride);
    this.gauges = new Float64Array(sab, g.gaugesByte, g.gaugeSlots);
    this.names = new Uint8Array(sab, g.namesByte, g.gaugeSlots * GAUGE_NAME_BYTES);
  }
}

/** The names of the gauges defined so far, in slot order. */
export function gaugeNames(views: RingViews): string[] {
  const n = Atomics.load(views.header, H.GAUGES_DEFINED);
  const names: string[] = [];
  const dec = new TextDecoder();
  for (let i = 0; i < n; i++) {
    const bytes = views.names.slice(i * GAUGE_NAME_BYTES, (i + 1) * GAUGE_NAME_BYTES);
    const end = bytes.indexOf(0);
    names.push(dec.decode(end < 0 ? bytes : bytes.subarray(0, end)));
  }
  return names;
}
