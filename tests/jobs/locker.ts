// Lock workloads. 'count': data.iters times lock, bump a plain (non-atomic)
// counter, unlock. 'wait-once': block on the lock once, report, unlock.
// 'hold': take the lock and keep it, polling, until the quit word is set.
// 'acquire-code': one blocking acquire; returns its result code, lock kept.
import type { ThreadContext } from '../../host/worker.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

type Data =
  | { op: 'count'; lock: number; counter: number; iters: number }
  | { op: 'wait-once'; lock: number }
  | { op: 'hold'; lock: number }
  | { op: 'acquire-code'; lock: number };

export default function locker(ctx: ThreadContext): number {
  const d = ctx.data as Data;
  if (d.op === 'wait-once') {
    ctx.lock(d.lock);
    const owner = ctx.core.lock_owner(d.lock);
    ctx.unlock(d.lock);
    return owner;
  }
  if (d.op === 'acquire-code') {
    // the raw result of one blocking acquire; the lock stays held (the job ends holding it)
    return ctx.core.lock_acquire(ctx.handle, d.lock, -1);
  }
  const i32 = new Int32Array(ctx.memory.buffer);
  if (d.op === 'hold') {
    ctx.lock(d.lock);
    while (Atomics.load(i32, D_QUIT >> 2) === 0 && !ctx.closing) ctx.poll();
    ctx.unlock(d.lock);
    return 0;
  }
  const at = d.counter >> 2;
  for (let i = 0; i < d.iters; i++) {
    ctx.lock(d.lock);
    i32[at] = i32[at] + 1; // deliberately not atomic: the lock must make it exact
    ctx.unlock(d.lock);
    if ((i & 63) === 0) ctx.poll();
  }
  return d.iters;
}
