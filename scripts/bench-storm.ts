// Bench section 'storm': a thread that keeps detaching and re-attaching under
// a storm of stop/start cycles from two requesters (the main thread and a
// worker). Reports the longest and the p99 wait of a single attach, and how
// many stops the storm took. A thread starved by back-to-back stops shows up
// as an attach wait many stop cycles long.
import { createRuntime } from '../host/node/index.js';
import { DIAG_QUIT, DIAG_SCRATCH } from '../host/diag.js';
import { round } from './stats-util.js';

const JOBS = new URL('./jobs/', import.meta.url);

export async function benchStorm(opts: { quick: boolean; log: (s: string) => void }): Promise<Record<string, unknown>> {
  const perRequester = opts.quick ? 500 : 5000;
  const rt = await createRuntime({ capacity: 8 });
  try {
    const i32 = new Int32Array(rt.memory.buffer);
    const go = DIAG_SCRATCH + 768;
    const other = rt.spawn(new URL('stormer.js', JOBS), { stops: perRequester, goFlag: go });
    const re = rt.spawn(new URL('reattach.js', JOBS), { detachedUs: 20, goFlag: go });
    await Promise.all([other.registered(), re.registered()]);
    rt.resetStats();
    Atomics.store(i32, go >> 2, 1);
    const t0 = performance.now();
    for (let k = 0; k < perRequester; k++) {
      rt.stopTheWorld({ timeoutMs: 30_000 });
      rt.startTheWorld();
    }
    await other.join();
    const stormMs = performance.now() - t0;
    Atomics.store(i32, DIAG_QUIT >> 2, 1); // the re-attacher returns
    const { cycles, longestMs } = (await re.join()) as { cycles: number; longestMs: number };
    const s = rt.stats();
    const row = {
      stops: s.stops,
      timeouts: s.timeouts,
      storm_ms: round(stormMs),
      stop_mean_us: round(s.meanNs / 1000),
      reattach_cycles: cycles,
      longest_attach_wait_ms: round(longestMs, 3),
      attach_waits: s.attachWaits,
    };
    opts.log(`storm: ${s.stops} stops in ${row.storm_ms} ms; re-attacher ${cycles} cycles, longest attach wait ${row.longest_attach_wait_ms} ms`);
    return row;
  } finally {
    Atomics.store(new Int32Array(rt.memory.buffer), DIAG_QUIT >> 2, 1);
    await rt.close(5000);
  }
}
