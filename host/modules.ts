// Modules linked against the core: the reference VM (interp.wasm) and the
// diagnostics (diag.wasm). Each imports the core's functions from module
// "core" and the shared memory from "env", as any other VM would link
// (docs/ABI.md, "Linked modules"). Like the core, a thread instantiates each
// one once, over its own core instance; the compiled modules travel to workers
// in WorkerInit.
import type { CoreExports } from './core.js';
import { envImports } from './core.js';
import { WasmThreadsError, UnsupportedError } from './errors.js';
import type { Platform } from './platform.js';
import { DIAG_BLOCK, DIAG_DATA, DIAG_HOST_SCRATCH, INTERP_BLOCK } from './layout.js';

export type LinkedName = 'interp' | 'diag';
export type LinkedModules = Partial<Record<LinkedName, WebAssembly.Module>>;

// The fixed blocks the linked modules own (abi/abi.json, "linked modules"); a
// test checks these against the modules' exported globals.
export { DIAG_BLOCK, INTERP_BLOCK } from './layout.js';
/** Non-zero: every diagnostic loop returns. */
export const DIAG_QUIT = DIAG_BLOCK;
/** 1 KiB no module touches, for host-side tests and benchmarks (control words, counters). */
export const DIAG_SCRATCH = DIAG_HOST_SCRATCH;
export const DIAG_SCRATCH_SIZE = DIAG_DATA - DIAG_HOST_SCRATCH;

/** interp.wasm's exports (docs/ABI.md). Run results < 0 are errors: the VM's −200…−208 or the core's codes. */
export interface InterpExports {
  interp_run(h: number, ctx: number, budget: number): number;
  interp_run_nopoll(h: number, ctx: number, budget: number): number;
  interp_ctx_size(): number;
  interp_heap_base(): number;
  interp_heap_top_addr(): number;
  interp_after_fork_child(): number;
}

/** diag.wasm's exports: benchmark and stress loops, not ABI. */
export interface DiagExports {
  diag_heap_base(): number;
  diag_spin(h: number, noPoll: number): number;
  diag_floor_round(workers: number, timeoutMs: number): number;
  diag_cmpxchg_pair_ns(iters: number): number;
  diag_attach_detach_ns(h: number, iters: number): number;
  diag_poll_ns(h: number, iters: number): number;
  diag_cache_read_ns(index: number, tv: number, mv: number, value: number, iters: number, mask: number): number;
  diag_mutex_read_ns(h: number, lock: number, index: number, tv: number, mv: number, iters: number, mask: number): number;
  diag_plain_read_ns(index: number, tv: number, mv: number, iters: number, mask: number): number;
  diag_cache_writer(h: number, index: number, tv: number, mv: number, value: number, lock: number): number;
  diag_record_writer(h: number, rec: number, seed: number): number;
  diag_record_reader(h: number, rec: number, validate: number): number;
}

interface Binding {
  memory: WebAssembly.Memory;
  modules: LinkedModules;
  instances: Map<LinkedName, WebAssembly.Exports>;
}

// Keyed by the thread's core instance: one core instance per thread, so one
// linked instance per thread.
const bindings = new WeakMap<CoreExports, Binding>();

/** Compiles the linked modules the platform can load ('debug' picks their debug builds). */
export async function compileLinked(platform: Platform, build: 'release' | 'debug' | URL): Promise<LinkedModules> {
  if (!platform.loadLinkedWasm) return {};
  const debug = build === 'debug';
  const names: LinkedName[] = ['interp', 'diag'];
  const compiled = await Promise.all(names.map(async (n) => WebAssembly.compile(await platform.loadLinkedWasm!(n, debug))));
  return Object.fromEntries(names.map((n, k) => [n, compiled[k]])) as LinkedModules;
}

/** Makes `modules` available to the thread whose core instance is `core`. */
export function bindLinked(core: CoreExports, memory: WebAssembly.Memory, modules: LinkedModules | undefined): void {
  bindings.set(core, { memory, modules: modules ?? {}, instances: new Map() });
}

/** Instantiates `module` over `core` and `memory`, checking its block lies above the core's static data. */
export function instantiateLinked(module: WebAssembly.Module, core: CoreExports, memory: WebAssembly.Memory): WebAssembly.Exports {
  if (core.heap_base() > DIAG_BLOCK) {
    throw new WasmThreadsError('E_CORRUPT', `the core's static data ends at ${core.heap_base()}, above the linked modules' blocks (${DIAG_BLOCK})`);
  }
  const instance = new WebAssembly.Instance(module, {
    env: envImports(memory),
    core: core as unknown as WebAssembly.ModuleImports,
  });
  const x = instance.exports as Record<string, unknown>;
  if (typeof x.diag_heap_base === 'function' && (x.diag_heap_base as () => number)() > INTERP_BLOCK) {
    throw new WasmThreadsError('E_CORRUPT', 'diag.wasm\'s static data reaches into the VM\'s block');
  }
  return instance.exports;
}

/** This thread's instance of linked module `name` (instantiated on first use). */
export function linked<T>(core: CoreExports, name: LinkedName): T {
  const b = bindings.get(core);
  const module = b?.modules[name];
  if (!b || !module) throw new UnsupportedError(`${name}.wasm is not available to this thread (the platform does not load linked modules)`);
  let inst = b.instances.get(name);
  if (!inst) {
    inst = instantiateLinked(module, core, b.memory);
    b.instances.set(name, inst);
  }
  return inst as unknown as T;
}

/** The reference VM's instance on the thread of `core`. */
export const interpOf = (core: CoreExports): InterpExports => linked<InterpExports>(core, 'interp');
/** The diagnostics' instance on the thread of `core`. */
export const diagOf = (core: CoreExports): DiagExports => linked<DiagExports>(core, 'diag');
