// Hostile arguments against every stable export of every core build, on one
// thread over a bare memory: each result must be a success or a code the
// source of truth lists for that export, nothing may trap (or trip an assert
// in the debug build), and no byte outside what the export may write changes.
// Seeded, so a failure names a vector that reproduces: FUZZ_SEED=n FUZZ_VECTORS=n.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { EXPORTS, type ExportSpec } from '../host/abi.generated.js';
import { ERRNO } from '../host/errors.js';
import { rng } from './lib/fuzz-support.js';
import { instantiateLinked, type InterpExports } from '../host/modules.js';
import type { CoreExports } from '../host/core.js';
import { OPS } from '../interp/assembler.js';
import { CTX } from '../interp/interpreter.js';
import {
  GEN_MASK, HE_ADDR, HK_USED, HK_ENTRIES, HOOK_MAX, HOOK_SIZE, H_HOST, H_INIT, INDEX_MASK, LAYOUT_END, LOCKS, LOCK_SIZE, LOCK_WAITERS, LK_WORD, MAX_LOCKS, MEMORY_INITIAL_PAGES,
  MEMORY_MAXIMUM_PAGES, RECORD_WORDS, STOP_BIT, STATE_MASK, ST_ATTACHED, ST_SUSPENDED, WORLD, W_EXCLUSION, slotAddr,
} from '../host/layout.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const VECTORS = Number(process.env.FUZZ_VECTORS ?? 4000);
const BUILDS = ['build/core.wasm', 'build/core.debug.wasm'];
// Every export but the diagnostic loops, which run until told to quit and are not ABI.
const FUZZED = EXPORTS.filter((x) => x.fuzz && x.module === 'core');
const PAGE = 65536;

const mulberry32 = (seed: number): (() => number) => rng(seed).next;

type Core = Record<string, (...a: number[]) => number | bigint>;

async function bare(file: string, memory = new WebAssembly.Memory({ initial: MEMORY_INITIAL_PAGES, maximum: MEMORY_MAXIMUM_PAGES, shared: true })): Promise<{ core: Core; memory: WebAssembly.Memory }> {
  const module = new WebAssembly.Module(readFileSync(new URL(`../../${file}`, import.meta.url)));
  const env = {
    memory,
    now_ms: () => performance.now(),
    abort: (msg: number, _file: number, line: number) => { throw new Error(`assert failed (message at ${msg}, line ${line})`); },
  };
  const inst = await WebAssembly.instantiate(module, { env });
  return { core: inst.exports as unknown as Core, memory };
}

/** The words registered as stop hooks in this memory image (a stop writes them). */
function hookWords(mem: Uint32Array): number[] {
  const n = Math.min(mem[HK_USED >> 2], HOOK_MAX);
  return Array.from({ length: n }, (_, i) => mem[(HK_ENTRIES + i * HOOK_SIZE + HE_ADDR) >> 2]);
}

/** The bytes an export may write for these arguments: [from, to) ranges. */
function allowed(x: ExportSpec, args: number[], memBytes: number, hooks: number[] = []): [number, number][] {
  const out: [number, number][] = [];
  for (const w of x.writes) {
    if (w.hooks) {
      for (const a of hooks) out.push([a, a + 4]);
    } else if (w.embedder) {
      out.push([LAYOUT_END, memBytes]);
    } else if (w.index_arg) {
      const k = args[x.params.findIndex(([n]) => n === w.index_arg)];
      if (k >= 0 && k < w.count!) out.push([w.addr! + k * w.stride!, w.addr! + (k + 1) * w.stride!]);
    } else if (w.addr !== undefined) out.push([w.addr, w.addr + w.size!]);
    else if (w.arg) {
      const at = args[x.params.findIndex(([n]) => n === w.arg)] >>> 0;
      const n = args[x.params.findIndex(([n]) => n === w.bytes_arg)];
      if (n >= 0 && n <= RECORD_WORDS) out.push([at, Math.min(memBytes, at + n * w.scale!)]);
    }
  }
  return out;
}

