// Benchmark job: data.n blocking stop+start cycles from this worker; returns
// each cycle's duration in ms (the world's other threads keep polling).
import type { ThreadContext } from '../../host/worker.js';

export default function stwTimer(ctx: ThreadContext): number[] {
  const { n } = ctx.data as { n: number };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    ctx.stopTheWorld({ timeoutMs: 5000 });
    ctx.startTheWorld();
    out.push(performance.now() - t0);
  }
  return out;
}
