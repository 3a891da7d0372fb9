// A Lua process in a browser page: build/lua.wasm as a program on the pthread
// layer (vms/posix/host/browser.ts: the page's runtime with in-page fork,
// every Lua thread a worker job). The page's main thread never runs Lua and
// never blocks; output arrives on LUA_OUTPUT_CHANNEL.
import { startBrowserPosixProcess } from '../../posix/host/browser.js';
import type { LuaExports } from './lua-exports.js';
import type { LuaProcess } from './threads.js';
import { LUA_OUTPUT_CHANNEL, type LuaOutputMessage } from './browser-wasi.js';

export { LUA_OUTPUT_CHANNEL, type LuaOutputMessage } from './browser-wasi.js';

const LUA_WASM = new URL('../../../../build/lua.wasm', import.meta.url);

/** Runs `lua args…` (e.g. ['lua', '-e', source]) in this page; `status` settles with its exit status. */
export async function startBrowserLuaProcess(args: string[], opts: { pool?: number } = {}): Promise<LuaProcess> {
  const p = await startBrowserPosixProcess(LUA_WASM, args, { forkPool: opts.pool ?? 1 });
  return { rt: p.rt, host: { lua: p.host as LuaExports }, status: p.status, kill: p.kill };
}

/** Calls `onText` with every write of any Lua process of this origin (and of its fork children). */
export function listenLuaOutput(onText: (text: string, fd: 1 | 2) => void): () => void {
  const ch = new BroadcastChannel(LUA_OUTPUT_CHANNEL);
  const dec = new TextDecoder();
  ch.onmessage = (e: MessageEvent<LuaOutputMessage>) => onText(dec.decode(e.data.bytes), e.data.fd);
  return () => ch.close();
}
