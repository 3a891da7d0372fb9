// A job for the worker-pool test: says which worker ran it, with which handle,
// and how many jobs this worker's copy of the module has run (a reused worker
// imports the job module once) and on how many core instances (a reused
// worker keeps its first job's). data.fail: throws instead.
import { threadId } from 'node:worker_threads';
import type { ThreadContext } from '../../host/worker.js';

let runs = 0;
const cores = new Set<object>();

export default function poolEcho(ctx: ThreadContext): { threadId: number; handle: number; runs: number; cores: number; n: number } {
  const { n, fail } = ctx.data as { n: number; fail?: boolean };
  runs++;
  cores.add(ctx.core);
  if (fail) throw new Error(`job ${n} fails`);
  return { threadId, handle: ctx.handle, runs, cores: cores.size, n };
}
