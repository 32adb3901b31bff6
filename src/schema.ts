/**
 * The version of every machine-readable document procprobe writes: the `--json` output of each
 * CLI command and the session exports (json, chrome-trace, msgpack, openmetrics). It lives here,
 * beside errors.ts and validate.ts, because both the export and the cli rooms stamp it and
 * neither owns the other's documents.
 *
 * The rule (README "Machine-readable output"): a change a strict reader could trip on bumps it:
 * a field removed or renamed, its type, unit or meaning changed, a bare value wrapped. Adding a
 * field does not; readers ignore fields they do not know.
 */
import { readFileSync } from 'node:fs';

export const SCHEMA_VERSION = 1;

/** procprobe's version, from its package.json (stamped in baseline files, printed by --version). */
export function procprobeVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
