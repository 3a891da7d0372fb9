// Forks from a worker and ends the worker thread at data.phase of the fork
// (holding the import lock, or with the world stopped), as a thread that
// crashes mid-fork would.
import type { ThreadContext } from '../../host/worker.js';
import type { ForkPhase } from '../../host/fork/request.js';

export default function dier(ctx: ThreadContext): number {
  const { phase } = ctx.data as { phase: ForkPhase };
  ctx.fork({ probe: (p) => { if (p === phase) process.exit(0); } });
  return -1;
}
