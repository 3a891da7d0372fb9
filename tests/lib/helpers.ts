// Shared helpers of the Node suites: runtimes over the selected core build,
// jobs, progress, child processes. Every wait has a deadline (./deadline.ts),
// so a hang fails the test instead of stalling the suite.
import { createRuntime as createNodeRuntime, type Runtime, type RuntimeOptions } from '../../host/node/index.js';
import { instantiateCore, createSharedMemory, type CoreExports } from '../../host/core.js';
import { handleIndex, userWordAddr } from '../../host/layout.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { waitFor } from './deadline.js';
import * as assert from 'uvu/assert';
import { ForkError } from '../../host/errors.js';

export { waitFor, within } from './deadline.js';

const TEST_JOBS = new URL('../jobs/', import.meta.url);
const SHARED_JOBS = new URL('../../scripts/jobs/', import.meta.url);
/** A job module: a test-only one in tests/jobs, or one the scripts share in scripts/jobs (a name is in one of them). */
export function job(name: string): URL {
  const found = [TEST_JOBS, SHARED_JOBS].map((dir) => new URL(`${name}.js`, dir)).filter((u) => existsSync(u));
  if (found.length !== 1) throw new Error(`job ${name}: ${found.length ? 'in both tests/jobs and scripts/jobs' : 'in neither tests/jobs nor scripts/jobs'}`);
  return found[0];
}

/**
 * The core build the suites run against: WTC_CORE_BUILD=debug selects build/core.debug.wasm (asserts on), which
 * tests/debug-build.test.ts does for the state-machine, stop-the-world and seqlock suites.
 */
export const CORE_BUILD: 'release' | 'debug' = process.env.WTC_CORE_BUILD === 'debug' ? 'debug' : 'release';
export const CORE_WASM = new URL(CORE_BUILD === 'debug' ? '../../../build/core.debug.wasm' : '../../../build/core.wasm', import.meta.url);

/** createRuntime over the selected core build. */
export function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return createNodeRuntime({ wasm: CORE_BUILD, linked: ['interp', 'diag'], ...options });
}

let wasmBytes: Buffer | undefined;
/** A bare core instance over a fresh memory (no runtime), for single-threaded tests. */
export async function bareCore(): Promise<{ core: CoreExports; memory: WebAssembly.Memory; i32: Int32Array }> {
  wasmBytes ??= await readFile(CORE_WASM);
  const module = await WebAssembly.compile(new Uint8Array(wasmBytes));
  const memory = createSharedMemory();
  const core = await instantiateCore(module, memory);
  return { core, memory, i32: new Int32Array(memory.buffer) };
}

export function progressOf(rt: Runtime, index: number): number {
  return Atomics.load(new Int32Array(rt.memory.buffer), userWordAddr(index, 0) >> 2) >>> 0;
}

export function workerIndexes(rt: Runtime): number[] {
  return rt.workers.map((w) => handleIndex(w.handle));
}

/** A runtime with `n` workers spinning in Wasm (polling unless noPoll), each seen making progress. */
export async function spinningRuntime(n: number, opts: RuntimeOptions = {}, data?: unknown): Promise<Runtime> {
  const rt = await createRuntime({ capacity: 16, ...opts, threads: n, job: job('spin'), jobData: data });
  const idx = workerIndexes(rt);
  const start = idx.map((i) => progressOf(rt, i));
  await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== start[k]), 10_000, 'workers to spin');
  return rt;
}

/** Ends diagnostic loops and closes the runtime. */
export async function shutdown(rt: Runtime): Promise<void> {
  Atomics.store(new Int32Array(rt.memory.buffer), D_QUIT >> 2, 1);
  await rt.close(5000);
}

/**
 * Live child processes of this process (the fork server spawns them), but ps
 * itself. Zombies are left out: a child killed by a fork server that then
 * exits abruptly cannot be reaped by Node until this process ends.
 */
export function childProcesses(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/))
    .filter(([p, st, c]) => Number(p) > 0 && c !== 'ps' && !st.startsWith('Z')).map(([p]) => Number(p));
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Awaits `p` and asserts it failed with a ForkError (or subclass) of `code`. */
export async function expectForkError(p: () => unknown, code: string, what: string): Promise<void> {
  let err: unknown;
  try {
    await p();
  } catch (e) {
    err = e;
  }
  assert.instance(err, ForkError, `${what}: ${String(err)}`);
  assert.is((err as ForkError).code, code, `${what}: ${(err as Error).message}`);
}

/** What `fn` threw or rejected with, or undefined when it succeeded. */
export async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
