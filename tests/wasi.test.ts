// build/core.wasi.wasm under node:wasi, on the main thread and on workers,
// each with its own WASI object: the ABI works, a stop deadline expires, and
// the clock (WASI clock_time_get, no shared scratch) never runs backwards on
// one thread while another reads it.
import { WASI } from 'node:wasi';
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './lib/helpers.js';
import { ROOT } from './lib/embed-tools.js';
import { ERRNO as E } from '../host/errors.js';
import { CLOCK_CELLS, CLOCK_CELL_COUNT, CLOCK_CELL_SIZE, ST_ATTACHED, ST_DETACHED } from '../host/layout.js';

const module = await WebAssembly.compile(new Uint8Array(await readFile(`${ROOT}build/core.wasi.wasm`)));
const newMemory = (): WebAssembly.Memory => new WebAssembly.Memory({ initial: 4, maximum: 4096, shared: true });

function mainInstance(memory: WebAssembly.Memory): Record<string, (...a: number[]) => number> {
  const wasi = new WASI({ version: 'preview1' });
  const instance = new WebAssembly.Instance(module, { env: { memory }, wasi_snapshot_preview1: wasi.wasiImport });
  wasi.start(instance);
  return instance.exports as Record<string, (...a: number[]) => number>;
}

function spawn(memory: WebAssembly.Memory, role: string, control: SharedArrayBuffer, iters = 0): Worker {
  return new Worker(new URL('./workers/wasi.js', import.meta.url), { workerData: { module, memory, role, iters, control } });
}

const message = (w: Worker, type: string): Promise<Record<string, number>> => new Promise((resolve, reject) => {
  w.on('message', (m) => { if (m.type === type) resolve(m); });
  w.on('error', reject);
});

test('imports: the memory and WASI clock_time_get only (abort, when reachable, is fd_write + proc_exit)', () => {
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort();
  const allowed = new Set(['env.memory', 'wasi_snapshot_preview1.clock_time_get', 'wasi_snapshot_preview1.fd_write',
    'wasi_snapshot_preview1.proc_exit']);
  assert.ok(imports.includes('env.memory') && imports.includes('wasi_snapshot_preview1.clock_time_get'), imports.join());
  for (const i of imports) assert.ok(allowed.has(i), `unexpected import ${i}`);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ['_start', 'memory', 'clock_ms', 'init', 'register', 'stop', 'start', 'poll']) assert.ok(exports.includes(name), name);
});

test('main thread: register, attach, stop and start an empty world; the clock advances', () =>
  within(10_000, () => {
    const core = mainInstance(newMemory());
    assert.is(core.init(4), 0);
    const h = core.register(1);
    assert.ok(h > 0);
    assert.is(core.thread_state(h), ST_DETACHED);
    assert.is(core.attach(h), 0);
    assert.is(core.thread_state(h), ST_ATTACHED);
    assert.is(core.poll(h), 0);
    assert.is(core.stop(h, 100), 0);
    assert.is(core.is_stopped(), 1);
    assert.is(core.start(h), 0);
    assert.is(core.is_stopped(), 0);
    const t0 = core.clock_ms();
    const a = new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(a, 0, 0, 5);
    assert.ok(core.clock_ms() > t0, 'the clock moved');
  }));

test('a stop against a worker that never polls returns E_TIMEOUT no sooner than its deadline', () =>
  within(20_000, async () => {
    const memory = newMemory();
    const core = mainInstance(memory);
    assert.is(core.init(4), 0);
    const control = new SharedArrayBuffer(4);
    const w = spawn(memory, 'attached', control);
    const done = message(w, 'done');
    try {
      const m = await message(w, 'attached');
      assert.is(m.r, 0, 'worker attached');
      const h = core.register(1);
      assert.is(core.attach(h), 0);
      const T = 200;
      const t0 = performance.now();
      const r = core.stop(h, T);
      const dt = performance.now() - t0;
      assert.is(r, E.E_TIMEOUT);
      // two readings of one monotonic clock source; 1 ms for their rounding
      assert.ok(dt >= T - 1, `returned after ${dt} ms`);
      assert.ok(dt < 20 * T, `returned after ${dt} ms`);
      assert.is(core.straggler_count(), 1);
      assert.is(core.straggler(0), m.h);
      assert.is(core.thread_state(m.h), ST_ATTACHED, 'the world is running again');
    } finally {
      Atomics.store(new Int32Array(control), 0, 1);
      await done;
      await w.terminate();
    }
  }));

test('two threads reading the WASI clock: no negative deltas on either', () =>
  within(60_000, async () => {
    const memory = newMemory();
    mainInstance(memory).init(4);
    const control = new SharedArrayBuffer(4);
    const ws = [spawn(memory, 'clock', control, 1_000_000), spawn(memory, 'clock', control, 1_000_000)];
    try {
      const results = await Promise.all(ws.map((w) => message(w, 'done')));
      for (const r of results) assert.is(r.negatives, 0, `worst delta ${r.worst} ms`);
      // every clock cell was given back: no reading is left claimed
      const i32 = new Int32Array(memory.buffer);
      for (let k = 0; k < CLOCK_CELL_COUNT; k++) assert.is(Atomics.load(i32, (CLOCK_CELLS + CLOCK_CELL_SIZE * k) >> 2), 0, `cell ${k}`);
    } finally {
      await Promise.all(ws.map((w) => w.terminate()));
    }
  }));

test.run();