function firstChange(before: Uint32Array, after: Uint32Array, ranges: [number, number][]): number {
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    const addr = i * 4;
    if (!ranges.some(([a, b]) => addr + 4 > a && addr < b)) return addr;
  }
  return -1;
}

class Fuzzer {
  readonly rnd: () => number;
  handles: number[] = [];
  locks: number[] = [];
  skipped = 0;
  calls = 0;
  constructor(seed: number, readonly core: Core, readonly memory: WebAssembly.Memory) {
    this.rnd = mulberry32(seed);
  }
  get i32(): Int32Array { return new Int32Array(this.memory.buffer); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.rnd() * xs.length)]; }

  value(name: string, type = 'i32'): number {
    if (type === 'f64') return this.pick([NaN, Infinity, -Infinity, 0, -0, -1, 0.5, 1e300, -1e300, 2 ** 31, this.rnd() * 1e6]);
    const end = this.memory.buffer.byteLength;
    const heap = Number(this.core.heap_base());
    const edges = [
      0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 239, 240, 241, 255, 256, 257, 4095, 4096, 0x7fffffff, -0x80000000,
      0x7ffffff0, 0x7fffff10, 0x7fffffff - 239, 2 ** 31 - 240, end, end - 4, end - 1, end + 4, end - 8, end - 960,
      LAYOUT_END, heap, heap + 1, heap + 2, LOCKS, MAX_LOCKS, -3,
    ];
    const r = this.rnd();
    if (/^h$|handle/.test(name) && this.handles.length && r < 0.6) {
      const h = this.pick(this.handles);
      return this.rnd() < 0.85 ? h : this.pick([h + 1, h ^ 0x100, h & INDEX_MASK, h | 0x40000000, h + 0x100]);
    }
    if ((name === 'id' || name === 'lock') && r < 0.6) return this.pick([0, ...this.locks]);
    // a start so close to 2^31 that start + count wraps: the overflow the range checks must survive
    if (name === 'first' && r < 0.3) return (0x80000000 - 1 - Math.floor(this.rnd() * 256)) | 0;
    if (name === 'n' && r < 0.4) return 1 + Math.floor(this.rnd() * 241);
    if ((name === 'rec' || name === 'index') && r < 0.5) return Math.floor(this.rnd() * 8);
    if (r < 0.55) return this.pick(edges) | 0;
    if (r < 0.8) return Math.floor(this.rnd() * 300) - 20;
    return (Math.floor(this.rnd() * 2 ** 32) | 0);
  }

  word(h: number): number {
    const idx = h & INDEX_MASK;
    return Atomics.load(this.i32, slotAddr(idx) >> 2);
  }
  /** The handle names a live slot of its generation. */
  live(h: number): boolean {
    return h > 0 && ((this.word(h) & GEN_MASK) >>> 0) === ((h & GEN_MASK) >>> 0) && (this.word(h) & STATE_MASK) !== 0;
  }

  /**
   * One thread cannot wake itself: a call that would wait for another thread
   * is skipped, and deadlines are kept short. Returns undefined to skip.
   */
  nonBlocking(x: ExportSpec, args: number[]): number[] | undefined {
    const h = args[0];
    const st = this.live(h) ? this.word(h) & STATE_MASK : -1;
    const stop = this.live(h) && (this.word(h) & STOP_BIT) !== 0;
    switch (x.name) {
      case 'attach':
      case 'unregister':
        return st === ST_SUSPENDED ? undefined : args;
      case 'poll':
        return stop ? undefined : args;
      case 'stop': {
        if (stop) return undefined;
        const t = args[1];
        return [h, t > 2 ? t % 3 : t];
      }
      case 'lock_acquire': {
        const id = args[1];
        const l = LOCKS + (id >>> 0) * LOCK_SIZE;
        const word = id >= 0 && id < MAX_LOCKS ? Atomics.load(this.i32, (l + LK_WORD) >> 2) : 0;
        // the lock word is its owner's handle (bit 31: waiters): held by another thread means a wait
        const contended = word !== 0 && (word & ~LOCK_WAITERS) !== h;
        if (contended && (args[2] < 0 || stop || st !== ST_ATTACHED)) return undefined;
        return [h, id, args[2] > 2 ? args[2] % 3 : args[2]];
      }
      default:
        return args;
    }
  }

  call(x: ExportSpec, args: number[], label: string): void {
    const before = new Uint32Array(this.memory.buffer).slice();
    let r: number | bigint;
    try {
      r = this.core[x.name](...args);
    } catch (e) {
      assert.unreachable(`${label}: ${x.name}(${args.join(', ')}) threw ${(e as Error).message}`);
      return;
    }
    this.calls++;
    const n = typeof r === 'bigint' ? Number(r) : r;
    if (n < 0) {
      const documented: number[] = x.errors.map((c) => ERRNO[c as keyof typeof ERRNO]);
      assert.ok(documented.includes(n), `${label}: ${x.name}(${args.join(', ')}) returned ${n}, not one of its documented codes [${documented.join(', ')}]`);
    }
    const after = new Uint32Array(this.memory.buffer);
    const bad = firstChange(before, after, allowed(x, args, after.byteLength, hookWords(before)));
    assert.is(bad, -1, `${label}: ${x.name}(${args.join(', ')}) wrote 0x${bad.toString(16)}, outside what it may write`);
    if (x.name === 'register' && n > 0) this.handles.push(n);
    if (x.name === 'lock_create' && n > 0) this.locks.push(n);
  }

  vector(i: number): void {
    const x = this.pick(FUZZED);
    const raw = x.params.map(([name, type]) => this.value(name, type));
    const args = this.nonBlocking(x, raw);
    if (!args) {
      this.skipped++;
      return;
    }
    this.call(x, args, `seed ${SEED} vector ${i}`);
  }
}

