// The harness's forking worker: forks in a loop (each child checks its copy,
// scripts/jobs/harness-child.ts) until the diagnostics quit word is set.
// Returns what the main thread's loop measures for its own forks.
import type { ThreadContext } from '../../host/worker.js';
import { DIAG_QUIT as D_QUIT } from '../../host/modules.js';

export interface ForkerResult {
  forks: number;
  failedChildren: number;
  codes: Record<number, number>;
  latMs: number[];
  pauseMs: number[];
  error?: string;
}

export default function forker(ctx: ThreadContext): ForkerResult {
  const { forkData, warmup } = ctx.data as { forkData: unknown; warmup: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  const out: ForkerResult = { forks: 0, failedChildren: 0, codes: {}, latMs: [], pauseMs: [] };
  while (Atomics.load(i32, D_QUIT >> 2) === 0) {
    const a = performance.now();
    try {
      const { pid, timings } = ctx.fork({ data: forkData });
      const status = ctx.waitpid(pid);
      if (out.forks >= warmup) {
        out.latMs.push(performance.now() - a);
        out.pauseMs.push(timings.copyMs);
      }
      if (status !== 0) {
        out.failedChildren++;
        out.codes[status] = (out.codes[status] ?? 0) + 1;
      }
    } catch (e) {
      out.error = e instanceof Error ? e.message : String(e);
      break;
    }
    out.forks++;
    ctx.poll();
  }
  return out;
}
