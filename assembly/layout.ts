// The shared memory map. Every piece of mutable shared state lives at a fixed
// address below LAYOUT_END; Wasm globals and data segments hold none of it,
// because each instantiation (every worker, and a fork child) re-creates them.
// Static data emitted by the compiler starts at LAYOUT_END (asc --memoryBase).
//
//   address   size      block
//  ┌─────────┬─────────┬──────────────────────────────────────────────────────┐
//  │ 0x00000 │   1 KiB │ reserved: null page, wasi-shim abort scratch         │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x00400 │    64 B │ HEADER  magic, ABI version, init state, capacity,    │
//  │         │         │         layout end, fork depth, version tags         │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x00440 │   192 B │ WORLD   STW exclusion, request flag, stopped flag,   │
//  │         │         │         suspend epoch, straggler count, u64 counters │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x00500 │   256 B │ STATS   seqlock record: stops, timeouts, last/total/ │
//  │         │         │         max stop ns (u64), log2 latency histogram    │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x00600 │   1 KiB │ STRAGGLERS  handles still attached at a timeout      │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x00C00 │   1 KiB │ CACHE_WRITERS 256 striped cache writer words         │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x01000 │  16 KiB │ SLOTS   256 × 64 B: state word, host thread id,      │
//  │         │         │         12 words for the embedder                    │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x05000 │   4 KiB │ LOCKS   256 × 16 B: word (owner), state, depth, kind │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x06000 │   8 KiB │ RECORDS 8 × 1 KiB generic seqlock records            │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x08000 │  64 KiB │ CACHE   4096 × 16 B: seq, descriptor value, type     │
//  │         │         │         version, metaclass version                   │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x18000 │   4 KiB │ SCRATCH diagnostics and benchmark control words      │
//  ├─────────┼─────────┼──────────────────────────────────────────────────────┤
//  │ 0x19000 │    …    │ static data (compiler), then free memory for the     │
//  │         │         │ embedder from heap_base() up                         │
//  └─────────┴─────────┴──────────────────────────────────────────────────────┘
//
// Keep docs/ABI.md in step with this table; the host mirrors the numbers in
// host/layout.ts and a test checks both against the module's exports.

export const MAGIC: u32 = 0x52485457; // "WTHR" little-endian
export const ABI_VERSION: u32 = 1;

export const RESERVED_END: usize = 0x400;

// HEADER
export const HEADER: usize = 0x400;
export const H_MAGIC: usize = HEADER + 0;
export const H_ABI: usize = HEADER + 4;
export const H_INIT: usize = HEADER + 8; // INIT_NONE → INIT_BUSY → INIT_READY
export const H_CAPACITY: usize = HEADER + 12;
export const H_LAYOUT_END: usize = HEADER + 16;
export const H_FORK_DEPTH: usize = HEADER + 20;
export const H_VERSION_TAGS: usize = HEADER + 24; // last type version tag handed out
export const H_HOST: usize = HEADER + 32; // 32 bytes the host owns (docs/ABI.md)

export const INIT_NONE: u32 = 0;
export const INIT_BUSY: u32 = 1;
export const INIT_READY: u32 = 2;

// WORLD
export const WORLD: usize = 0x440;
export const W_EXCLUSION: usize = WORLD + 0; // 0 or the requester's handle
export const W_REQUESTED: usize = WORLD + 4; // 1 while a stop is requested
export const W_STOPPED: usize = WORLD + 8; // 1 while the world is fully stopped
export const W_SUSPEND_EPOCH: usize = WORLD + 12; // bumped when a slot settles
export const W_STRAGGLERS: usize = WORLD + 16; // count written at a timeout
export const W_STOP_BEGAN_MS: usize = WORLD + 24; // f64, requester clock
export const W_FORCED_PARKS: usize = WORLD + 64; // u64
export const W_SELF_SUSPENDS: usize = WORLD + 72; // u64
export const W_ATTACH_WAITS: usize = WORLD + 80; // u64
export const WORLD_END: usize = 0x500;

