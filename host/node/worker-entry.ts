// Node worker entry: wires worker_threads to the platform-neutral worker.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { messageQueue, servePool } from '../worker-pool.js';
import type { WorkerInit } from '../platform.js';
import { UnsupportedError } from '../errors.js';
import { jobResidue } from './residue.js';
import type { PrestartData } from './prestart.js';

if (!parentPort) throw new UnsupportedError('worker-entry must run in a worker thread');
const port = parentPort;
// Queued from the start: the pool's next job may arrive before this worker asks for it.
const queue = messageQueue();
const listener = (m: unknown): void => queue.push(m);
port.on('message', listener);
const first = await firstInit(workerData as WorkerInit | PrestartData);
const spent = await servePool(first, threadId, (m) => port.postMessage(m), queue.next, jobResidue);
// what the last job left running would keep this worker alive: it ends once the pool has its 'done' and retires it
if (spent) {
  await queue.next();
  process.exit(0);
}
port.off('message', listener); // nothing keeps the worker: it ends

/** A prestarted worker (prestart.ts) imports its job module meanwhile and gets its init as the first message. */
async function firstInit(data: WorkerInit | PrestartData): Promise<WorkerInit> {
  if (!('prestart' in data)) return data;
  // a failure shows when the job imports it again
  if (data.preload) import(data.preload).catch(() => {});
  const init = await queue.next();
  if (!init || typeof init !== 'object' || !('memory' in init)) throw new UnsupportedError('a prestarted worker\'s first message is its WorkerInit');
  return init as WorkerInit;
}
