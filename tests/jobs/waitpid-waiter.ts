// Waits for child data.pid from a worker: 'blocking' (ctx.waitpid), 'async'
// (ctx.waitpidAsync) or 'noHang' (polls until a status or an error). Returns
// { status } or { code } (the error's); data.polled (a SharedArrayBuffer) is
// set once a noHang poll has seen the child running.
import type { ThreadContext } from '../../host/worker.js';

interface Data { pid: number; mode: 'blocking' | 'async' | 'noHang'; polled?: SharedArrayBuffer }

export default async function waiter(ctx: ThreadContext): Promise<{ status?: number; code?: string }> {
  const { pid, mode, polled } = ctx.data as Data;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  try {
    if (mode === 'blocking') return { status: ctx.waitpid(pid) };
    if (mode === 'async') return { status: await ctx.waitpidAsync(pid) };
    const end = performance.now() + 30_000;
    for (;;) {
      const s = ctx.waitpid(pid, { noHang: true });
      if (s !== undefined) return { status: s };
      if (polled) Atomics.store(new Int32Array(polled), 0, 1);
      if (performance.now() > end) return { code: 'still running after 30 s' };
      ctx.allowThreads(() => Atomics.wait(nap, 0, 0, 1));
    }
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e) };
  }
}
