// The child of os.fork in a browser page: the fork subsystem's continuation
// module for an in-page child (a worker over a fresh copy of the memory;
// fork-child.ts does the work). lua.wasm is compiled while the child waits in
// the pool; the child's output goes to the page like its parent's.
import { browserWasiOptions } from './browser-wasi.js';
import { luaForkContinuation } from './fork-child.js';

const continuation = luaForkContinuation(
  await WebAssembly.compileStreaming(fetch(new URL('../../../../build/lua.wasm', import.meta.url))), browserWasiOptions);

export const prepare = continuation.prepare;
export const afterForkChild = continuation.afterForkChild;
export default continuation.resume;
