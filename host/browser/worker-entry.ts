// Browser worker entry: the first message carries WorkerInit and the id the
// adapter assigned; the job runs as under Node; then the worker says it is
// exiting (a Worker has no exit event) and closes.
import { runWorker } from '../worker.js';
import { exitWhenHeard, firstMessage, type BrowserWorkerStart } from './platform.js';
import type { WorkerInit } from '../platform.js';

const { init, threadId } = await firstMessage<BrowserWorkerStart<WorkerInit>>();
try {
  await runWorker(init, threadId, (m) => self.postMessage(m));
} finally {
  exitWhenHeard(0);
}
