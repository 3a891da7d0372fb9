// The one stop algorithm (assembly/world.ts, in steps) as every form drives
// it: the core's blocking `stop`, the host's stopTheWorld (an attached
// caller's is the core's `stop`; an idle thread's runs the steps from the
// host) and stopTheWorldAsync. The core here reads a clock the test controls (the
// `now_ms` import), so the deadline and the fairness back-off are checked
// on that clock, without timing anything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { RegisteredThread, StopBusyError, StopTimeoutError, createSharedMemory, type CoreExports } from '../host/index.js';
import { ERRNO } from '../host/errors.js';
import { SL_DEADLINE, STATE_MASK, ST_ATTACHED, ST_DETACHED, ST_SUSPENDED, W_EXCLUSION, slotAddr } from '../host/layout.js';
import { CORE_WASM, within } from './lib/helpers.js';

interface Clocked { core: CoreExports; memory: WebAssembly.Memory; i32: Int32Array; clock: { now: number; tick: number } }

let module: WebAssembly.Module | undefined;
/** A core whose clock reads `clock.now`, advanced by `clock.tick` at every read. */
async function clockedCore(): Promise<Clocked> {
  module ??= await WebAssembly.compile(new Uint8Array(await readFile(CORE_WASM)));
  const memory = createSharedMemory();
  const clock = { now: 1000, tick: 0 };
  const env = { memory, now_ms: () => (clock.now += clock.tick), abort: () => { throw new Error('wasm abort'); } };
  const core = (await WebAssembly.instantiate(module, { env })).exports as unknown as CoreExports;
  assert.is(core.init(8), 0);
  return { core, memory, i32: new Int32Array(memory.buffer), clock };
}

const stateOf = (c: Clocked, h: number): number => c.core.thread_state(h) & STATE_MASK;

type Form = 'core stop' | 'host stopTheWorld' | 'host stopTheWorld from an idle thread' | 'host stopTheWorldAsync';
const FORMS: Form[] = ['core stop', 'host stopTheWorld', 'host stopTheWorld from an idle thread', 'host stopTheWorldAsync'];
const IDLE: Form = 'host stopTheWorld from an idle thread';

// The stop of `form` from A (attached) with `timeoutMs`; resolves to its
// outcome (undefined: stopped). The idle form detaches A first: its stop
// attaches A for the stop's duration.
async function stopBy(form: Form, c: Clocked, a: number, timeoutMs: number): Promise<unknown> {
  try {
    if (form === 'core stop') {
      const r = c.core.stop(a, timeoutMs);
      return r === 0 ? undefined : r;
    }
    const t = new RegisteredThread(c.core, c.memory, a, form === IDLE);
    if (form === IDLE) {
      assert.is(c.core.detach(a), 0);
      t.stopTheWorld({ timeoutMs });
    } else if (form === 'host stopTheWorld') t.stopTheWorld({ timeoutMs });
    else await t.stopTheWorldAsync({ timeoutMs });
  } catch (e) {
    return e;
  }
  return undefined;
}

// A (attached, the requester) and B, whose last attach was refused by a stop
// and who was then resumed by its start: B is on its way back (re-attach flag set).
function resumedThread(c: Clocked): { a: number; b: number } {
  const a = c.core.register(1);
  const b = c.core.register(2);
  assert.is(c.core.attach(a), 0);
  assert.is(c.core.stop(a, 1000), 0, 'B parked');
  assert.is(c.core.try_attach(b), ERRNO.E_WOULD_BLOCK, 'B refused while parked: its re-attach flag is set');
  assert.is(c.core.start(a), 0);
  assert.is(stateOf(c, b), ST_DETACHED);
  return { a, b };
}

test('Fairness (docs/ABI.md) holds for host stops: an async stop waits, detached, for the thread the last start resumed, and begins once it re-attached', () =>
  within(10_000, async () => {
    const c = await clockedCore();
    const { a, b } = resumedThread(c);
    const t = new RegisteredThread(c.core, c.memory, a);
    const stopping = t.stopTheWorldAsync({ timeoutMs: 1000 });
    assert.is(Atomics.load(c.i32, W_EXCLUSION >> 2), 0, 'the stop is not taken while B is on its way back');
    assert.is(stateOf(c, a), ST_DETACHED, 'the requester waits detached');
    assert.is(c.core.stop_wait_addr(a), slotAddr(b & 0xff), 'on B\'s slot word');
    assert.is(c.core.try_attach(b), 0, 'B gets back in');
    assert.is(c.core.detach(b), 0);
    await stopping;
    assert.is(stateOf(c, b), ST_SUSPENDED, 'then the stop parks it');
    assert.is(stateOf(c, a), ST_ATTACHED);
    await t.startTheWorldAsync();
  }));

