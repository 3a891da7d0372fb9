// Runs one diagnostic loop named by data.op until the quit word is set.
import type { ThreadContext } from '../../host/worker.js';

type Data =
  | { op: 'record-writer'; rec: number; seed: number; pauseEvery: number; pauseSpins: number }
  | { op: 'record-reader'; rec: number; validate: boolean }
  | { op: 'cache-writer'; index: number; tv: number; mv: number; value: number; lock: number };

export default function diag(ctx: ThreadContext): number {
  const d = ctx.data as Data;
  const c = ctx.core;
  switch (d.op) {
    case 'record-writer':
      return c.diag_record_writer(d.rec, d.seed, d.pauseEvery, d.pauseSpins);
    case 'record-reader':
      return c.diag_record_reader(ctx.handle, d.rec, d.validate ? 1 : 0);
    case 'cache-writer':
      return c.diag_cache_writer(ctx.handle, d.index, d.tv, d.mv, d.value, d.lock);
  }
}
