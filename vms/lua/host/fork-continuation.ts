// The child of os.fork under Node: the fork subsystem's continuation module
// (host/fork). It is imported while a pooled child waits, so lua.wasm is
// compiled before any fork; then, over the restored copy of the memory, the
// after-fork hook rebuilds the forking thread's instance — its stack pointer
// fresh at the top of its stack (no VM frame was live at the fork), its TLS
// block as it was (__tls_base set; __wasm_init_tls would reset it), its core
// handle and the GIL its own — and the continuation resumes the forking
// coroutine with 0 (lfork.c's lwtc_fork_child) and exits with its status.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import { instantiateLuaOn, type LuaThread } from './loader.js';
import { nodeWasiOptions } from './node-wasi.js';
import { WasiExit } from './wasi.js';
import { adoptForkedThread, type LuaForkData } from './fork.js';

interface Ctx { runtime: Runtime; thread: RegisteredThread; data: LuaForkData }

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../build');
const luaModule = await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'lua.wasm')));

let child: LuaThread | undefined;

export async function afterForkChild({ runtime, thread, data }: Ctx): Promise<void> {
  const { args } = data.process as { args: string[] };
  child = await adoptForkedThread(runtime, thread, data, (imports) => instantiateLuaOn(luaModule, thread.core, runtime.memory, {
    placement: { kind: 'adopt', stackPointer: data.stackTop, tlsBase: data.tlsBase },
    wasi: nodeWasiOptions(args),
    imports,
  }), { lwtc_spawn: () => -1 });
}

export default function resume({ data }: Ctx): number {
  try {
    (child!.lua.lwtc_fork_child as (co: number, from: number) => number)(data.co, data.from);
    return 0;
  } catch (e) {
    if (e instanceof WasiExit) return e.code;
    throw e;
  }
}
