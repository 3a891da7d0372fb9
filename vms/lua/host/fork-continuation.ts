// The child of os.fork under Node: the fork subsystem's continuation module
// (fork-child.ts does the work). A pooled child imports it while it waits, so
// lua.wasm is compiled before any fork: the parent's build (node-build.ts).
import fs from 'node:fs';
import { nodeWasiOptions } from './node-wasi.js';
import { luaForkContinuation } from './fork-child.js';
import { luaWasmPath } from './node-build.js';
import { compileWasm } from '../../../host/compile.js';

const continuation = luaForkContinuation(await compileWasm(fs.readFileSync(luaWasmPath())), nodeWasiOptions);

export const prepare = continuation.prepare;
export const afterForkChild = continuation.afterForkChild;
// A carrier may run one child after another (docs/FORK.md, "Recycled children"): nothing of a child outlives recycle.
export const recycle = continuation.recycle;
export default continuation.resume;
