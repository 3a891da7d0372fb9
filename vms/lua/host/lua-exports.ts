// lua.wasm's exports, as the host's files call them: a program on the pthread
// layer (its exports, vms/posix/host/process.ts) plus Lua's own (gil.c).
import type { PosixExports } from '../../posix/host/process.js';

/** lua.wasm's exports (docs/LUA.md, "Module exports"). */
export interface LuaExports extends PosixExports {
  memory?: never;
  __tls_align: WebAssembly.Global;
  __data_end: WebAssembly.Global;
  /** The process entry (the layer's): constructors, lua.c's main with the WASI arguments, exit(). */
  wtp_command(): void;
  /** Before a stop-the-world (on = 1) and after it (on = 0): every Lua thread hooks each instruction meanwhile. */
  lwtc_interrupt(handle: number, on: number): number;
  /** The GIL's figures (scripts/bench-lua-threads.ts). */
  lwtc_gil_switches(): number;
  lwtc_gil_latency_count(): number;
  lwtc_gil_latencies(): number;
}
