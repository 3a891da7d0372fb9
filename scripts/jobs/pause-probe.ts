// Measures the fork pause as another thread sees it: a tight loop with a safe
// point per iteration that records the largest gap between consecutive
// iterations since the epoch word (data.epoch) last changed. User words of
// this thread: 0 iterations, 1 largest gap in µs, 2 the epoch it has seen.
import type { ThreadContext } from '../../host/worker.js';
import { userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

export default function pauseProbe(ctx: ThreadContext): number {
  const { epoch: epochAddr } = ctx.data as { epoch: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  const base = userWordAddr(ctx.index, 0) >> 2;
  let last = performance.now();
  let max = 0;
  let epoch = -1;
  let n = 0;
  while (Atomics.load(i32, D_QUIT >> 2) === 0) {
    ctx.poll();
    const now = performance.now();
    const gap = now - last;
    last = now;
    const e = Atomics.load(i32, epochAddr >> 2);
    if (e !== epoch) {
      epoch = e;
      max = 0;
      Atomics.store(i32, base + 1, 0);
      Atomics.store(i32, base + 2, e);
    } else if (gap > max) {
      max = gap;
      Atomics.store(i32, base + 1, Math.round(max * 1000));
    }
    Atomics.store(i32, base, ++n);
  }
  return n;
}
