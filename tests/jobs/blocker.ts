// Blocks inside allowThreads on a word until the test wakes it; counts how
// often the wait returned in user word 2 (a parked thread must not be woken);
// user word 3 says it is inside.
import type { ThreadContext } from '../../host/worker.js';
import { userWordAddr } from '../../host/layout.js';

export default function blocker(ctx: ThreadContext): number {
  const { addr } = ctx.data as { addr: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  const wakes = userWordAddr(ctx.index, 2) >> 2;
  ctx.allowThreads(() => {
    // user word 3: this thread is inside allowThreads (detached for good, not on its way in)
    Atomics.store(i32, userWordAddr(ctx.index, 3) >> 2, 1);
    while (Atomics.load(i32, addr >> 2) === 0) {
      Atomics.wait(i32, addr >> 2, 0);
      Atomics.add(i32, wakes, 1);
    }
  });
  return Atomics.load(i32, wakes);
}
