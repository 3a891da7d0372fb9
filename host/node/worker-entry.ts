// Node worker entry: wires worker_threads to the platform-neutral worker.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { runWorker } from '../worker.js';
import type { WorkerInit } from '../platform.js';
import { UnsupportedError } from '../errors.js';

if (!parentPort) throw new UnsupportedError('worker-entry must run in a worker thread');
const port = parentPort;
await runWorker(workerData as WorkerInit, threadId, (m) => port.postMessage(m));
