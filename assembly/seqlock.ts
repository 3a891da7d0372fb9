// Seqlocks: data read lock-free by many threads, written rarely.
//
// Invariant: a sequence word is even when no write is in progress. Writers of
// one sequence are serialised by its writer word: 0 when free, else the handle
// of the thread writing (bit 31 set when another writer may sleep on it). A
// writer takes the writer word by CAS 0 → h, moves the sequence even → odd,
// stores the payload, moves it odd → even+2 and frees the writer word. Only the
// whole-write functions below do that, and none returns between the two moves;
// so a sequence is odd only while its writer word names the thread inside the
// write, and a sequence left odd names the thread that died there.
// A writer that meets another writer waits while that writer's slot is live
// (detached once it waits long, so a stop never waits on it) and fails with
// E_BUSY only when the slot is DEAD, FREE or reused while the writer word still
// names it (diedWriting): a live writer is never taken for a dead one, however
// long it is preempted, and neither is one that finished its write and left.
// Writer words: records and the stats record keep theirs beside the sequence
// (+4); cache entries share 256 striped words (CACHE_WRITERS, entry i uses
// stripe i % 256), so the entry keeps its 16 bytes and a read stays three loads.
// A reader takes the sequence, reads every field it will use with atomic loads
// (the cache packs them so that is three loads),
// and re-reads the sequence; the snapshot is valid only if both reads are the
// same even value. Comparisons happen after validation, on the snapshot.

import {
  CACHE_ENTRIES, CE_SEQ, CE_TYPE_VERSION, CE_META_VERSION, CE_VALUE, cacheAddr,
  RECORD_COUNT, RECORD_DATA, RECORD_WORDS, recordAddr, S_SEQ, S_WRITER, STATS, STATS_END, LAYOUT_END,
  CACHE_WRITERS, CACHE_WRITER_STRIPES, REC_WRITER, WRITER_WAITING, slotAddr,
} from "./layout";
import { OK, E_ARG, E_BUSY } from "./errors";
import { ST_ATTACHED, stateOf, handleIndex, attach, detach, checkHandle } from "./state";
import { handleGone } from "./locks";

// A read that keeps meeting writers gives up (a miss for the cache) rather
// than spinning without bound.
const READ_TRIES: i32 = 64;
// Loads a writer spends watching a busy writer word before it sleeps on it
// (a write is a handful of stores: it usually ends sooner).
const WRITE_SPINS: i32 = 4000;
// Sleeps are sliced so a writer that dies without a wake-up is seen promptly.
const WRITE_SLICE_NS: i64 = 1_000_000;
// The writer word of stats_reset, which has no handle: generation 0, never a
// handle. Treated as live: a reset is a bounded run of stores.
export const RESET_WRITER: u32 = 1;

// @ts-ignore: decorator
@inline export function cacheWriterWord(index: i32): usize {
  return CACHE_WRITERS + ((<usize>(index & (CACHE_WRITER_STRIPES - 1))) << 2);
}