/**
 * Every byte below LAYOUT_END but the init word made non-zero, as a host that
 * keeps its header words (+32..+63) set before init leaves it: a write that
 * zeroes a byte outside an export's write set then shows as a change.
 */
function fillBeforeInit(memory: WebAssembly.Memory): void {
  new Uint8Array(memory.buffer, 0, LAYOUT_END).fill(0xa5);
  Atomics.store(new Int32Array(memory.buffer), H_INIT >> 2, 0);
}

const INIT = EXPORTS.find((x) => x.name === 'init')!;

test('no export may write the host\'s header words (+32..+63), init and after_fork_child included', () => {
  for (const x of EXPORTS.filter((e) => e.module === 'core')) {
    for (const w of x.writes) {
      if (w.addr === undefined || w.size === undefined) continue;
      assert.ok(w.addr + w.size <= H_HOST || w.addr >= WORLD, `${x.name} may write ${w.block} [0x${w.addr.toString(16)}, +${w.size}), over the host words`);
    }
  }
  assert.ok(INIT.writes.some((w) => w.block === 'HEADER' && w.addr === H_HOST - 32 && w.size === 32), 'init writes the core\'s half of the header');
});

for (const file of BUILDS) {
  test(`${file}: init writes nothing outside its write set (the host's header words survive it)`, async () => {
    const { core, memory } = await bare(file);
    fillBeforeInit(memory);
    const i32 = new Int32Array(memory.buffer);
    const host = Array.from({ length: 8 }, (_, k) => 77_000 + k);
    host.forEach((v, k) => Atomics.store(i32, (H_HOST >> 2) + k, v));
    const f = new Fuzzer(SEED, core, memory);
    f.call(INIT, [4], 'init on a filled memory');
    assert.is(Number(core.is_ready()), 1);
    assert.equal([...i32.subarray(H_HOST >> 2, (H_HOST >> 2) + 8)], host, 'the host words are as the host set them');
  });

  test(`${file}: before init every export answers E_NOT_INIT and writes nothing`, async () => {
    const { core, memory } = await bare(file);
    const f = new Fuzzer(SEED, core, memory);
    for (const x of FUZZED) {
      if (!x.errors.includes('E_NOT_INIT')) continue;
      for (let k = 0; k < 40; k++) {
        const args = x.params.map(([name]) => f.value(name));
        const before = new Uint32Array(memory.buffer).slice();
        const r = core[x.name](...args);
        assert.is(Number(r), ERRNO.E_NOT_INIT, `${x.name}(${args.join(', ')}) before init`);
        assert.is(firstChange(before, new Uint32Array(memory.buffer), []), -1, `${x.name} wrote before init`);
      }
    }
  });

  test(`${file}: ${VECTORS} random argument vectors: documented results only, no trap, no write outside the allowed ranges`, async () => {
    const { core, memory } = await bare(file);
    fillBeforeInit(memory);
    const f = new Fuzzer(SEED, core, memory);
    f.call(INIT, [4], 'init');
    assert.is(Number(core.is_ready()), 1);
    for (let k = 0; k < 3; k++) f.handles.push(Number(core.register(100 + k)));
    assert.is(core.attach(f.handles[0]), 0);
    f.locks.push(Number(core.lock_create(1)), Number(core.lock_create(2)));
    for (let i = 0; i < VECTORS; i++) f.vector(i);
    assert.ok(f.calls > VECTORS * 0.8, `most vectors ran (${f.calls} ran, ${f.skipped} would have blocked)`);
  });

  test(`${file}: the record range checks do not overflow near 2^31`, async () => {
    const { core, memory } = await bare(file);
    core.init(4);
    const h = Number(core.register(1));
    const src = Number(core.heap_base());
    const lockTable = () => new Uint32Array(memory.buffer, LOCKS, (MAX_LOCKS * LOCK_SIZE) / 4).slice();
    const locks = lockTable();
    for (const first of [0x7fffffff, 0x7fffff10, 0x7ffffff0, 2 ** 31 - 240, -1, -240]) {
      for (const n of [1, 16, 240, 241]) {
        assert.is(core.record_write(h, 0, first, src, n), ERRNO.E_ARG, `record_write first ${first} n ${n}`);
        assert.is(core.record_read(0, first, src, n), ERRNO.E_ARG, `record_read first ${first} n ${n}`);
      }
    }
    assert.equal(lockTable(), locks, 'the lock table is untouched');
    assert.is(Number(core.lock_owner(200)), ERRNO.E_BAD_LOCK);
    assert.is(core.record_write(h, 0, 0, src, RECORD_WORDS), 0, 'the whole record is still writable');
    assert.is(core.record_write(h, 0, RECORD_WORDS, src, 0), 0, 'an empty range at the end is fine');
    assert.is(Atomics.load(new Int32Array(memory.buffer), W_EXCLUSION >> 2), 0);
    assert.is(PAGE * MEMORY_INITIAL_PAGES, memory.buffer.byteLength);
  });
}

