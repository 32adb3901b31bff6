/**
 * A vitest reporter that closes the run with what was skipped and why: every skipped test's note
 * (test/helpers/optional-readers.ts writes them), grouped, with the files and test names. It adds
 * to the default reporter's output and changes no result.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const byNote = new Map<string, string[]>();
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const r = test.result();
        if (r.state !== 'skipped') continue;
        // A failed beforeAll marks its tests skipped: the run is red already, and says why.
        const hookFailed = test.parent.type === 'suite' && test.parent.state() === 'failed';
        const note = r.note ?? (hookFailed ? 'not run: a hook of their suite failed (see the error above)' : 'skipped without a note (it.skip / it.todo in the source)');
        const list = byNote.get(note) ?? [];
        list.push(`${mod.relativeModuleId} > ${test.fullName}`);
        byNote.set(note, list);
      }
    }
    if (byNote.size === 0) return;
    const lines = ['', 'Skipped (CI=true makes every missing reader a failure):'];
    for (const [note, tests] of byNote) {
      lines.push(`  ${note}: ${tests.length} test${tests.length === 1 ? '' : 's'}`);
      for (const t of tests) lines.push(`    - ${t}`);
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
}
