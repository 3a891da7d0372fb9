// A threaded Lua process on the runtime (docs/LUA.md, "Threads"): every Lua
// thread, the one running lua.c's main included, is a runtime job on its own
// worker (thread-worker.ts), so the host's thread stays free for what only it
// can do: start workers (ctx.spawn) and mark dead the ones that end abruptly.
// A thread.start in C calls env.lwtc_spawn(ticket); this file answers it.
import type { ForkConfig, Runtime } from '../../../host/runtime.js';
import { waitAsync } from '../../../host/wait.js';
import type { RegisteredThread } from '../../../host/thread.js';
import { luaForkConfig, luaNoForkImports } from './fork.js';
import { LUA_MEMORY_INITIAL_PAGES, LUA_MEMORY_MAXIMUM_PAGES, type LuaExports, type LuaModules, type LuaThread } from './loader.js';

/** A job's data (structured-cloneable). */
export interface LuaJobData {
  role: 'command' | 'thread';
  /** The job module every thread runs (URL string): node-build.ts LUA_THREAD_JOB under Node, a platform's own elsewhere. */
  job: string;
  modules: LuaModules;
  /** The WASI argument vector of the process (argv[0] first). */
  args: string[];
  /** The thread's stack + TLS area (lwtc_area_new). */
  area: number;
  /** role 'thread': the ticket lwtc_thread_entry runs. */
  ticket?: number;
  /** [0]: 0 while the process runs, else exit status + 1 (any thread's exit() ends the process). */
  exitCell: SharedArrayBuffer;
  /** When set, fds 1 and 2 append here instead of the host's (captureText reads it). */
  capture?: SharedArrayBuffer;
}

/** A thread's stack when it runs lua.c's main: lua.c's own recursion limits assume a generous C stack. */
const COMMAND_STACK = 1 << 20;

/** Ticket fields (vms/lua/src/lthread.c, struct ticket). */
const TICKET_AREA = 0;

/** The env imports the threads library needs on every thread: `spawn` starts a job (rt.spawn or ctx.spawn). */
export function threadImports(memory: WebAssembly.Memory, base: Omit<LuaJobData, 'role' | 'area' | 'ticket'>,
  spawn: (job: string, data: LuaJobData) => void): Record<string, (...args: number[]) => number> {
  return {
    lwtc_spawn(ticket: number): number {
      const area = new Uint32Array(memory.buffer, ticket + TICKET_AREA, 1)[0];
      try {
        spawn(base.job, { ...base, role: 'thread', area, ticket });
        return 0;
      } catch {
        return -1;
      }
    },
  };
}

/** Records exit `code` for the whole process (the first exit wins). */
export function recordExit(exitCell: SharedArrayBuffer, code: number): void {
  const cell = new Int32Array(exitCell);
  Atomics.compareExchange(cell, 0, 0, code + 1);
  Atomics.notify(cell, 0);
}

const CAPTURE_HEADER = 8;
/** A capture buffer of `bytes` for LuaJobData.capture. */
export function newCapture(bytes = 1 << 20): SharedArrayBuffer {
  return new SharedArrayBuffer(CAPTURE_HEADER + bytes);
}
/** Appends `bytes` (any thread; writers never overlap). */
export function appendCapture(capture: SharedArrayBuffer, bytes: Uint8Array): void {
  const len = new Int32Array(capture, 0, 1);
  const at = Atomics.add(len, 0, bytes.length);
  const room = capture.byteLength - CAPTURE_HEADER;
  if (at >= room) return;
  new Uint8Array(capture, CAPTURE_HEADER + at, Math.min(bytes.length, room - at)).set(bytes.subarray(0, room - at));
}
/** Bytes appended so far. */
export function captureLength(capture: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(capture, 0, 1), 0);
}
export function captureText(capture: SharedArrayBuffer): string {
  const n = Math.min(captureLength(capture), capture.byteLength - CAPTURE_HEADER);
  return new TextDecoder().decode(new Uint8Array(capture, CAPTURE_HEADER, n).slice());
}

/**
 * Stops the world of a Lua process from `thread` (the host's main, or any registered thread): threads in loops that
 * never allocate are asked to reach a safe point first (lwtc_interrupt). Start it again with thread.startTheWorld().
 */
export function stopLuaWorld(host: LuaExports, thread: RegisteredThread, timeoutMs?: number): void {
  (host.lwtc_interrupt as (h: number, on: number) => number)(thread.handle, 1);
  try {
    thread.stopTheWorld(timeoutMs === undefined ? undefined : { timeoutMs });
  } finally {
    (host.lwtc_interrupt as (h: number, on: number) => number)(thread.handle, 0);
  }
}

export interface LuaProcess {
  rt: Runtime;
  /** lua.wasm on the host's thread: only for lwtc_interrupt (stopLuaWorld); it never runs Lua. */
  host: LuaThread;
  /** Resolves with the exit status. */
  status: Promise<number>;
}

export interface LuaProcessOptions {
  modules: LuaModules;
  args: string[];
  /** The host's runtime factory (host/node: createRuntime). */
  createRuntime: (opts: { initialPages: number; maximumPages: number; capacity: number; fork?: ForkConfig }) => Promise<Runtime>;
  /** lua.wasm on the host's thread (loader.instantiateLua with placement 'main' and these imports; no WASI use). */
  instantiateHost: (memory: WebAssembly.Memory, imports: Record<string, Record<string, unknown>>) => Promise<LuaThread>;
  capture?: SharedArrayBuffer;
  /** The job module of the threads (node-build.ts LUA_THREAD_JOB under Node). */
  job: URL;
  /** The fork service's settings (default luaForkConfig(): Node's continuation). */
  fork?: ForkConfig;
  /** Registry slots (threads + 1). */
  capacity?: number;
}

/** Starts a Lua process whose main runs as a job; `status` settles when any thread exits the process. */
export async function startLuaProcess(opts: LuaProcessOptions): Promise<LuaProcess> {
  const rt = await opts.createRuntime({ initialPages: LUA_MEMORY_INITIAL_PAGES, maximumPages: LUA_MEMORY_MAXIMUM_PAGES, capacity: opts.capacity ?? 72, fork: opts.fork ?? luaForkConfig() });
  // it never runs Lua
  const host = await opts.instantiateHost(rt.memory, { env: { lwtc_spawn: () => -1 }, lua_fork: luaNoForkImports(() => rt.memory) });
  (host.lua.lwtc_set_core_self as (h: number) => void)(rt.main.handle);
  const area = host.lua.lwtc_area_new(COMMAND_STACK); // before any thread runs: nobody else is in malloc
  if (!area) throw new RangeError('no memory for the main thread\'s stack');
  const exitCell = new SharedArrayBuffer(4);
  const job = String(opts.job);
  const data: LuaJobData = { role: 'command', job, modules: opts.modules, args: opts.args, area, exitCell, capture: opts.capture };
  const main = rt.spawn(job, data);
  const exited = (async () => {
    const cell = new Int32Array(exitCell);
    while (Atomics.load(cell, 0) === 0) await waitAsync(cell, 0, 0, 1000); // relayed where the engine has no waitAsync
    return Atomics.load(cell, 0) - 1;
  })();
  const status = (async () => {
    const code = await Promise.race([exited, main.join().then(() => exited, (e: unknown) => { console.error(`lua: the main thread's worker failed: ${e instanceof Error ? e.message : String(e)}`); return 134; })]);
    await rt.close({ graceMs: 100 });
    return code;
  })();
  return { rt, host, status };
}
