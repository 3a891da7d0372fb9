// A job for the prestart test: says on a BroadcastChannel when a worker
// imports it, and as a job which worker ran it and how often this copy of the
// module has run.
import { isMainThread, threadId } from 'node:worker_threads';
import type { ThreadContext } from '../../host/worker.js';

export const PRESTART_PROBE_CHANNEL = 'prestart-probe';

if (!isMainThread) {
  const channel = new BroadcastChannel(PRESTART_PROBE_CHANNEL);
  channel.postMessage({ imported: threadId });
  channel.close();
}
let runs = 0;

export default function prestartProbe(ctx: ThreadContext): { threadId: number; runs: number; n: number } {
  runs++;
  return { threadId, runs, n: (ctx.data as { n: number }).n };
}
