/**
 * Advice for the runtime at hand (src/analysis/runtime.ts, advice.ts). The classification is
 * checked on command lines whose runtime is known by construction; the end-to-end case runs real
 * Python and Node commands through `procprobe run` and reads the suggestions `stats` prints.
 */
import { describe, expect, it } from 'vitest';
import { computeStats } from '../dist/analysis/compute.js';
import { runtimeOf } from '../dist/analysis/runtime.js';
import type { SessionSummary } from '../dist/session/types.js';
import { cleanup, newDataDir, readIndex, runCli } from './helpers/cli.js';
import { resourceDeltaWith } from './helpers/summaries.js';

const res = resourceDeltaWith({});

function session(i: number, command: string[] | undefined, processes: string[] = []): SessionSummary {
  const startTime = Date.UTC(2026, 0, 1) + i * 60_000;
  return {
    id: `s${i}`, startTime, endTime: startTime + 300, durationMs: 300, success: true, incomplete: false,
    metadata: command ? { command } : {},
    phases: [{ name: 'boot', startOffsetMs: 0, durationMs: 300, success: true, resources: res({ cpuPercent: 95, cpuMs: 285 }) }],
    errors: [],
    ...(processes.length ? { processes: processes.map((c, k) => ({ pid: 100 + k, ppid: 99 + k, command: c, startTime, adoptedAt: startTime, endTime: null, cpuMs: 1, peakRssBytes: 1, peakThreads: 1 })) } : {}),
  } as SessionSummary;
}

describe('runtimeOf', () => {
  it.each([
    [['node', 'app.mjs'], 'node'],
    [['/usr/local/bin/node20', '-e', '1'], 'node'],
    [['npm', 'start'], 'node'],
    [['./server.mjs'], 'node'],
    [['/usr/bin/python3.11', '-c', 'import json'], 'python'],
    [['./manage.py', 'runserver'], 'python'],
    [['env', 'FOO=1', 'python3', 'x.py'], 'python'],
    [['nice', '-n', '5', 'java', '-jar', 'app.jar'], 'jvm'],
    [['timeout', '5', 'gradle', 'run'], 'jvm'],
    [['/usr/sbin/nginx', '-c', '/etc/nginx/nginx.conf'], 'native'],
    [['redis-server', '--port', '6380'], 'native'],
    [['sh', '-c', 'for i in 1 2; do date; done'], 'shell'],
    [['./start.sh'], 'shell'],
  ] as const)('%j is %s', (command, runtime) => {
    expect(runtimeOf(session(0, [...command]))).toBe(runtime);
  });

  it('a library session (no command) is this Node process; a launcher counts as what it started', () => {
    expect(runtimeOf(session(0, undefined))).toBe('node');
    expect(runtimeOf(session(0, ['sh', '-c', 'exec python3 app.py'], ['sh -c exec python3 app.py', 'python3 app.py']))).toBe('python');
    expect(runtimeOf(session(0, ['./run'], ['./run', 'sh -c x', '/usr/bin/java -jar a.jar']))).toBe('jvm');
  });

  it("the compute advice names only the runtime's own levers", () => {
    const of = (command: string[]) => computeStats([0, 1, 2].map((i) => session(i, command)), { days: 7, now: Date.UTC(2026, 0, 2) }).suggestions.find((s) => s.kind === 'cpu_bound_phase')!;
    const py = of(['python3', 'app.py']);
    expect(py.message).toMatch(/python -X importtime/);
    expect(py.message).not.toMatch(/V8|NODE_COMPILE_CACHE|import\(\)/);
    expect(py.evidence.runtime).toBe('python');
    const node = of(['node', 'app.mjs']);
    expect(node.message).toMatch(/NODE_COMPILE_CACHE/);
    expect(node.message).not.toMatch(/importtime|AppCDS/);
    const nginx = of(['nginx']);
    expect(nginx.message).not.toMatch(/V8|NODE_COMPILE_CACHE|import\(\)|importtime|AppCDS/);
  });
});

describe('procprobe stats on a Python startup', () => {
  it('the session the CLI recorded for python3 is judged Python, and stats gives it no V8 advice', async () => {
    const dir = newDataDir();
    const busy = 'import time\nt=time.process_time()\nwhile time.process_time()-t<0.15: pass';
    for (let i = 0; i < 3; i++) expect((await runCli(['run', '--quiet', '--data-dir', dir, '--label', 'py', '--', 'python3', '-c', busy])).code).toBe(0);
    // The index file as written, decoded here: what the CLI recorded of the command.
    for (const s of readIndex(dir) as SessionSummary[]) expect(runtimeOf(s)).toBe('python');
    const r = await runCli(['stats', '--label', 'py', '--json', '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const { suggestions } = JSON.parse(r.stdout) as { suggestions: { kind: string; message: string; evidence: { runtime?: string } }[] };
    for (const s of suggestions) {
      expect(s.message).not.toMatch(/V8|NODE_COMPILE_CACHE|import\(\)|UV_THREADPOOL_SIZE/);
      if (s.evidence.runtime !== undefined) expect(s.evidence.runtime).toBe('python');
    }
    await cleanup();
  }, 120_000);
});
