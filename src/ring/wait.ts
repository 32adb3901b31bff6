/**
 * Waiting on a word of the ring header without polling, in the style of thread-stream's
 * lib/wait.js: Atomics.waitAsync on the word's current value, re-checked after every wake, until
 * the condition holds or the time is up.
 *
 * The contract with the writer: whoever changes a word someone may wait on (the sampler worker
 * for WRITER_STATE and, after a resume, LAST_SLOT; the owning thread when the worker is gone)
 * calls Atomics.notify on it. A change nobody notifies (the C loop cannot wake a JavaScript
 * waiter) is still seen at the next wake or at the deadline, so a missed notify costs time, never
 * a hang.
 */

/**
 * Resolve true once `done()` holds, false once `timeoutMs` has passed. `done` is checked after the
 * word is read, so a change between the two makes the wait return at once ('not-equal').
 */
export async function waitOnWord(header: Int32Array, index: number, done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  // A pending waitAsync does not keep the event loop alive (and the worker that will notify is
  // unref'd): without this timer an awaited wait could end the process with exit code 13.
  const keepAlive = setTimeout(() => undefined, timeoutMs);
  try {
    for (;;) {
      const seen = Atomics.load(header, index);
      if (done()) return true;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      const wait = Atomics.waitAsync(header, index, seen, remaining);
      if (wait.async) await wait.value;
    }
  } finally {
    clearTimeout(keepAlive);
  }
}

/** Wake every waiter on `index` (a no-op with none). */
export function notifyWord(header: Int32Array, index: number): void {
  Atomics.notify(header, index);
}
