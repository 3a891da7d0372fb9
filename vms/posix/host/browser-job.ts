// The job of every thread of a pthread-layer program in a browser page
// (process.ts): the platform-neutral thread job with the page's WASI (no
// files; output on the page's channel unless the process captures it).
import type { ThreadContext } from '../../../host/worker.js';
import { browserWasiOptions } from '../../lua/host/browser-wasi.js';
import { runPosixThreadJob } from './thread-job.js';

export default (ctx: ThreadContext): Promise<number> => runPosixThreadJob(ctx, browserWasiOptions);
