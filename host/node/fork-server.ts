// The Node fork server: a worker thread, not registered in the core, whose
// event loop is always free, running the fork-server core (host/fork/server.ts)
// with Node's two kinds of child. 'process' isolation: a child is an OS
// process (host/node/fork-child.ts) that receives its snapshot as a file on
// tmpfs (or over IPC) and reports its exit status through a pipe as its
// program ends. 'thread' isolation: a child is a worker thread of this server
// with its own memory (the same entry), reading the snapshot from the staging
// area of the control block, as a browser's in-page child does. Forking
// threads reach this server through the control block (host/fork/protocol.ts).
import { fork as forkProcess, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker, workerData } from 'node:worker_threads';
import { FORK_E_SPAWN, PAGE, controlWords, serverGone } from '../fork/protocol.js';
import { H, HEADER_WORDS, bodyLayout } from '../fork/snapshot.js';
import { createForkServer } from '../fork/server.js';
import { ChildFailure, type ChildLink, type ServerPlatform } from '../fork/carrier.js';
import type { ChildEvent } from '../fork/child.js';
import type { ForkServerInit } from '../platform.js';
import { compileLinked } from '../modules.js';
import { nodePlatform } from './platform.js';
import { STATUS_FD, statusIn } from './fork-status.js';
import { compileWasm } from '../compile.js';

const init = workerData as ForkServerInit;
const ctl = controlWords(init.control);
const CHILD_ENTRY = new URL('./fork-child.js', import.meta.url);
// tmpfs when there is one: the snapshot never touches a disk
const TMP_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const SIGKILLED = 128 + osConstants.signals.SIGKILL;
const thread = init.child.isolation === 'thread';

let tmpDir: string | undefined;
// One snapshot file per carrier, written over in place at each of its
// hand-offs: tmpfs allocates a new file's pages as it is written, and a page
// first touched costs a fault (on a VM a trip to the host: a new file per
// fork was ~3 ms per MiB of snapshot). Only its carrier reads it, and only
// while it restores, before the next hand-off to it; it goes with the carrier.
const files = new Map<ChildLink, { path: string; fd: number; size: number }>();
let fileNames = 0;

function dropFile(link: ChildLink): void {
  const f = files.get(link);
  if (!f) return;
  files.delete(link);
  closeSync(f.fd);
  try {
    unlinkSync(f.path);
  } catch { /* the directory went with the server */ }
}

// The arguments a pooled child warms up with: everything but the snapshot.
const warmArgs = () => ({ pages: init.memory.buffer.byteLength / PAGE, maximumPages: init.maximumPages, config: init.child });

