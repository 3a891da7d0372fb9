// Starvation: a thread that keeps re-attaching makes progress under a storm
// of stops from two requesters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRuntime } from '../host/node/index.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { job, progressOf, shutdown, within } from './lib/helpers.js';

const GO = DIAG_SCRATCH + 768;

test('a re-attaching thread completes its cycles under 10^4 stop/start from two requesters', () =>
  within(170_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      const perRequester = 5000;
      const cycles = 200;
      const other = rt.spawn(job('js-spin'), { stops: perRequester, timeoutMs: 30_000, goFlag: GO });
      const re = rt.spawn(job('reattach'), { cycles, detachedUs: 20, goFlag: GO });
      await Promise.all([other.registered(), re.registered()]);
      Atomics.store(i32, GO >> 2, 1);
      const reIdx = re.handle & 0xff;
      // The main thread storms on until the re-attacher is done: a starved
      // re-attacher never finishes and the test's deadline fails it.
      let k = 0;
      for (; k < perRequester || progressOf(rt, reIdx) < cycles; k++) {
        rt.stopTheWorld({ timeoutMs: 30_000 });
        rt.startTheWorld();
        if (k % 1000 === 999) await new Promise((r) => setImmediate(r)); // let the exits be seen
      }
      assert.is(await other.join(), perRequester);
      const { cycles: done, longestMs } = (await re.join()) as { cycles: number; longestMs: number };
      assert.is(done, cycles, 'every attach/detach cycle completed under the storm');
      const s = rt.stats();
      assert.is(s.stops, perRequester + k, 'every stop of both requesters counted');
      assert.is(s.timeouts, 0);
      console.log(`  re-attacher: ${cycles} cycles under ${s.stops} stops; longest attach wait ${longestMs.toFixed(2)} ms`);
    } finally {
      await shutdown(rt);
    }
  }));

test.run();
