// Stop hooks (docs/ABI.md "Stop hooks", assembly/hooks.ts): a stop asks a
// thread that never polls the core through a word of its VM, and wakes a
// wait word at its end. The workers here spin in JS and poll only once the
// signal word is set (tests/jobs/js-spin.ts), as CPython's eval loop looks at
// its own eval_breaker only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StopTimeoutError } from '../host/errors.js';
import { ERRNO } from '../host/errors.js';
import { HOOK_COUNT, HOOK_MAX, HOOK_SIGNAL, HOOK_WAKE, userWordAddr } from '../host/layout.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { bareCore, createRuntime, job, outcome, progressOf, shutdown, waitFor, within, workerIndexes } from './lib/helpers.js';
import type { Runtime } from '../host/node/index.js';

const FLAG = DIAG_SCRATCH + 0; // the spinners' "poll now" word: the signal
const WAKE = DIAG_SCRATCH + 64; // the blocker's word: the wake
const OTHER = DIAG_SCRATCH + 128;

const i32Of = (rt: Runtime) => new Int32Array(rt.memory.buffer);
const load = (rt: Runtime, addr: number) => Atomics.load(i32Of(rt), addr >> 2);

test('stop_hook_add: documented codes, one entry per word and kind, at most HOOK_MAX; what one pass and the end write', async () => {
  const { core, memory } = await bareCore();
  assert.is(core.stop_hook_add(DIAG_SCRATCH, 1, HOOK_SIGNAL), ERRNO.E_NOT_INIT);
  core.init(4);
  const heap = core.heap_base();
  const end = memory.buffer.byteLength;
  for (const [addr, kind, why] of [
    [heap + 2, HOOK_SIGNAL, 'unaligned'], [heap - 4, HOOK_SIGNAL, 'below heap_base (the core\'s own memory)'],
    [end, HOOK_WAKE, 'past the memory'], [-4, HOOK_WAKE, 'negative'], [heap, 0, 'kind 0'], [heap, 4, 'kind 4'],
  ] as const) assert.is(core.stop_hook_add(addr, 1, kind), ERRNO.E_ARG, why);
  assert.is(core.stop_hook_add(end - 4, 1, HOOK_WAKE), 0, 'the last word of the memory');
  assert.is(core.stop_hook_add(heap, 1, HOOK_SIGNAL), 1);
  assert.is(core.stop_hook_add(heap, 7, HOOK_SIGNAL), 1, 'the same word and kind keep their entry');
  assert.is(core.stop_hook_add(heap, 1, HOOK_WAKE), 2, 'another kind is another entry');
  assert.is(core.stop_hook_add(heap + 4 * 3, 3, HOOK_COUNT), 3);
  for (let i = 4; i < HOOK_MAX; i++) assert.is(core.stop_hook_add(heap + 4 * i, i, HOOK_SIGNAL), i);
  assert.is(core.stop_hook_add(heap + 4 * HOOK_MAX, 1, HOOK_SIGNAL), ERRNO.E_FULL);
  assert.is(core.stop_hook_add(heap, 9, HOOK_SIGNAL), 1, 'a full table still updates a registered word');
  // one thread that never polls: the stop stores the updated value, and its abandon wakes
  const i32 = new Int32Array(memory.buffer);
  const [me, other] = [core.register(1), core.register(2)];
  core.attach(me);
  core.attach(other);
  assert.is(core.stop(me, 0), ERRNO.E_TIMEOUT);
  assert.is(Atomics.load(i32, heap >> 2), 10, 'the signal word holds the value, then its wake entry added 1');
  assert.is(Atomics.load(i32, (heap + 4 * 4) >> 2), 4);
  assert.is(Atomics.load(i32, (heap + 4 * 3) >> 2), 3, 'the pass added the count value');
  assert.is(Atomics.load(i32, (end - 4) >> 2), 1, 'the abandoned stop added the wake value');
  assert.is(core.stop(me, 0), ERRNO.E_TIMEOUT);
  assert.is(Atomics.load(i32, (heap + 4 * 3) >> 2), 6, 'each stop\'s pass adds to the count');
  assert.is(Atomics.load(i32, (end - 4) >> 2), 2);
});

