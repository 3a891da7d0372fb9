// A fork child: while it waits in the pool it compiles the core, warms the
// instantiation and the codec, loads the continuation and sizes a shared
// memory like its parent's. Then it receives a snapshot, reads the live pages
// straight into that memory, checks them, and continues as the forking
// thread: after-fork-child, the continuation's child hook, acknowledge, then
// the continuation itself.
//
// Exit statuses: the continuation's result (a number 0…255) or 0; 65 for a
// snapshot that fails validation; 70 for a failing continuation; 128 + n when
// killed by signal n (as waitpid reports it).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { nodePlatform } from './platform.js';
import { Runtime } from '../runtime.js';
import { createSharedMemory, instantiateCore } from '../core.js';
import { PAGE } from '../fork/protocol.js';
import {
  SnapshotError, checksum32, encodeSnapshot, decodeSnapshot, memoryChecksum, pageIsZero, readHead, verifyPages, type SnapshotInfo,
} from '../fork/snapshot.js';
import type { ForkChildOptions } from '../platform.js';
import { compileLinked } from '../modules.js';
import { ForkError } from '../errors.js';

const EXIT_BAD_SNAPSHOT = 65;
const EXIT_CONTINUATION_FAILED = 70;

interface SnapshotMessage {
  type: 'snapshot';
  snapshot?: Uint8Array;
  path?: string;
  pagesAt: number;
  fault: string;
  config: ForkChildOptions;
}

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

// A pooled child whose parent went away has nothing to do (also while it warms up).
let started = false;
process.on('disconnect', () => { if (!started) process.exit(0); });

const { wasm, continuation, pages, maximumPages } = JSON.parse(process.argv[2] ?? '{}') as
  { wasm?: string; continuation?: string; pages?: number; maximumPages?: number };
const build = wasm === 'release' || wasm === 'debug' ? wasm : wasm ? new URL(wasm) : 'release';
// interp.wasm and diag.wasm are compiled while the child waits in the pool, like the core.
const linkedModules = await compileLinked(nodePlatform, build);
const module = await WebAssembly.compile(await nodePlatform.loadWasm(build));
// Everything a fresh process would do cold after the snapshot arrives is done
// here: the first instantiation (where V8 finishes compiling), the codec, the
// continuation's import, and the memory the snapshot will be read into.
{
  const scratch = createSharedMemory(4, 4);
  await instantiateCore(module, scratch);
  const { restore } = decodeSnapshot(encodeSnapshot(scratch.buffer, 4, 0, '{}'));
  restore(new ArrayBuffer(scratch.buffer.byteLength));
  // the page checksum and the zero scan run hot right after the snapshot
  // arrives: get them optimised now (a few MiB of work, while nobody waits)
  const page = new Int32Array(scratch.buffer, 0, PAGE / 4);
  for (let i = 0; i < 64; i++) checksum32(page, i);
  for (let i = 0; i < 64; i++) pageIsZero(new Int32Array(scratch.buffer), i & 3);
  if (continuation) await import(continuation);
}
const spare = pages && maximumPages ? new WebAssembly.Memory({ initial: pages, maximum: maximumPages, shared: true }) : undefined;
// The core is instantiated over that memory now, not after the restore. Its
// data segments dirty a few pages; a page the snapshot leaves out (zero in
// the parent) is zeroed again after the restore.
const spareCore = spare ? await instantiateCore(module, spare) : undefined;
const spareDirty: number[] = [];
if (spare) {
  const words = new Int32Array(spare.buffer);
  for (let p = 0; p < spare.buffer.byteLength / PAGE; p++) if (!pageIsZero(words, p)) spareDirty.push(p);
}
let spareUsed = false;
if (!process.connected) process.exit(0);

