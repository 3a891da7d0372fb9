// The fork control block: one shared memory apart from the runtime's (so a
// child never inherits its parent's process table), shared by every forking
// thread, the fork service on the runtime's thread and the fork server. It is
// a WebAssembly.Memory, not a bare SharedArrayBuffer, so the snapshot's
// checksum runs over the staging area in Wasm SIMD (host/fork/checksum.ts).
//
// Layout (Int32 words, then bytes): request/result words, the result message,
// the process table, and the staging area the forking thread copies the
// snapshot into while the world is stopped.
//
// ## The request state machine (word CTL_STATE)
//
//   IDLE ──claim──▶ CLAIMED ──post──▶ REQUEST ──take──▶ TAKEN ──finish──▶ FINISHING ─▶ DONE ──release──▶ IDLE
//                     │  ▲                 │                              ▲
//                     │  └─ take over ─┐   └──── fail (server gone) ──────┘
//                     └──── abandon ──▶ IDLE
//
// | transition                  | mover                                  | how                      |
// |-----------------------------|----------------------------------------|--------------------------|
// | IDLE → CLAIMED              | a forking thread                       | CAS, then CTL_OWNER = h  |
// | CLAIMED → CLAIMED           | a forking thread whose claimant died   | CAS on CTL_OWNER         |
// | CLAIMED → IDLE              | the claimant (refused or failed fork)  | store                    |
// | CLAIMED → REQUEST           | the claimant (staging sealed)          | store + notify           |
// | REQUEST → TAKEN             | the fork server                        | CAS                      |
// | TAKEN → FINISHING           | the fork server                        | CAS                      |
// | REQUEST/TAKEN → FINISHING   | whoever sees the server gone: the      | CAS                      |
// |                             | dying server, the service, the client  |                          |
// | FINISHING → DONE            | whoever won FINISHING, result written  | store + notify           |
// | DONE → IDLE                 | the claimant, after reading the result | store + notify           |
// | DONE → CLAIMED (take over)  | a forking thread whose claimant died   | CAS on CTL_OWNER         |
//
// Invariant: whoever moved the word into CLAIMED (CTL_OWNER names it) alone
// writes the request words and the staging area until REQUEST; between REQUEST
// and FINISHING only the server reads the staging area; whoever moved the word
// into FINISHING alone writes the result words, then publishes DONE;
// from DONE the claimant alone reads the result. At most one fork is between
// CLAIMED and IDLE, so one staging area suffices. A claimant that dies leaves
// its claim to the next forking thread, which takes it over by CAS on
// CTL_OWNER once the owner's slot is no longer live.
//
// ## Server liveness (word CTL_SERVER)
// NONE (no fork yet: nothing runs) → STARTING (the service, on the first fork or a worker's request) → READY (server)
// → GONE (the dying server, or the service when the thread exited); the service restarts a GONE server (→ STARTING).
//
// ## Process table
// PROC_ENTRIES × 4 words: pid, tag, status, exit order (CTL_EXITS). The tag is the entry's
// state (low 2 bits) under a generation (the rest) that each claim advances,
// so an entry reaped and claimed again is never taken for the one before it.
//
//   FREE(g) ──claim──▶ CLAIMING(g+1) ──pid written──▶ RUNNING(g+1) ──exit──▶ EXITED(g+1) ──reap──▶ FREE(g+1)
//                                                        │ never acknowledged
//                                                        └──────── release ──────────────────────▶ FREE(g+1)
//
// | transition          | mover                            | how                          |
// |---------------------|----------------------------------|------------------------------|
// | FREE → CLAIMING     | the fork server (procClaim)      | CAS, the generation advanced |
// | CLAIMING → RUNNING  | the claimer, pid written first   | store (the claim is its own) |
// | RUNNING → EXITED    | the fork server (procExited)     | status first, CAS + notify   |
// | RUNNING → FREE      | the fork server (procRelease)    | CAS + notify                 |
// | EXITED → FREE       | one waiter (procReap)            | CAS + notify                 |
//
// A waiter finds its entry (procFind) by a seqlock read — tag, pid, tag again,
// both tags equal and RUNNING or EXITED — and from then on judges that one tag:
// RUNNING of its generation, it waits on the tag word (the exit notifies it);
// EXITED, it reaps by CAS, and the one CAS that wins returns the status; any
// other tag (FREE, or a later generation) means another waiter reaped the child
// first, and the waiter answers E_CHILD at once. POSIX's answer: one status,
// ECHILD to every other waiter, nobody waiting past the child's exit
// (assembly/model/waitpid.pml).