test('a stop that finds no thread running stores no signal; its end changes the wake word all the same', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      assert.is(rt.core.stop_hook_add(FLAG, 1, HOOK_SIGNAL), 0);
      assert.is(rt.core.stop_hook_add(WAKE, 1, HOOK_WAKE), 1);
      const blocker = rt.spawn(job('blocker'), { addr: OTHER });
      const b = await blocker.registered();
      await waitFor(() => load(rt, userWordAddr(b & 0xff, 3)) === 1 && rt.threadStates().find((t) => t.handle === b)?.state === 'DETACHED',
        10_000, 'the blocker to wait detached');
      for (let k = 0; k < 3; k++) {
        rt.stopTheWorld({ timeoutMs: 5000 });
        rt.startTheWorld();
      }
      assert.is(load(rt, FLAG), 0, 'no signal: nothing ran');
      assert.is(load(rt, WAKE), 3, 'every stop\'s end wakes');
      Atomics.store(i32Of(rt), OTHER >> 2, 1);
      Atomics.notify(i32Of(rt), OTHER >> 2);
      await blocker.join();
    } finally {
      await shutdown(rt);
    }
  }));

for (const form of ['sync', 'async'] as const) {
  test(`${form}: threads that poll only when asked are stopped through the signal word; the wake word ends a wait after the start`, () =>
    within(60_000, async () => {
      const rt = await createRuntime({ capacity: 8 });
      const stop = () => (form === 'sync' ? rt.stopTheWorld({ timeoutMs: 10_000 }) : rt.stopTheWorldAsync({ timeoutMs: 10_000 }));
      const start = () => (form === 'sync' ? rt.startTheWorld() : rt.startTheWorldAsync());
      try {
        rt.core.stop_hook_add(FLAG, 1, HOOK_SIGNAL);
        rt.core.stop_hook_add(WAKE, 1, HOOK_WAKE);
        const blocker = rt.spawn(job('blocker'), { addr: WAKE });
        const spinners = [rt.spawn(job('js-spin'), { pollFlag: FLAG }), rt.spawn(job('js-spin'), { pollFlag: FLAG })];
        await Promise.all([blocker, ...spinners].map((w) => w.registered()));
        const b = blocker.handle;
        await waitFor(() => load(rt, userWordAddr(b & 0xff, 3)) === 1 && rt.threadStates().find((t) => t.handle === b)?.state === 'DETACHED',
          10_000, 'the blocker to wait detached');
        const idx = spinners.map((w) => w.handle & 0xff);
        await waitFor(() => idx.every((i) => progressOf(rt, i) > 0), 10_000, 'the spinners to run');
        await stop();
        assert.is(load(rt, FLAG), 1, 'the signal was stored');
        const states = rt.threadStates().filter((t) => t.index !== rt.main.index).map((t) => t.state);
        assert.ok(states.every((s) => s === 'SUSPENDED'), states.join(', '));
        assert.is(load(rt, WAKE), 0, 'no wake while the world is stopped');
        await start();
        assert.is(load(rt, WAKE), 1, 'the start woke the wake word');
        const wakes = (await blocker.join()) as number;
        assert.ok(wakes >= 1, 'the blocker was woken and left');
        const seen = idx.map((i) => progressOf(rt, i));
        await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== seen[k]), 10_000, 'the spinners to run again');
        // the VM consumed its flag: a later stop finds the threads running and asks again
        Atomics.store(i32Of(rt), FLAG >> 2, 0);
        await stop();
        await start();
        assert.is(load(rt, FLAG), 1, 'asked again');
        assert.is(load(rt, WAKE), 2);
      } finally {
        await shutdown(rt);
      }
    }));
}

test('a signal the thread ignores: the stop times out, and its abandon still wakes the wake word', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      rt.core.stop_hook_add(OTHER, 1, HOOK_SIGNAL); // a word the spinner does not read
      rt.core.stop_hook_add(WAKE, 5, HOOK_WAKE);
      const spinner = rt.spawn(job('js-spin'), { pollFlag: FLAG });
      await spinner.registered();
      const [i] = workerIndexes(rt);
      await waitFor(() => progressOf(rt, i) > 0, 10_000, 'the spinner to run');
      assert.instance(await outcome(() => rt.stopTheWorld({ timeoutMs: 50 })), StopTimeoutError);
      assert.is(load(rt, OTHER), 1);
      assert.is(load(rt, WAKE), 5, 'an abandoned stop\'s end wakes too');
      Atomics.store(i32Of(rt), FLAG >> 2, 1);
      rt.stopTheWorld({ timeoutMs: 5000 });
      rt.startTheWorld();
      assert.is(load(rt, WAKE), 10);
    } finally {
      await shutdown(rt);
    }
  }));

test.run();