// ---- the reference VM's run: every result one interp_run documents ----------

const RUNS = EXPORTS.filter((x) => x.module === 'interp' && x.name.startsWith('interp_run'));
const PROGRAM_OPS = [OPS.lock, OPS.lock, OPS.unlock, OPS.unlock, OPS.push, OPS.push, OPS.store_attr, OPS.load_attr,
  OPS.load_attr_uncached, OPS.dup, OPS.pop, OPS.jmp, OPS.poll, OPS.halt];

for (const variant of ['', '.debug']) {
  test(`build/interp${variant}.wasm: random programs that lock, unlock and store attributes, an owner dying now and then: every result one interp_run documents`, async () => {
    const memory = new WebAssembly.Memory({ initial: MEMORY_INITIAL_PAGES, maximum: MEMORY_MAXIMUM_PAGES, shared: true });
    const { core } = await bare(`build/core${variant}.wasm`, memory);
    const vm = instantiateLinked(new WebAssembly.Module(readFileSync(new URL(`../../build/interp${variant}.wasm`, import.meta.url))),
      core as unknown as CoreExports, memory) as unknown as InterpExports;
    const rnd = mulberry32(SEED);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    assert.is(core.init(8), 0);
    const h = Number(core.register(1));
    assert.is(core.attach(h), 0);
    const locks = [Number(core.lock_create(1)), Number(core.lock_create(2))];
    const i32 = new Int32Array(memory.buffer);
    const heap = vm.interp_heap_base();
    const code = heap;
    const codeLen = 48;
    const ctx = heap + codeLen * 8 * 4;
    const stack = ctx + CTX.size;
    const seen = new Map<number, number>();
    for (let iter = 0; iter < 3000; iter++) {
      if (iter % 50 === 25) {
        // a lock whose owner dies holding it: the program's next lock of it takes it over
        const victim = Number(core.register(2));
        core.attach(victim);
        core.lock_acquire(victim, pick(locks), 0);
        core.detach(victim);
        core.mark_dead(victim);
        core.unregister(victim);
      }
      const lockIds = [0, ...locks, 99, 300, -1, 255, 256];
      // statements, mostly well formed (a type pushed before an attribute op), now and then a stray op
      const program: [number, number][] = [];
      while (program.length < codeLen - 3) {
        const type = pick([0, 1, 2, 3, 7, 8, -1]);
        switch (Math.floor(rnd() * 6)) {
          case 0: program.push([OPS.lock, pick(lockIds)]); break;
          case 1: program.push([OPS.unlock, pick(lockIds)]); break;
          case 2: program.push([OPS.push, type], [OPS.push, Math.floor(rnd() * 100)], [OPS.store_attr, pick([0, 1, 2, 3, 255, 256, -1])]); break;
          case 3: program.push([OPS.push, type], [pick([OPS.load_attr, OPS.load_attr_uncached]), Math.floor(rnd() * 4) | (Math.floor(rnd() * 8) << 8)], [OPS.pop, 0]); break;
          case 4: program.push([OPS.poll, 0]); break;
          default: program.push([pick(PROGRAM_OPS), Math.floor(rnd() * codeLen)]);
        }
      }
      program.length = codeLen - 1;
      program.push([OPS.halt, 0]);
      program.forEach(([op, arg], k) => {
        i32[(code >> 2) + 2 * k] = op;
        i32[(code >> 2) + 2 * k + 1] = arg ?? 0;
      });
      const w = (f: number, v: number) => { i32[(ctx + f) >> 2] = v; };
      w(CTX.pc, 0); w(CTX.sp, 0); w(CTX.fp, 0); w(CTX.code, code); w(CTX.codeLen, codeLen);
      w(CTX.stack, stack); w(CTX.stackCap, 64); w(CTX.globals, 0); w(CTX.globalsLen, 0);
      const x = pick(RUNS);
      const r = (vm as unknown as Record<string, (...a: number[]) => number>)[x.name](h, ctx, 200);
      const what = `seed ${SEED} iter ${iter}: ${x.name}(${h}, ctx, 200)`;
      if (r < 0) {
        const documented: number[] = x.errors.map((c) => ERRNO[c as keyof typeof ERRNO]);
        assert.ok(documented.includes(r), `${what} returned ${r}, not one of its documented codes [${documented.join(', ')}]`);
      } else {
        assert.ok(r <= 2, `${what} returned status ${r}`);
      }
      seen.set(r, (seen.get(r) ?? 0) + 1);
      // locks the program left held (or took over from a dead owner) do not leak into the next vector
      for (const id of [0, ...locks]) {
        if (Number(core.lock_owner(id)) === h) core.lock_consistent(h, id);
        while (Number(core.lock_owner(id)) === h) if (core.lock_release(h, id) < 0) break;
      }
      for (let k = 0; k < locks.length; k++) {
        if (Number(core.lock_owner(locks[k])) === ERRNO.E_NOT_RECOVERABLE) {
          assert.is(core.lock_destroy(locks[k]), 0);
          locks[k] = Number(core.lock_create(k + 1));
        }
      }
    }
    for (const code of ['E_BAD_LOCK', 'E_NOT_OWNER', 'E_DEADLOCK', 'E_OWNER_DEAD'] as const) {
      assert.ok(seen.has(ERRNO[code]), `the programs reached ${code}: ${JSON.stringify([...seen])}`);
    }
  });
}

test.run();