function processChild(event: (e: ChildEvent) => void, gone: (status: number) => void, broken: boolean): ChildLink {
  const execPath = broken ? '/nonexistent/wasm-threads-node' : init.execPath ?? process.execPath;
  const proc: ChildProcess = forkProcess(CHILD_ENTRY, [JSON.stringify(warmArgs())], {
    serialization: 'advanced',
    // the child's output goes where the parent's does; fd 4 carries its exit status
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
    // the parent's tiering (host/node/engine.ts): a child compiles its modules before any request
    execArgv: init.execArgv ?? [],
    execPath,
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const link: ChildLink = {
    get osPid() { return proc.pid; },
    send: (m) => proc.send(m as never),
    kill: () => { if (alive() && proc.pid !== undefined) proc.kill('SIGKILL'); },
    dismiss: () => { if (proc.connected) proc.disconnect(); },
  };
  proc.on('exit', (code, signal) => {
    dropFile(link);
    gone(code ?? 128 + (signal ? osConstants.signals[signal] ?? 0 : 0));
  });
  proc.on('error', () => { if (proc.pid === undefined) gone(-1); }); // spawn failure: no exit event follows
  proc.on('message', (m: ChildEvent) => event(m));
  let text = '';
  proc.stdio[STATUS_FD]?.on('data', (b: Buffer) => {
    text += b.toString();
    const code = statusIn(text);
    if (code !== undefined) event({ type: 'exit', code });
  });
  proc.stdio[STATUS_FD]?.on('error', () => {});
  return link;
}

// 'thread': the core and linked modules are compiled once here and shared with every child.
const shared = thread
  ? (async () => {
    const build = init.child.wasm === 'release' || init.child.wasm === 'debug' ? init.child.wasm : new URL(init.child.wasm);
    const bytes = await nodePlatform.loadWasm(build);
    // compiled whole here, not function by function on the children's fork paths
    setFlagsFromString('--no-wasm-lazy-compilation');
    try {
      return { module: await compileWasm(bytes), linkedModules: await compileLinked(nodePlatform, build, init.child.linked) };
    } finally {
      setFlagsFromString('--wasm-lazy-compilation');
    }
  })()
  : undefined;
const compiled = shared ? await shared : undefined;

function threadChild(event: (e: ChildEvent) => void, gone: (status: number) => void, broken: boolean): ChildLink {
  let w: Worker;
  try {
    w = new Worker(broken ? new URL('./no-such-fork-child.js', import.meta.url) : CHILD_ENTRY, {
      workerData: { ...warmArgs(), ...compiled, control: init.control },
    });
  } catch {
    queueMicrotask(() => gone(-1));
    return { send() {}, kill() {}, dismiss() {} };
  }
  // a worker whose entry never loaded (it errs before its first word) was not started
  let heard = false;
  let failed = false;
  w.on('message', (m: ChildEvent) => {
    heard = true;
    event(m);
  });
  w.on('error', () => { failed = true; });
  // a worker group ended by kill reports as a process killed by SIGKILL would (docs/FORK.md, "Exit statuses")
  let killed = false;
  w.on('exit', (code) => gone(!heard && failed ? -1 : killed ? SIGKILLED : code));
  return {
    send: (m) => w.postMessage(m),
    kill: () => { killed = true; void w.terminate(); },
    dismiss: () => void w.terminate(),
  };
}

const platform: ServerPlatform = {
  spawn: thread ? threadChild : processChild,
  async handoff(bytes, link) {
    if (thread) return { message: {} }; // the child reads the staging area itself
    const hdr = new Int32Array(bytes.buffer, bytes.byteOffset, HEADER_WORDS);
    const pagesAt = bodyLayout(hdr[H.PAGES], hdr[H.OPTIONS_LEN]).pagesAt;
    if (init.child.transfer !== 'file') {
      return { message: { pagesAt, snapshot: bytes.buffer instanceof SharedArrayBuffer ? bytes.slice() : bytes } }; // IPC cannot carry shared memory
    }
    tmpDir ??= await mkdtemp(join(TMP_ROOT, 'wasm-fork-'));
    let f = files.get(link);
    if (!f) {
      const path = join(tmpDir, `${++fileNames}.snap`);
      f = { path, fd: openSync(path, 'w'), size: 0 };
      files.set(link, f);
    }
    // synchronous: a tmpfs write is a memory copy, cheaper than a trip through the thread pool
    if (writeSync(f.fd, bytes, 0, bytes.byteLength, 0) !== bytes.byteLength) throw new ChildFailure(FORK_E_SPAWN, 'short snapshot write');
    // the child takes the file's size for the snapshot's
    if (f.size > bytes.byteLength) ftruncateSync(f.fd, bytes.byteLength);
    f.size = bytes.byteLength;
    return { message: { pagesAt, path: f.path } };
  },
  exit: (code) => process.exit(code),
  readyTimeoutMs: 30_000,
  readyAttempts: 1,
  parallelWarmups: true,
};

const server = createForkServer(init, platform);

// Any death of this thread fails the request in flight at once and leaves no
// child behind: every child is ended, and running ones are recorded as killed
// (no one would be left to record their exit), so a waitpid for them returns.
process.on('exit', () => {
  serverGone(ctl, 'the fork server exited');
  server.killAll(SIGKILLED);
  for (const link of [...files.keys()]) dropFile(link);
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
});
process.on('uncaughtException', (e) => {
  serverGone(ctl, `the fork server failed: ${e instanceof Error ? e.message : String(e)}`);
  // the children's exits are reaped before the thread goes (an abrupt exit leaves zombies until the process ends)
  void Promise.race([server.killAll(SIGKILLED), new Promise((r) => setTimeout(r, 2000))]).then(() => process.exit(1));
});

// Keep this thread's event loop alive between requests.
setInterval(() => {}, 1 << 30);
await server.run();
