// Fork continuation for the tests, under Node and in a page alike: what the
// child sees of its copy. With data.out (Node) the child writes that report
// to the file and exits with data.code; otherwise it exits with a bit set for
// each violated check, else with data.code:
//   1 result is not 0 / the child hook did not run   2 more than one thread
//   4 a lock is held (import lock, data.lock)        8 the world is marked stopped
//  16 a counter the parent's workers had advanced reads 0 (memory not restored)
//  32 a thread the child spawned was not suspended by its stop
//  64 the grandchild's status was not 42
// A step that waits (the spawned thread's start and end, the grandchild's fork
// and exit) has a deadline of STEP_MS; one that passes it ends the child with
// STEP_TIMEOUT_STATUS + the step's number, so a hang names its step.
// It can also spawn a thread, fork again, print, sleep or hang, or die in its
// child hook, before its ack (data below).
import type { Runtime } from '../../host/runtime.js';
import type { RegisteredThread } from '../../host/thread.js';
import { H_FORK_DEPTH, userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';
import { DeadlineError, within } from '../lib/deadline.js';

interface Data {
  out?: string; code?: number; lock?: number; counters?: number[]; forkAgain?: boolean; spawn?: boolean;
  /** print this line on stdout; sleep this long before exiting (a running child); never exit */
  say?: string; sleepMs?: number; hang?: boolean;
  /** Node: the child holds its acknowledgement until this file exists (bounded) */
  waitFile?: string;
  /** run until this file exists (bounded, polled every 5 ms), then exit */
  untilFile?: string;
  /** exit in the child hook, before the ack (tests/lib/fork-faults.ts, 'die-before-ack') */
  dieBeforeAck?: boolean;
}
interface Ctx { runtime: Runtime; thread: RegisteredThread; result: number; data: Data | null; restoredChecksum?: number }

/** The status of a child that died before its ack (never observed: it has no pid). */
const EXIT_DIED_BEFORE_ACK = 99;
const STEP_MS = 8000;
const STEP_TIMEOUT_STATUS = 100;
const STEPS = ['thread registered', 'thread joined', 'grandchild forked', 'grandchild reaped'] as const;

class StepTimeout extends Error {
  constructor(readonly step: number) { super(STEPS[step]); }
}
/** Awaits `fn` for at most STEP_MS; past it, a StepTimeout for `step`. */
const step = <T>(n: number, fn: () => Promise<T>): Promise<T> => within(STEP_MS, fn, STEPS[n]).catch((e) => {
  throw e instanceof DeadlineError ? new StepTimeout(n) : e;
});

let hookRan = false;

// Under Node a carrier may run one child after another (docs/FORK.md,
// "Recycled children"): what this module keeps per child is put back here.
export function recycle(): void {
  hookRan = false;
}

export async function afterForkChild(ctx: { runtime: Runtime; data: Data | null }): Promise<void> {
  hookRan = true;
  if (ctx.data?.dieBeforeAck) await ctx.runtime.exit(EXIT_DIED_BEFORE_ACK);
  const file = ctx.data?.waitFile;
  if (!file) return;
  const { existsSync } = await import('node:fs');
  const end = performance.now() + 30_000;
  while (!existsSync(file) && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
}

export default async function continuation(ctx: Ctx): Promise<number> {
  try {
    return await run(ctx);
  } catch (e) {
    if (e instanceof StepTimeout) return STEP_TIMEOUT_STATUS + e.step;
    throw e;
  }
}

async function run(ctx: Ctx): Promise<number> {
  const d = ctx.data ?? {};
  const rt = ctx.runtime;
  const i32 = new Int32Array(rt.memory.buffer);
  const report: Record<string, unknown> & { threads: { handle: number; state: string }[]; counters: number[] } = {
    result: ctx.result,
    hookRan,
    pid: (globalThis as { process?: { pid: number } }).process?.pid,
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
    const h = await step(0, () => w.registered());
    rt.stopTheWorld({ timeoutMs: 5000 });
    report.childThreadState = rt.threadStates().find((t) => t.handle === h)?.state;
    rt.startTheWorld();
    Atomics.store(i32, D_QUIT >> 2, 1);
    await step(1, () => w.join());
    Atomics.store(i32, D_QUIT >> 2, 0);
  }
  if (d.forkAgain) {
    const { pid } = await step(2, () => rt.forkAsync({ data: { code: 42 } }));
    report.grandchildStatus = await step(3, () => rt.waitpidAsync(pid));
  }
  if (d.out) (await import('node:fs')).writeFileSync(d.out, JSON.stringify(report));
  if (d.say) console.log(d.say);
  if (d.sleepMs) await new Promise((r) => setTimeout(r, d.sleepMs));
  if (d.untilFile) {
    const { existsSync } = await import('node:fs');
    const end = performance.now() + 30_000;
    while (!existsSync(d.untilFile) && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  }
  if (d.hang) await new Promise(() => {});
  return d.out ? d.code ?? 0 : violations(report, d) || (d.code ?? 0);
}

function violations(r: Record<string, unknown> & { threads: unknown[]; counters: number[] }, d: Data): number {
  let bad = 0;
  if (r.result !== 0 || !r.hookRan) bad |= 1;
  if (r.threads.length !== 1) bad |= 2;
  if (r.importLockOwner !== 0 || (d.lock !== undefined && r.lockOwner !== 0)) bad |= 4;
  if (r.stopped) bad |= 8;
  if (r.counters.some((c) => c === 0)) bad |= 16;
  if (d.spawn && r.childThreadState !== 'SUSPENDED') bad |= 32;
  if (d.forkAgain && r.grandchildStatus !== 42) bad |= 64;
  return bad;
}
