// The thread registry: init, register, unregister, mark dead.
// See state.ts for the slot word and who may move it.

import {
  MAGIC, ABI_VERSION, HEADER, H_HOST, WORLD, STRAGGLERS, CACHE_WRITERS, LAYOUT_END, H_MAGIC, H_ABI, H_INIT, H_CAPACITY, H_LAYOUT_END,
  INIT_NONE, INIT_BUSY, INIT_READY, MAX_SLOTS, SL_TID, SL_REATTACH, SL_DEADLINE, SL_USER, SLOT_USER_WORDS, slotAddr,
  W_REQUESTED, W_SUSPEND_EPOCH, W_EXCLUSION,
} from "./layout";
import { OK, E_ARG, E_ALREADY_INIT, E_NOT_INIT, E_FULL, E_STATE, E_STALE, E_WOULD_BLOCK } from "./errors";
import {
  ST_FREE, ST_REGISTERING, ST_DETACHED, ST_SUSPENDED, ST_DEAD, GEN_MASK, STOP_BIT,
  stateOf, nextGen, capacity, checkHandle, genBits, handleIndex, healOrphan,
} from "./state";
import { createImportLock, locksOwnerGone } from "./locks";
import { seqlockOwnerGone } from "./seqlock";
import { abandonWorld, abandonWorldTry } from "./world";

const STRAGGLERS_END: usize = STRAGGLERS + ((<usize>MAX_SLOTS) << 2);

// Initialises a fresh memory once. INIT_NONE → INIT_BUSY by CAS elects the one
// initialiser; others wait for INIT_READY and get E_ALREADY_INIT.
export function init(cap: i32): i32 {
  if (cap < 1 || cap > MAX_SLOTS) return E_ARG;
  const old = atomic.cmpxchg<u32>(H_INIT, INIT_NONE, INIT_BUSY);
  if (old != INIT_NONE) {
    while (atomic.load<u32>(H_INIT) == INIT_BUSY) atomic.wait<i32>(H_INIT, <i32>INIT_BUSY, 1000000);
    return E_ALREADY_INIT;
  }
  // Only the core's blocks: the header's host words (H_HOST…) stay as the
  // host set them (it may keep flags there from before init), and so do the
  // bytes between STRAGGLERS and CACHE_WRITERS, which belong to no block.
  memory.fill(HEADER + 12, 0, H_HOST - HEADER - 12);
  memory.fill(WORLD, 0, STRAGGLERS_END - WORLD);
  memory.fill(CACHE_WRITERS, 0, LAYOUT_END - CACHE_WRITERS);
  atomic.store<u32>(H_MAGIC, MAGIC);
  atomic.store<u32>(H_ABI, ABI_VERSION);
  atomic.store<u32>(H_CAPACITY, <u32>cap);
  atomic.store<u32>(H_LAYOUT_END, <u32>LAYOUT_END);
  createImportLock();
  atomic.store<u32>(H_INIT, INIT_READY);
  atomic.notify(H_INIT, u32.MAX_VALUE);
  return OK;
}

export function isReady(): bool {
  return atomic.load<u32>(H_INIT) == INIT_READY;
}

function claim(i: i32, from: u32): u32 {
  const addr = slotAddr(i);
  while (true) {
    const w = atomic.load<u32>(addr);
    if (stateOf(w) != from) return 0;
    const g = nextGen(w) << 8;
    if (atomic.cmpxchg<u32>(addr, w, g | ST_REGISTERING) == w) return g;
  }
}

// Registrant: takes a FREE slot (a DEAD one when none is free). The slot stays
// REGISTERING while the request flag is read, so a concurrent stop either sees
// the slot settle or the registrant sees the request: a thread registered
// during a stop starts SUSPENDED. Returns the handle (> 0). A non-zero
// `holdAddr` (diagnostics only) keeps the slot REGISTERING until the word
// there is non-zero: the death tests kill a registrant inside that window.
export function register(tid: i32, holdAddr: usize = 0): i32 {
  if (!isReady()) return E_NOT_INIT;
  const cap = capacity();
  let idx = -1;
  let g: u32 = 0;
  for (let pass: u32 = 0; pass < 2 && idx < 0; pass++) {
    for (let i = 0; i < cap; i++) {
      g = claim(i, pass == 0 ? ST_FREE : ST_DEAD);
      if (g != 0) {
        idx = i;
        break;
      }
    }
  }
  if (idx < 0) return E_FULL;
  const addr = slotAddr(idx);
  atomic.store<i32>(addr + SL_TID, tid);
  atomic.store<u32>(addr + SL_REATTACH, 0);
  atomic.store<u32>(addr + SL_DEADLINE, 0);
  for (let k = 0; k < SLOT_USER_WORDS; k++) atomic.store<u32>(addr + SL_USER + ((<usize>k) << 2), 0);
  const stopping = atomic.load<u32>(W_REQUESTED) != 0;
  if (holdAddr != 0) while (atomic.load<u32>(holdAddr) == 0) atomic.wait<i32>(holdAddr, 0, 1_000_000);
  // Nobody but the registrant moves a REGISTERING word; the CAS documents that.
  const was = atomic.cmpxchg<u32>(addr, g | ST_REGISTERING, g | (stopping ? ST_SUSPENDED : ST_DETACHED));
  assert(was == (g | ST_REGISTERING), "a REGISTERING word moved under its registrant");
  atomic.notify(addr, u32.MAX_VALUE);
  if (stopping) {
    atomic.add<u32>(W_SUSPEND_EPOCH, 1);
    atomic.notify(W_SUSPEND_EPOCH, u32.MAX_VALUE);
  }
  return <i32>(g | <u32>idx);
}

