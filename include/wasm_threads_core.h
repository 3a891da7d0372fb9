/* wasm_threads_core.h: the core module's ABI (docs/ABI.md) for C and C++ code
 * compiled to wasm32 and linked against build/core.wasm over one shared memory.
 *
 * Naming: every core export X is wtc_X, imported from module "core" under its
 * own name; every constant NAME of assembly/layout.ts, state.ts, errors.ts and
 * locks.ts is WTC_NAME. How to link, which calls block, and what a thread's
 * host must do: docs/EMBEDDING.md. */
#ifndef WASM_THREADS_CORE_H
#define WASM_THREADS_CORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* assembly/layout.ts */
#define WTC_MAGIC 0x52485457u
#define WTC_ABI_VERSION 1u
#define WTC_RESERVED_END 0x400
#define WTC_CLOCK_CELLS 0x300
#define WTC_CLOCK_CELL_COUNT 16
#define WTC_CLOCK_CELL_SIZE 0x10
#define WTC_HEADER 0x400
#define WTC_H_MAGIC 0x400
#define WTC_H_ABI 0x404
#define WTC_H_INIT 0x408
#define WTC_H_CAPACITY 0x40c
#define WTC_H_LAYOUT_END 0x410
#define WTC_H_FORK_DEPTH 0x414
#define WTC_H_VERSION_TAGS 0x418
#define WTC_H_HOST 0x420
#define WTC_INIT_NONE 0u
#define WTC_INIT_BUSY 1u
#define WTC_INIT_READY 2u
#define WTC_WORLD 0x440
#define WTC_W_EXCLUSION 0x440
#define WTC_W_REQUESTED 0x444
#define WTC_W_STOPPED 0x448
#define WTC_W_SUSPEND_EPOCH 0x44c
#define WTC_W_STRAGGLERS 0x450
#define WTC_W_STOP_BEGAN_MS 0x458
#define WTC_W_FORCED_PARKS 0x480
#define WTC_W_SELF_SUSPENDS 0x488
#define WTC_W_ATTACH_WAITS 0x490
#define WTC_WORLD_END 0x500
#define WTC_STATS 0x500
#define WTC_S_SEQ 0x500
#define WTC_S_STOPS 0x508
#define WTC_S_TIMEOUTS 0x510
#define WTC_S_LAST_NS 0x518
#define WTC_S_TOTAL_NS 0x520
#define WTC_S_MAX_NS 0x528
#define WTC_S_HIST 0x530
#define WTC_HIST_BUCKETS 40
#define WTC_STATS_END 0x600
#define WTC_STRAGGLERS 0x600
#define WTC_MAX_SLOTS 256
#define WTC_SLOTS 0x1000
#define WTC_SLOT_SIZE 0x40
#define WTC_SL_WORD 0
#define WTC_SL_TID 4
#define WTC_SL_USER 0x10
#define WTC_SLOT_USER_WORDS 12
#define WTC_MAX_LOCKS 256
#define WTC_LOCKS 0x5000
#define WTC_LOCK_SIZE 0x10
#define WTC_LK_WORD 0
#define WTC_LK_OWNER 4
#define WTC_LK_DEPTH 8
#define WTC_LK_KIND 12
#define WTC_IMPORT_LOCK 0
#define WTC_RECORD_COUNT 8
#define WTC_RECORDS 0x6000
#define WTC_RECORD_SIZE 0x400
#define WTC_RECORD_DATA 0x40
#define WTC_RECORD_WORDS 240
#define WTC_CACHE_ENTRIES 4096
#define WTC_CACHE 0x8000
#define WTC_CACHE_ENTRY_SIZE 0x10
#define WTC_CE_SEQ 0
#define WTC_CE_VALUE 4
#define WTC_CE_TYPE_VERSION 8
#define WTC_CE_META_VERSION 12
#define WTC_SCRATCH 0x18000
#define WTC_SCRATCH_SIZE 0x1000
#define WTC_LAYOUT_END 0x19000

