// Robust, fork-safe locks in shared memory.
//
// Lock word: 0 when free, else the owner's handle (bits 30..0), with bit 31
// (WAITERS) set when a thread may sleep on the word. A word of NOTREC (a value
// no handle takes: generation 0) marks a lock made unrecoverable.
//
// Invariants:
// - Ownership is taken in one CAS that writes the owner's handle (0 → h on the
//   fast path; old word → h | WAITERS on the contended path and on takeover),
//   so there is no instant at which a held lock has no recorded owner.
// - LK_DEPTH and LK_STATE are written only by the owner while it holds the word.
//   LK_STATE is INCONSISTENT only while the holder took the lock over from a
//   dead owner and has not called lock_consistent.
// - "The owner is dead" is read from the owner's slot (DEAD, FREE, or a
//   generation other than the handle's), never guessed from waiting time.
// - No lost wake-up: a waiter sets WAITERS before it checks the owner, and
//   sleeps only on the word value it checked. A release of a word with WAITERS
//   wakes one sleeper; every other change that may strand sleepers (owner
//   death via mark_dead/unregister, takeover, NOTREC) clears or changes the
//   value and wakes all, so a waiter that checked a live owner and is about to
//   sleep either sees the new value or is already asleep and gets woken.
//   mark_dead also wakes every lock word once, so a waiter that was woken and
//   then killed before it re-flagged the word cannot leave the others asleep.
// A blocking acquire detaches the caller first and re-attaches through the
// normal CAS path afterwards, so a stop-the-world never waits on a thread that
// waits for a lock; the outcome is decided inside the detached region.
// Lock ids are a registry (LK_KIND != 0), so reinitAfterFork reaches them all.

import {
  MAX_LOCKS, LK_WORD, LK_STATE, LK_DEPTH, LK_KIND, IMPORT_LOCK, LOCK_MUTEX, LOCK_RECURSIVE,
  LOCK_WAITERS as WAITERS, LOCK_NOTREC as NOTREC, lockAddr, slotAddr,
} from "./layout";
import {
  OK, E_ARG, E_BAD_LOCK, E_NOT_OWNER, E_RECURSION, E_DEADLOCK, E_WOULD_BLOCK, E_TIMEOUT,
  E_FULL, E_BUSY, E_STATE, E_OWNER_DEAD, E_NOT_RECOVERABLE,
} from "./errors";
import {
  ST_ATTACHED, ST_FREE, ST_DEAD, GEN_MASK, stateOf, checkHandle, handleIndex, genBits, capacity,
  attach, detach,
} from "./state";
import { nowMs, msToNs } from "./clock";

export const LS_CONSISTENT: u32 = 0;
export const LS_INCONSISTENT: u32 = 1;
const MAX_DEPTH: u32 = 0x7fffffff;

export function createImportLock(): void {
  atomic.store<u32>(lockAddr(IMPORT_LOCK) + LK_KIND, LOCK_RECURSIVE);
}

function kindOf(id: i32): u32 {
  if (<u32>id >= <u32>MAX_LOCKS) return 0;
  return atomic.load<u32>(lockAddr(id) + LK_KIND);
}

// True when the thread `owner` names can no longer release anything: its slot
// is DEAD or FREE, or was reused (another generation).
export function handleGone(owner: u32): bool {
  const i = <i32>(owner & 0xff);
  if ((owner >>> 8) == 0 || i >= capacity()) return true;
  const w = atomic.load<u32>(slotAddr(i));
  if ((w & GEN_MASK) != (owner & GEN_MASK)) return true;
  const st = stateOf(w);
  return st == ST_DEAD || st == ST_FREE;
}

// Creates a lock of `kind`; returns its id (> 0; id 0 is the import lock).
export function lockCreate(kind: u32): i32 {
  if (kind != LOCK_MUTEX && kind != LOCK_RECURSIVE) return E_ARG;
  for (let id = 1; id < MAX_LOCKS; id++) {
    if (atomic.cmpxchg<u32>(lockAddr(id) + LK_KIND, 0, kind) == 0) return id;
  }
  return E_FULL;
}

