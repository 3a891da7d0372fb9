// A fork child's thread for tests/fork-recycle.test.ts: writes which worker runs
// it and what it finds on that worker (the timers on its event loop, the
// environment it was started with), then leaves a timer there or never returns
// when asked, so the test can tell whether the next child's thread ran on the
// same worker and what it found of this one.
import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import type { ThreadContext } from '../../host/worker.js';

export interface RecycleThreadData { out: string; leave?: 'timer' | 'hang' }

export default async function recycleThread(ctx: ThreadContext): Promise<void> {
  const { out, leave } = ctx.data as RecycleThreadData;
  writeFileSync(out, JSON.stringify({
    threadId, timers: process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, env: process.env.WTC_RECYCLE_PROBE ?? null,
  }));
  if (leave === 'timer') setInterval(() => {}, 60_000);
  if (leave === 'hang') await new Promise(() => {}); // its runtime's close terminates it
}