// Takes writer word `owner` for `h` and opens an epoch on `seq`. Returns the
// even sequence the write began from (>= 0), or E_BUSY when the current
// writer is dead (or the sequence was left odd by no recorded writer).
// `meetHold` (test builds only, else 0): the first time the word is found
// held, wait until the word at meetHold is non-zero (after storing 1 to the
// word after it) before judging the holder, so a test can finish that write
// in between.
function beginWrite(h: u32, owner: usize, seq: usize, meetHold: usize = 0): i64 {
  let spins = 0;
  let detached = false;
  while (true) {
    const c = atomic.cmpxchg<u32>(owner, 0, h);
    if (c == 0) break;
    if (meetHold != 0) {
      holdAt(meetHold);
      meetHold = 0;
    }
    const o = c & ~WRITER_WAITING;
    if (o == h || (o != RESET_WRITER && diedWriting(owner, o))) {
      if (detached) attach(<i32>h, true);
      return E_BUSY;
    }
    if (spins < WRITE_SPINS) {
      spins++;
      continue;
    }
    // Waiting long: detached, so a stop parks us instead of waiting for us.
    if (!detached && h != RESET_WRITER && stateOf(atomic.load<u32>(slotAddr(handleIndex(<i32>h)))) == ST_ATTACHED) {
      if (detach(<i32>h) == OK) detached = true;
    }
    if ((c & WRITER_WAITING) == 0 && atomic.cmpxchg<u32>(owner, c, c | WRITER_WAITING) != c) continue;
    atomic.wait<i32>(owner, <i32>(c | WRITER_WAITING), WRITE_SLICE_NS);
    if (detached && atomic.load<u32>(owner) != (c | WRITER_WAITING)) {
      // re-attach before taking the word, so no write is held across a stop
      const a = attach(<i32>h, true);
      if (a < 0) return a;
      detached = false;
      spins = 0;
    }
  }
  if (detached) {
    // claimed while detached: give it back, re-attach, try again
    endClaim(owner);
    const a = attach(<i32>h, true);
    if (a < 0) return a;
    return beginWrite(h, owner, seq, meetHold);
  }
  const s = atomic.load<u32>(seq);
  if (s & 1) {
    endClaim(owner);
    return E_BUSY;
  }
  atomic.store<u32>(seq, s + 1);
  return <i64>s;
}

// Writer `o`, read from writer word `owner` earlier, died inside its write:
// its slot is DEAD, FREE or reused AND the word, re-read after the slot, still
// names it. A gone thread takes no word, so the word held it since before the
// slot read: the write was never finished. A writer that finished and left
// (freed the word, then unregistered) is no longer named by the word: the
// caller retries instead of judging a slot it saw before.
function diedWriting(owner: usize, o: u32): bool {
  return handleGone(o) && (atomic.load<u32>(owner) & ~WRITER_WAITING) == o;
}

// @ts-ignore: decorator
@inline function endClaim(owner: usize): void {
  if (atomic.xchg<u32>(owner, 0) & WRITER_WAITING) atomic.notify(owner, u32.MAX_VALUE);
}

// @ts-ignore: decorator
@inline function endWrite(owner: usize, seq: usize, s: u32): void {
  assert((s & 1) == 0 && atomic.load<u32>(seq) == s + 1, "seqlock: the sequence moved under its writer");
  atomic.store<u32>(seq, s + 2);
  endClaim(owner);
}

// The generic write by `h` (a handle, or RESET_WRITER): begins an epoch, runs
// `body(arg)`, ends the epoch. E_BUSY when the current writer is dead: nothing
// was written.
export function seqlockWrite(h: u32, owner: usize, seq: usize, body: (arg: u64) => void, arg: u64): i32 {
  const s = beginWrite(h, owner, seq);
  if (s < 0) return <i32>s;
  body(arg);
  endWrite(owner, seq, <u32>s);
  return OK;
}

// Thread `h` is gone: wake writers sleeping on a writer word it holds, so
// they see it dead now rather than at the end of their slice.
export function seqlockOwnerGone(h: i32): void {
  for (let i = 0; i < CACHE_WRITER_STRIPES; i++) wakeIfHeld(CACHE_WRITERS + ((<usize>i) << 2), h);
  for (let r = 0; r < RECORD_COUNT; r++) wakeIfHeld(recordAddr(r) + REC_WRITER, h);
  wakeIfHeld(S_WRITER, h);
}

// @ts-ignore: decorator
@inline function wakeIfHeld(owner: usize, h: i32): void {
  if ((atomic.load<u32>(owner) & ~WRITER_WAITING) == <u32>h) atomic.notify(owner, u32.MAX_VALUE);
}

// ---- descriptor cache --------------------------------------------------------

// A hit carries this bit above the 32-bit value; a miss is 0; errors are < 0.
export const CACHE_HIT: i64 = 1 << 32;

