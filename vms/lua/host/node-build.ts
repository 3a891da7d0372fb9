// Which lua.wasm a Node process runs. The default build forks from Lua code at
// any depth but not under a C function's callback; the fork-anywhere build
// (scripts/build-lua.mjs, through scripts/asyncify-fork.mjs) forks there too
// and runs Lua code slower (docs/LUA.md "fork"). WASM_THREADS_LUA_FORK=anywhere
// picks it; fork children inherit the environment, so they load the same one.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable that picks the build. */
export const LUA_FORK_ENV = 'WASM_THREADS_LUA_FORK';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../build');

/** build/lua.wasm, or build/lua-fork-anywhere.wasm when WASM_THREADS_LUA_FORK=anywhere. */
export function luaWasmPath(env: Record<string, string | undefined> = process.env): string {
  const choice = env[LUA_FORK_ENV];
  if (choice !== undefined && choice !== '' && choice !== 'anywhere' && choice !== 'default') {
    throw new RangeError(`${LUA_FORK_ENV}=${choice}: expected "anywhere" or "default"`);
  }
  return path.join(BUILD, choice === 'anywhere' ? 'lua-fork-anywhere.wasm' : 'lua.wasm');
}

/** Lua's interpreter loop: one call runs a script's whole main chunk (host/node/engine.ts, vmEngineUse). */
export const LUA_LOOP = 'luaV_execute';

/** build/core.wasm. */
export const CORE_WASM_PATH = path.join(BUILD, 'core.wasm');
