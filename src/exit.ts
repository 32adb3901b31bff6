/**
 * Work that must happen synchronously when the process exits (the event loop is gone by then):
 * objects register a flush, held through a WeakRef so that the hook itself never keeps one alive.
 * One 'exit' listener for the whole thread, added on first use.
 */
interface Entry {
  ref: WeakRef<object>;
  flush: (target: object) => void;
}

const entries = new Set<Entry>();
let hooked = false;

function runAll(): void {
  for (const e of entries) {
    const target = e.ref.deref();
    if (!target) continue;
    try {
      e.flush(target);
    } catch {
      // An exit handler that throws would replace the host's exit code: never.
    }
  }
  entries.clear();
}

/** Call `flush(target)` at process exit unless the returned function is called first. */
export function flushOnExit<T extends object>(target: T, flush: (target: T) => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', runAll);
  }
  const entry: Entry = { ref: new WeakRef(target), flush: flush as (target: object) => void };
  entries.add(entry);
  return () => void entries.delete(entry);
}