/* assembly/state.ts */
#define WTC_ST_FREE 0u
#define WTC_ST_REGISTERING 1u
#define WTC_ST_DETACHED 2u
#define WTC_ST_ATTACHED 3u
#define WTC_ST_SUSPENDED 4u
#define WTC_ST_DEAD 5u
#define WTC_STATE_MASK 15u
#define WTC_STOP_BIT 0x10u
#define WTC_GEN_MASK 0xffffff00u
#define WTC_MAX_GEN 0x7fffffu

/* assembly/errors.ts */
#define WTC_OK 0
#define WTC_E_NOT_INIT (-1)
#define WTC_E_ALREADY_INIT (-2)
#define WTC_E_ARG (-3)
#define WTC_E_BAD_HANDLE (-4)
#define WTC_E_STALE (-5)
#define WTC_E_STATE (-6)
#define WTC_E_FULL (-7)
#define WTC_E_TIMEOUT (-8)
#define WTC_E_ALREADY (-9)
#define WTC_E_NOT_REQUESTER (-10)
#define WTC_E_BAD_LOCK (-11)
#define WTC_E_NOT_OWNER (-12)
#define WTC_E_RECURSION (-13)
#define WTC_E_DEADLOCK (-14)
#define WTC_E_WOULD_BLOCK (-15)
#define WTC_E_BUSY (-16)
#define WTC_E_CORRUPT (-17)
#define WTC_E_OWNER_DEAD (-18)
#define WTC_E_NOT_RECOVERABLE (-19)

/* assembly/locks.ts */
#define WTC_LOCK_MUTEX 1u
#define WTC_LOCK_RECURSIVE 2u

/* Exports (docs/ABI.md). Results < 0 are WTC_E_* codes. The seqlock writes
 * take the writer's handle first; lock_consistent and start_try belong to the
 * robust-lock and non-blocking-start parts of the ABI. An import the core does
 * not export only fails to link when the C code calls it. */
