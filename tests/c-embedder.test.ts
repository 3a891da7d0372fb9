// The C embedder (examples/c-embedder) under V8: freestanding C linked against
// the core over one shared memory, fixed-address and position-independent.
// Workers poll and take a lock; the main thread stops and starts the world and
// checks inside C that nothing moves while stopped and everything moves after.
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor, within } from './lib/helpers.js';
import { ERRNO as E } from '../host/errors.js';
import { SL_TID, STATE_MASK, ST_ATTACHED, ST_DEAD, slotAddr } from '../host/layout.js';
import { ROOT, buildCEmbedder, EMBED_GLOBAL_BASE } from './lib/embed-tools.js';
import { ensureMemory, instantiateEmbedder, planEmbed, type EmbedLink } from '../host/embed-link.js';

const built = buildCEmbedder();
const WORKERS = 3;
const CYCLES = 20;

interface CExports {
  embed_setup(capacity: number): number;
  embed_main(tid: number, workers: number, cycles: number, stillUs: number): number;
  embed_total(): number;
  embed_self(): number;
  embed_dispatch(op: number, x: number): number;
  __heap_base?: WebAssembly.Global;
}

const compile = async (file: string): Promise<WebAssembly.Module> =>
  WebAssembly.compile(new Uint8Array(await readFile(`${ROOT}build/${file}`)));

async function linkSetup(link: EmbedLink) {
  const coreModule = await compile('core.wasm');
  const cModule = await compile(link === 'pie' ? 'c-embedder.pie.wasm' : 'c-embedder.wasm');
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4096, shared: true });
  const core = new WebAssembly.Instance(coreModule, { env: { memory, now_ms: () => performance.now() } }).exports as
    Record<string, (...a: number[]) => number>;
  const plan = planEmbed(cModule, link, core.heap_base(), WORKERS + 2, {
    globalBase: EMBED_GLOBAL_BASE,
    heapBase: link === 'fixed' ? await fixedHeapBase(cModule, memory, core) : undefined,
  });
  ensureMemory(memory, plan.end);
  return { coreModule, cModule, memory, core, plan };
}

// The fixed link's data end is a constant global; reading it needs an instance,
// which is harmless: wasm-ld's memory initialisation runs once per memory.
async function fixedHeapBase(cModule: WebAssembly.Module, memory: WebAssembly.Memory, core: object): Promise<number> {
  ensureMemory(memory, EMBED_GLOBAL_BASE + 65536);
  const inst = new WebAssembly.Instance(cModule, { env: { memory, now_ms: () => 0 }, core } as WebAssembly.Imports);
  return (inst.exports.__heap_base as WebAssembly.Global).value as number;
}

test('every core build keeps its static data below the embedders\' documented --global-base', () =>
  within(10_000, async () => {
    for (const file of ['core.wasm', 'core.debug.wasm', 'core.wasi.wasm']) {
      if (file === 'core.wasi.wasm' && !existsSync(`${ROOT}build/${file}`)) continue;
      const mod = await compile(file);
      const memory = new WebAssembly.Memory({ initial: 4, maximum: 4096, shared: true });
      const imports: Record<string, Record<string, unknown>> = {
        env: { memory, now_ms: () => 0, abort: () => {} },
        wasi_snapshot_preview1: { clock_time_get: () => 0, fd_write: () => 0, proc_exit: () => {} },
      };
      const ex = new WebAssembly.Instance(mod, imports as WebAssembly.Imports).exports as Record<string, () => number>;
      assert.ok(ex.heap_base() <= EMBED_GLOBAL_BASE, `${file}: heap_base ${ex.heap_base()}`);
    }
  }));

