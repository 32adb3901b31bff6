/**
 * src/cli/shell-words.ts against the reader it imitates: /bin/sh itself, given the same text as
 * `set -- <text>` and printing each resulting argument NUL-terminated. Only texts without
 * expansions ($, `, *, ~) are compared: shellWords keeps those literal on purpose.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellWords } from '../dist/cli/shell-words.js';
import { UsageError } from '../dist/errors.js';

function shSplit(text: string): string[] {
  const r = spawnSync('/bin/sh', ['-c', `set -- ${text}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellWords splits as /bin/sh does', () => {
  const texts = [
    'node app.mjs',
    '  node   app.mjs\t--port 3000  ',
    `node -e 'console.log("a b")'`,
    'node "two words" three',
    'a\\ b c',
    `say "it's" 'a "quote"'`,
    'x"y"z \'p\'q',
    '"" empty',
    '"back\\\\slash \\"quoted\\""',
    '"keep \\n as is"',
    "node 'a|b' '&&' ';'",
  ];
  it.each(texts)('%s', (text) => {
    expect(shellWords(text, 'command 1')).toEqual(shSplit(text));
  });

  it('refuses an unterminated quote and an empty command, naming it', () => {
    expect(() => shellWords(`node 'a`, 'command 2')).toThrow(UsageError);
    expect(() => shellWords(`node 'a`, 'command 2')).toThrow(`command 2: unterminated ' in "node 'a"`);
    expect(() => shellWords('node "a', 'command 1')).toThrow('command 1: unterminated " in');
    expect(() => shellWords('   ', 'command 1')).toThrow("command 1 is empty: give the command to run, e.g. 'node app.mjs'");
  });
});

describe('shellJoin writes words /bin/sh reads back', () => {
  const argvs = [['node', 'app.mjs'], ['redis-server', '--save', '', '--appendonly', 'no'], ['node', '-e', "console.log('it''s', \"x y\")"], ['a b', '$HOME', '*', '~', '`x`', 'tab\there', 'new\nline'], ['-n', '\\']];
  it.each(argvs.map((a) => [JSON.stringify(a), a] as const))('%s', (_, argv) => {
    const line = shellJoin([...argv]);
    expect(shSplit(line)).toEqual(argv);
    expect(shellWords(line, 'label')).toEqual(argv);
  });
});
