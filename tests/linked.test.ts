// The modules linked against the core (interp.wasm, diag.wasm): they reach the
// core only through its exports, their blocks lie where the docs say, the
// VM's tables match the host's, and hostile arguments to the VM's exports get
// a documented result without a trap or a write outside what the call may write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createSharedMemory, instantiateCore, type CoreExports } from '../host/core.js';
import { DIAG_BLOCK, INTERP_BLOCK, instantiateLinked, type InterpExports } from '../host/modules.js';
import { DIAG_QUIT, DIAG_SCRATCH, type DiagExports } from '../host/diag.js';
import { CACHE, CACHE_ENTRIES, RECORDS, SLOTS, CACHE_ENTRY_SIZE, LAYOUT_END, LOCKS, LOCK_SIZE, MAX_LOCKS } from '../host/layout.js';
import { OPS, assemble } from '../interp/assembler.js';
import { CTX, RESULTS } from '../interp/interpreter.js';
import { within } from './lib/helpers.js';

const BUILD = new URL('../../build/', import.meta.url);
const compile = (name: string) => new WebAssembly.Module(readFileSync(new URL(name, BUILD)));
const VARIANTS = ['', '.debug'] as const;

async function linkedPair(variant: string, name: 'interp' | 'diag') {
  const memory = createSharedMemory();
  const core = await instantiateCore(compile(`core${variant}.wasm`), memory);
  const x = instantiateLinked(compile(`${name}${variant}.wasm`), core, memory);
  return { memory, core, x };
}

const globalValue = (x: WebAssembly.Exports, name: string): number => (x[name] as WebAssembly.Global).value as number;

test('core.wasm exports the ABI only; the linked modules import nothing from the core but its exports', () => {
  for (const v of VARIANTS) {
    const core = compile(`core${v}.wasm`);
    const coreExports = new Set(WebAssembly.Module.exports(core).map((e) => e.name));
    for (const name of coreExports) assert.not.match(name, /^(diag|interp)_/, `core${v}.wasm exports ${name}`);
    for (const name of ['interp', 'diag']) {
      const m = compile(`${name}${v}.wasm`);
      for (const imp of WebAssembly.Module.imports(m)) {
        if (imp.module === 'core') {
          assert.ok(coreExports.has(imp.name) && imp.kind === 'function', `${name}${v}.wasm imports core.${imp.name}`);
        } else {
          assert.is(imp.module, 'env', `${name}${v}.wasm imports from ${imp.module}`);
          assert.ok(['memory', 'now_ms', 'abort'].includes(imp.name), `${name}${v}.wasm imports env.${imp.name}`);
        }
      }
      const fromCore = WebAssembly.Module.imports(m).filter((i) => i.module === 'core').map((i) => i.name);
      // the VM's slow poll and the benchmark's headline loops are calls into core.wasm
      for (const f of name === 'interp' ? ['poll'] : ['attach', 'detach', 'poll']) assert.ok(fromCore.includes(f), `${name}${v}.wasm imports core.${f}`);
    }
  }
});

test('each module\'s block lies above the core\'s static data, as the host and docs say', () =>
  within(10_000, async () => {
    for (const v of VARIANTS) {
      const { core, x: d } = await linkedPair(v, 'diag');
      const diag = d as unknown as DiagExports;
      assert.ok(core.heap_base() >= LAYOUT_END && core.heap_base() <= DIAG_BLOCK, `core${v} static data ends at ${core.heap_base()}`);
      assert.is(globalValue(d, 'DIAG_BLOCK_ADDR'), DIAG_BLOCK);
      assert.is(globalValue(d, 'DIAG_QUIT_ADDR'), DIAG_QUIT);
      assert.is(globalValue(d, 'DIAG_SCRATCH_ADDR'), DIAG_SCRATCH);
      assert.ok(diag.diag_heap_base() >= globalValue(d, 'DIAG_DATA_ADDR') && diag.diag_heap_base() <= INTERP_BLOCK, `diag${v} data`);
      const { x: i } = await linkedPair(v, 'interp');
      const vm = i as unknown as InterpExports;
      assert.is(globalValue(i, 'INTERP_BLOCK_ADDR'), INTERP_BLOCK);
      assert.ok(vm.interp_heap_base() >= globalValue(i, 'INTERP_DATA_ADDR'), `interp${v} heap above its data`);
      assert.is(vm.interp_heap_base() % 64, 0);
      assert.ok(vm.interp_heap_top_addr() >= INTERP_BLOCK && vm.interp_heap_top_addr() < globalValue(i, 'INTERP_DATA_ADDR'));
    }
  }));

