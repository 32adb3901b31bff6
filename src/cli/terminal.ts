/**
 * Terminal output: colour only on a TTY and never with NO_COLOR, a progress line on stderr (TTY
 * only), sparklines, aligned tables, human units; the one escaper of text from outside
 * (escapeControls) and the one writer of `--json` documents.
 */
import { jsonSafe } from '../export/json-safe.js';
import { SCHEMA_VERSION } from '../schema.js';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const plain: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const ansi: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };

// Every C0 control (TAB, LF, CR, ESC, BEL... none excepted), DEL, and every C1 control: Unicode's Cc.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const hex = (c: string): string => c.charCodeAt(0).toString(16).padStart(2, '0');

/**
 * Text that came from outside (labels, phase names, error messages, metadata, command lines, file
 * and process names) made inert for a terminal: each control character is written as a visible
 * `\xHH` (ESC as `\x1b`). Why all of them: ESC and the C1 CSI/OSC (U+009B, U+009D, which some
 * terminals obey even UTF-8 encoded) start sequences that move the cursor, retitle the window or
 * write the clipboard; CR and BS overwrite what was printed; LF would forge a line of the report.
 * Apply it to the outside text before styling: the Style functions' own SGR codes must survive.
 * Backslashes are left as they are, so `a\x1bb` typed literally reads the same as an escaped ESC
 * (harmless: both are inert text).
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${hex(c)}`);
}

/** Colour for a stream: a TTY, NO_COLOR unset (https://no-color.org), FORCE_COLOR forces it. */
export function styleFor(stream: NodeJS.WriteStream): Style {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return plain;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return ansi;
  return stream.isTTY ? ansi : plain;
}

/** A single rewritten line on stderr while waiting; nothing when stderr is not a TTY. */
export class Progress {
  readonly #enabled: boolean;
  #timer: NodeJS.Timeout | null = null;
  #text = '';
  #frame = 0;
  #since = 0;

  constructor(enabled: boolean) {
    this.#enabled = enabled && process.stderr.isTTY === true;
  }

  set(text: string): void {
    if (!this.#enabled) return;
    this.#text = escapeControls(text); // it names the command and the URL the user gave
    this.#since = performance.now();
    this.#timer ??= setInterval(() => this.#draw(), 80);
    this.#timer.unref();
    this.#draw();
  }

  #draw(): void {
    const spin = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[this.#frame++ % 10];
    const secs = ((performance.now() - this.#since) / 1e3).toFixed(1);
    process.stderr.write(`\r\x1b[2K${spin} ${this.#text} ${secs}s`);
  }

  clear(): void {
    if (!this.#enabled) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    process.stderr.write('\r\x1b[2K');
  }
}

const BARS = '▁▂▃▄▅▆▇█';

/** Values as a sparkline of at most `width` characters (max per bucket, so peaks survive). */
export function sparkline(values: readonly number[], width = 48): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const buckets = Math.min(width, values.length);
  const per = values.length / buckets;
  const peaks: number[] = [];
  for (let b = 0; b < buckets; b++) {
    let m = -Infinity;
    for (let i = Math.floor(b * per); i < Math.floor((b + 1) * per); i++) if (Number.isFinite(values[i]!)) m = Math.max(m, values[i]!);
    peaks.push(m);
  }
  // A loop, not Math.min(...finite): spreading past ~120,000 values (2 min at 1 kHz) throws RangeError.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of finite) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return peaks.map((v) => (Number.isFinite(v) ? BARS[hi > lo ? Math.round(((v - lo) / (hi - lo)) * 7) : 0] : ' ')).join('');
}

export { fmtMs } from '../units.js';

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = b;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export function fmtNum(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export function fmtPct(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(1)}%` : '-';
}

/** At most `max` characters: the start and the end kept, the middle as `…` (both ends of a command line tell). */
export function middleTruncate(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  const head = Math.ceil((max - 1) / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (max - 1 - head)).join('')}`;
}

/** Visible width (ANSI escapes excluded). */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/**
 * Align columns, each as wide as its widest cell: `align` has one letter per column, `l` left
 * (text) or `r` right (numbers); by default the first column left, the others right.
 */
export function table(header: string[], rows: string[][], style: Style, align = ''): string {
  const cols = header.length;
  const w = Array.from({ length: cols }, (_, c) => Math.max(width(header[c]!), ...rows.map((r) => width(r[c] ?? ''))));
  const left = (c: number): boolean => (align[c] ?? (c === 0 ? 'l' : 'r')) === 'l';
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => {
        const pad = ' '.repeat(w[c]! - width(cell));
        return left(c) ? cell + pad : pad + cell;
      })
      .join('  ')
      .trimEnd(); // a left-aligned last column pads nothing after it
  return [style.dim(line(header)), ...rows.map(line)].join('\n');
}

/**
 * Print one `--json` document on stdout: `schemaVersion` first, then the command's own fields.
 * Every command's --json goes through here, so none can ship a document without its version.
 */
export function writeJsonDocument(fields: object): void {
  // jsonSafe: bigints in user metadata as strings, as the json export writes them.
  const text = JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...fields }, jsonSafe, 2);
  // JSON.stringify escapes C0 but writes DEL and C1 raw; as \u00XX they are the same JSON value
  // and inert on a terminal. Safe to replace anywhere: outside strings JSON text is plain ASCII.
  // eslint-disable-next-line no-control-regex
  process.stdout.write(`${text.replace(/[\x7f-\x9f]/g, (c) => `\\u00${hex(c)}`)}\n`);
}
