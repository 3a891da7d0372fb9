// The fork child's side of fork(): memory arrives as the parent's snapshot,
// taken while the forking thread held a stopped world. Only that thread lives
// on. The child is single-threaded until this returns, so plain stores are
// the right tool here: no other thread can race them.

import {
  MAX_SLOTS, slotAddr, SL_TID, SL_REATTACH, SL_DEADLINE, H_FORK_DEPTH, W_EXCLUSION, W_REQUESTED, W_STOPPED, W_STRAGGLERS,
} from "./layout";
import { OK, E_STATE } from "./errors";
import { ST_FREE, ST_ATTACHED, GEN_MASK, stateOf, checkHandle, handleIndex, genBits } from "./state";
import { locksAfterForkChild } from "./locks";
import { seqlockAfterForkChild } from "./seqlock";
import { resetStats } from "./world";

// Returns OK, or an error when `h` is not the thread that held the stop.
export function afterForkChild(h: i32, tid: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (atomic.load<u32>(W_EXCLUSION) != <u32>h) return E_STATE;
  const me = handleIndex(h);
  for (let i = 0; i < MAX_SLOTS; i++) {
    if (i == me) continue;
    const addr = slotAddr(i);
    const w = atomic.load<u32>(addr);
    if (stateOf(w) != ST_FREE) atomic.store<u32>(addr, (w & GEN_MASK) | ST_FREE);
  }
  atomic.store<u32>(slotAddr(me), genBits(h) | ST_ATTACHED);
  atomic.store<i32>(slotAddr(me) + SL_TID, tid);
  atomic.store<u32>(slotAddr(me) + SL_REATTACH, 0);
  atomic.store<u32>(slotAddr(me) + SL_DEADLINE, 0);
  atomic.store<u32>(W_REQUESTED, 0);
  atomic.store<u32>(W_STOPPED, 0);
  atomic.store<u32>(W_STRAGGLERS, 0);
  atomic.store<u32>(W_EXCLUSION, 0);
  locksAfterForkChild();
  seqlockAfterForkChild();
  resetStats();
  atomic.add<u32>(H_FORK_DEPTH, 1);
  return OK;
}

