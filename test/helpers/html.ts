/** Readers of an HTML document written here, independent of the report's own code: its text and its tag skeleton. */

const NAMED: Record<string, string> = { lt: '<', gt: '>', quot: '"', amp: '&' };

/**
 * Text content of a serialized document: tags dropped, entities of the escaper (and the four a
 * browser's serializer writes) decoded in one pass, so text that itself reads `&amp;` stays so.
 */
export function textOf(doc: string): string {
  return doc
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(?:#(\d+)|(lt|gt|quot|amp));/g, (_, n: string | undefined, name: string | undefined) => (n !== undefined ? String.fromCharCode(Number(n)) : NAMED[name!]!));
}

/** Every tag of a document in order: its name and its attribute names (a tokenizer written here). */
export const skeleton = (doc: string): string[] =>
  [...doc.replace(/<style>[\s\S]*?<\/style>/, '<style></style>').matchAll(/<(\/?[a-zA-Z][^\s/>]*)([^>]*)>/g)].map(
    // Attributes: a name, then optionally = and a double-quoted, single-quoted or bare value.
    (m) => `${m[1]}(${[...m[2]!.matchAll(/\s*([^\s="'>/]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/g)].map((a) => a[1]).join(',')})`,
  );
