// Waits, detached, until the runtime closes: a worker that costs nothing while
// it lives (the start-up figures time a runtime with threads, not their work).
import type { ThreadContext } from '../../host/worker.js';

export default async function idle(ctx: ThreadContext): Promise<void> {
  while (!ctx.closing) await ctx.detachedWhile(() => new Promise((r) => setTimeout(r, 5)));
}
