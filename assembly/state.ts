// Per-thread state: one 32-bit word per registry slot.
//
//   bits 31..8  generation (1 … 0x7FFFFF; bumped each time the slot is reused)
//   bit  4      STOP: a stop-the-world requester asks this ATTACHED thread to
//               suspend at its next safe point
//   bits 3..0   state: FREE, REGISTERING, DETACHED, ATTACHED, SUSPENDED, DEAD
//
// A handle is `generation << 8 | slot index`, so the word a live ATTACHED thread
// expects is computable from its handle alone: the safe-point poll is one
// atomic load and one compare, and every CAS fails on a stale handle.
//
// Invariant: every change of a registered slot's word is a CAS from the value
// the mover observed, and each transition has exactly one kind of mover:
//   owner      DETACHED  → ATTACHED        (attach; waits while SUSPENDED)
//   owner      ATTACHED  → DETACHED        (detach, no stop pending)
//   owner      ATTACHED|STOP → SUSPENDED   (poll or detach while a stop is pending)
//   requester  ATTACHED  → ATTACHED|STOP   (ask to suspend)
//   requester  ATTACHED|STOP → ATTACHED    (withdraw, when a stop times out)
//   requester  DETACHED  → SUSPENDED       (park a detached thread, no wake-up)
//   requester  SUSPENDED → DETACHED        (resume; then notify the word)
//   registrant FREE/DEAD → REGISTERING → DETACHED, or SUSPENDED during a stop
//   owner      SUSPENDED → DETACHED       (an orphan, holding W_EXCLUSION: healOrphan)
//   owner      DETACHED  → FREE            (unregister)
//   host       any live  → DEAD            (the host saw the thread die)
// A thread that self-suspends bumps W_SUSPEND_EPOCH and notifies it, which is
// what the requester waits on; a resumed thread re-attaches through the CAS.

import {
  slotAddr, SL_REATTACH, W_EXCLUSION, H_INIT, H_CAPACITY, INIT_READY, W_SUSPEND_EPOCH, W_SELF_SUSPENDS, W_ATTACH_WAITS,
} from "./layout";
import { OK, E_NOT_INIT, E_BAD_HANDLE, E_STALE, E_STATE, E_WOULD_BLOCK } from "./errors";

export const ST_FREE: u32 = 0;
export const ST_REGISTERING: u32 = 1;
export const ST_DETACHED: u32 = 2;
export const ST_ATTACHED: u32 = 3;
export const ST_SUSPENDED: u32 = 4;
export const ST_DEAD: u32 = 5;

export const STATE_MASK: u32 = 0x0f;
export const STOP_BIT: u32 = 0x10;
export const GEN_MASK: u32 = 0xffffff00;
export const MAX_GEN: u32 = 0x7fffff;

// Loads a suspended thread spends watching its word before it sleeps.
const RESUME_SPINS: i32 = 4000;
// A suspended thread sleeps in slices this long, checking between them that a
// requester still holds the stop (see healOrphan).
const SUSPEND_SLICE_NS: i64 = 50_000_000;

// @ts-ignore: decorator
@inline export function handleIndex(h: i32): i32 {
  return h & 0xff;
}

// @ts-ignore: decorator
@inline export function genBits(h: i32): u32 {
  return <u32>h & GEN_MASK;
}

// @ts-ignore: decorator
@inline export function stateOf(w: u32): u32 {
  return w & STATE_MASK;
}

export function nextGen(w: u32): u32 {
  const g = w >>> 8;
  return g >= MAX_GEN ? 1 : g + 1;
}

// The number of slots init() chose; 0 before init.
// @ts-ignore: decorator
@inline export function capacity(): i32 {
  return <i32>atomic.load<u32>(H_CAPACITY);
}

// OK when `h` names a live registered slot, else the reason it does not.
export function checkHandle(h: i32): i32 {
  if (atomic.load<u32>(H_INIT) != INIT_READY) return E_NOT_INIT;
  if (h <= 0 || (h >>> 8) == 0 || handleIndex(h) >= capacity()) return E_BAD_HANDLE;
  const w = atomic.load<u32>(slotAddr(handleIndex(h)));
  if ((w & GEN_MASK) != genBits(h) || stateOf(w) == ST_FREE) return E_STALE;
  return OK;
}

// Owner: ATTACHED|STOP → SUSPENDED, then tell the requester. Returns false when
// the stop was withdrawn before we got there (the word is plain ATTACHED).
export function suspendSelf(addr: usize, g: u32): bool {
  while (true) {
    const w = atomic.load<u32>(addr);
    if (w != (g | ST_ATTACHED | STOP_BIT)) return false;
    if (atomic.cmpxchg<u32>(addr, w, g | ST_SUSPENDED) == w) break;
  }
  atomic.add<u64>(W_SELF_SUSPENDS, 1);
  atomic.add<u32>(W_SUSPEND_EPOCH, 1);
  atomic.notify(W_SUSPEND_EPOCH, u32.MAX_VALUE);
  return true;
}