// Writes by thread `h` (a registered handle).
export function cacheWrite(h: i32, index: i32, typeVersion: u32, metaVersion: u32, value: u32): i32 {
  const c = checkHandle(h);
  if (c < 0) return c;
  if (<u32>index >= <u32>CACHE_ENTRIES) return E_ARG;
  const e = cacheAddr(index);
  const owner = cacheWriterWord(index);
  const s = beginWrite(<u32>h, owner, e + CE_SEQ);
  if (s < 0) return <i32>s;
  atomic.store<u32>(e + CE_TYPE_VERSION, typeVersion);
  atomic.store<u32>(e + CE_META_VERSION, metaVersion);
  atomic.store<u32>(e + CE_VALUE, value);
  endWrite(owner, e + CE_SEQ, <u32>s);
  return OK;
}

// Version 0 never matches, so invalidation is a write of zeros.
export function cacheInvalidate(h: i32, index: i32): i32 {
  return cacheWrite(h, index, 0, 0, 0);
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

export function recordWrite(h: i32, rec: i32, first: i32, src: usize, n: i32): i32 {
  const c = checkHandle(h);
  if (c < 0) return c;
  if (!rangeOk(rec, first, n) || !readableRangeOk(src, (<usize>n) << 2)) return E_ARG;
  const seq = recordAddr(rec);
  const owner = seq + REC_WRITER;
  const s = beginWrite(<u32>h, owner, seq);
  if (s < 0) return <i32>s;
  for (let i = 0; i < n; i++) {
    atomic.store<u32>(recordWord(rec, first + i), load<u32>(src + ((<usize>i) << 2)));
  }
  endWrite(owner, seq, <u32>s);
  return OK;
}

// Test hooks: announces arrival (1 in the word after `addr`), then waits until
// the word at `addr` is non-zero.
function holdAt(addr: usize): void {
  atomic.store<u32>(addr + 4, 1);
  atomic.notify(addr + 4, u32.MAX_VALUE);
  while (atomic.load<u32>(addr) == 0) atomic.wait<i32>(addr, 0, WRITE_SLICE_NS);
}

// Stores `value` into words [0, n). Halfway through the write, `pauseSpins`
// > 0 idles (the torn-read tests widen the race window with it) and a
// non-zero `holdAddr` waits until the word there is non-zero (diagnostics
// only: a worker held inside a write, for the death tests); a non-zero
// `meetHold` holds a writer that found another's write in progress (beginWrite).
export function recordFill(h: i32, rec: i32, value: u32, n: i32, pauseSpins: i32, holdAddr: usize, meetHold: usize = 0): i32 {
  const c = checkHandle(h);
  if (c < 0) return c;
  if (!rangeOk(rec, 0, n) || pauseSpins < 0) return E_ARG;
  const seq = recordAddr(rec);
  const owner = seq + REC_WRITER;
  const s = beginWrite(<u32>h, owner, seq, meetHold);
  if (s < 0) return <i32>s;
  const half = n >> 1;
  for (let i = 0; i < n; i++) {
    if (i == half) {
      for (let k = 0; k < pauseSpins; k++) atomic.load<u32>(seq);
      if (holdAddr != 0) while (atomic.load<u32>(holdAddr) == 0) atomic.wait<i32>(holdAddr, 0, WRITE_SLICE_NS);
    }
    atomic.store<u32>(recordWord(rec, i), value);
  }
  endWrite(owner, seq, <u32>s);
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
// no longer exists. Its entry's payload may be half-written: clear it. Every
// writer word is freed (no write is in progress in the child).
export function seqlockAfterForkChild(): i32 {
  let cleared = 0;
  for (let i = 0; i < CACHE_WRITER_STRIPES; i++) atomic.store<u32>(CACHE_WRITERS + ((<usize>i) << 2), 0);
  for (let r = 0; r < RECORD_COUNT; r++) atomic.store<u32>(recordAddr(r) + REC_WRITER, 0);
  atomic.store<u32>(S_WRITER, 0);
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
