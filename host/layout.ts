// Host mirror of assembly/layout.ts (the memory map is documented there and in
// docs/ABI.md). A test checks these against the module's own exports.

export const ABI_VERSION = 1;
export const MAGIC = 0x52485457;
export const LAYOUT_END = 0x19000;

export const H_MAGIC = 0x400;
export const H_ABI = 0x404;
export const H_INIT = 0x408;
export const H_CAPACITY = 0x40c;
export const H_FORK_DEPTH = 0x414;

export const W_EXCLUSION = 0x440;
export const W_REQUESTED = 0x444;
export const W_STOPPED = 0x448;
export const W_SUSPEND_EPOCH = 0x44c;
export const W_FORCED_PARKS = 0x440 + 64;
export const W_SELF_SUSPENDS = 0x440 + 72;
export const W_ATTACH_WAITS = 0x440 + 80;

export const S_SEQ = 0x500;
export const S_WRITER = 0x504;
export const S_STOPS = 0x508;
export const S_TIMEOUTS = 0x510;
export const S_LAST_NS = 0x518;
export const S_TOTAL_NS = 0x520;
export const S_MAX_NS = 0x528;
export const S_HIST = 0x530;
export const HIST_BUCKETS = 40;

export const MAX_SLOTS = 256;
export const SLOTS = 0x1000;
export const SLOT_SIZE = 64;
export const SL_TID = 4;
export const SL_USER = 16;
export const SLOT_USER_WORDS = 12;

export const CACHE_WRITERS = 0xc00;
export const CACHE_WRITER_STRIPES = 256;
/** The writer word (0, or the handle of the thread inside a write) of cache entry `index`. */
export const cacheWriterAddr = (index: number): number => CACHE_WRITERS + (index % CACHE_WRITER_STRIPES) * 4;

export const MAX_LOCKS = 256;
export const LOCKS = 0x5000;
export const LOCK_SIZE = 16;
export const LK_STATE = 4;
export const LK_DEPTH = 8;
/** Lock word bit 31: a waiter may sleep on the word (the rest is the owner's handle). */
export const LOCK_WAITERS = 0x80000000;
export const IMPORT_LOCK = 0;
export const LOCK_MUTEX = 1;
export const LOCK_RECURSIVE = 2;

export const RECORD_COUNT = 8;
export const RECORDS = 0x6000;
export const RECORD_SIZE = 1024;
export const REC_WRITER = 4; // writer word of record r: RECORDS + r * RECORD_SIZE + REC_WRITER
export const RECORD_DATA = 64; // word k of record r: RECORDS + r * RECORD_SIZE + RECORD_DATA + 4k
export const RECORD_WORDS = 240;
export const CACHE = 0x8000;
export const CACHE_ENTRY_SIZE = 16;
export const CACHE_ENTRIES = 4096;

export const SCRATCH = 0x18000;
export const D_QUIT = SCRATCH + 0;

// Slot word fields (assembly/state.ts).
export const ST_FREE = 0;
export const ST_REGISTERING = 1;
export const ST_DETACHED = 2;
export const ST_ATTACHED = 3;
export const ST_SUSPENDED = 4;
export const ST_DEAD = 5;
export const STATE_MASK = 0x0f;
export const STOP_BIT = 0x10;
export const STATE_NAMES = ['FREE', 'REGISTERING', 'DETACHED', 'ATTACHED', 'SUSPENDED', 'DEAD'] as const;
export type ThreadStateName = (typeof STATE_NAMES)[number];

export const slotAddr = (index: number): number => SLOTS + index * SLOT_SIZE;
export const userWordAddr = (index: number, k: number): number => slotAddr(index) + SL_USER + k * 4;
export const handleIndex = (h: number): number => h & 0xff;

// Header words owned by the host (the core never touches them).
export const H_HOST_CLOSING = 0x400 + 32;