import { ERRNO } from '../errors.js';
import { waitAsync } from '../wait.js';

/**
 * Awaits a change of control word `word` (a word index, as Atomics.wait
 * takes): the one way the fork code waits without blocking, so a word index
 * is never passed where waitAsync wants a byte address.
 */
export const waitWordAsync = (ctl: Int32Array, word: number, value: number, ms: number): Promise<void> => waitAsync(ctl, word * 4, value, ms);

export const PAGE = 65536;

// The control words, in order: each is named once and numbered by its place.
let words = 0;
const word = (): number => words++;
export const CTL_STATE = word();
export const CTL_OWNER = word(); // handle of the claimant
export const CTL_RESULT = word(); // pid (> 0) or a negative FORK_E_* code
export const CTL_ACK_TIMEOUT_MS = word();
export const CTL_SNAPSHOT_BYTES = word(); // sealed snapshot length in the staging area
export const CTL_MSG_LEN = word();
export const CTL_SERVER = word();
export const CTL_SHUTDOWN = word(); // SHUTDOWN_WAIT or SHUTDOWN_KILL
export const CTL_POOL_READY = word(); // warm children waiting in the pool (written by the server)
export const CTL_SEQ = word(); // requests posted so far (diagnostics)
// The server's part of the last fork, in µs, for the breakdown (ForkOutcome.timings).
export const CTL_T_CHILD_US = word(); // waiting for a ready child (0 when one was warm)
export const CTL_T_TRANSFER_US = word(); // writing / sending the snapshot
export const CTL_T_ACK_US = word(); // sent → acknowledged (the child reads, verifies, restores, runs its hook)
export const CTL_T_READ_US = word(); // as the child reports them
export const CTL_T_RESTORE_US = word();
export const CTL_T_COLD = word(); // 1 when the fork waited for its child (none was warm)
export const CTL_MAX_PAGES = word(); // the memory's maximum, written once by the service (snapshot header field)
export const CTL_COLD_FORKS = word(); // forks that waited for their child, since the server started
export const CTL_RECYCLED_FORKS = word(); // forks served by a recycled child (docs/FORK.md), since the server started
export const CTL_EXITS = word(); // children that have exited so far: each entry's spare word holds its place (host/fork/exits.ts)
export const CTL_KILL = word(); // a kill request for the server, (pid << 6) | signal, 0 when none (host/fork/exits.ts)
export const CTL_NEXT = word(); // handle of a forking thread whose turn it is to claim, 0 when none (host/fork/turn.ts)
export const CTL_MSG_BYTE = 128; // utf-8 result message, up to 512 B, after the words above
export const CTL_MSG_MAX = 512;
if (words * 4 > CTL_MSG_BYTE) throw new Error('the fork control words overlap the result message');
export const PROC_BYTE = CTL_MSG_BYTE + CTL_MSG_MAX;
/** The most ForkOptions.data may take as JSON: it travels in the snapshot's options, in front of the pages. */
export const FORK_DATA_MAX = 1024;
export const PROC_ENTRIES = 256;
export const STAGING_BYTE = PROC_BYTE + PROC_ENTRIES * 16;

export const ST_IDLE = 0;
export const ST_REQUEST = 1;
export const ST_DONE = 2;
export const ST_TAKEN = 3;
export const ST_CLAIMED = 4;
export const ST_FINISHING = 5;

/** CTL_SHUTDOWN: reap the pool and exit once running children have exited, or kill them too. */
export const SHUTDOWN_WAIT = 1;
export const SHUTDOWN_KILL = 2;

export const SERVER_NONE = 0;
export const SERVER_STARTING = 1;
export const SERVER_READY = 2;
export const SERVER_GONE = 3;

export const PROC_FREE = 0;
export const PROC_RUNNING = 1;
export const PROC_EXITED = 2;
export const PROC_CLAIMING = 3;

