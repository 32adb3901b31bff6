/**
 * `--prepare CMD` and `--cleanup CMD` (as hyperfine has them): a shell command run before and
 * after every run, warmups too, never timed nor sampled (the sampler follows the command's own
 * tree, which does not exist yet, and the session opens after it). Unlike the profiled
 * commands they do go through `/bin/sh -c`, as hyperfine runs them: they are glue (`sync`,
 * `rm -rf cache`, `echo 3 > /proc/sys/vm/drop_caches`) and need redirections and `&&`.
 * Their output goes to procprobe's stderr, so a `--json` document on stdout stays one document.
 */
import { spawn } from 'node:child_process';

/** Run `command` in `cwd` through /bin/sh; null when it exited 0, else the one line saying how it failed. */
export function runHook(flag: '--prepare' | '--cleanup', command: string, cwd: string): Promise<string | null> {
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', process.stderr, process.stderr] });
    child.once('error', (err) => done(`${flag} ${JSON.stringify(command)} could not start: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (code === 0) done(null);
      else done(`${flag} ${JSON.stringify(command)} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`);
    });
  });
}

/**
 * One run between its hooks: `--prepare` first (a failure skips the run), `--cleanup` after it
 * whatever the run's outcome (it undoes what prepare did). hyperfine runs its --cleanup once
 * after all of a command's runs; here it follows each run, as --prepare precedes each.
 *
 * @returns the run's value (absent when prepare failed) and the first hook failure, or null
 */
export async function withHooks<T>(o: { prepare: string | undefined; cleanup: string | undefined; cwd: string }, run: () => Promise<T>): Promise<{ value?: T; failure: string | null }> {
  const before = o.prepare === undefined ? null : await runHook('--prepare', o.prepare, o.cwd);
  if (before !== null) return { failure: before };
  const value = await run();
  const after = o.cleanup === undefined ? null : await runHook('--cleanup', o.cleanup, o.cwd);
  return { value, failure: after };
}
