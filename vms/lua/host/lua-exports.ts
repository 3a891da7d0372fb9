// lua.wasm's exports, as the host's files call them (loader.ts instantiates
// the module; fork.ts and threads.ts call into it).
import type { CModuleExports } from '../../../host/embed-link.js';

/** lua.wasm's exports (docs/LUA.md, "Module exports"). */
export interface LuaExports extends CModuleExports {
  memory?: never;
  __tls_align: WebAssembly.Global;
  __data_end: WebAssembly.Global;
  /** The process entry: constructors, lua.c's main with the WASI arguments, exit(). Main thread only. */
  lwtc_command(): void;
  lwtc_main_tls(): number;
  lwtc_main_tls_size(): number;
  /** A thread area (stack + TLS) from malloc; 0 when out of memory. Call under the interpreter lock. */
  lwtc_area_new(stackSize: number): number;
  lwtc_area_free(area: number): void;
  /** The area's TLS block and stack top. */
  lwtc_area_tls(area: number): number;
  lwtc_area_stack_top(area: number): number;
  [name: string]: unknown;
}
