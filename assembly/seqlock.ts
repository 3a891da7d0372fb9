// Seqlocks: data read lock-free by many threads, written rarely.
//
// Invariant: a sequence word is even when no write is in progress. A writer
// moves it even → odd by CAS (so writers of one sequence are serialised),
// stores the payload, and moves it odd → even+2. Only the whole-write
// functions below can do that, and none of them can return between the two
// moves, so no path leaves a sequence odd (a thread killed mid-write can:
// afterForkChild() clears such entries in a fork child).
// A reader takes the sequence, reads every field it will use with atomic loads
// (the cache packs them so that is three loads),
// and re-reads the sequence; the snapshot is valid only if both reads are the
// same even value. Comparisons happen after validation, on the snapshot.

import {
  CACHE_ENTRIES, CE_SEQ, CE_TYPE_VERSION, CE_META_VERSION, CE_VALUE, cacheAddr,
  RECORD_COUNT, RECORD_DATA, RECORD_WORDS, recordAddr, S_SEQ, STATS, STATS_END, LAYOUT_END,
} from "./layout";
import { OK, E_ARG, E_BUSY } from "./errors";

// A read that keeps meeting writers gives up (a miss for the cache) rather
// than spinning without bound.
const READ_TRIES: i32 = 64;
// A writer waits this many loads for another writer to finish; past that the
// other writer is presumed dead (a worker terminated mid-write) and the write
// fails with E_BUSY instead of spinning forever.
const WRITE_SPINS: i32 = 1 << 24;
const NO_EPOCH: u32 = 1; // odd, so never a sequence a write can begin from

function beginWrite(seq: usize): u32 {
  for (let i = 0; i < WRITE_SPINS; i++) {
    const s = atomic.load<u32>(seq);
    if ((s & 1) == 0 && atomic.cmpxchg<u32>(seq, s, s + 1) == s) return s;
  }
  return NO_EPOCH;
}

// @ts-ignore: decorator
@inline function endWrite(seq: usize, s: u32): void {
  assert((s & 1) == 0 && atomic.load<u32>(seq) == s + 1, "seqlock: the sequence moved under its writer");
  atomic.store<u32>(seq, s + 2);
}

// The generic write: begins an epoch, runs `body(arg)`, ends the epoch.
// False when the sequence stayed odd (a dead writer): nothing was written.
export function seqlockWrite(seq: usize, body: (arg: u64) => void, arg: u64): bool {
  const s = beginWrite(seq);
  if (s == NO_EPOCH) return false;
  body(arg);
  endWrite(seq, s);
  return true;
}

// ---- descriptor cache --------------------------------------------------------

// A hit carries this bit above the 32-bit value; a miss is 0; errors are < 0.
export const CACHE_HIT: i64 = 1 << 32;

export function cacheWrite(index: i32, typeVersion: u32, metaVersion: u32, value: u32): i32 {
  if (<u32>index >= <u32>CACHE_ENTRIES) return E_ARG;
  const e = cacheAddr(index);
  const s = beginWrite(e + CE_SEQ);
  if (s == NO_EPOCH) return E_BUSY;
  atomic.store<u32>(e + CE_TYPE_VERSION, typeVersion);
  atomic.store<u32>(e + CE_META_VERSION, metaVersion);
  atomic.store<u32>(e + CE_VALUE, value);
  endWrite(e + CE_SEQ, s);
  return OK;
}

// Version 0 never matches, so invalidation is a write of zeros.
export function cacheInvalidate(index: i32): i32 {
  return cacheWrite(index, 0, 0, 0);
}

// @ts-ignore: decorator
@inline export function cacheRead(index: i32, typeVersion: u32, metaVersion: u32): i64 {
  if (<u32>index >= <u32>CACHE_ENTRIES) return E_ARG;
  if (typeVersion == 0) return 0;
  const e = cacheAddr(index);
  for (let i = 0; i < READ_TRIES; i++) {
    const head = atomic.load<u64>(e + CE_SEQ); // seq (low half) and value, in one load
    const s1 = <u32>head;
    if (s1 & 1) continue;
    const versions = atomic.load<u64>(e + CE_TYPE_VERSION);
    if (atomic.load<u32>(e + CE_SEQ) != s1) continue;
    const want = (<u64>metaVersion << 32) | <u64>typeVersion;
    return versions == want ? CACHE_HIT | <i64>(head >>> 32) : 0;
  }
  return 0;
}

// ---- generic records ---------------------------------------------------------

// @ts-ignore: decorator
@inline export function recordWord(rec: i32, i: i32): usize {
  return recordAddr(rec) + RECORD_DATA + ((<usize>i) << 2);
}

