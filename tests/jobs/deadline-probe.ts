// A worker's stop and fork with no deadline of their own: returns how each
// failed (a straggler keeps the world from stopping), with the deadline used.
import type { ThreadContext } from '../../host/worker.js';

interface Failure { code?: string; message?: string }

function failure(e: unknown): Failure {
  const x = e as { code?: string; message?: string };
  return { code: x.code, message: x.message };
}

export default function deadlineProbe(ctx: ThreadContext): { stop?: Failure; fork?: Failure } {
  const out: { stop?: Failure; fork?: Failure } = {};
  try {
    ctx.stopTheWorld();
    ctx.startTheWorld();
  } catch (e) {
    out.stop = failure(e);
  }
  try {
    ctx.fork();
  } catch (e) {
    out.fork = failure(e);
  }
  return out;
}
