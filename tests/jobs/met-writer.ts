// A record writer that, on meeting another write in progress, holds before it
// judges that writer (build/core.testing.wasm's test_record_fill_met), so the
// seqlock tests can finish or kill the other write in between.
import type { ThreadContext } from '../../host/worker.js';
import type { TestingExports } from '../lib/testing-build.js';

interface Data { rec: number; value: number; release: number }

export default function metWriter(ctx: ThreadContext): number {
  const d = ctx.data as Data;
  return (ctx.core as TestingExports).test_record_fill_met(ctx.handle, d.rec, d.value, d.release);
}
