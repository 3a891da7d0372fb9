// Fork continuation for the tests: reports what the child sees to the file
// named by data.out, optionally forks again or starts threads, exits with data.code.
import { existsSync, writeFileSync } from 'node:fs';
import type { Runtime } from '../../host/runtime.js';
import type { RegisteredThread } from '../../host/thread.js';
import { H_FORK_DEPTH, userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

interface Data {
  out?: string; code?: number; lock?: number; counters?: number[]; forkAgain?: boolean; spawn?: boolean;
  /** print this line on stdout; sleep this long before exiting (a running child) */
  say?: string; sleepMs?: number; waitFile?: string;
  /** run until this file exists (bounded, polled every 5 ms), then exit */
  untilFile?: string;
}
interface Ctx { runtime: Runtime; thread: RegisteredThread; result: number; data: Data | null; restoredChecksum?: number }

let hookRan = false;
/** data.waitFile: the child holds its acknowledgement until that file exists (bounded). */
export async function afterForkChild(ctx: { data: Data | null }): Promise<void> {
  hookRan = true;
  const file = ctx.data?.waitFile;
  const end = performance.now() + 30_000;
  while (file && !existsSync(file) && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
}

export default async function continuation(ctx: Ctx): Promise<number> {
  const d = ctx.data ?? {};
  const rt = ctx.runtime;
  const i32 = new Int32Array(rt.memory.buffer);
  const report: Record<string, unknown> = {
    result: ctx.result,
    hookRan,
    pid: process.pid,
    threads: rt.threadStates().map((t) => ({ handle: t.handle, state: t.state })),
    mainHandle: rt.handle,
    forkDepth: Atomics.load(i32, H_FORK_DEPTH >> 2),
    stopped: rt.core.is_stopped(),
    importLockOwner: rt.core.lock_owner(0),
    lockOwner: d.lock !== undefined ? rt.core.lock_owner(d.lock) : undefined,
    counters: (d.counters ?? []).map((i) => Atomics.load(i32, userWordAddr(i, 0) >> 2) >>> 0),
    restoredChecksum: ctx.restoredChecksum,
  };
  if (d.spawn) {
    const w = rt.spawn(new URL('../../scripts/jobs/spin.js', import.meta.url));
    const h = await w.registered();
    rt.stopTheWorld({ timeoutMs: 5000 });
    report.childThreadState = rt.threadStates().find((t) => t.handle === h)?.state;
    rt.startTheWorld();
    Atomics.store(i32, D_QUIT >> 2, 1);
    await w.join();
    Atomics.store(i32, D_QUIT >> 2, 0);
  }
  if (d.forkAgain) {
    const { pid } = await rt.forkAsync({ data: { code: 42 } });
    report.grandchildStatus = await rt.waitpidAsync(pid);
  }
  if (d.out) writeFileSync(d.out, JSON.stringify(report));
  if (d.say) console.log(d.say);
  if (d.sleepMs) await new Promise((r) => setTimeout(r, d.sleepMs));
  const end = performance.now() + 30_000;
  while (d.untilFile && !existsSync(d.untilFile) && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  return d.code ?? 0;
}
