// A Node fork child, either kind. 'process' isolation: this is an OS process
// the fork server started (argv[2]: what to warm up with); it receives its
// snapshot as a file (or over IPC) and reports its exit status on a pipe
// as its program ends, before the process is torn down. 'thread' isolation:
// this is a worker thread of the fork server (workerData), with its own
// memory, reading its snapshot from the staging area of the fork control
// block. Either way host/fork/child.ts does the work: everything but the
// snapshot's before the request, then read, check, after_fork_child, ack, run.
// A recycled carrier reports a child's status over IPC (or its port) instead
// and serves the next child; the pipe carries the status of the last one.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { nodePlatform } from './platform.js';
import { CTL_SNAPSHOT_BYTES, controlWords, stagingView, type ForkControl } from '../fork/protocol.js';
import { SnapshotError, readFromBuffer } from '../fork/snapshot.js';
import { prepareChild, type ChildEvent } from '../fork/child.js';
import { EXIT_FAILED, EXIT_REJECTED } from '../fork/status.js';
import { reportStatus } from './fork-status.js';
import { CarrierState } from './child-reuse.js';
import { Runtime } from '../runtime.js';
import type { ForkChildOptions, Platform } from '../platform.js';
import { compileLinked, type LinkedModules } from '../modules.js';
import { trace } from '../fork/trace.js';
import { compileWasm } from '../compile.js';
import { ParentCaller, isReply } from '../fork/parent-calls.js';


interface WarmArgs {
  pages: number; maximumPages: number; config: ForkChildOptions;
  // 'thread': shared by the server
  module?: WebAssembly.Module; linkedModules?: LinkedModules; control?: ForkControl;
}
interface Go { config: ForkChildOptions; pid: number; path?: string; pagesAt?: number; snapshot?: Uint8Array }

/** How long a carrier waits for the workers of its child's threads to exit or go idle before it gives up recycling. */
const WORKERS_SETTLE_MS = 2000;

const args = (isMainThread ? JSON.parse(process.argv[2] ?? '{}') : workerData) as WarmArgs;
const send: (m: ChildEvent) => Promise<void> = isMainThread
  ? (m) => new Promise<void>((resolve) => process.send!(m, () => resolve()))
  : async (m) => parentPort!.postMessage(m);

// The status goes out as the program ends, whichever way it ends (a return,
// rt.exit, process.exit, an uncaught error); output is flushed by then (Node
// writes files and pipes synchronously on POSIX). A kill has no 'exit' event:
// the server takes the status from the end of the process then.
let handedOver = false;
process.on('exit', (code) => {
  if (!handedOver) return;
  if (isMainThread) reportStatus(code); // false: the server is gone, nobody waits
  else parentPort!.postMessage({ type: 'exit', code } satisfies ChildEvent);
});

// The link to the server carries the hand-off ('go') and the replies to the
// child's calls to its parent's side (host/fork/parent-calls.ts), told apart
// by type: a reply is never taken for the next 'go'.
const link = isMainThread ? process : parentPort!;
// The link (a process's IPC channel, a thread's port) keeps the carrier alive
// while it waits for its next 'go' or a call waits for its reply, and only
// then: while its child runs, its program's threads do.
let waitingForGo = true;
let callsPending = false;
const holdChannel = (): void => {
  const hold = waitingForGo || callsPending;
  if (!isMainThread) {
    if (hold) parentPort!.ref();
    else parentPort!.unref();
  } else if (hold) process.channel?.ref();
  else process.channel?.unref();
};
const caller = new ParentCaller(args.config.parentService, (m) => {
  if (!isMainThread) {
    parentPort!.postMessage(m);
    return true;
  }
  if (!process.connected) return false;
  process.send!(m);
  return true;
}, (pending) => {
  callsPending = pending;
  holdChannel();
});
let nextGo: ((m: Go) => void) | undefined;
link.on('message', (m: unknown) => {
  if (isReply(m)) caller.reply(m);
  else nextGo?.(m as Go);
});
// 'thread': the server's end of the port closed (the server is gone)
if (!isMainThread) parentPort!.on('close', () => caller.gone('the fork server is gone'));

// A pooled child whose server let it go (or went away) has nothing to do;
// a running one's calls to its parent's side fail from now on.
if (isMainThread) {
  process.on('disconnect', () => {
    caller.gone('the IPC channel to the fork server is closed');
    if (!handedOver) process.exit(0);
  });
}

// Compiled whole before the request: lazily, each core function's first call
// in the child (after_fork_child first) would compile it on the fork's path.
if (isMainThread) setFlagsFromString('--no-wasm-lazy-compilation');
// In a worker, process.exit ends this thread only: the child's exit.
const platform: Platform = nodePlatform;
const build = args.config.wasm === 'release' || args.config.wasm === 'debug' ? args.config.wasm : new URL(args.config.wasm);
const module = args.module ?? (await compileWasm(await nodePlatform.loadWasm(build)));
const linkedModules = args.linkedModules ?? (await compileLinked(nodePlatform, build, args.config.linked));
const state = new CarrierState();
let session = await prepareChild({
  prepareRuntime: Runtime.prepareForkChild, platform, module, linkedModules, pages: args.pages, maximumPages: args.maximumPages, config: args.config,
});

