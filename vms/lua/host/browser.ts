// A Lua process in a browser page: build/core.wasm and build/lua.wasm fetched
// and compiled once, the page's runtime (host/browser) with in-page fork, every
// Lua thread a worker job (browser-job.ts). The page's main thread never runs
// Lua and never blocks; output arrives on LUA_OUTPUT_CHANNEL.
import { createRuntime } from '../../../host/browser/index.js';
import { compileLua, instantiateLua, type LuaModules } from './loader.js';
import { startLuaProcess, type LuaProcess } from './threads.js';
import { luaForkConfig } from './fork.js';
import { LUA_OUTPUT_CHANNEL, type LuaOutputMessage } from './browser-wasi.js';

export { LUA_OUTPUT_CHANNEL, type LuaOutputMessage } from './browser-wasi.js';

const BUILD = new URL('../../../../build/', import.meta.url);
let compiled: Promise<LuaModules> | undefined;

/** core.wasm + lua.wasm, fetched and compiled once per page. */
export function browserLuaModules(): Promise<LuaModules> {
  compiled ??= (async () => {
    const [core, lua] = await Promise.all(['core.wasm', 'lua.wasm'].map(async (f) => {
      const r = await fetch(new URL(f, BUILD));
      if (!r.ok) throw new Error(`${f}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    }));
    return compileLua(core, lua);
  })();
  return compiled;
}

/** Runs `lua args…` (e.g. ['lua', '-e', source]) in this page; `status` settles with its exit status. */
export async function startBrowserLuaProcess(args: string[], opts: { pool?: number } = {}): Promise<LuaProcess> {
  const modules = await browserLuaModules();
  const fork = luaForkConfig({ continuation: new URL('./browser-fork-continuation.js', import.meta.url), pool: opts.pool });
  return startLuaProcess({
    modules, args, job: new URL('./browser-job.js', import.meta.url), fork, createRuntime,
    instantiateHost: (memory, imports) => instantiateLua(modules, memory, {
      placement: { kind: 'main' }, wasi: { args, env: {}, stdout: () => {}, stderr: () => {} }, imports,
    }),
  });
}

/** Calls `onText` with every write of any Lua process of this origin (and of its fork children). */
export function listenLuaOutput(onText: (text: string, fd: 1 | 2) => void): () => void {
  const ch = new BroadcastChannel(LUA_OUTPUT_CHANNEL);
  const dec = new TextDecoder();
  ch.onmessage = (e: MessageEvent<LuaOutputMessage>) => onText(dec.decode(e.data.bytes), e.data.fd);
  return () => ch.close();
}