// Fork-specific result codes (the fork bridge's range of abi/abi.json, −100…−199).
export const FORK_E_SPAWN = ERRNO.E_SPAWN;
export const FORK_E_CHILD_DIED = ERRNO.E_CHILD_DIED;
export const FORK_E_ACK_TIMEOUT = ERRNO.E_ACK_TIMEOUT;
export const FORK_E_SNAPSHOT = ERRNO.E_SNAPSHOT;
export const FORK_E_TABLE_FULL = ERRNO.E_TABLE_FULL;
export const FORK_E_SERVER_DIED = ERRNO.E_SERVER_DIED;

/** The fork control block (it never grows: its buffer is the same throughout). */
export type ForkControl = WebAssembly.Memory;

/** A control block with room to stage a snapshot of a memory of `maximumPages`. */
export function createControl(maximumPages: number): ForkControl {
  // header + options + one index word and one page per page: the staging area
  // is reserved, not touched, until a fork writes it
  const pages = Math.ceil((STAGING_BYTE + 64 + FORK_DATA_MAX * 2 + maximumPages * (PAGE + 4)) / PAGE);
  const control = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  controlWords(control)[CTL_MAX_PAGES] = maximumPages;
  return control;
}

/** The control block's words (CTL_*, then the result message and the process table). */
export const controlWords = (control: ForkControl): Int32Array => new Int32Array(control.buffer, 0, STAGING_BYTE / 4);

export const stagingView = (control: ForkControl): Uint8Array => new Uint8Array(control.buffer, STAGING_BYTE);

/** The result message, copied out: TextDecoder refuses views of shared memory. */
export const readMessage = (ctl: Int32Array): string =>
  new TextDecoder().decode(new Uint8Array(ctl.buffer, CTL_MSG_BYTE, Atomics.load(ctl, CTL_MSG_LEN)).slice());

/** Claimant: IDLE → CLAIMED. False when another fork holds the block. */
export function claim(ctl: Int32Array, handle: number): boolean {
  if (Atomics.compareExchange(ctl, CTL_STATE, ST_IDLE, ST_CLAIMED) !== ST_IDLE) return false;
  Atomics.store(ctl, CTL_OWNER, handle);
  return true;
}

/**
 * A forking thread: takes over a claim whose owner is gone (`ownerLive`
 * false). From CLAIMED the staging area is the taker's; from DONE the dead
 * claimant's result is dropped (its child, if any, stays in the process table).
 */
export function takeOver(ctl: Int32Array, handle: number, ownerLive: (h: number) => boolean): boolean {
  const s = Atomics.load(ctl, CTL_STATE);
  if (s !== ST_CLAIMED && s !== ST_DONE) return false;
  const owner = Atomics.load(ctl, CTL_OWNER);
  if (owner === 0 || ownerLive(owner)) return false;
  if (Atomics.compareExchange(ctl, CTL_OWNER, owner, handle) !== owner) return false;
  // the owner word is ours now; the state may only be CLAIMED or DONE, both the owner's to move
  Atomics.store(ctl, CTL_STATE, ST_CLAIMED);
  return true;
}

/** Claimant: CLAIMED → IDLE without a request (the fork was refused or failed before the hand-off). */
export function abandon(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_OWNER, 0);
  Atomics.store(ctl, CTL_STATE, ST_IDLE);
  Atomics.notify(ctl, CTL_STATE);
}

/** Claimant: CLAIMED → REQUEST once the staging area and request words are written. */
export function post(ctl: Int32Array): void {
  Atomics.add(ctl, CTL_SEQ, 1);
  Atomics.store(ctl, CTL_STATE, ST_REQUEST);
  Atomics.notify(ctl, CTL_STATE);
}

/** Server: REQUEST → TAKEN. */
export const take = (ctl: Int32Array): boolean => Atomics.compareExchange(ctl, CTL_STATE, ST_REQUEST, ST_TAKEN) === ST_REQUEST;

/**
 * Server: TAKEN → DONE with `result`; or anyone who sees the server gone:
 * REQUEST/TAKEN → DONE. The CAS into FINISHING picks one finisher, so a
 * loser (the server racing its own watchdog) never touches the result words.
 */
