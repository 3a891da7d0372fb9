// Stops the world and holds the stop until the word at data.release is set;
// data.held is set once the world is stopped.
import type { ThreadContext } from '../../host/worker.js';

export default function holder(ctx: ThreadContext): number {
  const { held, release } = ctx.data as { held: number; release: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  ctx.stopTheWorld({ timeoutMs: 10_000 });
  Atomics.store(i32, held >> 2, 1);
  Atomics.notify(i32, held >> 2);
  // bounded: a test that never releases still ends
  const end = performance.now() + 30_000;
  while (Atomics.load(i32, release >> 2) === 0 && performance.now() < end) Atomics.wait(i32, release >> 2, 0, 50);
  ctx.startTheWorld();
  return 0;
}
