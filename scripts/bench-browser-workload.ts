// The measurements of `npm run bench -- --only browser`, platform-neutral so
// the same code runs in a page (each browser) and under Node beside it:
// stop+start from the main thread (async forms) and from a worker (blocking),
// with one polling worker; fork round trip (forkAsync + waitpid) and the fork
// pause (how long the forking thread held the world stopped: the stop and the
// copy) with 0 and 4 polling threads and 4 MiB of live memory.
import { DIAG_QUIT as D_QUIT } from '../host/diag.js';
import type { Runtime, RuntimeOptions } from '../host/runtime.js';
import { percentile, round } from './stats-util.js';

const JOBS = new URL('./jobs/', import.meta.url);
const HEAP_MIB = 4;
const HEAP_AT = 0x20000; // above the core's layout and static data: the embedder's memory

type Create = (o: RuntimeOptions) => Promise<Runtime>;

const p = (xs: number[], q: number) => round(percentile([...xs].sort((a, b) => a - b), q), 3);

async function quit(rt: Runtime): Promise<void> {
  Atomics.store(new Int32Array(rt.memory.buffer), D_QUIT >> 2, 1);
  await rt.closeAsync(5000);
}

async function stopStart(create: Create, n: number): Promise<Record<string, number>> {
  const rt = await create({ capacity: 8, threads: 1, job: new URL('spin.js', JOBS) });
  try {
    const main: number[] = [];
    for (let i = 0; i < n + 10; i++) {
      const t0 = performance.now();
      await rt.stopTheWorldAsync({ timeoutMs: 5000 });
      await rt.startTheWorldAsync();
      if (i >= 10) main.push(performance.now() - t0);
    }
    const worker = ((await rt.spawn(new URL('stw-timer.js', JOBS), { n: n + 10 }).join()) as number[]).slice(10);
    return {
      main_async_p50_ms: p(main, 50), main_async_p99_ms: p(main, 99),
      worker_blocking_p50_ms: p(worker, 50), worker_blocking_p99_ms: p(worker, 99),
    };
  } finally {
    await quit(rt);
  }
}

async function fork(create: Create, threads: number, n: number): Promise<Record<string, number>> {
  const rt = await create({
    capacity: 16, threads, job: new URL('spin.js', JOBS), initialPages: (HEAP_AT >> 16) + HEAP_MIB * 16 + 1,
    fork: { continuation: new URL('fork-exit.js', JOBS), pool: 1 },
  });
  try {
    const heap = new Uint8Array(rt.memory.buffer, HEAP_AT, HEAP_MIB << 20);
    for (let i = 0; i < heap.length; i += 4096) heap.fill((i >> 12) | 1, i, i + 4096); // live, non-zero pages
    await rt.forkPoolReady(1, 30_000);
    const trip: number[] = [];
    const pause: number[] = [];
    const read: number[] = [];
    const ack: number[] = [];
    for (let i = 0; i < n + 3; i++) {
      await rt.forkPoolReady(1, 30_000); // a warm child, as in steady state
      const t0 = performance.now();
      const { pid, timings } = await rt.forkAsync();
      const status = await rt.waitpidAsync(pid);
      if (status !== 0) throw new Error(`fork child exited ${status}`);
      if (i >= 3) {
        trip.push(performance.now() - t0);
        pause.push(timings.copyMs); // the world stopped for the copy
        read.push(timings.childReadMs);
        ack.push(timings.ackMs);
      }
    }
    return {
      round_trip_p50_ms: p(trip, 50), round_trip_p90_ms: p(trip, 90), pause_p50_ms: p(pause, 50), pause_p90_ms: p(pause, 90),
      // the breakdown: the child's read + verify, the whole hand-off to its ack; the runtime's cold-fork count
      child_read_verify_p50_ms: p(read, 50), ack_p50_ms: p(ack, 50), cold_forks: rt.forkStats().coldForks,
    };
  } finally {
    await quit(rt);
  }
}

/** Runs every measurement with `create` (the platform's createRuntime). */
export async function runBrowserBench(create: Create, quick: boolean): Promise<Record<string, unknown>> {
  return {
    stop_start_1_polling_worker: await stopStart(create, quick ? 50 : 2000),
    fork_0_threads_4mib: await fork(create, 0, quick ? 5 : 40),
    fork_4_threads_4mib: await fork(create, 4, quick ? 5 : 40),
  };
}
