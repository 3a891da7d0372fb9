// A command's first job worker, started before the command imports the host
// (docs/EMBEDDING.md, "The worker pool"). A Node worker takes about 100 ms to boot an
// isolate and import the host's worker side, and a command's first job (its
// main(): all of `wasm-threads-lua -e ''`) would wait for that after the
// command's own imports and compiles. Started first, its boot overlaps them:
// the first job worker any runtime of this process starts is this one, given
// its WorkerInit by message (worker-entry.ts). Only a command calls
// prestartWorker, as its first statement: importing this file starts nothing.
import { Worker } from 'node:worker_threads';

/** The entry of every job worker. */
export const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);

/** A prestarted worker's workerData: it imports `preload` (a job module) while it waits for its WorkerInit. */
export interface PrestartData { prestart: true; preload?: string }

let prestarted: { worker: Worker; exited: boolean } | undefined;

/** Starts this process's first job worker now; `preload`: the job module its first job will run. */
export function prestartWorker(preload?: URL): void {
  if (prestarted) return;
  const data: PrestartData = { prestart: true, ...(preload ? { preload: preload.href } : {}) };
  const worker = new Worker(WORKER_ENTRY, { workerData: data });
  // until a runtime takes it, it keeps nothing alive: a command that ends first (--help, a missing build) exits
  worker.unref();
  const p = { worker, exited: false };
  worker.once('exit', () => { p.exited = true; });
  // an error before a runtime takes it ends it (exit above): the runtime then starts a worker of its own
  worker.on('error', () => {});
  prestarted = p;
}

/** The prestarted worker, to the first caller, while it runs. */
export function takePrestartedWorker(): Worker | undefined {
  const p = prestarted;
  prestarted = undefined;
  return p && !p.exited ? p.worker : undefined;
}
