// Workloads the death tests terminate at a chosen protocol point.
// 'requester': stops the world (data.timeoutMs), reports in user word 1
//   (1 = began, 2 = stopped), and keeps the world stopped until killed.
// 'register-hold': registers a second slot that stays REGISTERING until the
//   word at data.release is set (killed there). 'register-attach': the same,
//   begun (detached) once the word at data.go is set, then attaches that slot
//   once released and returns attach's result.
// 'lock-hold': takes lock data.lock, bumps the counter at data.counter, and
//   holds the lock (detached) until killed.
import type { ThreadContext } from '../../host/worker.js';
import { threadId } from 'node:worker_threads';
import { userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';
import type { TestingExports } from '../lib/testing-build.js';

type Data =
  | { op: 'requester'; timeoutMs: number }
  | { op: 'register-hold'; release: number }
  | { op: 'register-attach'; release: number; go: number }
  | { op: 'lock-hold'; lock: number; counter: number };

export default function victim(ctx: ThreadContext): number {
  const d = ctx.data as Data;
  const i32 = new Int32Array(ctx.memory.buffer);
  const mark = userWordAddr(ctx.index, 1) >> 2;
  if (d.op === 'requester') {
    Atomics.store(i32, mark, 1);
    ctx.stopTheWorld({ timeoutMs: d.timeoutMs });
    Atomics.store(i32, mark, 2);
    // holds the stop, attached, until killed (or the quit word on shutdown)
    while (Atomics.load(i32, D_QUIT >> 2) === 0) Atomics.wait(i32, D_QUIT >> 2, 0, 1000);
    ctx.startTheWorld();
    return 0;
  }
  if (d.op === 'register-hold') return (ctx.core as TestingExports).test_register_hold(threadId, d.release);
  if (d.op === 'register-attach') {
    // detached (a stop parks but does not halt it), it registers when told to;
    // the held registration, once released, attaches as a new thread would
    const h2 = ctx.allowThreads(() => {
      Atomics.store(i32, mark, 1);
      while (Atomics.load(i32, d.go >> 2) === 0) Atomics.wait(i32, d.go >> 2, 0, 1000);
      return (ctx.core as TestingExports).test_register_hold(threadId, d.release);
    });
    const r = ctx.core.attach(h2);
    ctx.core.detach(h2);
    ctx.core.unregister(h2);
    return r;
  }
  const r = ctx.core.lock_acquire(ctx.handle, d.lock, -1);
  Atomics.add(i32, d.counter >> 2, 1);
  Atomics.store(i32, mark, 1);
  ctx.allowThreads(() => { // holds the lock detached, so stops go on
    while (Atomics.load(i32, D_QUIT >> 2) === 0) Atomics.wait(i32, D_QUIT >> 2, 0, 1000);
  });
  ctx.unlock(d.lock);
  return r;
}
