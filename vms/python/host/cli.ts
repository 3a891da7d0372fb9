#!/usr/bin/env node
// wasm-threads-python: the `python3.11` command (CPython's own main) on
// build/python.wasm and the core, under Node. Options, sys.argv, exit
// statuses and tracebacks are CPython's. The interpreter's threads run on
// workers (this thread only starts the process and relays its status).
// Only light modules are imported up front: run as a command, the worker of
// CPython's main() starts first and boots while the host is imported
// (host/node/prestart.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON_FORK_REFUSAL, PYTHON_LOOP, pythonWasmPath } from './node-build.js';
import { POSIX_NODE_JOB } from '../../posix/host/node-job.js';
import { prestartWorker } from '../../../host/node/prestart.js';

/** The package root: dist/vms/python/host/cli.js is four levels below it. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * argv[0] of the interpreter: a command in the standard library's tree (build/python-lib/bin/python3.11, written by
 * the build). CPython's getpath finds its prefix (lib/python3.11/os.py) from it and makes it sys.executable, so a
 * program that runs sys.executable runs this command again.
 */
export const PYTHON_EXECUTABLE = path.join(PACKAGE_ROOT, 'build', 'python-lib', 'bin', 'python3.11');

/**
 * Runs the command and resolves to its exit status: build/python.wasm (or the fork build, node-build.ts) is CPython on
 * the pthread layer (docs/PYTHON.md "Threads"), a layer process whose main() and every thread are runtime jobs on
 * workers of their own.
 */
export async function main(args: string[]): Promise<number> {
  const build = path.join(PACKAGE_ROOT, 'build');
  const wasm = pythonWasmPath();
  for (const f of [path.join(build, 'core.wasm'), wasm]) {
    if (!fs.existsSync(f)) {
      const { writeStdio } = await import('../../lua/host/node-wasi.js');
      writeStdio(2, new TextEncoder().encode(`wasm-threads-python: ${f} is missing: run \`npm run build:python\`\n`));
      return 1;
    }
  }
  // the fork build is chosen to fork: a warm child makes the first fork a hand-off instead of a Node start
  const forkPool = wasm === pythonWasmPath({}) ? 0 : 1;
  const { startNodePosixProcess } = await import('../../posix/host/node-process.js');
  // A thread whose worker dies may hold the GIL: the process ends (docs/PYTHON.md "Threads").
  return (await startNodePosixProcess(wasm, [PYTHON_EXECUTABLE, ...args], {
    endOnWorkerDeath: true, forkRefusal: PYTHON_FORK_REFUSAL, forkPool,
    // sys.executable in a subprocess: this Python again, on this Node
    nodeScripts: [PYTHON_EXECUTABLE],
  })).status;
}

/**
 * The command: `process.argv` from its third word is CPython's command line; the exit status becomes the process's.
 * Run when this file is the program, and by the standard library's bin/python3.11 (scripts/build-python.mjs).
 */
export async function runCommand(): Promise<void> {
  prestartWorker(POSIX_NODE_JOB);
  // before any compile: the one activation of the eval loop that runs a whole program keeps the code it started with
  // (docs/PYTHON.md, "Performance"); through applyEngineFlags, so a fork child's flags are the same
  const { applyEngineFlags, vmEngineUse } = await import('../../../host/node/engine.js');
  const wasm = pythonWasmPath();
  applyEngineFlags(fs.existsSync(wasm) ? vmEngineUse(fs.readFileSync(wasm), PYTHON_LOOP) : 'vm');
  process.exitCode = await main(process.argv.slice(2));
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await runCommand();
