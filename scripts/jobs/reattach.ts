// Detaches, works data.detachedUs µs detached, and re-attaches, data.cycles
// times (or until the quit word), as a thread that keeps leaving for blocking
// work does. Starts when the word at data.goFlag (if any) is non-zero. User word 0 counts
// completed cycles; returns { cycles, longestMs } (the longest single attach wait).
import type { ThreadContext } from '../../host/worker.js';
import { userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

export default function reattach(ctx: ThreadContext): { cycles: number; longestMs: number } {
  const { cycles, detachedUs = 0, goFlag } = (ctx.data ?? {}) as { cycles?: number; detachedUs?: number; goFlag?: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  if (goFlag !== undefined) while (Atomics.load(i32, goFlag >> 2) === 0) ctx.poll();
  const progress = userWordAddr(ctx.index, 0) >> 2;
  let longest = 0;
  let k = 0;
  for (; cycles === undefined || k < cycles; k++) {
    if (Atomics.load(i32, D_QUIT >> 2) !== 0 || ctx.closing) break;
    ctx.detach();
    // blocking work while detached: a stop parks the thread meanwhile
    const until = performance.now() + detachedUs / 1000;
    while (performance.now() < until);
    const t0 = performance.now();
    ctx.attach();
    const waited = performance.now() - t0;
    if (waited > longest) longest = waited;
    Atomics.add(i32, progress, 1);
  }
  return { cycles: k, longestMs: longest };
}
