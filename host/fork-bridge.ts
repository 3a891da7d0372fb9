// The fork bridge, platform-neutral half: the snapshot format, the control
// block shared by forking threads and the fork server, and the parent-side
// protocol every forking thread runs.
//
// Control block invariant: one request at a time. A forking thread holds the
// import lock and a stopped world before it moves CTL_STATE IDLE → REQUEST;
// the fork server alone moves REQUEST → DONE (after writing the result); the
// forking thread moves DONE → IDLE after reading it. So the snapshot the server
// takes is of a world nobody else is running in.

import {
  ChildProcessError, ERRNO, ERROR_RANGES, ForkError, ForkRefusedError, InvalidArgumentError, LockOwnerDeadError, SnapshotError, StopTimeoutError,
  codeName, type ErrorCode,
} from './errors.js';
import { ABI_VERSION, IMPORT_LOCK } from './layout.js';
import type { RegisteredThread } from './thread.js';
import { waitAsync } from './wait.js';

export const SNAPSHOT_MAGIC = 0x4e535457; // "WTSN"
export const SNAPSHOT_VERSION = 1;
export const PAGE = 65536;
const HEADER_WORDS = 12;

// ---- control block (a SharedArrayBuffer apart from Wasm memory, so a child
// never inherits its parent's process table) ----------------------------------
export const CTL_STATE = 0;
export const CTL_HANDLE = 1;
export const CTL_RESULT = 2; // pid (> 0) or a negative FORK_E_* code
export const CTL_ACK_TIMEOUT_MS = 3;
export const CTL_FAULT = 4;
export const CTL_CHECKSUM = 6;
export const CTL_BYTES = 7;
export const CTL_MSG_LEN = 8;
export const CTL_SERVER_READY = 9;
export const CTL_DATA_LEN = 10;
export const CTL_VERIFY = 11;
export const CTL_MEM_CHECKSUM = 12;
export const CTL_SHUTDOWN = 13; // set by the runtime's close(): the server reaps its pool and exits
export const CTL_POOL_READY = 14; // warm children waiting in the pool (written by the server)
export const CTL_MSG_BYTE = 64; // utf-8 result message, up to 512 B
export const CTL_MSG_MAX = 512;
export const CTL_DATA_BYTE = 640; // utf-8 JSON of ForkOptions.data, up to 1 KiB
export const CTL_DATA_MAX = 1024;
// Process table: PROC_ENTRIES × 4 words (pid, state, status, spare). The fork
// server claims an entry FREE → RUNNING by CAS before the child is acknowledged
// and moves RUNNING → EXITED (status first) when the child exits; a waiter
// reaps by CAS EXITED → FREE, so two waiters for one pid cannot both succeed.
export const PROC_BYTE = 2048;
export const PROC_ENTRIES = 256;
export const CONTROL_BYTES = PROC_BYTE + PROC_ENTRIES * 16;
export const ST_IDLE = 0;
export const ST_REQUEST = 1;
export const ST_DONE = 2;
export const ST_TAKEN = 3;
export const PROC_FREE = 0;
export const PROC_RUNNING = 1;
export const PROC_EXITED = 2;

/** Faults the fork server can inject, for tests of every failure path. */
export const FORK_FAULTS = ['none', 'spawn', 'die-before-ack', 'corrupt', 'truncate', 'abi'] as const;
export type ForkFault = (typeof FORK_FAULTS)[number];

// Fork-specific result codes (beyond the core's).
export const FORK_E_SPAWN = ERRNO.E_SPAWN;
export const FORK_E_CHILD_DIED = ERRNO.E_CHILD_DIED;
export const FORK_E_ACK_TIMEOUT = ERRNO.E_ACK_TIMEOUT;
export const FORK_E_SNAPSHOT = ERRNO.E_SNAPSHOT;
export const FORK_E_TABLE_FULL = ERRNO.E_TABLE_FULL;

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES);
}

function writeText(ctl: Int32Array, at: number, max: number, lenWord: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > max) throw new ForkError('E_FORK', `fork text of ${bytes.length} bytes exceeds ${max}`);
  new Uint8Array(ctl.buffer, at, max).set(bytes);
  Atomics.store(ctl, lenWord, bytes.length);
}

function readText(ctl: Int32Array, at: number, lenWord: number): string {
  // TextDecoder refuses views of shared memory: copy out first
  return new TextDecoder().decode(new Uint8Array(ctl.buffer, at, Atomics.load(ctl, lenWord)).slice());
}

