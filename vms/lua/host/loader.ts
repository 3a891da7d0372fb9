// build/lua.wasm on the core: one shared WebAssembly.Memory per process, and
// per thread one core instance and one Lua instance over it (the core's
// exports are the Lua module's "core" imports, so calls stay Wasm-to-Wasm).
// Platform-neutral: the compiled modules, the WASI options and any extra
// imports come in as parameters.
//
// Memory plan (docs/EMBEDDING.md, "A real C VM"): the core's static data
// below 0x20000; Lua's data, then its linked stack (the main thread's C
// stack, 1 MiB), then malloc's heap from __heap_base, grown by memory.grow.
// The main thread's TLS block is a static array in Lua's bss; every other
// thread's stack and TLS block is one malloc'ed area (lwtc_area_new), so no
// thread area can ever overlap the heap. Data segments are applied once per
// memory by the module's start function (wasm-ld's init flag lives in the
// memory, so a fork child's copy does not apply them again).
import type { CForkThread } from '../../../host/c-fork.js';
import { instantiateCore, type CoreExports } from '../../../host/core.js';
import { luaNoForkImports } from './fork.js';
import type { LuaExports } from './lua-exports.js';
import { Wasi, WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import { compileWasm } from '../../../host/compile.js';

type Imports = Record<string, Record<string, unknown>>;

/** The compiled modules (they can be posted to workers). */
export interface LuaModules {
  core: WebAssembly.Module;
  lua: WebAssembly.Module;
}

export type { LuaExports } from './lua-exports.js';

/** One thread's instances. */
export interface LuaThread {
  memory: WebAssembly.Memory;
  core: CoreExports;
  lua: LuaExports;
  wasi: Wasi;
  /** The driver of forks under C callbacks (vms/lua/host/fork.ts), when the thread can fork: its exports run through it. */
  cfork?: CForkThread;
}

/** Where a thread's C stack and TLS live. */
export type ThreadPlacement =
  /** The first instance of the process: the linked stack and the static TLS block. */
  | { kind: 'main' }
  /** A new thread: its area from lwtc_area_new (the TLS block is initialised from the TLS image). */
  | { kind: 'area'; area: number }
  /**
   * A thread that continues in a copy of the memory (a fork child): the stack pointer and TLS base it had,
   * the TLS block left as it is (__wasm_init_tls would reset it).
   */
  | { kind: 'adopt'; stackPointer: number; tlsBase: number };

/** The maximum the core's memory import allows (4096 pages): lua.wasm declares the same. */
export const LUA_MEMORY_MAXIMUM_PAGES = 4096;

/**
 * The memory lua.wasm's import declares at least (scripts/build-lua.mjs, --initial-memory): its data, the
 * 1 MiB linked stack and the first of malloc's heap. tests/lua-build.test.ts checks the module declares it.
 */
export const LUA_MEMORY_INITIAL_PAGES = 64;

/** A shared memory for one Lua process. */
export function createLuaMemory(maximumPages = LUA_MEMORY_MAXIMUM_PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: LUA_MEMORY_INITIAL_PAGES, maximum: maximumPages, shared: true });
}

/** Compiles core.wasm and lua.wasm from their bytes. */
export async function compileLua(coreBytes: BufferSource, luaBytes: BufferSource): Promise<LuaModules> {
  const [core, lua] = await Promise.all([compileWasm(coreBytes), compileWasm(luaBytes)]);
  return { core, lua };
}

export interface InstantiateOptions {
  placement: ThreadPlacement;
  /** This thread's WASI (a Wasi, or the options to make one). */
  wasi: Wasi | WasiOptions;
  /** Further import modules: `env` functions of the threads library, `lua_fork` of the fork library (vms/lua/host/fork.ts). */
  imports?: Imports;
  /** The fork library's driver behind `lua_fork.fork_here` (luaForkImports): bound to the new instance. */
  cfork?: CForkThread;
}

/** Instantiates core + Lua for one thread over `memory` and sets its stack pointer and TLS base. */
export async function instantiateLua(modules: LuaModules, memory: WebAssembly.Memory, opts: InstantiateOptions): Promise<LuaThread> {
  return instantiateLuaOn(modules.lua, await instantiateCore(modules.core, memory), memory, opts);
}

/**
 * Instantiates lua.wasm for one thread over a core instance the host already has (a Runtime's `core`, a worker's
 * ThreadContext `core`) and sets its stack pointer and TLS base.
 */
export async function instantiateLuaOn(
  lua: WebAssembly.Module, core: CoreExports, memory: WebAssembly.Memory, opts: InstantiateOptions,
): Promise<LuaThread> {
  const wasi = wasiOn(opts.wasi, memory);
  const instance = await WebAssembly.instantiate(lua, luaImports(core, memory, wasi, opts.imports) as WebAssembly.Imports);
  return placed({ memory, core, lua: instance.exports as unknown as LuaExports, wasi }, opts);
}

