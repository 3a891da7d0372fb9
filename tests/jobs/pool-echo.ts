// A job for the worker-pool test: says which worker ran it, with which handle,
// and how many jobs this worker's copy of the module has run (a reused worker
// imports the job module once) and on how many core instances (a reused
// worker keeps its first job's). data.fail: throws instead; data.leave: leaves a
// timer on its worker's event loop, or writes a line to stdout as it returns.
import { threadId } from 'node:worker_threads';
import type { ThreadContext } from '../../host/worker.js';

let runs = 0;
const cores = new Set<object>();

export default function poolEcho(ctx: ThreadContext): { threadId: number; handle: number; runs: number; cores: number; n: number } {
  const { n, fail, leave } = ctx.data as { n: number; fail?: boolean; leave?: 'timer' | 'log' };
  runs++;
  cores.add(ctx.core);
  if (fail) throw new Error(`job ${n} fails`);
  if (leave === 'timer') setInterval(() => {}, 60_000);
  if (leave === 'log') console.log(`job ${n} returns`);
  return { threadId, handle: ctx.handle, runs, cores: cores.size, n };
}
