// The job of every Lua thread in a browser page (threads.ts): the
// platform-neutral thread job with the page's WASI.
import type { ThreadContext } from '../../../host/worker.js';
import { runLuaThreadJob } from './thread-job.js';
import { browserWasiOptions } from './browser-wasi.js';

export default (ctx: ThreadContext): Promise<number> => runLuaThreadJob(ctx, browserWasiOptions);
