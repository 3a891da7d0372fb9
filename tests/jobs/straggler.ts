// Runs attached and never reaches a safe point until the runtime closes: a
// stop (or a fork's stop) can only time out on it. User word 1 is set once it
// spins, so a test can wait for that before it stops the world.
import type { ThreadContext } from '../../host/worker.js';
import { userWordAddr } from '../../host/layout.js';

export default function straggler(ctx: ThreadContext): number {
  const i32 = new Int32Array(ctx.memory.buffer);
  Atomics.store(i32, userWordAddr(ctx.index, 1) >> 2, 1);
  let spins = 0;
  while (!ctx.closing) spins++;
  return spins;
}
