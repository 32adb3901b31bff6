/**
 * A command given as one string (`procprobe compare 'node a.mjs --x "1 2"' ...`) split into argv
 * as a POSIX shell would split it, without running a shell: no expansion of `$VAR`, `*`, `~` or
 * `$(...)`, no pipes or redirections (their characters are plain text). What is honoured:
 * blanks between words, 'single quotes' (everything literal), "double quotes" (a backslash
 * escapes `"`, `\`, `$` and a backtick inside), and a backslash outside quotes. A string that
 * needs a shell (a pipe, `&&`) must say so: `sh -c '...'`.
 */
import { UsageError } from '../errors.js';

/** `text` as argv; `what` names it in the error of an unterminated quote or an empty command. */
export function shellWords(text: string, what: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\') {
      if (i + 1 < text.length) word += text[++i];
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`${what}: unterminated ' in ${JSON.stringify(text)}`);
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        // In double quotes a backslash escapes only these; elsewhere it is itself (POSIX 2.2.3).
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        word += text[j];
      }
      if (j >= text.length) throw new UsageError(`${what}: unterminated " in ${JSON.stringify(text)}`);
      i = j;
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new UsageError(`${what} is empty: give the command to run, e.g. 'node app.mjs'`);
  return words;
}

/**
 * The command line as a POSIX shell would read it back: a word with anything but
 * `[A-Za-z0-9_@%+=:,./-]` in single quotes (an embedded `'` as `'\''`), an empty word as `''`.
 * Default labels are this, so a paste into a shell (or shellWords) gives the same words back.
 */
export function shellJoin(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' ');
}
