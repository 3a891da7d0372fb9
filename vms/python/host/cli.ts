#!/usr/bin/env node
// wasm-threads-python: the `python3.11` command (CPython's own main) on
// build/python.wasm and the core, under Node. Options, sys.argv, exit
// statuses and tracebacks are CPython's. The interpreter runs on a worker
// (its own stack size; this thread only starts it and relays its status).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { applyEngineFlags } from '../../../host/node/index.js';
import { nodeWasiOptions, writeStdio } from '../../lua/host/node-wasi.js';
import { compilePython, createPythonMemory, instantiatePython, runCommand } from './loader.js';
import { PYTHON_FORK_REFUSAL, pythonThreadsWasmPath } from './node-build.js';

/** The package root: dist/vms/python/host/cli.js is four levels below it. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * argv[0] of the interpreter: a command in the standard library's tree (build/python-lib/bin/python3.11, written by
 * the build). CPython's getpath finds its prefix (lib/python3.11/os.py) from it and makes it sys.executable, so a
 * program that runs sys.executable runs this command again.
 */
export const PYTHON_EXECUTABLE = path.join(PACKAGE_ROOT, 'build', 'python-lib', 'bin', 'python3.11');

/**
 * V8's flags for the interpreter (docs/PYTHON.md, "Performance"): Wasm has no on-stack replacement, so the one
 * activation of the eval loop that runs a whole program keeps the code it started with; Liftoff code there costs
 * half the speed. TurboFan only, compiled lazily on a function's first call so that start-up compiles only the
 * functions start-up runs. Set before any module is compiled.
 */
export const V8_FLAGS = ['--no-liftoff', '--wasm-lazy-compilation'];

/** The interpreter thread's V8 stack: deep C recursion (the parser, repr of nested containers) needs more than the default. */
const STACK_MB = 16;

/** Runs the command on this thread with `args` (the arguments after argv[0]) and returns its exit status. */
export async function runPython(args: string[]): Promise<number> {
  const build = path.join(PACKAGE_ROOT, 'build');
  for (const f of ['core.wasm', 'python.wasm']) {
    if (!fs.existsSync(path.join(build, f))) {
      writeStdio(2, new TextEncoder().encode(`wasm-threads-python: ${path.join(build, f)} is missing: run \`npm run build:python\`\n`));
      return 1;
    }
  }
  const modules = await compilePython(fs.readFileSync(path.join(build, 'core.wasm')), fs.readFileSync(path.join(build, 'python.wasm')));
  const wasi = nodeWasiOptions([PYTHON_EXECUTABLE, ...args]);
  const thread = await instantiatePython(modules, createPythonMemory(), wasi);
  return runCommand(thread, wasi.stderr);
}

/**
 * CPython on the pthread layer (`PYTHON_THREADS=1 npm run build:python`, docs/PYTHON.md "Threads"): when it is built,
 * the command runs it as a layer process, main() and every thread a runtime job on a worker of its own.
 */
export const PYTHON_THREADS_WASM = path.join(PACKAGE_ROOT, 'build', 'python-threads.wasm');

/** Starts the interpreter on a worker and resolves to its exit status. */
export async function main(args: string[]): Promise<number> {
  if (fs.existsSync(PYTHON_THREADS_WASM)) {
    const wasm = pythonThreadsWasmPath();
    if (!fs.existsSync(wasm)) {
      writeStdio(2, new TextEncoder().encode(`wasm-threads-python: ${wasm} is missing: run \`PYTHON_THREADS=1 npm run build:python\`\n`));
      return 1;
    }
    const { startNodePosixProcess } = await import('../../posix/host/node-process.js');
    // the fork build is chosen to fork: a warm child makes each fork a hand-off instead of a Node start
    const forkPool = wasm.endsWith('-fork.wasm') ? 1 : 0;
    return (await startNodePosixProcess(wasm, [PYTHON_EXECUTABLE, ...args], { forkRefusal: PYTHON_FORK_REFUSAL, forkPool })).status;
  }
  return new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { args }, resourceLimits: { stackSizeMb: STACK_MB } });
    let status: number | undefined;
    w.on('message', (m: number) => { status = m; });
    w.on('error', (e) => {
      writeStdio(2, new TextEncoder().encode(`wasm-threads-python: ${e instanceof Error ? e.message : String(e)}\n`));
      status ??= 134;
    });
    w.on('exit', () => resolve(status ?? 134));
  });
}

if (!isMainThread && workerData?.args) {
  parentPort!.postMessage(await runPython(workerData.args as string[]));
} else if (isMainThread && process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // the engine's own needs first (the runtime checks they were applied, and fork children start with them)
  applyEngineFlags();
  v8.setFlagsFromString(V8_FLAGS.join(' '));
  process.exitCode = await main(process.argv.slice(2));
}
