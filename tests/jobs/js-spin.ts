// Spins in JS, counting progress in user word 0. Polls at every iteration
// while the word at data.pollFlag is non-zero (or always, without pollFlag);
// with data.stops > 0 it also stops and starts the world itself that often,
// starting when the word at data.goFlag becomes non-zero.
import type { ThreadContext } from '../../host/worker.js';
import { userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

interface Data { pollFlag?: number; goFlag?: number; stops?: number; timeoutMs?: number }

export default function jsSpin(ctx: ThreadContext): number {
  const d = (ctx.data ?? {}) as Data;
  const i32 = new Int32Array(ctx.memory.buffer);
  const progress = userWordAddr(ctx.index, 0) >> 2;
  let stops = 0;
  if (d.goFlag !== undefined) while (Atomics.load(i32, d.goFlag >> 2) === 0) ctx.poll();
  while (!ctx.closing && Atomics.load(i32, D_QUIT >> 2) === 0) {
    if (d.pollFlag === undefined || Atomics.load(i32, d.pollFlag >> 2) !== 0) ctx.poll();
    Atomics.add(i32, progress, 1);
    if (d.stops && stops < d.stops) {
      ctx.stopTheWorld({ timeoutMs: d.timeoutMs ?? 5000 });
      ctx.startTheWorld();
      stops++;
    } else if (d.stops) {
      break;
    }
  }
  return stops;
}