// Owner: DETACHED → ATTACHED. While SUSPENDED, waits on the word (blocking)
// unless `block` is false, then returns E_WOULD_BLOCK.
// @ts-ignore: decorator
@inline export function attach(h: i32, block: bool): i32 {
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  if (atomic.cmpxchg<u32>(addr, g | ST_DETACHED, g | ST_ATTACHED) == (g | ST_DETACHED)) return OK;
  return attachSlow(h, block);
}

function attachSlow(h: i32, block: bool): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  while (true) {
    const w = atomic.load<u32>(addr);
    if ((w & GEN_MASK) != g) return E_STALE;
    const st = stateOf(w);
    if (st == ST_DETACHED) {
      if (atomic.cmpxchg<u32>(addr, w, g | ST_ATTACHED) == w) {
        if (atomic.load<u32>(addr + SL_REATTACH)) {
          // a requester may be backing off until we are back: tell it
          atomic.store<u32>(addr + SL_REATTACH, 0);
          atomic.notify(addr, u32.MAX_VALUE);
        }
        return OK;
      }
    } else if (st == ST_SUSPENDED) {
      atomic.store<u32>(addr + SL_REATTACH, 1);
      if (healOrphan(h)) continue;
      if (!block) return E_WOULD_BLOCK;
      // Short stops end before a futex sleep would even begin: spin first.
      let spins = 0;
      while (spins < RESUME_SPINS && atomic.load<u32>(addr) == w) spins++;
      if (spins < RESUME_SPINS) continue;
      while (atomic.wait<i32>(addr, <i32>w, SUSPEND_SLICE_NS) == 2 && !healOrphan(h)) {}
      // counted after waking: a suspended thread writes nothing it need not
      atomic.add<u64>(W_ATTACH_WAITS, 1);
    } else {
      return st == ST_FREE ? E_STALE : E_STATE;
    }
  }
}

// Owner of a SUSPENDED slot: a slot is SUSPENDED only while the requester
// that parked it holds W_EXCLUSION, except one left behind by a stop whose
// restore pass gave up waiting for it while it was REGISTERING (world.ts):
// its registrant read the request, then settled after the restore. Such an
// orphan resumes itself, under the exclusion so that no stop can interleave.
// True when it did.
export function healOrphan(h: i32): bool {
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  if (atomic.load<u32>(addr) != (g | ST_SUSPENDED) || atomic.load<u32>(W_EXCLUSION) != 0) return false;
  if (atomic.cmpxchg<u32>(W_EXCLUSION, 0, <u32>h) != 0) return false;
  const healed = atomic.cmpxchg<u32>(addr, g | ST_SUSPENDED, g | ST_DETACHED) == (g | ST_SUSPENDED);
  atomic.store<u32>(W_EXCLUSION, 0);
  atomic.notify(W_EXCLUSION, u32.MAX_VALUE);
  return healed;
}

// Owner: ATTACHED → DETACHED; with a stop pending it suspends instead, which
// the caller sees as detached (its next attach waits for the world to start).
// @ts-ignore: decorator
@inline export function detach(h: i32): i32 {
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  if (atomic.cmpxchg<u32>(addr, g | ST_ATTACHED, g | ST_DETACHED) == (g | ST_ATTACHED)) return OK;
  return detachSlow(h);
}

function detachSlow(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  while (true) {
    const w = atomic.load<u32>(addr);
    if ((w & GEN_MASK) != g) return E_STALE;
    if (w == (g | ST_ATTACHED | STOP_BIT)) {
      if (suspendSelf(addr, g)) return OK;
    } else if (w == (g | ST_ATTACHED)) {
      if (atomic.cmpxchg<u32>(addr, w, g | ST_DETACHED) == w) return OK;
    } else {
      return E_STATE;
    }
  }
}

// Owner, at a safe point. Fast path: one atomic load. Returns 0, or 1 when the
// thread was suspended and has been resumed (and is attached again).
// @ts-ignore: decorator
@inline export function poll(h: i32): i32 {
  if (atomic.load<u32>(slotAddr(handleIndex(h))) == (genBits(h) | ST_ATTACHED)) return OK;
  return pollSlow(h);
}

function pollSlow(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  const w = atomic.load<u32>(addr);
  if ((w & GEN_MASK) != g) return E_STALE;
  if (w == (g | ST_ATTACHED)) return OK;
  if (w != (g | ST_ATTACHED | STOP_BIT)) return E_STATE;
  if (!suspendSelf(addr, g)) return OK;
  const r = attach(h, true);
  return r < 0 ? r : 1;
}