// STATS (a seqlock record, written only by the STW requester or a reset)
export const STATS: usize = 0x500;
export const S_SEQ: usize = STATS + 0;
export const S_WRITER: usize = STATS + 4; // handle of the thread writing (seqlock.ts)
export const S_STOPS: usize = STATS + 8; // u64
export const S_TIMEOUTS: usize = STATS + 16; // u64
export const S_LAST_NS: usize = STATS + 24; // u64
export const S_TOTAL_NS: usize = STATS + 32; // u64
export const S_MAX_NS: usize = STATS + 40; // u64
export const S_HIST: usize = STATS + 48; // u32 × HIST_BUCKETS
export const HIST_BUCKETS: i32 = 40; // bucket b counts latencies in [2^b, 2^(b+1)) ns
export const STATS_END: usize = 0x600;

// STRAGGLERS
export const STRAGGLERS: usize = 0x600;

// CACHE_WRITERS: the writer word of cache entry i is stripe i % 256 (seqlock.ts)
export const CACHE_WRITERS: usize = 0xc00;
export const CACHE_WRITER_STRIPES: i32 = 256;

// SLOTS
export const MAX_SLOTS: i32 = 256;
export const SLOTS: usize = 0x1000;
export const SLOT_SIZE: usize = 64;
export const SL_WORD: usize = 0; // gen << 8 | STOP bit | state (see state.ts)
export const SL_TID: usize = 4; // host thread id, for diagnostics
export const SL_REATTACH: usize = 8; // 1 while the owner waits in attach for a stop to end (world.ts backs off)
export const SL_USER: usize = 16; // 12 words the embedder may use
export const SLOT_USER_WORDS: i32 = 12;

// LOCKS
export const MAX_LOCKS: i32 = 256;
export const LOCKS: usize = 0x5000;
export const LOCK_SIZE: usize = 16;
export const LK_WORD: usize = 0; // 0 unlocked, else owner handle | 0x80000000 when waiters may sleep
export const LK_STATE: usize = 4; // 0 consistent, 1 inconsistent (taken over from a dead owner)
export const LK_DEPTH: usize = 8; // recursion depth
export const LK_KIND: usize = 12; // 0 unused, LOCK_MUTEX, LOCK_RECURSIVE
export const IMPORT_LOCK: i32 = 0;

// RECORDS
export const RECORD_COUNT: i32 = 8;
export const RECORDS: usize = 0x6000;
export const RECORD_SIZE: usize = 1024;
export const REC_WRITER: usize = 4; // handle of the thread writing (seqlock.ts)
export const RECORD_DATA: usize = 64; // words start on the next cache line
export const RECORD_WORDS: i32 = 240;

// CACHE
export const CACHE_ENTRIES: i32 = 4096;
export const CACHE: usize = 0x8000;
export const CACHE_ENTRY_SIZE: usize = 16;
// seq and value share one 8-byte word, the two versions the next: a read is
// three atomic loads (seq+value, versions, seq again).
export const CE_SEQ: usize = 0;
export const CE_VALUE: usize = 4;
export const CE_TYPE_VERSION: usize = 8;
export const CE_META_VERSION: usize = 12;

// SCRATCH
export const SCRATCH: usize = 0x18000;
export const SCRATCH_SIZE: usize = 0x1000;

export const LAYOUT_END: usize = 0x19000;

// @ts-ignore: decorator
@inline export function slotAddr(index: i32): usize {
  return SLOTS + (<usize>index) * SLOT_SIZE;
}

// @ts-ignore: decorator
@inline export function lockAddr(id: i32): usize {
  return LOCKS + (<usize>id) * LOCK_SIZE;
}

// @ts-ignore: decorator
@inline export function recordAddr(rec: i32): usize {
  return RECORDS + (<usize>rec) * RECORD_SIZE;
}

// @ts-ignore: decorator
@inline export function cacheAddr(index: i32): usize {
  return CACHE + (<usize>index) * CACHE_ENTRY_SIZE;
}
