// build/python.wasm on the core: one shared WebAssembly.Memory per process, a
// core instance and a CPython instance over it (the core's exports are the
// module's "core" imports). Platform-neutral: the compiled modules and the
// WASI options come in as parameters.
//
// Memory plan (docs/PYTHON.md, "Inside the build"): the core's static data
// below 0x20000; CPython's data, its linked stack (the main thread's C stack),
// then malloc's heap from __heap_base, grown by memory.grow. The main
// thread's TLS block is a static array in CPython's bss.
import { instantiateCore, type CoreExports } from '../../../host/core.js';
import type { CModuleExports } from '../../../host/embed-link.js';
import { Wasi, WasiExit, type WasiOptions } from '../../wasi/wasi.js';

/** The compiled modules (they can be posted to workers). */
export interface PythonModules {
  core: WebAssembly.Module;
  python: WebAssembly.Module;
}

/** python.wasm's exports (docs/PYTHON.md, "The module's exports"). */
export interface PythonExports extends CModuleExports {
  __tls_align: WebAssembly.Global;
  __data_end: WebAssembly.Global;
  /** The process entry: constructors, CPython's main with the WASI arguments, exit(). Main thread only. */
  wtpy_command(): void;
  wtpy_main_tls(): number;
  wtpy_main_tls_size(): number;
  [name: string]: unknown;
}

/** One thread's instances. */
export interface PythonThread {
  memory: WebAssembly.Memory;
  core: CoreExports;
  python: PythonExports;
  wasi: Wasi;
}

/** The maximum the core's memory import allows (4096 pages): python.wasm declares the same. */
export const PYTHON_MEMORY_MAXIMUM_PAGES = 4096;

/**
 * The memory python.wasm's import declares at least (scripts/build-python.mjs, --initial-memory): its data, the
 * 8 MiB linked stack and the first of malloc's heap. tests/python-build.test.ts checks the module declares it.
 */
export const PYTHON_MEMORY_INITIAL_PAGES = 256;

/** A shared memory for one Python process. */
export function createPythonMemory(maximumPages = PYTHON_MEMORY_MAXIMUM_PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: PYTHON_MEMORY_INITIAL_PAGES, maximum: maximumPages, shared: true });
}

/** Compiles core.wasm and python.wasm from their bytes. */
export async function compilePython(coreBytes: BufferSource, pythonBytes: BufferSource): Promise<PythonModules> {
  const [core, python] = await Promise.all([WebAssembly.compile(coreBytes), WebAssembly.compile(pythonBytes)]);
  return { core, python };
}

/** Instantiates core + CPython for the process's first thread over `memory` and sets its TLS block. */
export async function instantiatePython(modules: PythonModules, memory: WebAssembly.Memory, wasi: Wasi | WasiOptions): Promise<PythonThread> {
  const core = await instantiateCore(modules.core, memory);
  const w = (wasi instanceof Wasi ? wasi : new Wasi(wasi)).bind(memory);
  const instance = await WebAssembly.instantiate(modules.python, {
    env: { memory },
    core: core as unknown as WebAssembly.ModuleImports,
    wasi_snapshot_preview1: w.imports as unknown as WebAssembly.ModuleImports,
  } as WebAssembly.Imports);
  const python = instance.exports as unknown as PythonExports;
  if ((python.__heap_base.value as number) > memory.buffer.byteLength) throw new RangeError('the memory is smaller than python.wasm\'s data and stack');
  if ((python.__tls_size.value as number) > python.wtpy_main_tls_size()) throw new RangeError('python.wasm\'s TLS does not fit the main thread\'s block');
  python.__wasm_init_tls(python.wtpy_main_tls());
  return { memory, core, python, wasi: w };
}

/** What ends a process whose Wasm trapped: Python's own fatal errors abort (SIGABRT) with this status too. */
export const TRAP_STATUS = 134;

/**
 * Runs CPython's main on `thread` (its WASI arguments are the command line) until the process exits, and returns
 * the exit status. A trap (unreachable: abort(); the host's stack exhausted) ends it with TRAP_STATUS after a
 * message on stderr.
 */
export function runCommand(thread: PythonThread, stderr: (bytes: Uint8Array) => void): number {
  try {
    thread.python.wtpy_command();
    return 0;
  } catch (e) {
    if (e instanceof WasiExit) return e.code;
    stderr(new TextEncoder().encode(`python: fatal: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`));
    return TRAP_STATUS;
  }
}