export function finish(ctl: Int32Array, result: number, message: string, from: number = ST_TAKEN): boolean {
  if (Atomics.compareExchange(ctl, CTL_STATE, from, ST_FINISHING) !== from) return false;
  const bytes = new TextEncoder().encode(message).subarray(0, CTL_MSG_MAX);
  new Uint8Array(ctl.buffer, CTL_MSG_BYTE, CTL_MSG_MAX).set(bytes);
  Atomics.store(ctl, CTL_MSG_LEN, bytes.length);
  Atomics.store(ctl, CTL_RESULT, result);
  Atomics.store(ctl, CTL_STATE, ST_DONE);
  Atomics.notify(ctl, CTL_STATE);
  return true;
}

/** The server is gone: fail any request in flight, at once, and mark the server GONE. */
export function serverGone(ctl: Int32Array, why: string): void {
  Atomics.store(ctl, CTL_SERVER, SERVER_GONE);
  Atomics.notify(ctl, CTL_SERVER);
  if (!finish(ctl, FORK_E_SERVER_DIED, why, ST_TAKEN)) finish(ctl, FORK_E_SERVER_DIED, why, ST_REQUEST);
  Atomics.notify(ctl, CTL_STATE);
}

/** Claimant: DONE → IDLE after reading the result. */
export function release(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_OWNER, 0);
  Atomics.store(ctl, CTL_STATE, ST_IDLE);
  Atomics.notify(ctl, CTL_STATE);
}

// ---- process table -----------------------------------------------------------------

export const procSlot = (i: number): number => PROC_BYTE / 4 + i * 4;

const PROC_ST = 3;
/** The state of an entry's tag word (PROC_*). */
export const procState = (tag: number): number => tag & PROC_ST;
const sameEntry = (a: number, b: number): boolean => (a & ~PROC_ST) === (b & ~PROC_ST);
const withState = (tag: number, st: number): number => (tag & ~PROC_ST) | st;

/** An entry as a waiter found it: its slot and the tag it had then (its generation). */
export interface ProcEntry {
  readonly slot: number;
  readonly tag: number;
}

/** Server: FREE → CLAIMING → RUNNING for `pid` under a new generation; the slot's word index, or −1 when the table is full. */
export function procClaim(ctl: Int32Array, pid: number): number {
  for (let i = 0; i < PROC_ENTRIES; i++) {
    const slot = procSlot(i);
    const t = Atomics.load(ctl, slot + 1);
    if (procState(t) !== PROC_FREE) continue;
    const next = ((t & ~PROC_ST) + PROC_ST + 1) | 0;
    if (Atomics.compareExchange(ctl, slot + 1, t, next | PROC_CLAIMING) !== t) continue;
    // CLAIMING: no waiter matches the entry while its pid word is rewritten
    Atomics.store(ctl, slot, pid);
    Atomics.store(ctl, slot + 1, next | PROC_RUNNING);
    return slot;
  }
  return -1;
}

/** Server: a claimed entry whose child was never acknowledged goes back to FREE (a waiter on it answers E_CHILD). */
export function procRelease(ctl: Int32Array, slot: number): void {
  const t = Atomics.load(ctl, slot + 1);
  if (procState(t) === PROC_RUNNING && Atomics.compareExchange(ctl, slot + 1, t, withState(t, PROC_FREE)) === t) {
    Atomics.notify(ctl, slot + 1);
  }
}

/** Server: RUNNING → EXITED with `status` (written before the tag publishes it). */
export function procExited(ctl: Int32Array, pid: number, status: number): void {
  for (let i = 0; i < PROC_ENTRIES; i++) {
    const slot = procSlot(i);
    const t = Atomics.load(ctl, slot + 1);
    if (procState(t) !== PROC_RUNNING || Atomics.load(ctl, slot) !== pid) continue;
    Atomics.store(ctl, slot + 2, status);
    Atomics.store(ctl, slot + 3, Atomics.add(ctl, CTL_EXITS, 1) + 1);
    if (Atomics.compareExchange(ctl, slot + 1, t, withState(t, PROC_EXITED)) !== t) continue;
    Atomics.notify(ctl, slot + 1);
    Atomics.notify(ctl, CTL_EXITS);
  }
}

/** The entry of unreaped child `pid` (a seqlock read of tag and pid), or undefined. */
export function procFind(ctl: Int32Array, pid: number): ProcEntry | undefined {
  for (let i = 0; i < PROC_ENTRIES; i++) {
    const slot = procSlot(i);
    for (;;) {
      const t = Atomics.load(ctl, slot + 1);
      const st = procState(t);
      if (st !== PROC_RUNNING && st !== PROC_EXITED) break;
      const p = Atomics.load(ctl, slot);
      // the tag unchanged: the pid read is this generation's (an exit in between: read again)
      if (Atomics.load(ctl, slot + 1) !== t) continue;
      if (p === pid) return { slot, tag: t };
      break;
    }
  }
  return undefined;
}

