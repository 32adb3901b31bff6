/**
 * What kind of program a session profiled, so that advice names only what applies to it: V8's
 * compile cache means nothing to Python. Judged from the command line the CLI recorded
 * (`metadata.command`) and the tree's processes; a library session without a command is this
 * Node process.
 */
import type { SessionSummary } from '../session/types.js';

export type Runtime = 'node' | 'python' | 'jvm' | 'shell' | 'native';

/** By the executable's base name; version suffixes (`python3.11`, `node20`) are dropped. */
const BY_NAME: Readonly<Record<string, Runtime>> = {
  node: 'node', nodejs: 'node', npm: 'node', npx: 'node', pnpm: 'node', yarn: 'node', tsx: 'node', 'ts-node': 'node',
  python: 'python', pypy: 'python', uv: 'python', pip: 'python', gunicorn: 'python', uvicorn: 'python',
  java: 'jvm', gradle: 'jvm', gradlew: 'jvm', mvn: 'jvm', kotlin: 'jvm', scala: 'jvm', sbt: 'jvm', clojure: 'jvm',
  sh: 'shell', bash: 'shell', dash: 'shell', zsh: 'shell', ksh: 'shell', fish: 'shell',
};
const BY_EXTENSION: Readonly<Record<string, Runtime>> = {
  js: 'node', mjs: 'node', cjs: 'node', ts: 'node', py: 'python', jar: 'jvm', sh: 'shell', bash: 'shell',
};

function byWord(word: string): Runtime | undefined {
  const base = word.slice(word.lastIndexOf('/') + 1);
  const name = base.replace(/[\d.]+$/, '');
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1) : '';
  return BY_NAME[name] ?? BY_EXTENSION[ext];
}

/** Commands that run the next word as the program (`env NODE_ENV=x node app.js`, `nice -n 5 java …`). */
const WRAPPERS = new Set(['env', 'nice', 'nohup', 'time', 'timeout', 'stdbuf', 'taskset', 'chrt', 'ionice', 'sudo', 'exec']);

function ofCommandLine(words: string[]): Runtime {
  let i = 0;
  // Past wrappers and their options (`-n 5`: a number after an option is its value) and VAR=value.
  while (i < words.length && WRAPPERS.has(words[i]!.slice(words[i]!.lastIndexOf('/') + 1))) {
    i++;
    while (i < words.length && /^(-|\d+$|[A-Za-z_][A-Za-z0-9_]*=)/.test(words[i]!)) i++;
  }
  return byWord(words[i] ?? '') ?? 'native';
}

/**
 * The runtime of a session: its command's executable (`/usr/bin/python3`), else the script it
 * runs (`./start.sh`); a shell or package manager that started Node, Python or a JVM counts as
 * what it started (from the tree's process list: `npm start` -> node). No command: Node.
 */
export function runtimeOf(s: SessionSummary): Runtime {
  const command = s.metadata?.command;
  if (!Array.isArray(command) || command.length === 0) return 'node';
  const own = ofCommandLine(command.filter((w): w is string => typeof w === 'string'));
  if (own !== 'shell' && own !== 'native') return own;
  // A launcher: what it started says more than itself (an interpreter beats a shell).
  for (const p of s.processes ?? []) {
    const r = byWord(p.command.split(' ')[0] ?? '');
    if (r !== undefined && r !== 'shell') return r;
  }
  return own;
}

/** The runtime most of the sessions ran (the latest on a tie), or 'node' with none. */
export function dominantRuntime(sessions: readonly SessionSummary[]): Runtime {
  const count = new Map<Runtime, number>();
  let best: Runtime = 'node';
  let bestCount = 0;
  for (const s of [...sessions].sort((a, b) => a.startTime - b.startTime)) {
    const r = runtimeOf(s);
    const n = (count.get(r) ?? 0) + 1;
    count.set(r, n);
    if (n >= bestCount) [best, bestCount] = [r, n];
  }
  return best;
}
