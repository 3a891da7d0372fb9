// The child of wtp_fork under Node: the fork subsystem's continuation module
// (fork-child.ts does the work).
import fs from 'node:fs';
import { nodeWasiOptions } from '../../lua/host/node-wasi.js';
import { posixForkContinuation } from './fork-child.js';

const continuation = posixForkContinuation(async (url) => WebAssembly.compile(fs.readFileSync(new URL(url))), nodeWasiOptions);

export const afterForkChild = continuation.afterForkChild;
export default continuation.resume;
