// A worker thread of the C embedder test: its own core instance and its own
// instance of the C module (own stack and TLS), then the C worker loop.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { instantiateEmbedder, type EmbedPlan } from '../../host/embed-link.js';

const { coreModule, cModule, memory, plan, area } = workerData as {
  coreModule: WebAssembly.Module; cModule: WebAssembly.Module; memory: WebAssembly.Memory; plan: EmbedPlan; area: number;
};
const core = new WebAssembly.Instance(coreModule, { env: { memory, now_ms: () => performance.now() } }).exports;
const c = instantiateEmbedder(cModule, core, memory, plan, area).exports as {
  embed_worker(tid: number): number; embed_self(): number;
};
parentPort!.postMessage({ type: 'ready' });
const result = c.embed_worker(threadId);
parentPort!.postMessage({ type: 'done', result, self: c.embed_self() });
