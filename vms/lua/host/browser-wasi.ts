// A Lua thread's WASI in a browser: no files, no environment; fds 1 and 2 go
// to the page over a BroadcastChannel, from every worker of the process and of
// its in-page fork children alike (a child's output goes where its parent's does).
import type { WasiOptions } from '../../wasi/wasi.js';

/** The channel every Lua thread and fork child of this origin writes its output to. */
export const LUA_OUTPUT_CHANNEL = 'wasm-threads-lua:output';

/** One write: the bytes a thread wrote to fd 1 or 2. */
export interface LuaOutputMessage { fd: 1 | 2; bytes: Uint8Array }

let channel: BroadcastChannel | undefined;

export function browserWasiOptions(args: string[]): WasiOptions {
  channel ??= new BroadcastChannel(LUA_OUTPUT_CHANNEL);
  const out = (fd: 1 | 2) => (bytes: Uint8Array) => channel!.postMessage({ fd, bytes: bytes.slice() } satisfies LuaOutputMessage);
  return {
    args, env: {}, stdout: out(1), stderr: out(2),
    // A root with no file system behind it: paths reach the shim, which fails an empty one with ENOENT as
    // Linux does and any other with ENOSYS (a page has no files), instead of wasi-libc's "no preopen" ENOTCAPABLE.
    preopens: { '/': '/' },
    cpuTimeNs: () => BigInt(Math.round(performance.now() * 1e6)),
  };
}
