// Blocks inside allowThreads on a word until the test wakes it; counts how
// often the wait returned in user word 2 (a parked thread must not be woken).
import type { ThreadContext } from '../../host/worker.js';
import { userWordAddr } from '../../host/layout.js';

export default function blocker(ctx: ThreadContext): number {
  const { addr } = ctx.data as { addr: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  const wakes = userWordAddr(ctx.index, 2) >> 2;
  ctx.allowThreads(() => {
    while (Atomics.load(i32, addr >> 2) === 0) {
      Atomics.wait(i32, addr >> 2, 0);
      Atomics.add(i32, wakes, 1);
    }
  });
  return Atomics.load(i32, wakes);
}
