// The Node fork server: a worker thread, not registered in the core, whose
// event loop is always free. It owns the warm pool of child processes and the
// process table; forking threads reach it through the control block
// (host/fork/protocol.ts states the protocol). By the time a request arrives
// the world runs again: the forking thread has already copied the snapshot
// into the staging area, and only it waits for this hand-off.
import { fork as forkProcess, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, unlink } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import {
  CTL_ACK_TIMEOUT_MS, CTL_FAULT, CTL_POOL_READY, CTL_SERVER, CTL_SNAPSHOT_BYTES, CTL_T_COLD,
  FORK_E_ACK_TIMEOUT, FORK_E_CHILD_DIED, FORK_E_SNAPSHOT, FORK_E_SPAWN, FORK_E_TABLE_FULL, PAGE, PROC_ENTRIES,
  SERVER_READY, STAGING_BYTE, procClaim, procExited, procRelease, serverGone, stagingView, recordHandoff,
  serveRequests,
} from '../fork/protocol.js';
import { FORK_FAULTS } from '../fork/request.js';
import { H, HEADER_WORDS, bodyLayout } from '../fork/snapshot.js';
import type { ForkServerInit } from '../platform.js';
import { ForkServerError } from '../errors.js';

const init = workerData as ForkServerInit;
const ctl = new Int32Array(init.control, 0, STAGING_BYTE / 4);
const staging = stagingView(init.control);
const CHILD_ENTRY = new URL('./fork-child.js', import.meta.url);
const READY_TIMEOUT_MS = 30_000;
// The pool grows with the fork rate (forks in the last second), up to this.
const MAX_POOL = 8;
const RATE_WINDOW_MS = 1000;
// tmpfs when there is one: the snapshot never touches a disk
const TMP_ROOT = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

let tmpDir: string | undefined;

// Any death of this thread fails the request in flight at once and leaves no
// process behind: pooled children are killed, and so are running ones — no
// one would be left to record their exit, so they are recorded as killed
// (128 + SIGKILL) and a waitpid for them returns.
process.on('exit', () => {
  serverGone(ctl, 'the fork server exited');
  for (const c of [...pool, ...warming, ...running, ...(serving ? [serving] : [])]) if (c.alive && c.proc.pid !== undefined) c.proc.kill('SIGKILL');
  for (const c of running) if (c.proc.pid !== undefined) procExited(ctl, c.proc.pid, 128 + osConstants.signals.SIGKILL);
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
});
process.on('uncaughtException', (e) => {
  serverGone(ctl, `the fork server failed: ${e instanceof Error ? e.message : String(e)}`);
  // reap what can still be reaped before the thread goes (an abrupt exit leaves zombies until the process ends)
  const all = [...pool, ...warming, ...running, ...(serving ? [serving] : [])];
  for (const c of all) if (c.alive && c.proc.pid !== undefined) c.proc.kill('SIGKILL');
  void Promise.race([Promise.all(all.map((c) => c.exited)), new Promise((r) => setTimeout(r, 2000))]).then(() => process.exit(1));
});

type ChildEvent =
  | { type: 'ready' }
  | { type: 'ack'; readUs?: number; restoreUs?: number }
  | { type: 'error'; message: string };

// A failure with the FORK_E_* number the server reports in CTL_RESULT.
class ChildFailure extends ForkServerError {
  constructor(errno: number, message: string) {
    super(message, errno);
  }
}