int32_t wtc_abi_version(void) __attribute__((import_module("core"), import_name("abi_version")));
int32_t wtc_layout_end(void) __attribute__((import_module("core"), import_name("layout_end")));
int32_t wtc_heap_base(void) __attribute__((import_module("core"), import_name("heap_base")));
int32_t wtc_init(int32_t capacity) __attribute__((import_module("core"), import_name("init")));
int32_t wtc_is_ready(void) __attribute__((import_module("core"), import_name("is_ready")));
int32_t wtc_capacity(void) __attribute__((import_module("core"), import_name("capacity")));
int32_t wtc_register(int32_t tid) __attribute__((import_module("core"), import_name("register")));
int32_t wtc_unregister(int32_t h) __attribute__((import_module("core"), import_name("unregister")));
int32_t wtc_mark_dead(int32_t h) __attribute__((import_module("core"), import_name("mark_dead")));
int32_t wtc_attach(int32_t h) __attribute__((import_module("core"), import_name("attach")));
int32_t wtc_try_attach(int32_t h) __attribute__((import_module("core"), import_name("try_attach")));
int32_t wtc_detach(int32_t h) __attribute__((import_module("core"), import_name("detach")));
int32_t wtc_poll(int32_t h) __attribute__((import_module("core"), import_name("poll")));
int32_t wtc_thread_state(int32_t h) __attribute__((import_module("core"), import_name("thread_state")));
int32_t wtc_slot_word(int32_t index) __attribute__((import_module("core"), import_name("slot_word")));
int32_t wtc_stop(int32_t h, int32_t timeout_ms) __attribute__((import_module("core"), import_name("stop")));
int32_t wtc_start(int32_t h) __attribute__((import_module("core"), import_name("start")));
int32_t wtc_start_try(int32_t h) __attribute__((import_module("core"), import_name("start_try")));
int32_t wtc_stop_try_begin(int32_t h) __attribute__((import_module("core"), import_name("stop_try_begin")));
int32_t wtc_stop_step(int32_t h) __attribute__((import_module("core"), import_name("stop_step")));
int32_t wtc_stop_abandon(int32_t h) __attribute__((import_module("core"), import_name("stop_abandon")));
int32_t wtc_is_stopped(void) __attribute__((import_module("core"), import_name("is_stopped")));
int32_t wtc_straggler_count(void) __attribute__((import_module("core"), import_name("straggler_count")));
int32_t wtc_straggler(int32_t i) __attribute__((import_module("core"), import_name("straggler")));
int32_t wtc_stats_reset(void) __attribute__((import_module("core"), import_name("stats_reset")));
int32_t wtc_lock_create(int32_t kind) __attribute__((import_module("core"), import_name("lock_create")));
int32_t wtc_lock_destroy(int32_t id) __attribute__((import_module("core"), import_name("lock_destroy")));
int32_t wtc_lock_acquire(int32_t h, int32_t id, int32_t timeout_ms) __attribute__((import_module("core"), import_name("lock_acquire")));
int32_t wtc_lock_try_flagged(int32_t h, int32_t id) __attribute__((import_module("core"), import_name("lock_try_flagged")));
int32_t wtc_lock_release(int32_t h, int32_t id) __attribute__((import_module("core"), import_name("lock_release")));
int32_t wtc_lock_consistent(int32_t h, int32_t id) __attribute__((import_module("core"), import_name("lock_consistent")));
int32_t wtc_lock_addr(int32_t id) __attribute__((import_module("core"), import_name("lock_addr")));
int32_t wtc_lock_owner(int32_t id) __attribute__((import_module("core"), import_name("lock_owner")));
int32_t wtc_lock_depth(int32_t id) __attribute__((import_module("core"), import_name("lock_depth")));
int32_t wtc_cache_write(int32_t h, int32_t index, uint32_t type_version, uint32_t meta_version, uint32_t value) __attribute__((import_module("core"), import_name("cache_write")));
int32_t wtc_cache_invalidate(int32_t h, int32_t index) __attribute__((import_module("core"), import_name("cache_invalidate")));
int64_t wtc_cache_read(int32_t index, uint32_t type_version, uint32_t meta_version) __attribute__((import_module("core"), import_name("cache_read")));
int32_t wtc_record_write(int32_t h, int32_t rec, int32_t first, uint32_t src, int32_t n) __attribute__((import_module("core"), import_name("record_write")));
int32_t wtc_record_fill(int32_t h, int32_t rec, uint32_t value, int32_t n) __attribute__((import_module("core"), import_name("record_fill")));
int32_t wtc_record_read(int32_t rec, int32_t first, uint32_t dst, int32_t n) __attribute__((import_module("core"), import_name("record_read")));
int32_t wtc_after_fork_child(int32_t h, int32_t tid) __attribute__((import_module("core"), import_name("after_fork_child")));

/* The address of the state word of the slot `h` was issued for. */
static inline uint32_t *wtc_slot_word_ptr(int32_t h) {
  return (uint32_t *)(uintptr_t)(WTC_SLOTS + (uint32_t)(h & 0xff) * WTC_SLOT_SIZE + WTC_SL_WORD);
}

/* The safe-point poll: one atomic load and one compare while the thread runs
 * ATTACHED with no stop pending; the core's wtc_poll (which may block) only
 * otherwise. Returns as wtc_poll does. */
static inline int32_t wtc_poll_fast(int32_t h) {
  if (__atomic_load_n(wtc_slot_word_ptr(h), __ATOMIC_SEQ_CST) == (((uint32_t)h & WTC_GEN_MASK) | WTC_ST_ATTACHED))
    return WTC_OK;
  return wtc_poll(h);
}

#ifdef __cplusplus
}
#endif

#endif /* WASM_THREADS_CORE_H */
