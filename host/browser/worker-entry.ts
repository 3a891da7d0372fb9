// Browser worker entry: the first message carries WorkerInit and the id the
// adapter assigned; the job runs as under Node; then the worker says it is
// exiting (a Worker has no exit event) and closes.
import { runWorker } from '../worker.js';
import { EXIT_MESSAGE, firstMessage, type BrowserWorkerStart } from './platform.js';
import type { WorkerInit } from '../platform.js';

const { init, threadId } = await firstMessage<BrowserWorkerStart<WorkerInit>>();
try {
  await runWorker(init, threadId, (m) => self.postMessage(m));
} finally {
  // the adapter terminates us on this message: Firefox may drop a message
  // posted right before close()
  self.postMessage({ type: EXIT_MESSAGE, code: 0 });
}
