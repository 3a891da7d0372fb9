// Browser worker entry: the first message carries WorkerInit and the id the
// adapter assigned; the job runs as under Node; then the worker says it is
// exiting (a Worker has no exit event) and closes.
import { messageQueue, servePool } from '../worker-pool.js';
import { exitWhenHeard, firstMessage, hostLink, type BrowserWorkerStart } from './platform.js';
import type { WorkerInit } from '../platform.js';

const { init, threadId } = await firstMessage<BrowserWorkerStart<WorkerInit>>();
// Queued from the start: the pool's next job may arrive before this worker asks for it.
const queue = messageQueue();
hostLink().addEventListener('message', (e) => queue.push(e.data));
try {
  await servePool(init, threadId, (m) => hostLink().postMessage(m), queue.next);
} finally {
  exitWhenHeard(0);
}
