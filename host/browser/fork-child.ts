// A browser fork child: a Worker that is the main thread of an in-page
// process. Warm: it holds the shared Module, allocates its memory and imports
// its continuation while it waits in the pool. On 'go' it copies the parent's
// memory (the parent's world is stopped meanwhile), checks the copy, runs
// after_fork_child, the continuation's child hook, acknowledges, then runs the
// continuation with result 0. Exit statuses as under Node: the continuation's
// result (a number) or 0; 65 for a bad copy; 70 for a failing continuation.
import { Runtime } from '../runtime.js';
import { ABI_VERSION, H_ABI } from '../layout.js';
import { CTL_BYTES, CTL_CHECKSUM, CTL_COPIED, CTL_MEM_CHECKSUM, CTL_STATE, PAGE, checksum32 } from '../fork-bridge.js';
import { CLOSE_MESSAGE, HELLO_MESSAGE, PORT_MESSAGE, ProcessExit, browserPlatform, firstMessage } from './platform.js';
import type { ForkChildOptions } from '../platform.js';

export interface ChildWarm {
  type: 'warm'; module: WebAssembly.Module; pages: number; maximumPages: number; continuation: string;
  /** The parent's memory and its fork control block: the child copies the memory itself. */
  parent: WebAssembly.Memory; control: SharedArrayBuffer;
}
export interface ChildGo { type: 'go'; handle: number; options: ForkChildOptions & { data: unknown; verify: boolean }; fault: string }
export type ChildEvent =
  | { type: 'ready' }
  | { type: 'ack' }
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

// The copy, while the forking thread holds the parent's world stopped; then
// CTL_COPIED lets the parent's world run again.
function copyParent(m: ChildGo): void {
  const ctl = new Int32Array(warm.control);
  const src = new Uint8Array(warm.parent.buffer);
  if (memory.buffer.byteLength < src.byteLength) memory.grow((src.byteLength - memory.buffer.byteLength) / PAGE);
  new Uint8Array(memory.buffer, 0, src.byteLength).set(src);
  Atomics.store(ctl, CTL_BYTES, src.byteLength);
  Atomics.store(ctl, CTL_CHECKSUM, 0);
  if (m.options.verify) Atomics.store(ctl, CTL_MEM_CHECKSUM, checksum32(new Uint32Array(memory.buffer, 0, src.byteLength >> 2)) | 0);
  if (m.fault === 'abi' || m.fault === 'corrupt' || m.fault === 'truncate') new Uint32Array(memory.buffer, H_ABI, 1)[0] ^= 0x5a5a;
  Atomics.store(ctl, CTL_COPIED, 1);
  Atomics.notify(ctl, CTL_STATE);
}

async function run(m: ChildGo): Promise<void> {
  if (m.fault === 'die-before-ack') exit(99);
  copyParent(m);
  const abi = new Uint32Array(memory.buffer, H_ABI, 1)[0];
  if (abi !== ABI_VERSION) {
    send({ type: 'error', message: `snapshot ABI ${abi}, this core is ABI ${ABI_VERSION}` });
    exit(EXIT_BAD_SNAPSHOT);
  }
  const options = m.options;
  const restoredChecksum = options.verify ? checksum32(new Uint32Array(memory.buffer)) : undefined;
  const platform = browserPlatform({ canBlock: true, exit });
  const rt = await Runtime.adoptForkChild(platform, warm.module, memory, m.handle, options);
  const fn = cont[options.exportName ?? 'default'];
  if (typeof fn !== 'function') throw new TypeError(`${options.continuation} exports no function ${options.exportName ?? 'default'}`);
  const ctx = { runtime: rt, thread: rt.main, result: 0, data: options.data, restoredChecksum };
  if (typeof cont.afterForkChild === 'function') await cont.afterForkChild(ctx);
  send({ type: 'ack' });
  const code = await fn(ctx);
  await rt.exit(typeof code === 'number' ? code : 0);
}