export const writeMessage = (ctl: Int32Array, msg: string): void =>
  writeText(ctl, CTL_MSG_BYTE, CTL_MSG_MAX, CTL_MSG_LEN, msg.slice(0, CTL_MSG_MAX / 4));
export const readMessage = (ctl: Int32Array): string => readText(ctl, CTL_MSG_BYTE, CTL_MSG_LEN);
export const readForkData = (ctl: Int32Array): string => readText(ctl, CTL_DATA_BYTE, CTL_DATA_LEN);

/**
 * checksum32 of the memory image a snapshot restores (zero pages included),
 * for `verify` forks: the child compares its restored memory against it. It
 * is taken from the snapshot rather than the live memory because a suspended
 * thread's last bookkeeping write (the suspend epoch) may land after the world
 * counts as stopped; guest memory does not change.
 */
export function imageChecksum(snapshot: Uint8Array): number {
  const { info, restore } = decodeSnapshot(snapshot);
  const image = new ArrayBuffer(info.memoryBytes);
  restore(image);
  return checksum32(new Uint32Array(image));
}

// ---- snapshot ------------------------------------------------------------------

export interface SnapshotInfo {
  abi: number;
  memoryBytes: number;
  maximumPages: number;
  handle: number;
  pages: number;
  checksum: number;
  options: string;
}

