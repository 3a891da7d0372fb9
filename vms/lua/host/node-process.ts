// A threaded Lua process under Node: build/core.wasm and build/lua.wasm (or
// the fork-anywhere build, node-build.ts), the Node runtime, lua.c's main as a
// job (threads.ts). Composition only.
import fs from 'node:fs';
import { createRuntime } from '../../../host/node/index.js';
import { compileLua, instantiateLua, type LuaModules } from './loader.js';
import { CORE_WASM_PATH, LUA_THREAD_JOB, luaWasmPath } from './node-build.js';
import { startLuaProcess, type LuaProcess } from './threads.js';

let compiled: Promise<LuaModules> | undefined;
/** build/core.wasm + build/lua.wasm (node-build.ts), compiled once per process. */
export function luaModules(): Promise<LuaModules> {
  compiled ??= compileLua(fs.readFileSync(CORE_WASM_PATH), fs.readFileSync(luaWasmPath()));
  return compiled;
}

export interface NodeLuaProcessOptions {
  /** Output of every thread goes here instead of the process's fds 1 and 2 (threads.ts newCapture). */
  capture?: SharedArrayBuffer;
}

/** Starts `lua args...` (argv[0] first) with its threads on workers. */
export async function startNodeLuaProcess(args: string[], opts: NodeLuaProcessOptions = {}): Promise<LuaProcess> {
  const modules = await luaModules();
  return startLuaProcess({
    modules, args, capture: opts.capture, job: LUA_THREAD_JOB,
    createRuntime: (o) => createRuntime(o),
    instantiateHost: (memory, imports) => instantiateLua(modules, memory, {
      placement: { kind: 'main' }, imports, wasi: { args: args.slice(0, 1), stdout() {}, stderr() {} },
    }),
  });
}