// Overflow-safe: `first + n` is never formed (first near 2^31 wrapped it and
// let a write land in the lock table). Unsigned compares also reject negatives.
function rangeOk(rec: i32, first: i32, n: i32): bool {
  return <u32>rec < <u32>RECORD_COUNT && <u32>first <= <u32>RECORD_WORDS && <u32>n <= <u32>RECORD_WORDS - <u32>first;
}

// [addr, addr + bytes) lies in memory and outside the fixed layout.
export function userRangeOk(addr: usize, bytes: usize): bool {
  const end = <usize>memory.size() << 16;
  return addr >= LAYOUT_END && addr <= end && bytes <= end - addr;
}

// [addr, addr + bytes) lies in memory (reading the layout is harmless).
export function readableRangeOk(addr: usize, bytes: usize): bool {
  const end = <usize>memory.size() << 16;
  return addr <= end && bytes <= end - addr;
}

export function recordWrite(rec: i32, first: i32, src: usize, n: i32): i32 {
  if (!rangeOk(rec, first, n) || !readableRangeOk(src, (<usize>n) << 2)) return E_ARG;
  const seq = recordAddr(rec);
  const s = beginWrite(seq);
  if (s == NO_EPOCH) return E_BUSY;
  for (let i = 0; i < n; i++) {
    atomic.store<u32>(recordWord(rec, first + i), load<u32>(src + ((<usize>i) << 2)));
  }
  endWrite(seq, s);
  return OK;
}

// Stores `value` into words [0, n). `pauseSpins` > 0 idles halfway through the
// write, which the torn-read tests use to widen the race window.
export function recordFill(rec: i32, value: u32, n: i32, pauseSpins: i32): i32 {
  if (!rangeOk(rec, 0, n) || pauseSpins < 0) return E_ARG;
  const seq = recordAddr(rec);
  const s = beginWrite(seq);
  if (s == NO_EPOCH) return E_BUSY;
  const half = n >> 1;
  for (let i = 0; i < n; i++) {
    if (i == half) {
      for (let k = 0; k < pauseSpins; k++) atomic.load<u32>(seq);
    }
    atomic.store<u32>(recordWord(rec, i), value);
  }
  endWrite(seq, s);
  return OK;
}

// Copies words [first, first + n) of one consistent snapshot to dst.
export function recordRead(rec: i32, first: i32, dst: usize, n: i32): i32 {
  if (!rangeOk(rec, first, n) || !userRangeOk(dst, (<usize>n) << 2)) return E_ARG;
  const seq = recordAddr(rec);
  for (let t = 0; t < READ_TRIES; t++) {
    const s1 = atomic.load<u32>(seq);
    if (s1 & 1) continue;
    for (let i = 0; i < n; i++) {
      store<u32>(dst + ((<usize>i) << 2), atomic.load<u32>(recordWord(rec, first + i)));
    }
    if (atomic.load<u32>(seq) == s1) return OK;
  }
  return E_BUSY;
}

// Optimistic read in two halves, for readers that use the words in place:
// take the stamp (odd means a write is in progress), read, then validate.
// @ts-ignore: decorator
@inline export function recordStamp(rec: i32): u32 {
  return atomic.load<u32>(recordAddr(rec));
}

// @ts-ignore: decorator
@inline export function recordValid(rec: i32, stamp: u32): bool {
  return (stamp & 1) == 0 && atomic.load<u32>(recordAddr(rec)) == stamp;
}

// ---- fork child --------------------------------------------------------------

// @ts-ignore: decorator
@inline function closeOdd(seq: usize): bool {
  const s = atomic.load<u32>(seq);
  if ((s & 1) == 0) return false;
  atomic.store<u32>(seq, s + 1);
  return true;
}

// The child is single-threaded: a sequence left odd belongs to a writer that
// no longer exists. Its entry's payload may be half-written: clear it.
export function seqlockAfterForkChild(): i32 {
  let cleared = 0;
  for (let i = 0; i < CACHE_ENTRIES; i++) {
    const e = cacheAddr(i);
    if ((atomic.load<u32>(e + CE_SEQ) & 1) != 0) {
      atomic.store<u32>(e + CE_TYPE_VERSION, 0);
      atomic.store<u32>(e + CE_META_VERSION, 0);
      atomic.store<u32>(e + CE_VALUE, 0);
      closeOdd(e + CE_SEQ);
      cleared++;
    }
  }
  for (let r = 0; r < RECORD_COUNT; r++) {
    if (closeOdd(recordAddr(r))) {
      memory.fill(recordWord(r, 0), 0, (<usize>RECORD_WORDS) << 2);
      cleared++;
    }
  }
  if (closeOdd(S_SEQ)) {
    memory.fill(STATS + 8, 0, STATS_END - STATS - 8);
    cleared++;
  }
  return cleared;
}
