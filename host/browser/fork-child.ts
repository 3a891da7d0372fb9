// A browser fork child: a Worker that is the main thread of an in-page
// process. Warm: it holds the shared Modules, allocates its memory and imports
// its continuation while it waits in the pool. On 'go' it reads the sealed
// snapshot straight from the staging area of the fork control block (the
// parent's world already runs again), checks it, runs after_fork_child, the
// continuation's child hook, acknowledges, then runs the continuation with
// result 0. Exit statuses as under Node: the continuation's result (a number)
// or 0; 65 for a snapshot that fails validation; 70 for a failing continuation.
import { Runtime } from '../runtime.js';
import { CTL_SNAPSHOT_BYTES, PAGE, STAGING_BYTE, stagingView } from '../fork/protocol.js';
import { H, HEADER_WORDS, memoryChecksum, readHead, verifyPages, type SnapshotInfo } from '../fork/snapshot.js';
import type { LinkedModules } from '../modules.js';
import { CLOSE_MESSAGE, HELLO_MESSAGE, PORT_MESSAGE, ProcessExit, browserPlatform, firstMessage } from './platform.js';
import type { ForkChildOptions } from '../platform.js';

export interface ChildWarm {
  type: 'warm'; module: WebAssembly.Module; modules: LinkedModules; pages: number; maximumPages: number; continuation: string;
  /** The fork control block: the child reads the snapshot from its staging area. */
  control: SharedArrayBuffer;
}
export interface ChildGo { type: 'go'; config: ForkChildOptions; fault: string }
export type ChildEvent =
  | { type: 'ready' }
  | { type: 'ack'; readUs?: number; restoreUs?: number }
  | { type: 'error'; message: string }
  | { type: 'exit'; code: number };

const EXIT_BAD_SNAPSHOT = 65;
const EXIT_CONTINUATION_FAILED = 70;

// The server is reached through `self` (a nested worker of the server) or
// through a port the owner handed over (a child the owner created for it).
interface Link {
  postMessage(m: unknown): void;
  addEventListener(type: 'message', cb: (e: MessageEvent) => void, opts?: AddEventListenerOptions): void;
}
const first = await firstMessage<ChildWarm | { type: typeof PORT_MESSAGE; port: MessagePort }>();
let link: Link = self as unknown as Link;
let warm: ChildWarm;
if (first.type === PORT_MESSAGE) {
  const port = first.port;
  port.start();
  link = port;
  const w = new Promise<ChildWarm>((resolve) => port.addEventListener('message', (e) => resolve(e.data as ChildWarm), { once: true }));
  port.postMessage({ type: HELLO_MESSAGE });
  warm = await w;
} else {
  warm = first;
}

const send = (m: ChildEvent) => link.postMessage(m);
// The server answers the exit message with CLOSE_MESSAGE, on which this
// worker closes itself (ending its nested workers too).
function exit(code: number): never {
  send({ type: 'exit', code });
  throw new ProcessExit(code);
}
link.addEventListener('message', (e) => {
  if ((e.data as { type?: string })?.type === CLOSE_MESSAGE) self.close();
});

const go = new Promise<ChildGo>((resolve) => link.addEventListener('message', (e) => resolve(e.data as ChildGo), { once: true }));
const memory = new WebAssembly.Memory({ initial: warm.pages, maximum: warm.maximumPages, shared: true });
const cont = (await import(warm.continuation)) as Record<string, unknown>;
send({ type: 'ready' });

const m = await go;
try {
  await run(m);
} catch (e) {
  if (!(e instanceof ProcessExit)) {
    console.error(`fork child: continuation failed: ${e instanceof Error ? e.stack : String(e)}`);
    exit(EXIT_CONTINUATION_FAILED);
  }
}

// The snapshot as the forking thread sealed it in the staging area; a fault
// of the corrupting kind works on a private copy.
function snapshotBytes(fault: string): Uint8Array {
  const ctl = new Int32Array(warm.control, 0, STAGING_BYTE / 4);
  let snap = stagingView(warm.control).subarray(0, Atomics.load(ctl, CTL_SNAPSHOT_BYTES));
  if (fault === 'corrupt' || fault === 'truncate' || fault === 'abi') {
    snap = snap.slice();
    if (fault === 'corrupt') snap[snap.byteLength - 1] ^= 0xff;
    if (fault === 'truncate') snap = snap.subarray(0, snap.byteLength - 4096);
    if (fault === 'abi') new Uint32Array(snap.buffer, 0, HEADER_WORDS)[H.ABI] += 1;
  }
  return snap;
}

// Reads the live pages into this child's memory (grown to the parent's size).
function restore(snap: Uint8Array): SnapshotInfo {
  const info = readHead(snap, snap.byteLength);
  if (info.maximumPages !== warm.maximumPages) throw new Error(`snapshot of a memory of ${info.maximumPages} pages at most, this child has ${warm.maximumPages}`);
  const have = memory.buffer.byteLength;
  if (info.memoryBytes > have) memory.grow((info.memoryBytes - have) / PAGE);
  const dst = new Uint8Array(memory.buffer);
  for (let k = 0; k < info.pages.length; k++) dst.set(snap.subarray(info.pagesAt + k * PAGE, info.pagesAt + (k + 1) * PAGE), info.pages[k] * PAGE);
  verifyPages(snap, info, memory.buffer);
  return info;
}

async function run(m: ChildGo): Promise<void> {
  if (m.fault === 'die-before-ack') exit(99);
  const t0 = performance.now();
  let info: SnapshotInfo;
  try {
    info = restore(snapshotBytes(m.fault));
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    exit(EXIT_BAD_SNAPSHOT);
  }
  const t1 = performance.now();
  const flags = JSON.parse(info.options) as { data: unknown; verify: boolean };
  const restoredChecksum = flags.verify ? memoryChecksum(memory.buffer) : undefined;
  const options = m.config;
  const platform = browserPlatform({ canBlock: true, exit });
  const rt = await Runtime.adoptForkChild(platform, warm.module, memory, info.handle, options, info.maximumPages, undefined, warm.modules);
  const fn = cont[options.exportName ?? 'default'];
  if (typeof fn !== 'function') throw new TypeError(`${options.continuation} exports no function ${options.exportName ?? 'default'}`);
  const ctx = { runtime: rt, thread: rt.main, result: 0, data: flags.data, restoredChecksum };
  if (typeof cont.afterForkChild === 'function') await cont.afterForkChild(ctx);
  const t2 = performance.now();
  send({ type: 'ack', readUs: Math.round((t1 - t0) * 1000), restoreUs: Math.round((t2 - t1) * 1000) });
  const code = await fn(ctx);
  await rt.exit(typeof code === 'number' ? code : 0);
}