process.once('message', (m: SnapshotMessage) => {
  started = true;
  void run(m).catch((e) => {
    console.error(`fork child: continuation failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(EXIT_CONTINUATION_FAILED);
  });
});
await send({ type: 'ready' });

function memoryFor(info: SnapshotInfo): WebAssembly.Memory {
  const want = info.memoryBytes / PAGE;
  if (spare && spare.buffer.byteLength <= info.memoryBytes && info.maximumPages === maximumPages) {
    const have = spare.buffer.byteLength / PAGE;
    if (want > have) spare.grow(want - have);
    spareUsed = true;
    return spare;
  }
  return new WebAssembly.Memory({ initial: want, maximum: info.maximumPages, shared: true });
}

// Reads the snapshot file: the header and meta into a small buffer, the pages straight into the memory.
function readFromFile(path: string, pagesAt: number): { info: SnapshotInfo; memory: WebAssembly.Memory } {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    if (pagesAt > total) throw new SnapshotError(`snapshot truncated (${total} bytes)`);
    const head = new Uint8Array(pagesAt);
    if (readSync(fd, head, 0, pagesAt, 0) !== pagesAt) throw new SnapshotError('snapshot truncated (meta)');
    const info = readHead(head, total);
    const memory = memoryFor(info);
    const n = info.pages.length;
    for (let k = 0; k < n; ) {
      let run = 1;
      while (k + run < n && info.pages[k + run] === info.pages[k] + run) run++;
      const len = run * PAGE;
      const got = readSync(fd, new Uint8Array(memory.buffer, info.pages[k] * PAGE, len), 0, len, info.pagesAt + k * PAGE);
      if (got !== len) throw new SnapshotError('snapshot truncated (pages)');
      k += run;
    }
    verifyPages(head, info, memory.buffer);
    return { info, memory };
  } finally {
    closeSync(fd);
  }
}

function readFromMessage(bytes: Uint8Array): { info: SnapshotInfo; memory: WebAssembly.Memory } {
  if (bytes.byteOffset % 4 !== 0) bytes = new Uint8Array(bytes); // word views need alignment
  const info = readHead(bytes, bytes.byteLength);
  const memory = memoryFor(info);
  const dst = new Uint8Array(memory.buffer);
  for (let k = 0; k < info.pages.length; k++) dst.set(bytes.subarray(info.pagesAt + k * PAGE, info.pagesAt + (k + 1) * PAGE), info.pages[k] * PAGE);
  verifyPages(bytes, info, memory.buffer);
  return { info, memory };
}

async function run(m: SnapshotMessage): Promise<void> {
  if (m.fault === 'die-before-ack') process.exit(99);
  const t0 = performance.now();
  let got: { info: SnapshotInfo; memory: WebAssembly.Memory };
  try {
    got = m.path ? readFromFile(m.path, m.pagesAt) : readFromMessage(m.snapshot!);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`fork child: ${message}`);
    await send({ type: 'error', message });
    process.exit(EXIT_BAD_SNAPSHOT);
  }
  const { info, memory } = got;
  if (spareUsed) {
    const live = new Set(info.pages);
    const bytes = new Uint8Array(memory.buffer);
    for (const p of spareDirty) if (!live.has(p)) bytes.fill(0, p * PAGE, (p + 1) * PAGE);
  }
  const t1 = performance.now();
  const flags = JSON.parse(info.options) as { data: unknown; verify: boolean };
  const restoredChecksum = flags.verify ? memoryChecksum(memory.buffer) : undefined;
  const rt = await Runtime.adoptForkChild(nodePlatform, module, memory, info.handle, m.config, info.maximumPages, spareUsed ? spareCore : undefined, linkedModules);
  const cont = (await import(m.config.continuation)) as Record<string, unknown>;
  const fn = cont[m.config.exportName ?? 'default'];
  if (typeof fn !== 'function') throw new ForkError('E_FORK', `${m.config.continuation} exports no function ${m.config.exportName ?? 'default'}`);
  const ctx = { runtime: rt, thread: rt.main, result: 0, data: flags.data, restoredChecksum };
  if (typeof cont.afterForkChild === 'function') await cont.afterForkChild(ctx);
  const t2 = performance.now();
  await send({ type: 'ack', readUs: Math.round((t1 - t0) * 1000), restoreUs: Math.round((t2 - t1) * 1000) });
  process.disconnect();
  const code = await fn(ctx);
  await rt.exit(typeof code === 'number' ? code : 0);
}
