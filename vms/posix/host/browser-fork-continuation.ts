// The child of wtp_fork and fork() in a browser page: the fork subsystem's
// continuation module for an in-page child (a worker over a fresh copy of the
// memory; fork-child.ts does the work). A warm child fetches and compiles the
// program while it waits in the pool; its threads run the job module the
// parent's run, with the parent's output log and files (prepareData, process.ts).
import { posixForkContinuation } from './fork-child.js';
import { fetchModule } from './page-fetch.js';

const continuation = posixForkContinuation(fetchModule, new URL('./browser-job.js', import.meta.url));

export const prepare = continuation.prepare;
export const afterForkChild = continuation.afterForkChild;
export default continuation.resume;
