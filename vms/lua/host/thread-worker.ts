// The job module of every Lua thread under Node (node-build.ts LUA_THREAD_JOB): the
// host's stdio and files as WASI.
import type { ThreadContext } from '../../../host/worker.js';
import { nodeWasiOptions } from './node-wasi.js';
import { runLuaThreadJob } from './thread-job.js';

export default (ctx: ThreadContext): Promise<number> => runLuaThreadJob(ctx, nodeWasiOptions);
