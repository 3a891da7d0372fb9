// The job module of every thread of a pthread-layer program under Node
// (process.ts): the host's stdio and files as WASI.
import type { ThreadContext } from '../../../host/worker.js';
import { nodeWasiOptions } from '../../lua/host/node-wasi.js';
import { runPosixThreadJob } from './thread-job.js';

export default (ctx: ThreadContext): Promise<number> => runPosixThreadJob(ctx, nodeWasiOptions);