class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
  lastAck?: ChildEvent & { type: 'ack' };
  #listeners = new Set<(e: ChildEvent) => void>();

  constructor(readonly execPath = process.execPath) {
    const args = { wasm: init.child.wasm, continuation: init.child.continuation, pages: init.memory.buffer.byteLength / PAGE, maximumPages: init.maximumPages };
    this.proc = forkProcess(CHILD_ENTRY, [JSON.stringify(args)], {
      serialization: 'advanced',
      // the child's output goes where the parent's does
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
      execPath,
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] ?? 0 : 0)));
      this.proc.on('error', () => resolve(-1)); // spawn failure: no exit event follows
    });
    this.proc.on('message', (m: ChildEvent) => this.#listeners.forEach((l) => l(m)));
    this.ready = this.next('ready', READY_TIMEOUT_MS);
    this.ready.catch(() => {});
    void this.exited.then((status) => { if (this.proc.pid !== undefined) procExited(ctl, this.proc.pid, status); });
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /**
   * Resolves on the event `type`; rejects when the child exits first, reports
   * an error, or at the timeout. Always handled: the caller awaits it, and a
   * rejection before the await is caught here too.
   */
  next(type: 'ready' | 'ack', timeoutMs: number): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new ChildFailure(FORK_E_ACK_TIMEOUT, `no ${type} from the child within ${timeoutMs} ms`)); }, timeoutMs);
      const onEvent = (e: ChildEvent) => {
        if (e.type === type) {
          if (e.type === 'ack') this.lastAck = e;
          done();
          resolve();
        }
        if (e.type === 'error') { done(); reject(new ChildFailure(FORK_E_SNAPSHOT, e.message)); }
      };
      const done = () => { clearTimeout(timer); this.#listeners.delete(onEvent); };
      this.#listeners.add(onEvent);
      void this.exited.then((status) => {
        done();
        reject(status === -1
          ? new ChildFailure(FORK_E_SPAWN, `could not spawn ${this.execPath}`)
          : new ChildFailure(FORK_E_CHILD_DIED, `child exited with status ${status} before its ${type}`));
      });
    });
    p.catch(() => {});
    return p;
  }

  /** Kills the child and waits for it to be gone, so a failed fork leaks nothing. */
  async kill(): Promise<void> {
    if (this.alive && this.proc.pid !== undefined) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

// ---- pool ------------------------------------------------------------------------------

const pool: Child[] = [];
const warming = new Set<Child>();
const running = new Set<Child>();
let serving: Child | undefined; // the child of the request in hand
const recent: number[] = [];
let shuttingDown = false;

function poolTarget(): number {
  if (init.child.pool === 0) return 0;
  const now = performance.now();
  while (recent.length && now - recent[0] > RATE_WINDOW_MS) recent.shift();
  return Math.min(MAX_POOL, Math.max(init.child.pool, recent.length));
}

function publishPool(): void {
  Atomics.store(ctl, CTL_POOL_READY, pool.length);
  Atomics.notify(ctl, CTL_POOL_READY);
}

// Starts children until pool + warming reaches the target (they warm up in
// parallel), and lets the surplus go when the fork rate has dropped.
function refill(): void {
  const target = poolTarget();
  while (!shuttingDown && pool.length > Math.max(target, 1) && pool.length > init.child.pool) {
    pool.pop()!.proc.disconnect?.();
    publishPool();
  }
  while (!shuttingDown && pool.length + warming.size < poolTarget()) {
    const c = new Child(init.execPath);
    warming.add(c);
    c.ready.then(() => {
      warming.delete(c);
      if (shuttingDown) c.proc.disconnect?.();
      else {
        pool.push(c);
        publishPool();
      }
    }, () => {
      warming.delete(c);
      void c.kill();
    });
  }
}

function takeChild(): { child: Child; cold: boolean } {
  while (pool.length) {
    const c = pool.shift()!;
    publishPool();
    if (c.alive) return { child: c, cold: false };
  }
  return { child: new Child(init.execPath), cold: true };
}

// ---- one fork ------------------------------------------------------------------------

async function serve(): Promise<number> {
  const fault = FORK_FAULTS[Atomics.load(ctl, CTL_FAULT)] ?? 'none';
  const ackMs = Atomics.load(ctl, CTL_ACK_TIMEOUT_MS);
  const total = Atomics.load(ctl, CTL_SNAPSHOT_BYTES);
  recent.push(performance.now());
  if (fault === 'server-exit') process.exit(3);
  if (fault === 'server-throw') setTimeout(() => { throw new Error('fault injected: server-throw'); });
  let snap = staging.subarray(0, total);
  if (fault === 'corrupt' || fault === 'truncate' || fault === 'abi') {
    snap = snap.slice();
    if (fault === 'corrupt') snap[snap.byteLength - 1] ^= 0xff;
    if (fault === 'truncate') snap = snap.subarray(0, snap.byteLength - 4096);
    if (fault === 'abi') new Uint32Array(snap.buffer, 0, HEADER_WORDS)[H.ABI] += 1;
  }
  const t0 = performance.now();
  // the ack deadline bounds the whole hand-off: a ready child, the transfer, the ack
  const deadline = t0 + ackMs;
  const { child, cold } = fault === 'spawn' ? { child: new Child('/nonexistent/wasm-threads-node'), cold: true } : takeChild();
  serving = child;
  Atomics.store(ctl, CTL_T_COLD, cold ? 1 : 0);
  try {
    await child.ready;
  } catch (e) {
    await child.kill();
    throw e;
  }
  const t1 = performance.now();
  const pid = child.proc.pid!;
  const slot = procClaim(ctl, pid);
  if (slot < 0) {
    await child.kill();
    throw new ChildFailure(FORK_E_TABLE_FULL, `more than ${PROC_ENTRIES} unreaped children`);
  }
  let path: string | undefined;
  try {
    const hdr = new Int32Array(snap.buffer, snap.byteOffset, HEADER_WORDS);
    const pagesAt = bodyLayout(hdr[H.PAGES], hdr[H.OPTIONS_LEN]).pagesAt;
    const msg = { type: 'snapshot', fault, pagesAt, config: init.child } as Record<string, unknown>;
    if (fault === 'slow-transfer') await new Promise((r) => setTimeout(r, 200));
    if (init.child.transfer === 'file') {
      tmpDir ??= await mkdtemp(join(TMP_ROOT, 'wasm-fork-'));
      path = join(tmpDir, `${pid}.snap`);
      // synchronous: a tmpfs write is a memory copy, cheaper than a trip through the thread pool
      const fd = openSync(path, 'w');
      try {
        if (writeSync(fd, snap, 0, snap.byteLength, 0) !== snap.byteLength) throw new ChildFailure(FORK_E_SPAWN, 'short snapshot write');
      } finally {
        closeSync(fd);
      }
      msg.path = path;
    } else {
      msg.snapshot = snap.buffer instanceof SharedArrayBuffer ? snap.slice() : snap; // IPC cannot carry shared memory
    }
    const t2 = performance.now();
    if (t2 >= deadline) throw new ChildFailure(FORK_E_ACK_TIMEOUT, `the hand-off took longer than the ack timeout of ${ackMs} ms`);
    const acked = child.next('ack', deadline - t2);
    child.proc.send(msg);
    await acked;
    const t3 = performance.now();
    recordHandoff(ctl, [t0, t1, t2, t3], child.lastAck);
    running.add(child);
    void child.exited.then(() => running.delete(child));
    return pid;
  } catch (e) {
    await child.kill();
    procRelease(ctl, slot);
    throw e;
  } finally {
    serving = undefined;
    // the child has read it (acknowledged) or is gone; the result need not wait for the unlink
    if (path) void unlink(path).catch(() => {});
  }
}

// Pooled children exit when their IPC channel closes; running children are
// waited for (1) or killed (2); waiting for each exit reaps it.
async function shutdown(mode: number): Promise<never> {
  shuttingDown = true;
  const idle = [...pool.splice(0), ...warming];
  publishPool();
  for (const c of idle) c.proc.disconnect?.();
  if (mode === 2) for (const c of running) c.proc.kill('SIGKILL');
  await Promise.race([Promise.all(idle.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
  await Promise.all(idle.map((c) => c.kill()));
  await Promise.all([...running].map((c) => c.exited));
  process.exit(0);
}

async function main(): Promise<void> {
  // Keep this thread's event loop alive between requests.
  setInterval(() => {}, 1 << 30);
  refill();
  Atomics.store(ctl, CTL_SERVER, SERVER_READY);
  Atomics.notify(ctl, CTL_SERVER);
  // A rising fork rate grows the pool before the next request needs it, a
  // falling one shrinks it; the next child is spawned after a hand-off, not
  // during it.
  await serveRequests(ctl, {
    serve,
    failureCode: (e) => (e instanceof ChildFailure ? e.errno : FORK_E_SPAWN),
    shutdown,
    refill,
    idle: refill,
  });
}

await main();