// One child after another (docs/FORK.md, "Recycled children"): a child whose
// continuation module exports `recycle`, and whose program ends leaving
// nothing behind, hands this process or worker back to the server, which
// gets its status and then this carrier's next 'ready'. Anything else ends
// the carrier with the child, as it always did.
for (;;) {
  if (isMainThread && !process.connected) process.exit(0);
  const go = new Promise<Go>((resolve) => { nextGo = resolve; });
  await send({ type: 'ready' });
  const m = await go;
  nextGo = undefined;
  trace('C', 'go', m.pid);
  handedOver = true;
  try {
    if (m.path) readFile(m.path, m.pagesAt!);
    else {
      let snap = m.snapshot ?? staged();
      if (snap.byteOffset % 4 !== 0) snap = snap.slice(); // word views need alignment
      session.restore(snap, snap.byteLength, readFromBuffer(snap));
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`fork child: ${message}`);
    await send({ type: 'error', message });
    handedOver = false; // never acknowledged: no pid, no status to report
    process.exit(EXIT_REJECTED);
  }
  trace('C', 'restored');
  const recyclable = session.recyclable;
  // nothing but the next 'go' and replies come over IPC: the channel must not keep the process alive while the
  // child runs, but for a call waiting for its reply
  const keepChannel = recyclable || args.config.parentService !== undefined;
  waitingForGo = false;
  // a thread child's port always; a process child's channel when it stays after the ack
  if (keepChannel || !isMainThread) holdChannel();
  const before = state.baseline();
  // the child's idle workers wait for the next child over this memory instead of ending with its runtime
  if (recyclable) platform.holdWorkers?.(session.memory, true);
  let code: number;
  try {
    const ran = await session.run(async (ack) => {
      await send({ type: 'ack', ...ack });
      // a child that may call its parent's side keeps its channel for the replies (referenced only while one is awaited)
      if (isMainThread && !keepChannel) process.disconnect();
    }, m.pid, caller);
    code = ran.code;
    trace('C', 'ran');
    if (!recyclable) await ran.runtime.exit(code);
    await ran.runtime.close();
    await session.release();
    trace('C', 'closed');
  } catch (e) {
    console.error(`fork child: continuation failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(EXIT_FAILED);
  }
  // The threads the child started were joined or terminated by close: a terminated one's worker exits, a joined one's
  // is idle, its program's instance dropped with its job; the pool keeps a few for the next child (hold). One still
  // running a job would carry this child's thread into the next: the carrier ends with the child instead.
  const workersSettled = (await platform.workersSettled?.(session.memory, WORKERS_SETTLE_MS)) ?? true;
  if ((isMainThread && !process.connected) || !workersSettled || state.leftBehind(before) !== undefined) process.exit(code);
  // the status first: nothing of this child runs any more, what follows is for the next one
  trace('C', 'exit', code);
  const reported = send({ type: 'exit', code, recycled: true });
  handedOver = false;
  const envChanged = state.restore();
  await reported;
  waitingForGo = true;
  holdChannel();
  // The workers kept for the next child end instead when the child changed the environment (a worker started since
  // has a copy of the child's), before the next child's first worker is warmed, or when the memory is new (the child
  // grew its own: their core instance is over the old one).
  const memory = session.memory;
  if (envChanged) platform.holdWorkers?.(memory, false);
  session = await session.next();
  if (session.memory !== memory) platform.holdWorkers?.(memory, false);
  trace('C', 'ready');
}

// Reads the snapshot file: the header and meta into a small buffer, the pages straight into the memory.
function readFile(path: string, pagesAt: number): void {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    if (pagesAt > total) throw new SnapshotError(`snapshot truncated (${total} bytes)`);
    const head = new Uint8Array(pagesAt);
    if (readSync(fd, head, 0, pagesAt, 0) !== pagesAt) throw new SnapshotError('snapshot truncated (meta)');
    session.restore(head, total, (into, at) => {
      if (readSync(fd, into, 0, into.byteLength, at) !== into.byteLength) throw new SnapshotError('snapshot truncated (pages)');
    });
  } finally {
    closeSync(fd);
  }
}

// 'thread': the snapshot as the forking thread sealed it in the staging area
// (only this child reads it until the request is finished).
function staged(): Uint8Array {
  const ctl = controlWords(args.control!);
  return stagingView(args.control!).subarray(0, Atomics.load(ctl, CTL_SNAPSHOT_BYTES));
}
