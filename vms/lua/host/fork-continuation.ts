// The child of os.fork under Node: the fork subsystem's continuation module
// (fork-child.ts does the work). A pooled child imports it while it waits, so
// lua.wasm is compiled before any fork.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeWasiOptions } from './node-wasi.js';
import { luaForkContinuation } from './fork-child.js';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../build');
const continuation = luaForkContinuation(await WebAssembly.compile(fs.readFileSync(path.join(BUILD, 'lua.wasm'))), nodeWasiOptions);

export const afterForkChild = continuation.afterForkChild;
export default continuation.resume;