test('instantiation refuses a core whose static data reaches the linked blocks', () => {
  const memory = createSharedMemory();
  const fake = { heap_base: () => DIAG_BLOCK + 4 } as unknown as CoreExports;
  assert.throws(() => instantiateLinked(compile('interp.wasm'), fake, memory), /static data/);
});

test('the VM\'s tables are the source of the host\'s: opcodes, context fields, run results', () =>
  within(10_000, async () => {
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
    for (const v of VARIANTS) {
      const { x } = await linkedPair(v, 'interp');
      const exported = (prefix: string) => Object.fromEntries(WebAssembly.Module.exports(compile(`interp${v}.wasm`))
        .filter((e) => e.kind === 'global' && e.name.startsWith(prefix)).map((e) => [e.name, globalValue(x, e.name)]));
      const ops = exported('OP_');
      const { OP_COUNT, ...opTable } = ops;
      assert.equal(opTable, Object.fromEntries(Object.entries(OPS).map(([k, n]) => [`OP_${k.toUpperCase()}`, n])), `opcodes${v}`);
      assert.is(OP_COUNT, Object.keys(OPS).length);
      const { size, ...fields } = CTX;
      assert.equal(exported('C_'), Object.fromEntries(Object.entries(fields).map(([k, n]) => [`C_${snake(k)}`, n])), `context${v}`);
      assert.is(globalValue(x, 'CTX_SIZE'), size);
      assert.is((x as unknown as InterpExports).interp_ctx_size(), size);
      assert.equal(exported('R_'), Object.fromEntries(Object.entries(RESULTS).map(([k, n]) => [`R_${k}`, n])), `results${v}`);
    }
  }));

// ---- hostile arguments ------------------------------------------------------

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  return { next, pick: <T>(a: readonly T[]): T => a[next() % a.length], int: (n: number) => next() % n };
}

const VM_RESULT = (r: number) => (r >= 0 && r <= 2) || (r >= -208 && r <= -200) || (r >= -99 && r <= -1);

