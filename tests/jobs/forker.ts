// Forks data.n times from a worker, reaping each child; returns the statuses.
import type { ThreadContext } from '../../host/worker.js';

export default function forker(ctx: ThreadContext): number[] {
  const { n, go } = ctx.data as { n: number; go: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  while (Atomics.load(i32, go >> 2) === 0) ctx.poll();
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const { pid } = ctx.fork({ data: { code: 10 + i } });
    statuses.push(ctx.waitpid(pid));
  }
  return statuses;
}
