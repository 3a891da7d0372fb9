// A threaded Lua process on the runtime (docs/LUA.md, "Threads"): lua.wasm is
// a program on the pthread layer (vms/posix/host/process.ts), so every Lua
// thread, the one running lua.c's main included, is a layer thread on its own
// worker, and os.fork is the layer's fork. What is Lua's own here: the process
// as the Lua host shows it, and the stop-the-world that first asks threads in
// loops that never allocate for a safe point.
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import type { LuaExports } from './lua-exports.js';

/**
 * Stops the world of a Lua process from `thread` (the host's main, or any registered thread): threads in loops that
 * never allocate are asked to reach a safe point first (lwtc_interrupt). Start it again with thread.startTheWorld().
 */
export function stopLuaWorld(host: LuaExports, thread: RegisteredThread, timeoutMs?: number): void {
  host.lwtc_interrupt(thread.handle, 1);
  try {
    thread.stopTheWorld(timeoutMs === undefined ? undefined : { timeoutMs });
  } finally {
    host.lwtc_interrupt(thread.handle, 0);
  }
}

export interface LuaProcess {
  rt: Runtime;
  /** lua.wasm on the host's thread: only for lwtc_interrupt (stopLuaWorld); it never runs Lua. */
  host: { lua: LuaExports };
  /** Resolves with the exit status. */
  status: Promise<number>;
  /** Ends the process from the host, as a signal would (PosixProcess.kill). */
  kill(code?: number): void;
}