function wasiOn(wasi: Wasi | WasiOptions, memory: WebAssembly.Memory): Wasi {
  return (wasi instanceof Wasi ? wasi : new Wasi(wasi)).bind(memory);
}

function luaImports(
  core: CoreExports, memory: WebAssembly.Memory, wasi: Wasi, imports: Imports = {},
): Imports {
  return {
    ...imports,
    env: { ...(imports.env ?? {}), memory },
    core: core as unknown as Record<string, unknown>,
    // The fork library's imports: an instance that cannot fork (no fork service) gets ones that fail cleanly.
    lua_fork: imports.lua_fork ?? luaNoForkImports(() => memory),
    wasi_snapshot_preview1: wasi.imports,
  };
}

function placed(t: Omit<LuaThread, 'cfork'>, opts: InstantiateOptions): LuaThread {
  place(t.lua, t.memory, opts.placement);
  opts.cfork?.bind(t.lua);
  return { ...t, cfork: opts.cfork };
}

/**
 * lua.wasm for a worker that runs one process's threads one after another (a pooled worker, whose core instance
 * serves all its jobs: host/worker.ts, WorkerKeep). The first thread instantiates; the next ones place the same
 * instance on their own area and point its imports at their own WASI and imports. A Wasm instance lives in V8's old
 * generation from birth: one per thread start filled it within a few hundred starts, and the major collections
 * (10 to 20 ms each) landed in starts. The instance holds nothing of a thread but its stack pointer and TLS base,
 * which placing sets; the core's exports and the memory stay direct imports.
 */
export class LuaInstanceKeeper {
  #thread?: Omit<LuaThread, 'cfork' | 'wasi'>;
  #imports: Imports = {};

  async instantiate(lua: WebAssembly.Module, core: CoreExports, memory: WebAssembly.Memory, opts: InstantiateOptions): Promise<LuaThread> {
    const wasi = wasiOn(opts.wasi, memory);
    this.#imports = luaImports(core, memory, wasi, opts.imports);
    if (this.#thread?.core !== core) {
      const instance = await WebAssembly.instantiate(lua, routed(this.#imports, () => this.#imports) as WebAssembly.Imports);
      this.#thread = { memory, core, lua: instance.exports as unknown as LuaExports };
    }
    return placed({ ...this.#thread, wasi }, opts);
  }
}

// Imports that call the current thread's: every function but the core's (same instance, kept Wasm-to-Wasm).
function routed(
  imports: Imports, current: () => Imports,
): Imports {
  const out: Imports = {};
  for (const [mod, fields] of Object.entries(imports)) {
    if (mod === 'core') {
      out[mod] = fields;
      continue;
    }
    out[mod] = {};
    for (const [name, v] of Object.entries(fields)) {
      out[mod][name] = typeof v === 'function' ? (...a: unknown[]) => (current()[mod][name] as (...a: unknown[]) => unknown)(...a) : v;
    }
  }
  return out;
}

/** Runtime options (createRuntime) whose memory lua.wasm links with. */
export const LUA_RUNTIME_MEMORY = { initialPages: LUA_MEMORY_INITIAL_PAGES, maximumPages: LUA_MEMORY_MAXIMUM_PAGES } as const;

function place(lua: LuaExports, memory: WebAssembly.Memory, p: ThreadPlacement): void {
  const tlsSize = lua.__tls_size.value as number;
  if (p.kind === 'main') {
    if (lua.__heap_base.value > memory.buffer.byteLength) throw new RangeError('the memory is smaller than lua.wasm\'s data and stack');
    if (tlsSize > lua.lwtc_main_tls_size()) throw new RangeError(`TLS of ${tlsSize} bytes does not fit the main thread's block`);
    lua.__wasm_init_tls(lua.lwtc_main_tls());
  } else if (p.kind === 'area') {
    if (!p.area) throw new RangeError('no thread area (lwtc_area_new returned 0)');
    lua.__stack_pointer.value = lua.lwtc_area_stack_top(p.area);
    lua.__wasm_init_tls(lua.lwtc_area_tls(p.area));
  } else {
    lua.__stack_pointer.value = p.stackPointer;
    lua.__tls_base.value = p.tlsBase;
  }
}

/** How a command run ended. */
export interface CommandResult {
  /** The exit status (exit(), os.exit, or lua.c's EXIT_FAILURE after an error). */
  status: number;
}

/**
 * Runs lua.c's main on `thread` (its WASI arguments are the command line) until the process exits.
 * A trap (stack exhaustion in Wasm, unreachable) ends it with status 134 after a message on stderr.
 */
export function runCommand(thread: LuaThread, stderr: (bytes: Uint8Array) => void): CommandResult {
  try {
    if (thread.cfork) thread.cfork.call('lwtc_command');
    else thread.lua.lwtc_command();
    return { status: 0 };
  } catch (e) {
    if (e instanceof WasiExit) return { status: e.code };
    stderr(new TextEncoder().encode(`lua: fatal: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`));
    return { status: 134 };
  }
}
