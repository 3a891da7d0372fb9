// Fork-safe locks in shared memory.
//
// Lock word (futex style, after Drepper's "Futexes Are Tricky"):
//   0 unlocked, 1 locked, 2 locked and someone may be waiting.
// Invariant: a thread owns the lock from the CAS/exchange that moved the word
// away from 0 until its unlock stores 0; LK_OWNER/LK_DEPTH are written only by
// the owner while it holds the word. Unlock wakes one waiter when the word was 2.
// A blocking acquire detaches the caller first and re-attaches through the
// normal CAS path afterwards, so a stop-the-world never waits on a thread that
// waits for a lock; the outcome is decided inside the detached region.
// Lock ids are a registry (LK_KIND != 0), so reinitAfterFork reaches them all.

import {
  MAX_LOCKS, LK_WORD, LK_OWNER, LK_DEPTH, LK_KIND, IMPORT_LOCK, LOCK_MUTEX, LOCK_RECURSIVE, lockAddr, slotAddr,
} from "./layout";
import {
  OK, E_ARG, E_BAD_LOCK, E_NOT_OWNER, E_RECURSION, E_DEADLOCK, E_WOULD_BLOCK, E_TIMEOUT,
  E_FULL, E_BUSY,
} from "./errors";
import { ST_ATTACHED, stateOf, checkHandle, handleIndex, attach, detach } from "./state";
import { nowMs, msToNs } from "./clock";

const MAX_DEPTH: u32 = 0x7fffffff;

export function createImportLock(): void {
  atomic.store<u32>(lockAddr(IMPORT_LOCK) + LK_KIND, LOCK_RECURSIVE);
}

function kindOf(id: i32): u32 {
  if (<u32>id >= <u32>MAX_LOCKS) return 0;
  return atomic.load<u32>(lockAddr(id) + LK_KIND);
}

// Creates a lock of `kind`; returns its id (> 0; id 0 is the import lock).
export function lockCreate(kind: u32): i32 {
  if (kind != LOCK_MUTEX && kind != LOCK_RECURSIVE) return E_ARG;
  for (let id = 1; id < MAX_LOCKS; id++) {
    if (atomic.cmpxchg<u32>(lockAddr(id) + LK_KIND, 0, kind) == 0) return id;
  }
  return E_FULL;
}

export function lockDestroy(id: i32): i32 {
  if (id == IMPORT_LOCK || kindOf(id) == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  if (atomic.load<u32>(l + LK_WORD) != 0) return E_BUSY;
  atomic.store<u32>(l + LK_KIND, 0);
  return OK;
}

function takeOwnership(l: usize, h: i32): void {
  assert(atomic.load<u32>(l + LK_WORD) != 0, "lock owned while its word says free");
  atomic.store<u32>(l + LK_OWNER, <u32>h);
  atomic.store<u32>(l + LK_DEPTH, 1);
}

// Acquires lock `id` for thread `h`. timeoutMs < 0 waits forever, 0 tries once.
// OK, E_WOULD_BLOCK (try), E_TIMEOUT, E_DEADLOCK, E_RECURSION, E_BAD_LOCK, …
export function lockAcquire(h: i32, id: i32, timeoutMs: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const kind = kindOf(id);
  if (kind == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  if (atomic.load<u32>(l + LK_OWNER) == <u32>h && atomic.load<u32>(l + LK_WORD) != 0) {
    if (kind != LOCK_RECURSIVE) return E_DEADLOCK;
    const d = atomic.load<u32>(l + LK_DEPTH);
    if (d >= MAX_DEPTH) return E_RECURSION;
    atomic.store<u32>(l + LK_DEPTH, d + 1);
    return OK;
  }
  if (atomic.cmpxchg<u32>(l + LK_WORD, 0, 1) == 0) {
    takeOwnership(l, h);
    return OK;
  }
  if (timeoutMs == 0) return E_WOULD_BLOCK;

  const wasAttached = stateOf(atomic.load<u32>(slotAddr(handleIndex(h)))) == ST_ATTACHED;
  if (wasAttached) {
    const d = detach(h);
    if (d < 0) return d;
  }
  const deadline = timeoutMs < 0 ? Infinity : nowMs() + <f64>timeoutMs;
  let result = E_TIMEOUT;
  while (true) {
    if (atomic.xchg<u32>(l + LK_WORD, 2) == 0) {
      takeOwnership(l, h);
      result = OK;
      break;
    }
    if (timeoutMs < 0) {
      atomic.wait<i32>(l + LK_WORD, 2, -1);
    } else {
      const remaining = deadline - nowMs();
      if (remaining <= 0) break;
      atomic.wait<i32>(l + LK_WORD, 2, <i64>msToNs(remaining));
    }
  }
  if (wasAttached) {
    const a = attach(h, true);
    if (a < 0) return a;
  }
  return result;
}

export function lockRelease(h: i32, id: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const kind = kindOf(id);
  if (kind == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  if (atomic.load<u32>(l + LK_WORD) == 0 || atomic.load<u32>(l + LK_OWNER) != <u32>h) return E_NOT_OWNER;
  const d = atomic.load<u32>(l + LK_DEPTH);
  assert(d >= 1, "held lock with depth 0");
  if (d > 1) {
    atomic.store<u32>(l + LK_DEPTH, d - 1);
    return OK;
  }
  atomic.store<u32>(l + LK_DEPTH, 0);
  atomic.store<u32>(l + LK_OWNER, 0);
  if (atomic.xchg<u32>(l + LK_WORD, 0) == 2) atomic.notify(l + LK_WORD, 1);
  return OK;
}

// The owner handle (0 when unlocked) of lock `id`, or E_BAD_LOCK.
export function lockOwner(id: i32): i32 {
  if (kindOf(id) == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  return atomic.load<u32>(l + LK_WORD) == 0 ? 0 : <i32>atomic.load<u32>(l + LK_OWNER);
}

export function lockDepth(id: i32): i32 {
  if (kindOf(id) == 0) return E_BAD_LOCK;
  return <i32>atomic.load<u32>(lockAddr(id) + LK_DEPTH);
}

// Fork child: the owners do not exist here (POSIX semantics). Every created
// lock, the import lock included, becomes unlocked.
export function locksAfterForkChild(): void {
  for (let id = 0; id < MAX_LOCKS; id++) {
    const l = lockAddr(id);
    if (atomic.load<u32>(l + LK_KIND) == 0) continue;
    atomic.store<u32>(l + LK_OWNER, 0);
    atomic.store<u32>(l + LK_DEPTH, 0);
    atomic.store<u32>(l + LK_WORD, 0);
  }
}

// For waiters that must not block (a browser main thread): one step of the
// contended path. Acquires, or flags the word as contended (2) and returns
// E_WOULD_BLOCK; the caller then waits for the word at lock_addr(id) to leave
// 2 (Atomics.waitAsync) and calls again. The caller's thread state is its own
// business here: it is not blocked inside the module.
export function lockTryFlagged(h: i32, id: i32): i32 {
  const r = lockAcquire(h, id, 0);
  if (r != E_WOULD_BLOCK) return r;
  const l = lockAddr(id);
  if (atomic.xchg<u32>(l + LK_WORD, 2) == 0) {
    takeOwnership(l, h);
    return OK;
  }
  return E_WOULD_BLOCK;
}

export function lockWordAddr(id: i32): i32 {
  return kindOf(id) == 0 ? E_BAD_LOCK : <i32>(lockAddr(id) + LK_WORD);
}