/** procReap: the child runs (wait on its tag word for `PROC_RUNNING`'s tag). */
export const REAP_RUNNING = -1;
/** procReap: another waiter reaped the child first (E_CHILD). */
export const REAP_GONE = -2;

/**
 * Waiter: one look at entry `e`. EXITED → FREE by CAS: the status to the one
 * waiter whose CAS wins; REAP_RUNNING while it runs; REAP_GONE once the entry
 * left `e`'s generation or was freed.
 */
export function procReap(ctl: Int32Array, e: ProcEntry): number {
  const t = Atomics.load(ctl, e.slot + 1);
  if (!sameEntry(t, e.tag)) return REAP_GONE;
  const st = procState(t);
  if (st === PROC_RUNNING) return REAP_RUNNING;
  if (st !== PROC_EXITED) return REAP_GONE;
  // written before EXITED was published; rewritten only after a new claim, which needs this entry FREE first
  const status = Atomics.load(ctl, e.slot + 2);
  if (Atomics.compareExchange(ctl, e.slot + 1, t, withState(t, PROC_FREE)) !== t) return REAP_GONE;
  Atomics.notify(ctl, e.slot + 1);
  return status;
}

/** Pids of children still running. */
export function procRunning(ctl: Int32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < PROC_ENTRIES; i++) {
    const slot = procSlot(i);
    if (procState(Atomics.load(ctl, slot + 1)) === PROC_RUNNING) out.push(Atomics.load(ctl, slot));
  }
  return out;
}

/**
 * The fork server's timings of one hand-off, for ForkOutcome.timings: `t` is
 * [hand-off began, child ready, snapshot sent, child acknowledged] (ms), `ack`
 * what the child reported of its own read and restore.
 */
export function recordHandoff(ctl: Int32Array, t: [number, number, number, number], ack?: { readUs?: number; restoreUs?: number }): void {
  const us = (ms: number) => Math.round(ms * 1000);
  Atomics.store(ctl, CTL_T_CHILD_US, us(t[1] - t[0]));
  Atomics.store(ctl, CTL_T_TRANSFER_US, us(t[2] - t[1]));
  Atomics.store(ctl, CTL_T_ACK_US, us(t[3] - t[2]));
  Atomics.store(ctl, CTL_T_READ_US, ack?.readUs ?? 0);
  Atomics.store(ctl, CTL_T_RESTORE_US, ack?.restoreUs ?? 0);
}

/** What a fork server brings to the request loop (serveRequests). */
export interface ServerHooks {
  /** One fork: the child's pid, or throws; `failureCode` maps the throw to a FORK_E_* result. */
  serve(): Promise<number>;
  failureCode(e: unknown): number;
  /** CTL_SHUTDOWN was set (its mode): reap and end. */
  shutdown(mode: number): Promise<void>;
  /** After each request: keep the warm pool at the size the fork rate asks for. */
  refill(): void;
  /** Between requests, each time the loop wakes (≤ 100 ms). */
  idle?(): void;
}

/**
 * A fork server's loop: it takes each request (REQUEST → TAKEN, see the mover
 * table above), serves it and finishes it (→ FINISHING → DONE), whatever
 * `serve` throws; between requests it watches for a shutdown.
 */
export async function serveRequests(ctl: Int32Array, hooks: ServerHooks): Promise<never> {
  for (;;) {
    const s = Atomics.load(ctl, CTL_STATE);
    if (s !== ST_REQUEST || !take(ctl)) {
      const mode = Atomics.load(ctl, CTL_SHUTDOWN);
      if (mode) await hooks.shutdown(mode);
      hooks.idle?.();
      await waitWordAsync(ctl, CTL_STATE, s, 100);
      continue;
    }
    let result: number;
    let message = '';
    try {
      result = await hooks.serve();
    } catch (e) {
      result = hooks.failureCode(e);
      message = e instanceof Error ? e.message : String(e);
    }
    finish(ctl, result, message);
    hooks.refill();
  }
}
