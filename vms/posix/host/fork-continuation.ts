// The child of wtp_fork under Node: the fork subsystem's continuation module
// (fork-child.ts does the work).
import fs from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { posixForkContinuation } from './fork-child.js';
import { POSIX_NODE_JOB } from './node-job.js';
import { nodeSpawner } from './node-spawn.js';
import { compileWasm } from '../../../host/compile.js';

// A child compiles each function of the program when it first runs it: compiled whole with TurboFan (the tiering a
// parent passes on: --no-liftoff), a module of megabytes (CPython's fork build) takes tens of seconds first.
setFlagsFromString('--wasm-lazy-compilation');

// a child starts processes as its parent does, on the same Node (node-spawn.ts)
const continuation = posixForkContinuation(async (url) => compileWasm(fs.readFileSync(new URL(url))), POSIX_NODE_JOB, nodeSpawner);

export const prepare = continuation.prepare;
export const afterForkChild = continuation.afterForkChild;
// A carrier may run one child after another (docs/FORK.md, "Recycled children"): nothing of a child outlives recycle.
export const recycle = continuation.recycle;
export default continuation.resume;
