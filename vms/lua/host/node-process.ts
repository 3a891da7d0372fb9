// A threaded Lua process under Node: build/lua.wasm (or the fork-anywhere
// build, node-build.ts) as a program on the pthread layer
// (vms/posix/host/node-process.ts: the Node runtime, every thread a job, fork
// children through the layer's continuation). Composition only.
import { startNodePosixProcess } from '../../posix/host/node-process.js';
import { luaWasmPath } from './node-build.js';
import type { LuaExports } from './lua-exports.js';
import type { LuaProcess } from './threads.js';

export interface NodeLuaProcessOptions {
  /** Output of every thread goes here instead of the process's fds 1 and 2 (vms/posix/host/capture.ts newCapture). */
  capture?: SharedArrayBuffer;
}

/**
 * Warm fork children kept ready: a Lua fork is then a hand-off instead of a process start (a script that forks
 * forks again, and its tests wait for every child).
 */
const LUA_FORK_POOL = 1;

/** Starts `lua args...` (argv[0] first) with its threads on workers. */
export async function startNodeLuaProcess(args: string[], opts: NodeLuaProcessOptions = {}): Promise<LuaProcess> {
  const p = await startNodePosixProcess(luaWasmPath(), args, { capture: opts.capture, forkPool: LUA_FORK_POOL });
  return { rt: p.rt, host: { lua: p.host as LuaExports }, status: p.status, kill: p.kill };
}