// Destroys a free or unrecoverable lock (destroy and create again is the way
// out of NOT_RECOVERABLE). A lock whose owner died must be taken over first.
export function lockDestroy(id: i32): i32 {
  if (id == IMPORT_LOCK || kindOf(id) == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  const w = atomic.load<u32>(l + LK_WORD);
  if (w != 0 && (w & ~WAITERS) != NOTREC) return E_BUSY;
  if (atomic.cmpxchg<u32>(l + LK_WORD, w, 0) != w) return E_BUSY;
  atomic.store<u32>(l + LK_STATE, LS_CONSISTENT);
  atomic.store<u32>(l + LK_DEPTH, 0);
  atomic.store<u32>(l + LK_KIND, 0);
  return OK;
}

// One contended step for `h`, which does not hold the lock: acquire a free
// word, take over a dead owner's, or flag the word. Returns OK, E_OWNER_DEAD,
// E_NOT_RECOVERABLE, or BLOCKED | v: the word is flagged and v is the value to
// sleep on (the owner was live while the word held v).
const BLOCKED: i64 = 1 << 32;
function step(l: usize, h: i32): i64 {
  while (true) {
    const w = atomic.load<u32>(l + LK_WORD);
    if (w == 0) {
      if (atomic.cmpxchg<u32>(l + LK_WORD, 0, <u32>h | WAITERS) != 0) continue;
      atomic.store<u32>(l + LK_DEPTH, 1);
      return OK;
    }
    const owner = w & ~WAITERS;
    if (owner == NOTREC) return E_NOT_RECOVERABLE;
    let flagged = w;
    if ((w & WAITERS) == 0) {
      if (atomic.cmpxchg<u32>(l + LK_WORD, w, w | WAITERS) != w) continue;
      flagged = w | WAITERS;
    }
    if (handleGone(owner)) {
      if (atomic.cmpxchg<u32>(l + LK_WORD, flagged, <u32>h | WAITERS) != flagged) continue;
      atomic.store<u32>(l + LK_DEPTH, 1);
      atomic.store<u32>(l + LK_STATE, LS_INCONSISTENT);
      atomic.notify(l + LK_WORD, u32.MAX_VALUE); // sleepers re-check against the new owner
      return E_OWNER_DEAD;
    }
    return BLOCKED | <i64>flagged;
  }
}

// Acquires lock `id` for thread `h`. timeoutMs < 0 waits forever, 0 tries once.
// OK, E_OWNER_DEAD (acquired: the previous owner died holding it),
// E_NOT_RECOVERABLE, E_WOULD_BLOCK (try), E_TIMEOUT, E_DEADLOCK, E_RECURSION,
// E_BAD_LOCK, …
export function lockAcquire(h: i32, id: i32, timeoutMs: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const kind = kindOf(id);
  if (kind == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  if (atomic.cmpxchg<u32>(l + LK_WORD, 0, <u32>h) == 0) {
    atomic.store<u32>(l + LK_DEPTH, 1);
    return OK;
  }
  const w0 = atomic.load<u32>(l + LK_WORD);
  if ((w0 & ~WAITERS) == <u32>h) {
    if (kind != LOCK_RECURSIVE) return E_DEADLOCK;
    const d = atomic.load<u32>(l + LK_DEPTH);
    if (d >= MAX_DEPTH) return E_RECURSION;
    atomic.store<u32>(l + LK_DEPTH, d + 1);
    return OK;
  }
  if (timeoutMs == 0) {
    // a try: flagging the word is harmless (a release then wakes nobody)
    const r = step(l, h);
    return r >= BLOCKED ? E_WOULD_BLOCK : <i32>r;
  }
  const wasAttached = stateOf(atomic.load<u32>(slotAddr(handleIndex(h)))) == ST_ATTACHED;
  if (wasAttached) {
    const d = detach(h);
    if (d < 0) return d;
  }
  const deadline = timeoutMs < 0 ? Infinity : nowMs() + <f64>timeoutMs;
  let result = E_TIMEOUT;
  while (true) {
    const r = step(l, h);
    if (r < BLOCKED) {
      result = <i32>r;
      break;
    }
    const v = <i32><u32>r;
    if (timeoutMs < 0) {
      atomic.wait<i32>(l + LK_WORD, v, -1);
    } else {
      const remaining = deadline - nowMs();
      if (remaining <= 0) break;
      atomic.wait<i32>(l + LK_WORD, v, <i64>msToNs(remaining));
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
  if ((atomic.load<u32>(l + LK_WORD) & ~WAITERS) != <u32>h) return E_NOT_OWNER;
  const d = atomic.load<u32>(l + LK_DEPTH);
  assert(d >= 1, "held lock with depth 0");
  if (d > 1) {
    atomic.store<u32>(l + LK_DEPTH, d - 1);
    return OK;
  }
  atomic.store<u32>(l + LK_DEPTH, 0);
  if (atomic.load<u32>(l + LK_STATE) == LS_INCONSISTENT) {
    // Released without repair: the guarded state cannot be trusted again.
    atomic.store<u32>(l + LK_STATE, LS_CONSISTENT);
    atomic.store<u32>(l + LK_WORD, NOTREC);
    atomic.notify(l + LK_WORD, u32.MAX_VALUE);
    return OK;
  }
  if (atomic.xchg<u32>(l + LK_WORD, 0) & WAITERS) atomic.notify(l + LK_WORD, 1);
  return OK;
}

// The holder of a lock taken over with E_OWNER_DEAD declares the state it
// guards repaired. E_NOT_OWNER unless `h` holds it; E_STATE when it is not
// inconsistent.
export function lockConsistent(h: i32, id: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (kindOf(id) == 0) return E_BAD_LOCK;
  const l = lockAddr(id);
  if ((atomic.load<u32>(l + LK_WORD) & ~WAITERS) != <u32>h) return E_NOT_OWNER;
  if (atomic.load<u32>(l + LK_STATE) != LS_INCONSISTENT) return E_STATE;
  atomic.store<u32>(l + LK_STATE, LS_CONSISTENT);
  return OK;
}

// Thread `h` is gone (its slot was just made DEAD or FREE): the words of the
// locks it holds change (WAITERS cleared) and are woken, so each sleeper
// re-checks and one takes over. After a death (`died`) every other lock word
// is woken too: `h` may have been a waiter that a release woke and that died
// before it flagged the word again, which would leave the others asleep.
export function locksOwnerGone(h: i32, died: bool): void {
  for (let id = 0; id < MAX_LOCKS; id++) {
    const l = lockAddr(id);
    if (atomic.load<u32>(l + LK_KIND) == 0) continue;
    let held = false;
    while (true) {
      const w = atomic.load<u32>(l + LK_WORD);
      held = (w & ~WAITERS) == <u32>h;
      if (w != (<u32>h | WAITERS)) break;
      if (atomic.cmpxchg<u32>(l + LK_WORD, w, <u32>h) == w) break;
    }
    if (held || died) atomic.notify(l + LK_WORD, u32.MAX_VALUE);
  }
}

// The owner handle (0 when unlocked) of lock `id`; E_NOT_RECOVERABLE; E_BAD_LOCK.
export function lockOwner(id: i32): i32 {
  if (kindOf(id) == 0) return E_BAD_LOCK;
  const w = atomic.load<u32>(lockAddr(id) + LK_WORD) & ~WAITERS;
  return w == NOTREC ? E_NOT_RECOVERABLE : <i32>w;
}

export function lockDepth(id: i32): i32 {
  if (kindOf(id) == 0) return E_BAD_LOCK;
  return <i32>atomic.load<u32>(lockAddr(id) + LK_DEPTH);
}

// Fork child: the owners do not exist here (POSIX semantics). Every created
// lock, the import lock included, becomes unlocked and consistent.
export function locksAfterForkChild(): void {
  for (let id = 0; id < MAX_LOCKS; id++) {
    const l = lockAddr(id);
    if (atomic.load<u32>(l + LK_KIND) == 0) continue;
    atomic.store<u32>(l + LK_STATE, LS_CONSISTENT);
    atomic.store<u32>(l + LK_DEPTH, 0);
    atomic.store<u32>(l + LK_WORD, 0);
  }
}

// For waiters that must not block (a browser main thread): one step of the
// contended path. Acquires (OK / E_OWNER_DEAD), or flags the word and returns
// E_WOULD_BLOCK; the caller then reads the word at lock_addr(id) and waits
// (Atomics.waitAsync) for it to change from that value, and calls again. The
// caller's thread state is its own business here: it is not blocked inside
// the module.
export function lockTryFlagged(h: i32, id: i32): i32 {
  return lockAcquire(h, id, 0);
}

export function lockWordAddr(id: i32): i32 {
  return kindOf(id) == 0 ? E_BAD_LOCK : <i32>(lockAddr(id) + LK_WORD);
}
