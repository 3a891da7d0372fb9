// What a piece of code left running on this thread's event loop: the kinds of
// active resource (process.getActiveResourcesInfo: a timer, a socket, a file
// request in flight) there are more of after it than before. A recycled fork
// carrier checks its child with it, a pooled worker each job.

function count(items: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** This thread's active resources now, by kind. */
export function activeResources(): Map<string, number> {
  return count(process.getActiveResourcesInfo());
}

/** `an active <kind>` for a kind there is more of now than in `before`, or undefined. */
export function newResource(before: Map<string, number>): string | undefined {
  for (const [kind, n] of activeResources()) if (n > (before.get(kind) ?? 0)) return `an active ${kind}`;
  return undefined;
}

// A worker's process.stdout and stderr write to its parent over a MessagePort, active while a write is on its way:
// a job that logged as it returned left nothing running.
const WORKER_STDIO = 'MessagePort';

/** servePool's JobResidue: the resources before a job, then what the job added (its stdio's writes in flight aside). */
export function jobResidue(): () => string | undefined {
  const before = activeResources();
  before.set(WORKER_STDIO, Infinity);
  return () => newResource(before);
}
