// A worker thread of the WASI test: its own WASI object and its own instance
// of core.wasi.wasm (started through WASI), then one of the test's roles.
import { WASI } from 'node:wasi';
import { parentPort, threadId, workerData } from 'node:worker_threads';

const { module, memory, role, iters } = workerData as {
  module: WebAssembly.Module; memory: WebAssembly.Memory; role: 'clock' | 'attached'; iters: number;
};
const QUIT = 0; // word 0 of a host-owned SharedArrayBuffer in workerData.control
const control = new Int32Array((workerData as { control: SharedArrayBuffer }).control);

const wasi = new WASI({ version: 'preview1' });
const instance = new WebAssembly.Instance(module, { env: { memory }, wasi_snapshot_preview1: wasi.wasiImport });
wasi.start(instance);
const core = instance.exports as Record<string, (...a: number[]) => number>;

if (role === 'clock') {
  // successive readings on one thread while another thread reads too
  let prev = core.clock_ms();
  let negatives = 0;
  let worst = 0;
  for (let i = 0; i < iters; i++) {
    const t = core.clock_ms();
    if (t < prev) { negatives++; worst = Math.min(worst, t - prev); }
    prev = t;
  }
  parentPort!.postMessage({ type: 'done', negatives, worst });
} else {
  // attached and never polling: a stop must time out on it
  const h = core.register(threadId);
  const r = core.attach(h);
  parentPort!.postMessage({ type: 'attached', h, r });
  while (Atomics.load(control, QUIT) === 0) { /* busy, no safe point */ }
  core.detach(h);
  core.unregister(h);
  parentPort!.postMessage({ type: 'done' });
}
