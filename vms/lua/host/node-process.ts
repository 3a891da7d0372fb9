// A threaded Lua process under Node: build/core.wasm and build/lua.wasm, the
// Node runtime, lua.c's main as a job (threads.ts). Composition only.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../../../host/node/index.js';
import { compileLua, instantiateLua, type LuaModules } from './loader.js';
import { startLuaProcess, type LuaProcess } from './threads.js';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../build');

let compiled: Promise<LuaModules> | undefined;
/** build/core.wasm + build/lua.wasm, compiled once per process. */
export function luaModules(): Promise<LuaModules> {
  compiled ??= compileLua(fs.readFileSync(path.join(BUILD, 'core.wasm')), fs.readFileSync(path.join(BUILD, 'lua.wasm')));
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
    modules, args, capture: opts.capture,
    createRuntime: (o) => createRuntime(o),
    instantiateHost: (memory, imports) => instantiateLua(modules, memory, {
      placement: { kind: 'main' }, imports, wasi: { args: args.slice(0, 1), stdout() {}, stderr() {} },
    }),
  });
}
