/**
 * JSON.stringify replacer for what history holds: a bigint as its digits. Metadata is JSON-like
 * since startSession checks it (session/metadata.ts), but a session saved before that, or an
 * imported one, can hold a 64-bit integer that msgpack loads as a bigint, which JSON.stringify
 * throws on. Used by every JSON writer: the json and chrome-trace exports, the CLI's --json, the
 * HTML report's metadata.
 */
export function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
