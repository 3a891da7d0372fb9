// Runs one diagnostic loop of diag.wasm named by data.op (most run until the quit word is set).
import type { ThreadContext } from '../../host/worker.js';
import { diagOf } from '../../host/diag.js';

type Data =
  | { op: 'record-writer'; rec: number; seed: number }
  | { op: 'record-reader'; rec: number; validate: boolean }
  | { op: 'cache-writer'; index: number; tv: number; mv: number; value: number; lock: number }
  | { op: 'record-hold'; rec: number; value: number; release: number }
  | { op: 'record-fill'; rec: number; value: number }
  | { op: 'read-bench'; kind: 'seqlock' | 'mutex' | 'plain'; index: number; tv: number; mv: number; value: number; lock: number; iters: number; go: number };

export default function diag(ctx: ThreadContext): number {
  const d = ctx.data as Data;
  const c = diagOf(ctx.core);
  switch (d.op) {
    case 'record-writer':
      return c.diag_record_writer(ctx.handle, d.rec, d.seed);
    case 'record-reader':
      return c.diag_record_reader(ctx.handle, d.rec, d.validate ? 1 : 0);
    case 'cache-writer':
      return c.diag_cache_writer(ctx.handle, d.index, d.tv, d.mv, d.value, d.lock);
    case 'record-hold':
      // stays inside a write until the word at data.release is set (the death tests kill it
      // there); only build/core.testing.wasm has the hook (tests/lib/testing-build.ts)
      return (ctx.core as unknown as { test_record_hold(h: number, rec: number, value: number, release: number): number })
        .test_record_hold(ctx.handle, d.rec, d.value, d.release);
    case 'record-fill':
      return ctx.core.record_fill(ctx.handle, d.rec, d.value, 33);
    case 'read-bench': {
      // start together: all readers must overlap to measure contention
      const i32 = new Int32Array(ctx.memory.buffer);
      while (Atomics.load(i32, d.go >> 2) === 0) ctx.poll();
      // mask 0 at run time keeps the optimiser from hoisting the loads
      if (d.kind === 'seqlock') return c.diag_cache_read_ns(d.index, d.tv, d.mv, d.value, d.iters, 0);
      if (d.kind === 'mutex') return c.diag_mutex_read_ns(ctx.handle, d.lock, d.index, d.tv, d.mv, d.iters, 0);
      return c.diag_plain_read_ns(d.index, d.tv, d.mv, d.iters, 0);
    }
  }
}