// Owner: DETACHED → FREE (or reaping a DEAD slot). While SUSPENDED it waits for
// the world to start: a stopped world does not lose threads under the requester.
export function unregister(h: i32): i32 {
  return unregisterImpl(h, true);
}

// Non-blocking unregister: E_WOULD_BLOCK while the slot is SUSPENDED (wait for
// its word to change and call again).
export function unregisterTry(h: i32): i32 {
  return unregisterImpl(h, false);
}

function unregisterImpl(h: i32, block: bool): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  while (true) {
    const w = atomic.load<u32>(addr);
    if ((w & GEN_MASK) != g) return E_STALE;
    const st = stateOf(w);
    if (st == ST_DETACHED || st == ST_DEAD) {
      if (atomic.cmpxchg<u32>(addr, w, g | ST_FREE) == w) {
        if (st == ST_DETACHED) ownerGone(h, false);
        return OK;
      }
    } else if (st == ST_SUSPENDED) {
      if (healOrphan(h)) continue;
      if (!block) return E_WOULD_BLOCK;
      atomic.wait<i32>(addr, <i32>w, 50_000_000);
    } else {
      return E_STATE;
    }
  }
}

// `h` can no longer release anything: waiters on its locks and writer words
// wake and see it gone (locks: the next acquirer takes over with E_OWNER_DEAD).
function ownerGone(h: i32, died: bool): void {
  locksOwnerGone(h, died);
  seqlockOwnerGone(h);
}

// Host: the thread behind `h` is gone (worker exited or crashed). Any live
// state → DEAD, so no stop waits for it. If it held the stop, the world is
// restored; its locks pass to their next acquirer with E_OWNER_DEAD.
export function markDead(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const g = genBits(h);
  const addr = slotAddr(handleIndex(h));
  while (true) {
    const w = atomic.load<u32>(addr);
    if ((w & GEN_MASK) != g) return E_STALE;
    if (stateOf(w) == ST_DEAD) return OK;
    if (atomic.cmpxchg<u32>(addr, w, g | ST_DEAD) == w) break;
  }
  atomic.notify(addr, u32.MAX_VALUE);
  ownerGone(h, true);
  if (atomic.load<u32>(W_EXCLUSION) == <u32>h) abandonWorld(h);
  atomic.add<u32>(W_SUSPEND_EPOCH, 1);
  atomic.notify(W_SUSPEND_EPOCH, u32.MAX_VALUE);
  return OK;
}

// Non-blocking mark_dead: the same marking, lock and writer hand-over, with
// the world released by abandonWorldTry when `h` held the stop. E_WOULD_BLOCK
// then (the slot is DEAD, the stop still held by `h` while a slot registers):
// call again until OK. The exclusion word is matched by value, so a repeat
// works even after the dead slot was reaped or reused.
export function markDeadTry(h: i32): i32 {
  const e = checkHandle(h);
  const holds = h > 0 && atomic.load<u32>(W_EXCLUSION) == <u32>h;
  if (e < 0 && !holds) return e;
  let marked = false;
  if (e == OK) {
    const g = genBits(h);
    const addr = slotAddr(handleIndex(h));
    while (true) {
      const w = atomic.load<u32>(addr);
      if ((w & GEN_MASK) != g) {
        if (!holds) return E_STALE;
        break;
      }
      if (stateOf(w) == ST_DEAD) break;
      if (atomic.cmpxchg<u32>(addr, w, g | ST_DEAD) == w) {
        marked = true;
        break;
      }
    }
    if (marked) {
      atomic.notify(addr, u32.MAX_VALUE);
      ownerGone(h, true);
    }
  }
  if (holds) {
    const r = abandonWorldTry(h, marked);
    if (r < 0) return r;
  }
  atomic.add<u32>(W_SUSPEND_EPOCH, 1);
  atomic.notify(W_SUSPEND_EPOCH, u32.MAX_VALUE);
  return OK;
}

// The state of the slot behind `h` (ST_*), or an error.
export function stateOfHandle(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const w = atomic.load<u32>(slotAddr(handleIndex(h)));
  return <i32>(stateOf(w) | (w & STOP_BIT));
}

// The raw word of slot `index`, for thread dumps: any thread may read it.
export function slotWord(index: i32): i64 {
  if (!isReady()) return E_NOT_INIT;
  if (index < 0 || index >= capacity()) return E_ARG;
  return <i64>atomic.load<u32>(slotAddr(index));
}
