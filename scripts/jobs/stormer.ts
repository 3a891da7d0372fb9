// A second stop requester: once the word at data.goFlag is non-zero, stops
// and starts the world data.stops times. Returns the number of stops.
import type { ThreadContext } from '../../host/worker.js';

export default function stormer(ctx: ThreadContext): number {
  const { stops, goFlag, timeoutMs = 30_000 } = ctx.data as { stops: number; goFlag: number; timeoutMs?: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  while (Atomics.load(i32, goFlag >> 2) === 0) ctx.poll();
  for (let k = 0; k < stops; k++) {
    ctx.stopTheWorld({ timeoutMs });
    ctx.startTheWorld();
  }
  return stops;
}
