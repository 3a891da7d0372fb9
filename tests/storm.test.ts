// Starvation: a thread that keeps re-attaching makes progress under a storm
// of stops from two requesters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRuntime } from '../host/node/index.js';
import { SCRATCH } from '../host/layout.js';
import { job, progressOf, shutdown, within } from './helpers.js';

const GO = SCRATCH + 1024;

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
      let doneAt = -1;
      for (let k = 0; k < perRequester; k++) {
        rt.stopTheWorld({ timeoutMs: 30_000 });
        rt.startTheWorld();
        if (doneAt < 0 && progressOf(rt, reIdx) >= cycles) doneAt = k;
      }
      assert.is(await other.join(), perRequester);
      const { cycles: done, longestMs } = (await re.join()) as { cycles: number; longestMs: number };
      assert.is(done, cycles, 'every attach/detach cycle completed');
      assert.ok(doneAt >= 0, 'the re-attacher finished while the storm was still on');
      const s = rt.stats();
      assert.is(s.stops, 2 * perRequester);
      assert.is(s.timeouts, 0);
      console.log(`  re-attacher: ${cycles} cycles done after ${doneAt < 0 ? 'the storm' : `${doneAt} main stops`}; longest attach wait ${longestMs.toFixed(2)} ms`);
    } finally {
      await shutdown(rt);
    }
  }));

test.run();