for (const link of ['fixed', 'pie'] as const) {
  (built ? test : test.skip)(`C embedder, ${link} link, V8: workers poll and lock; ${CYCLES} stops find the world still, starts move it`, () =>
    within(90_000, async () => {
      const { coreModule, cModule, memory, core, plan } = await linkSetup(link);
      const main = instantiateEmbedder(cModule, core, memory, plan, 0).exports as unknown as CExports;
      assert.is(main.embed_setup(8), 0, 'setup');
      const workers = Array.from({ length: WORKERS }, (_, k) =>
        new Worker(new URL('./workers/c-embedder.js', import.meta.url), {
          workerData: { coreModule, cModule, memory, plan, area: k + 1 },
        }));
      const results = workers.map((w) => new Promise<{ result: number; self: number }>((resolve, reject) => {
        w.on('message', (m) => { if (m.type === 'done') resolve(m); });
        w.on('error', reject);
        w.on('exit', (code) => reject(new Error(`worker exited ${code} before reporting`)));
      }));
      await Promise.all(workers.map((w) => new Promise((r) => w.on('message', (m) => { if (m.type === 'ready') r(null); }))));
      try {
        // blocks this thread for the whole run: the workers need nothing from it
        assert.is(main.embed_main(1000, WORKERS, CYCLES, 2000), CYCLES, 'cycles done (negative: see embedder.c)');
        const done = await Promise.all(results);
        for (const d of done) assert.ok(d.result > 0, `worker result ${d.result}`);
        assert.is(main.embed_total(), done.reduce((s, d) => s + d.result, 0), 'the lock serialised every increment');
        // TLS is per instance: every thread kept its own handle
        const selves = new Set([main.embed_self(), ...done.map((d) => d.self)]);
        assert.is(selves.size, WORKERS + 1, 'distinct handles in TLS');
        // function pointers (the PIE link's table import) call the same functions on this thread
        assert.is(main.embed_dispatch(1, 21), 42, 'a call through a function pointer');
        assert.is(main.embed_dispatch(0, 0), main.embed_self(), 'a function pointer reaching TLS');
      } finally {
        await Promise.all(workers.map((w) => w.terminate()));
      }
    }));

  (built ? test : test.skip)(`C embedder, ${link} link: another instance on the same memory leaves the core and the C data intact`, () =>
    within(10_000, async () => {
      const { cModule, memory, core, plan } = await linkSetup(link);
      const first = instantiateEmbedder(cModule, core, memory, plan, 0).exports as unknown as CExports;
      assert.is(first.embed_setup(4), 0);
      const lockWord = core.lock_addr(1);
      assert.ok(lockWord > 0, 'lock 1 created');
      const again = instantiateEmbedder(cModule, core, memory, plan, 1).exports as unknown as CExports;
      assert.is(core.is_ready(), 1, 'core still initialised');
      assert.is(core.lock_create(1), 2, 'lock 1 still taken');
      assert.is(again.embed_self(), 0, 'fresh TLS');
    }));
}

(built ? test : test.skip)('a C worker that ends while registered blocks stops until its host marks it dead', () =>
  within(30_000, async () => {
    const { coreModule, cModule, memory, core, plan } = await linkSetup('fixed');
    const main = instantiateEmbedder(cModule, core, memory, plan, 0).exports as unknown as CExports;
    assert.is(main.embed_setup(4), 0);
    const w = new Worker(new URL('./workers/c-embedder.js', import.meta.url), {
      workerData: { coreModule, cModule, memory, plan, area: 1 },
    });
    const i32 = new Int32Array(memory.buffer);
    const attachedSlot = (): number => {
      for (let i = 0; i < 4; i++) {
        const word = Atomics.load(i32, slotAddr(i) >> 2);
        if ((word & STATE_MASK) === ST_ATTACHED && Atomics.load(i32, (slotAddr(i) + SL_TID) >> 2) === w.threadId) {
          return (word & ~0xff) | i;
        }
      }
      return 0;
    };
    await waitFor(() => attachedSlot() !== 0, 10_000, 'the C worker to attach');
    const dead = attachedSlot();
    await w.terminate(); // ends the thread inside its loop, still ATTACHED
    assert.is(core.thread_state(dead), ST_ATTACHED, 'nobody told the core');
    const h = core.register(1);
    assert.is(core.attach(h), 0);
    assert.is(core.stop(h, 50), E.E_TIMEOUT, 'a stop cannot park a thread that no longer runs');
    assert.is(core.straggler(0), dead);
    assert.is(core.mark_dead(dead), 0, 'the host marks it dead');
    assert.is(core.thread_state(dead), ST_DEAD);
    assert.is(core.stop(h, 1000), 0, 'now the world stops');
    assert.is(core.start(h), 0);
  }));

test.run();
