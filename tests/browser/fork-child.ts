// Fork continuation for the page suite. The child checks its copy and exits
// with a bit set for each violated check, else with data.code:
//   1 result is not 0 / the child hook did not run   2 more than one thread
//   4 a lock is held (import lock, data.lock)        8 the world is marked stopped
//  16 a counter the parent's workers had advanced reads 0 (memory not restored)
//  32 a thread the child spawned was not suspended by its stop
//  64 the grandchild's status was not 42
import type { Runtime } from '../../host/runtime.js';
import { userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

interface Data { code?: number; lock?: number; counters?: number[]; spawn?: boolean; forkAgain?: boolean; hang?: boolean }
interface Ctx { runtime: Runtime; result: number; data: Data | null }

let hookRan = false;
export function afterForkChild(): void {
  hookRan = true;
}

export default async function continuation(ctx: Ctx): Promise<number> {
  const d = ctx.data ?? {};
  const rt = ctx.runtime;
  const i32 = new Int32Array(rt.memory.buffer);
  let bad = 0;
  if (ctx.result !== 0 || !hookRan) bad |= 1;
  if (rt.threadStates().length !== 1) bad |= 2;
  if (rt.core.lock_owner(0) !== 0 || (d.lock !== undefined && rt.core.lock_owner(d.lock) !== 0)) bad |= 4;
  if (rt.core.is_stopped()) bad |= 8;
  if ((d.counters ?? []).some((i) => Atomics.load(i32, userWordAddr(i, 0) >> 2) === 0)) bad |= 16;
  if (d.spawn) {
    const w = rt.spawn(new URL('../../scripts/jobs/spin.js', import.meta.url));
    const h = await w.registered();
    rt.stopTheWorld({ timeoutMs: 5000 });
    if (rt.threadStates().find((t) => t.handle === h)?.state !== 'SUSPENDED') bad |= 32;
    rt.startTheWorld();
    Atomics.store(i32, D_QUIT >> 2, 1);
    await w.join();
    Atomics.store(i32, D_QUIT >> 2, 0);
  }
  if (d.forkAgain) {
    const { pid } = await rt.forkAsync({ data: { code: 42 } });
    if ((await rt.waitpidAsync(pid)) !== 42) bad |= 64;
  }
  if (d.hang) await new Promise(() => {});
  return bad || (d.code ?? 0);
}