for (const form of FORMS) {
  test(`Fairness holds for the ${form}: it backs off for a resumed thread until 2 ms after the start, no longer`, () =>
    within(20_000, async () => {
      const c = await clockedCore();
      const { a, b } = resumedThread(c);
      const resumed = c.clock.now;
      c.clock.tick = 0.01;
      assert.is(await stopBy(form, c, a, 1000), undefined, 'stopped');
      assert.ok(c.clock.now >= resumed + 2, `began ${(c.clock.now - resumed).toFixed(2)} ms after the start: it backed off`);
      assert.ok(c.clock.now < resumed + 2.5, `began ${(c.clock.now - resumed).toFixed(2)} ms after the start: not later than its bound`);
      assert.is(stateOf(c, b), ST_SUSPENDED);
      assert.is(c.core.start(a), 0);
    }));

  test(`the ${form} does not overrun its deadline by more than a step: a straggler (E_TIMEOUT) and a held stop (E_BUSY)`, () =>
    within(20_000, async () => {
      const c = await clockedCore();
      const a = c.core.register(1);
      const b = c.core.register(2);
      assert.is(c.core.attach(a), 0);
      assert.is(c.core.attach(b), 0); // B never polls
      c.clock.tick = 1; // each step reads the clock once: a step is 1 ms here
      let t0 = c.clock.now;
      const timedOut = await stopBy(form, c, a, 50);
      if (form === 'core stop') assert.is(timedOut, ERRNO.E_TIMEOUT);
      else assert.instance(timedOut, StopTimeoutError);
      assert.ok(c.clock.now - t0 >= 50, 'not before the deadline');
      assert.ok(c.clock.now - t0 <= 50 + 3, `ended ${c.clock.now - t0 - 50} ms after the deadline`);
      assert.is(stateOf(c, b), ST_ATTACHED, 'the world runs on');
      assert.is(stateOf(c, a), form === IDLE ? ST_DETACHED : ST_ATTACHED, 'the requester leaves as it came');
      if (form === IDLE) assert.is(c.core.attach(a), 0);
      // B holds the stop (taken, never completed): A waits its turn until the deadline
      c.clock.tick = 0;
      assert.is(c.core.stop_try_begin(b), 0);
      c.clock.tick = 1;
      t0 = c.clock.now;
      const busy = await stopBy(form, c, a, 50);
      if (form === 'core stop') assert.is(busy, ERRNO.E_BUSY);
      else assert.instance(busy, StopBusyError);
      assert.ok(c.clock.now - t0 >= 50 && c.clock.now - t0 <= 50 + 3, `decided ${c.clock.now - t0 - 50} ms after the deadline`);
      assert.is(stateOf(c, a), form === IDLE ? ST_DETACHED : ST_ATTACHED, 'the requester leaves as it came');
      assert.is(c.core.start(b), 0);
    }));
}

test('an async stop parked by another thread\'s stop is answered at its deadline (E_BUSY), then re-attaches once that stop ends', () =>
  within(20_000, async () => {
    const c = await clockedCore();
    const a = c.core.register(1);
    const b = c.core.register(2);
    assert.is(c.core.attach(a), 0);
    assert.is(c.core.attach(b), 0);
    assert.is(c.core.stop_try_begin(b), 0);
    assert.is(c.core.stop_step(b), 1, 'B\'s stop asks A to suspend');
    c.clock.tick = 1;
    const t0 = c.clock.now;
    const t = new RegisteredThread(c.core, c.memory, a);
    const held = t.stopTheWorldAsync({ timeoutMs: 50 }).catch((e: unknown) => e);
    assert.is(stateOf(c, a), ST_SUSPENDED, 'A waits its turn parked');
    assert.is(c.core.stop_step(b), 0, 'B\'s world is stopped');
    const armed = () => Atomics.load(c.i32, (slotAddr(a & 0xff) + SL_DEADLINE) >> 2);
    while (armed() !== 0) await new Promise((r) => setTimeout(r, 1));
    assert.ok(c.clock.now - t0 >= 50 && c.clock.now - t0 <= 50 + 3, `decided ${c.clock.now - t0 - 50} ms after the deadline`);
    assert.is(c.core.start(b), 0);
    assert.instance(await held, StopBusyError);
    assert.is(stateOf(c, a), ST_ATTACHED, 'A leaves attached, as it came');
  }));

test.run();
