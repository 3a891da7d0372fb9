// A pthread-layer program under Node: build/core.wasm, the program's module,
// the Node runtime, main() as a job (process.ts). Composition only.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRuntime, type ForkIsolation } from '../../../host/node/index.js';
import { startPosixProcess, type PosixProcess } from './process.js';
import { compileWasm } from '../../../host/compile.js';
import { POSIX_NODE_JOB } from './node-job.js';
import { nodeSpawner } from './node-spawn.js';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../build');

let core: Promise<WebAssembly.Module> | undefined;

export interface NodePosixProcessOptions {
  /** Output of every thread goes here instead of the process's fds 1 and 2 (capture.ts newCapture). */
  capture?: SharedArrayBuffer;
  env?: Record<string, string>;
  /** process.ts PosixProcessOptions.endOnWorkerDeath. */
  endOnWorkerDeath?: boolean;
  /** What a fork() the module cannot make says besides why (where the build that can is). */
  forkRefusal?: string;
  /** Warm fork children kept ready (default 0: most programs never fork; a program that forks often wants 1). */
  forkPool?: number;
  /** Where fork children run (ForkConfig.isolation; default 'process': an OS process each). */
  forkIsolation?: ForkIsolation;
  /** Node programs of the VM's own that a posix_spawn starts on this process's Node (node-spawn.ts nodeSpawner). */
  nodeScripts?: string[];
}

/** Starts the program in `wasmFile` with `args` (argv[0] first), its threads on workers. */
export async function startNodePosixProcess(wasmFile: string, args: string[], opts: NodePosixProcessOptions = {}): Promise<PosixProcess> {
  core ??= compileWasm(fs.readFileSync(path.join(BUILD, 'core.wasm')));
  const program = await compileWasm(fs.readFileSync(wasmFile));
  return startPosixProcess({
    core: await core, program, args, env: opts.env, capture: opts.capture, endOnWorkerDeath: opts.endOnWorkerDeath,
    createRuntime: (o) => createRuntime(o),
    job: POSIX_NODE_JOB,
    // a child compiles the program named in the fork's data
    fork: { continuation: new URL('./fork-continuation.js', import.meta.url), pool: opts.forkPool ?? 0, ...(opts.forkIsolation ? { isolation: opts.forkIsolation } : {}) },
    programUrl: pathToFileURL(path.resolve(wasmFile)).href,
    forkRefusal: opts.forkRefusal,
    spawner: nodeSpawner(opts.nodeScripts),
    nodeScripts: opts.nodeScripts,
  });
}