test('random argument vectors against every interp.wasm export: a documented result, no trap, no stray write', () =>
  within(120_000, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
    const R = rng(seed);
    for (const v of VARIANTS) {
      const { memory, core, x } = await linkedPair(v, 'interp');
      const vm = x as unknown as InterpExports;
      assert.is(core.init(4), 0);
      const h = core.register(1);
      assert.is(core.attach(h), 0);
      const i32 = new Int32Array(memory.buffer);
      const end = memory.buffer.byteLength;
      const heap = vm.interp_heap_base();
      const code = heap;
      const codeLen = 256;
      const stack = heap + 0x4000;
      const globals = heap + 32 * 1024;
      const ctxArea = heap + 0xc000;
      // a random program: any opcode (and some that are none), interesting operands
      const operands = [0, 1, 2, 3, 4, 7, -1, -3, 255, 256, 0x1ff, 4095 << 8, 4096 << 8, 0x7fffffff, -0x80000000];
      for (let k = 0; k < codeLen; k++) {
        i32[(code >> 2) + 2 * k] = R.int(20) === 0 ? R.next() | 0 : R.int(OPS.load_attr_uncached + 2);
        i32[(code >> 2) + 2 * k + 1] = R.int(3) === 0 ? R.int(codeLen) : R.int(3) === 0 ? R.pick(operands) : R.int(8) - 3;
      }
      // writes a call may make: its context, operand stack and globals as the
      // context names them, the VM's type records and tag counter, the core's cache and lock table
      const shared = (a: number) => (a >= INTERP_BLOCK && a < heap) || (a >= CACHE && a < CACHE + CACHE_ENTRIES * CACHE_ENTRY_SIZE) || (a >= LOCKS && a < LOCKS + MAX_LOCKS * LOCK_SIZE);
      const regionsOf = (ctx: number): [number, number][] => {
        const f = (k: number) => new DataView(memory.buffer).getInt32(ctx + k, true); // contexts may be unaligned
        return [[ctx, ctx + CTX.size], [f(CTX.stack) >>> 0, (f(CTX.stack) >>> 0) + f(CTX.stackCap) * 4], [f(CTX.globals) >>> 0, (f(CTX.globals) >>> 0) + f(CTX.globalsLen) * 4]];
      };
      const words = end >> 2;
      const before = new Int32Array(words);
      const hostile = [0, 4, SLOTS, LAYOUT_END, DIAG_BLOCK, INTERP_BLOCK, heap - 64, heap - 4, end - 64, end - 48, end - 4, end, end + 64,
        0x7ffffff0, 0x7fffffff, -1, -64, -0x80000000];
      const seen = new Map<number, number>();
      for (let iter = 0; iter < 4000; iter++) {
        before.set(i32);
        let ctx: number;
        let budget = 1 + R.int(400);
        const kind = R.int(6);
        if (kind === 0) {
          ctx = R.pick(hostile);
          budget = R.pick([0, -1, 1, 0x7fffffff]);
        } else if (kind === 1) {
          ctx = R.next() | 0;
          budget = R.next() | 0;
        } else {
          // a stack of small numbers: saved frame pointers and return addresses a program may have overwritten
          for (let k = 0; k < 256; k++) i32[(stack >> 2) + k] = R.int(48) - 8;
          ctx = ctxArea + R.int(0x3fc0) * (R.int(4) === 0 ? 1 : 4);
          if (R.int(8) === 0) ctx = end - 64;
          const w = (f: number, val: number) => { const a = ctx + f; if (a >= 0 && a + 4 <= end) new DataView(memory.buffer).setInt32(a, val, true); };
          // each field good most of the time, so many vectors reach the dispatch loop
          const f = <T,>(good: T, bad: readonly T[]): T => (R.int(8) === 0 ? R.pick(bad) : good);
          const cap = f(R.pick([4, 16, 64, 256]), [3, 0, -1, 0x3fffffff, 0x7fffffff]);
          w(CTX.code, f(code, [code + 1, SLOTS, end - 8, -8, 0x7ffffff8]));
          w(CTX.codeLen, f(codeLen, [1, 0, -1, 0x1fffffff, 0x7fffffff]));
          w(CTX.stack, f(stack, [stack + 2, SLOTS, end - 16, heap - 8, -4]));
          w(CTX.stackCap, cap);
          w(CTX.globals, f(globals, [globals + 1, globals + 2, globals + 3, 0, end - 4, RECORDS]));
          w(CTX.globalsLen, f(R.pick([0, 1, 4, 64]), [-1, 0x3fffffff]));
          w(CTX.pc, f(R.int(codeLen), [codeLen, -1, 0x7fffffff]));
          const sp = f(R.int(Math.max(1, Math.min(cap, 64))), [cap, cap + 1, -1]);
          w(CTX.sp, sp);
          w(CTX.fp, f(R.int(Math.max(1, sp + 1)), [sp + 1, -1]));
          w(CTX.steps, R.next() | 0);
          before.set(i32);
        }
        const useH = R.int(6) === 0 ? R.pick([0, -1, 5, h + 1, h ^ 0x100]) : h;
        const nopoll = R.int(2) === 0;
        const what = `${v} iter ${iter} seed ${seed}: ${nopoll ? 'interp_run_nopoll' : 'interp_run'}(${useH}, ${ctx}, ${budget})`;
        const regions = ctx >= heap && ctx + CTX.size <= end ? regionsOf(ctx) : [];
        let r: number;
        try {
          r = nopoll ? vm.interp_run_nopoll(useH, ctx, budget) : vm.interp_run(useH, ctx, budget);
        } catch (e) {
          assert.unreachable(`${what} trapped: ${(e as Error).message}`);
          return;
        }
        assert.ok(VM_RESULT(r), `${what} returned ${r}`);
        seen.set(r, (seen.get(r) ?? 0) + 1);
        const bad = [] as number[];
        for (let k = 0; k < words; k++) {
          const a = k << 2;
          if (i32[k] !== before[k] && (r === RESULTS.BAD_CONTEXT || !(shared(a) || regions.some(([lo, hi]) => a + 4 > lo && a < hi)))) bad.push(a);
        }
        assert.equal(bad.slice(0, 4), [], `${what} wrote outside what it may write (result ${r})`);
        // a lock the random program left held must not leak into the next vector
        for (let id = 0; id < 8; id++) while (core.lock_owner(id) === h) if (core.lock_release(h, id) < 0) break;
      }
      // the vectors reached the dispatch loop, not just the context check
      const ran = [...seen].filter(([r]) => r !== RESULTS.BAD_CONTEXT).reduce((a, [, n]) => a + n, 0);
      assert.ok(ran >= 100 && seen.size >= 6, `results seen: ${JSON.stringify([...seen])}`);
      // the other exports take no arguments and write nothing
      before.set(i32);
      assert.is(vm.interp_ctx_size(), CTX.size);
      assert.is(vm.interp_heap_base(), heap);
      assert.ok(vm.interp_heap_top_addr() >= INTERP_BLOCK);
      assert.is(vm.interp_after_fork_child(), 0, 'no type record was left mid-store');
      assert.equal(i32, before);
    }
  }));

