// Node worker entry: wires worker_threads to the platform-neutral worker.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { messageQueue, servePool } from '../worker-pool.js';
import type { WorkerInit } from '../platform.js';
import { UnsupportedError } from '../errors.js';

if (!parentPort) throw new UnsupportedError('worker-entry must run in a worker thread');
const port = parentPort;
// Queued from the start: the pool's next job may arrive before this worker asks for it.
const queue = messageQueue();
const listener = (m: unknown): void => queue.push(m);
port.on('message', listener);
await servePool(workerData as WorkerInit, threadId, (m) => port.postMessage(m), queue.next);
port.off('message', listener); // nothing keeps the worker: it ends