/** A fast 32-bit checksum over 32-bit words (FNV-1a style mixing). */
export function checksum32(words: Int32Array | Uint32Array, seed = 0x811c9dc5): number {
  let h = seed | 0;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

function pageIsZero(mem: BigUint64Array, page: number): boolean {
  const start = (page * PAGE) / 8;
  const end = start + PAGE / 8;
  for (let i = start; i < end; i++) if (mem[i] !== 0n) return false;
  return true;
}

/**
 * Encodes the live part of `memory` (all-zero pages skipped) with a header:
 *   u32 magic, version, ABI version, memory bytes, maximum pages, forking
 *   handle, page count, options length, checksum, 3 reserved;
 *   then options (utf-8, padded to 4), page indexes (u32 each), page data.
 * The checksum covers everything after the header.
 */
export function encodeSnapshot(memory: ArrayBufferLike, maximumPages: number, handle: number, options: string): Uint8Array {
  const bytes = memory.byteLength;
  const nPages = bytes / PAGE;
  const u64 = new BigUint64Array(memory);
  const live: number[] = [];
  for (let p = 0; p < nPages; p++) if (!pageIsZero(u64, p)) live.push(p);
  const opt = new TextEncoder().encode(options);
  const optPadded = (opt.length + 3) & ~3;
  const bodyOffset = HEADER_WORDS * 4 + optPadded + live.length * 4;
  const out = new Uint8Array(bodyOffset + live.length * PAGE);
  out.set(opt, HEADER_WORDS * 4);
  const idx = new Uint32Array(out.buffer, HEADER_WORDS * 4 + optPadded, live.length);
  const src = new Uint8Array(memory);
  live.forEach((p, i) => {
    idx[i] = p;
    out.set(src.subarray(p * PAGE, (p + 1) * PAGE), bodyOffset + i * PAGE);
  });
  const hdr = new Uint32Array(out.buffer, 0, HEADER_WORDS);
  hdr[0] = SNAPSHOT_MAGIC;
  hdr[1] = SNAPSHOT_VERSION;
  hdr[2] = ABI_VERSION;
  hdr[3] = bytes;
  hdr[4] = maximumPages;
  hdr[5] = handle;
  hdr[6] = live.length;
  hdr[7] = opt.length;
  hdr[8] = checksum32(new Uint32Array(out.buffer, HEADER_WORDS * 4));
  return out;
}

export { SnapshotError };

/** Validates a snapshot and returns its header and a function that restores it into memory. */
export function decodeSnapshot(buf: Uint8Array): { info: SnapshotInfo; restore: (into: ArrayBufferLike) => void } {
  if (buf.byteLength < HEADER_WORDS * 4 || buf.byteOffset % 4 !== 0) throw new SnapshotError('snapshot truncated (no header)');
  const hdr = new Uint32Array(buf.buffer, buf.byteOffset, HEADER_WORDS);
  if (hdr[0] !== SNAPSHOT_MAGIC) throw new SnapshotError(`bad snapshot magic 0x${hdr[0].toString(16)}`);
  if (hdr[1] !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot format ${hdr[1]}, expected ${SNAPSHOT_VERSION}`);
  if (hdr[2] !== ABI_VERSION) throw new SnapshotError(`snapshot ABI ${hdr[2]}, this core is ABI ${ABI_VERSION}`);
  const [bytes, maximumPages, handle, pages, optLen, sum] = [hdr[3], hdr[4], hdr[5], hdr[6], hdr[7], hdr[8]];
  const optPadded = (optLen + 3) & ~3;
  const bodyOffset = HEADER_WORDS * 4 + optPadded + pages * 4;
  if (bytes % PAGE !== 0 || bytes === 0 || bytes / PAGE > maximumPages || buf.byteLength !== bodyOffset + pages * PAGE) {
    throw new SnapshotError(`snapshot truncated or inconsistent (${buf.byteLength} bytes, header says ${bodyOffset + pages * PAGE})`);
  }
  const actual = checksum32(new Uint32Array(buf.buffer, buf.byteOffset + HEADER_WORDS * 4, (buf.byteLength - HEADER_WORDS * 4) / 4));
  if (actual !== sum) throw new SnapshotError(`snapshot checksum mismatch (0x${actual.toString(16)} != 0x${sum.toString(16)})`);
  const options = new TextDecoder().decode(buf.subarray(HEADER_WORDS * 4, HEADER_WORDS * 4 + optLen));
  const idx = new Uint32Array(buf.buffer, buf.byteOffset + HEADER_WORDS * 4 + optPadded, pages);
  for (const p of idx) if (p >= bytes / PAGE) throw new SnapshotError(`snapshot page ${p} beyond its memory`);
  return {
    info: { abi: hdr[2], memoryBytes: bytes, maximumPages, handle, pages, checksum: sum, options },
    restore(into) {
      const dst = new Uint8Array(into);
      idx.forEach((p, i) => dst.set(buf.subarray(bodyOffset + i * PAGE, bodyOffset + (i + 1) * PAGE), p * PAGE));
    },
  };
}

// ---- parent-side protocol ----------------------------------------------------------

export interface ForkOptions {
  /** Deadline of the stop-the-world before the snapshot (default 2000 ms). */
  stopTimeoutMs?: number;
  /** How long to wait for the child's acknowledgement (default 10000 ms). */
  ackTimeoutMs?: number;
  /** Testing aid: make the fork server fail in a chosen way. */
  fault?: ForkFault;
  /** Passed to the child's continuation as `ctx.data` (JSON, ≤ 1 KiB). */
  data?: unknown;
  /** Also checksum the whole memory; the child checks its restored copy against it. */
  verify?: boolean;
}

export interface AtForkHooks {
  before?: () => void;
  afterInParent?: () => void;
}

export interface ForkOutcome {
  pid: number;
  /** Snapshot checksum and size in bytes (all-zero pages are not sent). */
  checksum: number;
  bytes: number;
  /** With `verify`: checksum32 of the whole memory at the fork point. */
  memoryChecksum?: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 2000;
const DEFAULT_ACK_TIMEOUT_MS = 10_000;
const SERVER_WAIT_MS = 30_000;

// A fork-bridge result code names its own failure; anything else is a generic fork failure.
const reason = (r: number): ErrorCode => (r <= ERROR_RANGES.fork.from && r >= ERROR_RANGES.fork.to ? codeName(r) : 'E_FORK');

interface PreparedRequest {
  stopTimeoutMs: number;
  ackTimeoutMs: number;
  fault: number;
  verify: boolean;
  data: string;
}

// Every option is checked before the import lock is taken or anything stops.
function prepareRequest(opts: ForkOptions): PreparedRequest {
  const ms = (v: number | undefined, d: number, name: string): number => {
    const t = v ?? d;
    if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw new InvalidArgumentError(`${name} must be an integer in [0, 2^31), got ${t}`);
    return t;
  };
  const fault = FORK_FAULTS.indexOf(opts.fault ?? 'none');
  if (fault < 0) throw new InvalidArgumentError(`unknown fork fault ${String(opts.fault)} (known: ${FORK_FAULTS.join(', ')})`);
  let data: string;
  try {
    data = JSON.stringify(opts.data ?? null);
  } catch (e) {
    throw new InvalidArgumentError(`fork data must be JSON-serialisable: ${e instanceof Error ? e.message : e}`);
  }
  if (new TextEncoder().encode(data).length > CTL_DATA_MAX) throw new InvalidArgumentError(`fork data exceeds ${CTL_DATA_MAX} bytes as JSON`);
  return {
    stopTimeoutMs: ms(opts.stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS, 'stopTimeoutMs'),
    ackTimeoutMs: ms(opts.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, 'ackTimeoutMs'),
    fault,
    verify: opts.verify === true,
    data,
  };
}

// The import lock guards no user state: taken over from a thread that died
// holding it (E_OWNER_DEAD), it is marked consistent and the fork goes on.
function recoverImportLock(t: RegisteredThread, take: () => void): void {
  try {
    take();
  } catch (e) {
    if (!(e instanceof LockOwnerDeadError)) throw e;
    t.consistent(IMPORT_LOCK);
  }
}

async function recoverImportLockAsync(t: RegisteredThread, take: () => Promise<void>): Promise<void> {
  try {
    await take();
  } catch (e) {
    if (!(e instanceof LockOwnerDeadError)) throw e;
    t.consistent(IMPORT_LOCK);
  }
}

/** The parent-side protocol, shared by the blocking and the async form. */
export class ForkClient {
  readonly ctl: Int32Array;
  readonly #hooks: AtForkHooks[] = [];
  constructor(control: SharedArrayBuffer, private readonly thread: RegisteredThread) {
    this.ctl = new Int32Array(control);
  }

  /** os.register_at_fork: `before` hooks run in reverse order, `afterInParent` in order. */
  registerAtFork(hooks: AtForkHooks): void {
    this.#hooks.push(hooks);
  }

  /** Blocking fork: returns the child's pid. */
  fork(opts: ForkOptions = {}): ForkOutcome {
    const req = prepareRequest(opts);
    this.#checkServer();
    this.#before();
    const t = this.thread;
    recoverImportLock(t, () => t.lock(IMPORT_LOCK));
    let stopped = false;
    try {
      this.#stop(() => t.stopTheWorld({ timeoutMs: req.stopTimeoutMs }));
      stopped = true;
      this.#request(req);
      while (Atomics.load(this.ctl, CTL_STATE) !== ST_DONE) {
        Atomics.wait(this.ctl, CTL_STATE, Atomics.load(this.ctl, CTL_STATE), 100);
      }
      return this.#outcome();
    } finally {
      this.#after(stopped, () => t.startTheWorld(), () => t.unlock(IMPORT_LOCK));
    }
  }

  /** Never blocks the calling thread. */
  async forkAsync(opts: ForkOptions = {}): Promise<ForkOutcome> {
    const req = prepareRequest(opts);
    await this.#checkServerAsync();
    this.#before();
    const t = this.thread;
    await recoverImportLockAsync(t, () => t.lockAsync(IMPORT_LOCK));
    let stopped = false;
    try {
      await this.#stopAsync(() => t.stopTheWorldAsync({ timeoutMs: req.stopTimeoutMs }));
      stopped = true;
      this.#request(req);
      for (;;) {
        const s = Atomics.load(this.ctl, CTL_STATE);
        if (s === ST_DONE) break;
        await waitAsync(this.ctl, CTL_STATE * 4, s, 100);
      }
      return this.#outcome();
    } finally {
      this.#after(stopped, () => t.startTheWorld(), () => t.unlock(IMPORT_LOCK));
    }
  }

  /** Exit status of child `pid` (its exit code, or 128 + signal); blocks detached. */
  waitpid(pid: number): number {
    const slot = this.#procSlot(pid);
    return this.thread.allowThreadsIfAttached(() => {
      while (Atomics.load(this.ctl, slot + 1) !== PROC_EXITED) Atomics.wait(this.ctl, slot + 1, PROC_RUNNING, 100);
      return this.#reap(slot);
    });
  }

  async waitpidAsync(pid: number): Promise<number> {
    const slot = this.#procSlot(pid);
    await this.thread.detachedWhile(async () => {
      while (Atomics.load(this.ctl, slot + 1) !== PROC_EXITED) await waitAsync(this.ctl, (slot + 1) * 4, PROC_RUNNING, 100);
    });
    return this.#reap(slot);
  }

  #procSlot(pid: number): number {
    if (!Number.isInteger(pid) || pid <= 0) throw new ChildProcessError(`waitpid: ${pid} is not a pid`);
    const base = PROC_BYTE / 4;
    for (let i = 0; i < PROC_ENTRIES; i++) {
      const slot = base + i * 4;
      if (Atomics.load(this.ctl, slot) === pid && Atomics.load(this.ctl, slot + 1) !== PROC_FREE) return slot;
    }
    throw new ChildProcessError(`waitpid: ${pid} is not a child of this runtime (or was already reaped)`);
  }

  #reap(slot: number): number {
    const status = Atomics.load(this.ctl, slot + 2);
    // a second waiter for the same pid loses the race and gets ECHILD
    if (Atomics.compareExchange(this.ctl, slot + 1, PROC_EXITED, PROC_FREE) !== PROC_EXITED) {
      throw new ChildProcessError('waitpid: child already reaped');
    }
    Atomics.store(this.ctl, slot, 0);
    return status;
  }

  // A fork child's own server starts in the background: wait for it briefly.
  #checkServer(): void {
    const end = performance.now() + SERVER_WAIT_MS;
    while (Atomics.load(this.ctl, CTL_SERVER_READY) !== 1) {
      if (performance.now() > end) throw new ForkError('E_FORK', 'fork is not available: the fork server is not running');
      this.thread.allowThreadsIfAttached(() => Atomics.wait(this.ctl, CTL_SERVER_READY, 0, 50));
    }
  }

  async #checkServerAsync(): Promise<void> {
    const end = performance.now() + SERVER_WAIT_MS;
    while (Atomics.load(this.ctl, CTL_SERVER_READY) !== 1) {
      if (performance.now() > end) throw new ForkError('E_FORK', 'fork is not available: the fork server is not running');
      await waitAsync(this.ctl, CTL_SERVER_READY * 4, 0, 50);
    }
  }

  #before(): void {
    for (let i = this.#hooks.length - 1; i >= 0; i--) this.#hooks[i].before?.();
  }

  #stop(stop: () => void): void {
    try {
      stop();
    } catch (e) {
      if (e instanceof StopTimeoutError) throw new ForkRefusedError(e.stragglers, e.message);
      throw e;
    }
  }

  async #stopAsync(stop: () => Promise<void>): Promise<void> {
    try {
      await stop();
    } catch (e) {
      if (e instanceof StopTimeoutError) throw new ForkRefusedError(e.stragglers, e.message);
      throw e;
    }
  }

  #request(req: PreparedRequest): void {
    Atomics.store(this.ctl, CTL_HANDLE, this.thread.handle);
    Atomics.store(this.ctl, CTL_ACK_TIMEOUT_MS, req.ackTimeoutMs);
    Atomics.store(this.ctl, CTL_FAULT, req.fault);
    Atomics.store(this.ctl, CTL_VERIFY, req.verify ? 1 : 0);
    writeText(this.ctl, CTL_DATA_BYTE, CTL_DATA_MAX, CTL_DATA_LEN, req.data);
    if (Atomics.compareExchange(this.ctl, CTL_STATE, ST_IDLE, ST_REQUEST) !== ST_IDLE) {
      throw new ForkError('E_FORK', 'fork control block busy');
    }
    Atomics.notify(this.ctl, CTL_STATE);
  }

  #outcome(): ForkOutcome {
    const r = Atomics.load(this.ctl, CTL_RESULT);
    const msg = readMessage(this.ctl);
    const out: ForkOutcome = { pid: r, checksum: Atomics.load(this.ctl, CTL_CHECKSUM) >>> 0, bytes: Atomics.load(this.ctl, CTL_BYTES) };
    if (Atomics.load(this.ctl, CTL_VERIFY)) out.memoryChecksum = Atomics.load(this.ctl, CTL_MEM_CHECKSUM) >>> 0;
    Atomics.store(this.ctl, CTL_STATE, ST_IDLE);
    if (r < 0) throw new ForkError(reason(r), `fork failed: ${msg}`);
    return out;
  }

  // Every path, success or failure: resume the world, release the import lock,
  // then the parent hooks.
  #after(stopped: boolean, start: () => void, unlock: () => void): void {
    try {
      if (stopped) start();
    } finally {
      unlock();
      for (const h of this.#hooks) h.afterInParent?.();
    }
  }
}

/** Word index of the ABI version in the snapshot header (fault injection flips it). */
export const ABI_VERSION_OFFSET = 2;