test('the reported hostile contexts: past the memory end, within 48 bytes of it, unaligned globals', () =>
  within(10_000, async () => {
    for (const v of VARIANTS) {
      const { memory, core, x } = await linkedPair(v, 'interp');
      const vm = x as unknown as InterpExports;
      core.init(4);
      const h = core.register(1);
      core.attach(h);
      const end = memory.buffer.byteLength;
      for (const run of [vm.interp_run, vm.interp_run_nopoll]) {
        assert.is(run(h, 0x7ffffff0, 0), RESULTS.BAD_CONTEXT);
        for (let back = 1; back <= 48; back++) assert.is(run(h, end - back, 0), RESULTS.BAD_CONTEXT, `ctx at end - ${back}`);
        // a good frame, then its globals moved off alignment
        const i32 = new Int32Array(memory.buffer);
        const heap = vm.interp_heap_base();
        const ctx = heap;
        const code = heap + 0x100;
        const globals = heap + 0x200;
        i32.fill(0, ctx >> 2, (ctx + 1024) >> 2);
        i32[(code >> 2)] = OPS.gload; i32[(code >> 2) + 1] = 0;
        i32[(code >> 2) + 2] = OPS.halt;
        const set = (f: number, val: number) => { i32[(ctx + f) >> 2] = val; };
        set(CTX.code, code); set(CTX.codeLen, 2); set(CTX.stack, heap + 0x300); set(CTX.stackCap, 16);
        set(CTX.globals, globals); set(CTX.globalsLen, 1);
        assert.is(run(h, ctx, 0), RESULTS.HALTED);
        for (const off of [1, 2, 3]) {
          set(CTX.pc, 0); set(CTX.sp, 0);
          set(CTX.globals, globals + off);
          assert.is(run(h, ctx, 0), RESULTS.BAD_CONTEXT, `globals + ${off}`);
        }
        set(CTX.globals, globals);
        // operands that would carry a bound past 2^31 or the stack below 0
        const frame = (src: string) => {
          const p = assemble(src);
          i32.set(p.code, code >> 2);
          set(CTX.pc, 0); set(CTX.sp, 0); set(CTX.fp, 0); set(CTX.codeLen, p.code.length / 2); set(CTX.stackCap, 64);
          return ctx;
        };
        assert.is(run(h, frame('push 1\nenter 0x7fffffff\nhalt'), 0), RESULTS.OVERFLOW, 'enter with a huge count');
        assert.is(run(h, frame('push 0\ncall f\npop\npop\npop\npush 1\nhalt\nf: push -9\nstore -1\npush 5\nret'), 0),
          RESULTS.UNDERFLOW, 'a return to an overwritten frame pointer');
      }
    }
  }));

test.run();
