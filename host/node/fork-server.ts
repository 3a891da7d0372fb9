// The fork server: a worker thread, not registered in the core, whose event
// loop is always free. It owns the warm pool of child processes and the
// process table; forking threads reach it through the control block
// (host/fork-bridge.ts states the protocol).
import { fork as forkProcess, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import {
  ABI_VERSION_OFFSET, CTL_ACK_TIMEOUT_MS, CTL_BYTES, CTL_CHECKSUM, CTL_FAULT, CTL_HANDLE, CTL_MEM_CHECKSUM,
  CTL_POOL_READY, CTL_RESULT, CTL_SERVER_READY, CTL_SHUTDOWN, CTL_STATE, CTL_VERIFY, FORK_E_ACK_TIMEOUT, FORK_E_CHILD_DIED, FORK_E_SNAPSHOT,
  FORK_E_SPAWN, FORK_E_TABLE_FULL, FORK_FAULTS, PROC_BYTE, PROC_ENTRIES, PROC_EXITED, PROC_FREE, PROC_RUNNING,
  ST_DONE, ST_REQUEST, ST_TAKEN, encodeSnapshot, imageChecksum, readForkData, writeMessage,
} from '../fork-bridge.js';
import { waitAsync } from '../wait.js';
import { ForkServerError } from '../errors.js';
import type { ForkServerInit } from '../platform.js';

const init = workerData as ForkServerInit;
const ctl = new Int32Array(init.control);
const CHILD_ENTRY = new URL('./fork-child.js', import.meta.url);
const READY_TIMEOUT_MS = 30_000;

type ChildEvent = { type: 'ready' } | { type: 'ack' } | { type: 'error'; message: string };

class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
  #listeners = new Set<(e: ChildEvent) => void>();

  constructor(readonly execPath = process.execPath) {
    this.proc = forkProcess(CHILD_ENTRY, [JSON.stringify({ wasm: init.child.wasm, continuation: init.child.continuation })], {
      serialization: 'advanced',
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
    void this.exited.then((status) => recordExit(this.proc.pid, status));
  }

  /** Resolves on the event `type`; rejects when the child exits first or on timeout. */
  next(type: 'ready' | 'ack', timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new ChildFailure(FORK_E_ACK_TIMEOUT, `no ${type} from the child within ${timeoutMs} ms`)); }, timeoutMs);
      const onEvent = (e: ChildEvent) => {
        if (e.type === type) { done(); resolve(); }
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
  }

  /** Kills the child and waits for it to be gone, so a failed fork leaks nothing. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid !== undefined) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

// A failure with the FORK_E_* number the server reports in CTL_RESULT.
class ChildFailure extends ForkServerError {
  constructor(errno: number, message: string) {
    super(message, errno);
  }
}

// ---- process table -----------------------------------------------------------------

function procSlots(): number[] {
  return Array.from({ length: PROC_ENTRIES }, (_, i) => PROC_BYTE / 4 + i * 4);
}

function claimProc(pid: number): number {
  for (const slot of procSlots()) {
    if (Atomics.compareExchange(ctl, slot + 1, PROC_FREE, PROC_RUNNING) === PROC_FREE) {
      Atomics.store(ctl, slot, pid);
      return slot;
    }
  }
  return -1;
}

function releaseProc(slot: number): void {
  Atomics.store(ctl, slot, 0);
  Atomics.store(ctl, slot + 1, PROC_FREE);
}

function recordExit(pid: number | undefined, status: number): void {
  if (pid === undefined) return;
  for (const slot of procSlots()) {
    if (Atomics.load(ctl, slot) === pid && Atomics.load(ctl, slot + 1) === PROC_RUNNING) {
      Atomics.store(ctl, slot + 2, status);
      Atomics.store(ctl, slot + 1, PROC_EXITED);
      Atomics.notify(ctl, slot + 1);
    }
  }
}

// ---- pool --------------------------------------------------------------------------

const pool: Child[] = [];
const warming = new Set<Child>();
let refilling = false;
let shuttingDown = false;

async function refill(): Promise<void> {
  if (refilling) return;
  refilling = true;
  try {
    while (pool.length < init.child.pool && !shuttingDown) {
      const c = new Child(init.execPath);
      warming.add(c);
      void c.ready.finally(() => warming.delete(c)).catch(() => {});
      try {
        await c.ready;
        pool.push(c);
        Atomics.store(ctl, CTL_POOL_READY, pool.length);
        Atomics.notify(ctl, CTL_POOL_READY);
      } catch {
        await c.kill();
        break;
      }
    }
  } finally {
    refilling = false;
  }
}

function takeChild(execPath?: string): Child {
  while (pool.length) {
    const c = pool.shift()!;
    Atomics.store(ctl, CTL_POOL_READY, pool.length);
    if (c.proc.exitCode === null && c.proc.signalCode === null) return c;
  }
  return new Child(execPath);
}

// ---- one fork ------------------------------------------------------------------------

let tmpDir: string | undefined;

async function serve(): Promise<number> {
  const handle = Atomics.load(ctl, CTL_HANDLE);
  const fault = FORK_FAULTS[Atomics.load(ctl, CTL_FAULT)] ?? 'none';
  const ackMs = Atomics.load(ctl, CTL_ACK_TIMEOUT_MS);
  const buffer = init.memory.buffer;
  const options = JSON.stringify({ ...init.child, data: JSON.parse(readForkData(ctl) || 'null'), verify: Atomics.load(ctl, CTL_VERIFY) === 1 });
  let snap = encodeSnapshot(buffer, init.maximumPages, handle, options);
  Atomics.store(ctl, CTL_CHECKSUM, new Int32Array(snap.buffer, 0, 12)[8]);
  Atomics.store(ctl, CTL_BYTES, snap.byteLength);
  if (Atomics.load(ctl, CTL_VERIFY)) Atomics.store(ctl, CTL_MEM_CHECKSUM, imageChecksum(snap) | 0);
  if (fault === 'corrupt') snap[snap.byteLength - 1] ^= 0xff;
  if (fault === 'truncate') snap = snap.subarray(0, snap.byteLength - 4096);
  if (fault === 'abi') new Uint32Array(snap.buffer, 0, 12)[ABI_VERSION_OFFSET] += 1;

  const child = fault === 'spawn' ? new Child('/nonexistent/wasm-threads-node') : takeChild(init.execPath);
  try {
    await child.ready;
  } catch (e) {
    await child.kill();
    throw e;
  }
  const pid = child.proc.pid!;
  const slot = claimProc(pid);
  if (slot < 0) {
    await child.kill();
    throw new ChildFailure(FORK_E_TABLE_FULL, `more than ${PROC_ENTRIES} unreaped children`);
  }
  try {
    const acked = child.next('ack', ackMs);
    if (init.child.transfer === 'file') {
      tmpDir ??= await mkdtemp(join(tmpdir(), 'wasm-fork-'));
      const path = join(tmpDir, `${pid}.snap`);
      await writeFile(path, snap);
      child.proc.send({ type: 'snapshot', path, fault });
    } else {
      child.proc.send({ type: 'snapshot', snapshot: snap, fault });
    }
    await acked;
    return pid;
  } catch (e) {
    await child.kill();
    releaseProc(slot);
    throw e;
  }
}

// Pooled children exit when their IPC channel closes; waiting for each exit
// reaps it, so a closed runtime leaves no zombie behind.
async function shutdown(): Promise<never> {
  shuttingDown = true;
  const idle = [...pool.splice(0), ...warming];
  for (const c of idle) c.proc.disconnect?.();
  await Promise.race([Promise.all(idle.map((c) => c.exited)), new Promise((r) => setTimeout(r, 5000))]);
  await Promise.all(idle.map((c) => c.kill()));
  process.exit(0);
}

async function main(): Promise<void> {
  // Keep this thread's event loop alive between requests.
  setInterval(() => {}, 1 << 30);
  await refill();
  Atomics.store(ctl, CTL_SERVER_READY, 1);
  Atomics.notify(ctl, CTL_SERVER_READY);
  for (;;) {
    const s = Atomics.load(ctl, CTL_STATE);
    if (s !== ST_REQUEST) {
      if (Atomics.load(ctl, CTL_SHUTDOWN)) await shutdown();
      await waitAsync(ctl, CTL_STATE * 4, s, 100);
      continue;
    }
    Atomics.store(ctl, CTL_STATE, ST_TAKEN);
    let result: number;
    let message = '';
    try {
      result = await serve();
    } catch (e) {
      result = e instanceof ChildFailure ? e.errno : FORK_E_SPAWN;
      message = e instanceof Error ? e.message : String(e);
    }
    writeMessage(ctl, message);
    Atomics.store(ctl, CTL_RESULT, result);
    Atomics.store(ctl, CTL_STATE, ST_DONE);
    Atomics.notify(ctl, CTL_STATE);
    void refill();
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true }).then(() => { tmpDir = undefined; });
  }
}

await main();
