// build/lua.wasm on one thread with no runtime (the tests' runLuaHere, the
// single-thread figures): one shared memory, one core instance and one Lua
// instance over it on the linked stack and the layer's static TLS block. A
// Lua process with threads and fork is a program on the pthread layer
// (threads.ts, vms/posix/host/process.ts). Platform-neutral: the compiled
// modules and the WASI options come in as parameters.
//
// Memory plan (docs/EMBEDDING.md, "POSIX threads"): the core's static data
// below 0x20000; Lua's data, then its linked stack (1 MiB), then malloc's
// heap from __heap_base, grown by memory.grow.
import { instantiateCore } from '../../../host/core.js';
import type { CForkThread } from '../../../host/c-fork.js';
import { compileWasm } from '../../../host/compile.js';
import { posixNoForkImports } from '../../posix/host/fork.js';
import { instantiatePosix, POSIX_MEMORY_INITIAL_PAGES, POSIX_MEMORY_MAXIMUM_PAGES } from '../../posix/host/process.js';
import { Wasi, WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import type { LuaExports } from './lua-exports.js';

/** The compiled modules. */
export interface LuaModules {
  core: WebAssembly.Module;
  lua: WebAssembly.Module;
}

export type { LuaExports } from './lua-exports.js';

/** One thread's instances. */
export interface LuaThread {
  memory: WebAssembly.Memory;
  lua: LuaExports;
  wasi: Wasi;
  /** A driver of forks under C callbacks (host/c-fork.ts) the command runs through. */
  cfork?: CForkThread;
}

/** The maximum the core's memory import allows (4096 pages): lua.wasm declares the same. */
export const LUA_MEMORY_MAXIMUM_PAGES = POSIX_MEMORY_MAXIMUM_PAGES;

/**
 * The memory lua.wasm's import declares at least (the layer's --initial-memory): its data, the 1 MiB linked stack and
 * the first of malloc's heap. tests/lua-build.test.ts checks the module declares it.
 */
export const LUA_MEMORY_INITIAL_PAGES = POSIX_MEMORY_INITIAL_PAGES;

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
  wasi: WasiOptions;
  /** The `wtp_fork` imports (default: every fork refused with ENOSYS). */
  fork?: Record<string, (...args: number[]) => number>;
  /** The driver behind `wtp_fork.fork_here`: bound to the new instance, the command run through it. */
  cfork?: CForkThread;
}

/** Instantiates core + Lua for the only thread of `memory`: no thread can start (pthread_create fails with EAGAIN). */
export async function instantiateLua(modules: LuaModules, memory: WebAssembly.Memory, opts: InstantiateOptions): Promise<LuaThread> {
  const core = await instantiateCore(modules.core, memory);
  const wasi = new Wasi(opts.wasi);
  const lua = await instantiatePosix(modules.lua, core, memory, wasi,
    { wtp: { spawn: () => -1, unwind: () => -1 }, wtp_fork: opts.fork ?? posixNoForkImports() }, { kind: 'linked' }) as LuaExports;
  opts.cfork?.bind(lua);
  return { memory, lua, wasi, cfork: opts.cfork };
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
    if (thread.cfork) thread.cfork.call('wtp_command');
    else thread.lua.wtp_command();
    return { status: 0 };
  } catch (e) {
    if (e instanceof WasiExit) return { status: e.code };
    stderr(new TextEncoder().encode(`lua: fatal: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`));
    return { status: 134 };
  }
}
