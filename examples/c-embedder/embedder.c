/* A minimal VM embedding the core, as any C/C++ VM would: freestanding C for
 * wasm32, linked against build/core.wasm over one shared memory (see
 * docs/EMBEDDING.md). Workers run a loop that polls at a safe point and takes
 * a lock; the main thread stops and starts the world repeatedly and checks
 * that nothing moves while it is stopped.
 *
 * Invariant checked: a worker bumps its progress counter only while ATTACHED,
 * so between stop() returning 0 and start() no counter changes; after start()
 * every counter moves again. The lock serialises `shared_total`, so at the end
 * it equals the sum of the workers' lock counts. */
#include "wasm_threads_core.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* The same host clock the core imports (milliseconds, per-thread origin). */
double host_now_ms(void) __attribute__((import_module("env"), import_name("now_ms")));

/* Failures of the example itself, below the core's and the host's ranges. */
#define EMB_E_HEAP_BASE (-1001)     /* the core's static data reaches our data */
#define EMB_E_NOT_STOPPED (-1002)   /* stop() returned 0 but the world runs */
#define EMB_E_MOVED (-1003)         /* a counter changed while stopped */
#define EMB_E_NOT_RESUMED (-1004)   /* a counter did not move after start() */
#define EMB_E_NO_WORKERS (-1005)    /* the workers did not show up in time */

/* Progress counters live in the slot's embedder words: word 0 counts loop
 * turns, word 1 lock acquisitions. Only the slot's owner writes them. */
static inline uint32_t *user_word(int32_t index, int32_t k) {
  return (uint32_t *)(uintptr_t)(WTC_SLOTS + (uint32_t)index * WTC_SLOT_SIZE + WTC_SL_USER + 4u * (uint32_t)k);
}

/* Shared state in the module's own data. wasm-ld initialises it once per
 * memory (an atomic flag in __wasm_init_memory), not once per instance. */
static int32_t shared_lock;     /* lock id, written by embed_setup before any worker starts */
static int32_t shared_quit;     /* set by the main thread when its cycles are done */
static int32_t shared_started;  /* workers registered and attached */
static int32_t shared_total;    /* guarded by shared_lock */
static int32_t nap_word;        /* never notified: waiting on it is a timed sleep */

/* This thread's handle. TLS: each instance must run __wasm_init_tls on its own block. */
static _Thread_local int32_t self;

static inline int32_t load32(int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

static void nap_us(int64_t us) {
  __builtin_wasm_memory_atomic_wait32(&nap_word, 0, us * 1000);
}

/* Main thread, once per memory: initialise the core (or join an initialised
 * one) and create the workers' lock. */
EXPORT(embed_setup) int32_t embed_setup(int32_t capacity) {
#ifdef EMBED_GLOBAL_BASE
  if (wtc_heap_base() > EMBED_GLOBAL_BASE) return EMB_E_HEAP_BASE;
#endif
  int32_t r = wtc_init(capacity);
  if (r < 0 && r != WTC_E_ALREADY_INIT) return r;
  int32_t id = wtc_lock_create(WTC_LOCK_MUTEX);
  if (id < 0) return id;
  __atomic_store_n(&shared_lock, id, __ATOMIC_SEQ_CST);
  return 0;
}

/* A worker thread's whole life: register, attach, run until told to quit,
 * detach, unregister. Returns its lock count, or an error code. */
EXPORT(embed_worker) int32_t embed_worker(int32_t tid) {
  int32_t r = wtc_register(tid);
  if (r < 0) return r;
  self = r;
  int32_t index = self & 0xff;
  __atomic_store_n(user_word(index, 0), 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(user_word(index, 1), 0, __ATOMIC_SEQ_CST);
  if ((r = wtc_attach(self)) < 0) return r;
  __atomic_fetch_add(&shared_started, 1, __ATOMIC_SEQ_CST);
  int32_t lock = load32(&shared_lock);
  int32_t locked = 0;
  while (!load32(&shared_quit)) {
    /* the safe point: one load unless a stop is pending */
    if ((r = wtc_poll_fast(self)) < 0) return r;
    /* blocks detached, so a stop never waits on a thread queued here */
    if ((r = wtc_lock_acquire(self, lock, -1)) < 0) return r;
    int32_t t = shared_total; /* a plain read-modify-write: the lock is what makes it safe */
    shared_total = t + 1;
    locked++;
    if ((r = wtc_lock_release(self, lock)) < 0) return r;
    __atomic_store_n(user_word(index, 1), (uint32_t)locked, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(user_word(index, 0), 1, __ATOMIC_SEQ_CST);
  }
  if ((r = wtc_detach(self)) < 0) return r;
  if ((r = wtc_unregister(self)) < 0) return r;
  return locked;
}

/* Reads every other live slot's counter into `snap` (all ones for the rest). */
static void snapshot(int32_t capacity, uint32_t *snap) {
  for (int32_t i = 0; i < capacity; i++) {
    uint32_t w = (uint32_t)wtc_slot_word(i);
    uint32_t st = w & WTC_STATE_MASK;
    if (i == (self & 0xff) || st == WTC_ST_FREE || st == WTC_ST_DEAD) {
      snap[i] = 0xffffffffu;
      continue;
    }
    snap[i] = __atomic_load_n(user_word(i, 0), __ATOMIC_SEQ_CST);
  }
}

/* The main thread: waits for `workers`, then `cycles` times stops the world,
 * checks that it is stopped and stays still, starts it, and checks that every
 * worker moves again. Returns cycles done, or an error code. */
EXPORT(embed_main) int32_t embed_main(int32_t tid, int32_t workers, int32_t cycles, int32_t still_us) {
  uint32_t before[WTC_MAX_SLOTS], after[WTC_MAX_SLOTS];
  int32_t r = wtc_register(tid);
  if (r < 0) return r;
  self = r;
  if ((r = wtc_attach(self)) < 0) return r;
  int32_t capacity = wtc_capacity();
  double deadline = host_now_ms() + 10000;
  while (load32(&shared_started) < workers) {
    if (host_now_ms() > deadline) return EMB_E_NO_WORKERS;
    nap_us(100);
  }
  int32_t c = 0;
  for (; c < cycles; c++) {
    if ((r = wtc_stop(self, 5000)) < 0) return r;
    if (!wtc_is_stopped()) return EMB_E_NOT_STOPPED;
    snapshot(capacity, before);
    for (int32_t i = 0; i < capacity; i++) {
      if (before[i] == 0xffffffffu) continue;
      if (((uint32_t)wtc_slot_word(i) & WTC_STATE_MASK) != WTC_ST_SUSPENDED) return EMB_E_NOT_STOPPED;
    }
    nap_us(still_us);
    snapshot(capacity, after);
    for (int32_t i = 0; i < capacity; i++)
      if (before[i] != after[i]) return EMB_E_MOVED;
    if ((r = wtc_start(self)) < 0) return r;
    /* every worker seen stopped must run again */
    deadline = host_now_ms() + 10000;
    for (int32_t i = 0; i < capacity; i++) {
      if (before[i] == 0xffffffffu) continue;
      while (__atomic_load_n(user_word(i, 0), __ATOMIC_SEQ_CST) == before[i]) {
        if (host_now_ms() > deadline) return EMB_E_NOT_RESUMED;
        if ((r = wtc_poll_fast(self)) < 0) return r;
        nap_us(50);
      }
    }
  }
  __atomic_store_n(&shared_quit, 1, __ATOMIC_SEQ_CST);
  if ((r = wtc_detach(self)) < 0) return r;
  if ((r = wtc_unregister(self)) < 0) return r;
  return c;
}

/* The lock-guarded total, for the host to compare with the workers' counts. */
EXPORT(embed_total) int32_t embed_total(void) { return load32(&shared_total); }

/* This instance's TLS handle: a second instance on another thread must not see it. */
EXPORT(embed_self) int32_t embed_self(void) { return self; }

/* Benchmark loops across the module boundary; each returns ns per call (or
 * the error code) and leaves the thread as it found it (ATTACHED). */
EXPORT(embed_bench_poll) double embed_bench_poll(int32_t h, int32_t n) {
  double t0 = host_now_ms();
  for (int32_t i = 0; i < n; i++) {
    int32_t r = wtc_poll(h);
    if (r < 0) return r;
  }
  return (host_now_ms() - t0) * 1e6 / n;
}

EXPORT(embed_bench_poll_fast) double embed_bench_poll_fast(int32_t h, int32_t n) {
  double t0 = host_now_ms();
  for (int32_t i = 0; i < n; i++) {
    int32_t r = wtc_poll_fast(h);
    if (r < 0) return r;
  }
  return (host_now_ms() - t0) * 1e6 / n;
}

EXPORT(embed_bench_attach_detach) double embed_bench_attach_detach(int32_t h, int32_t n) {
  double t0 = host_now_ms();
  for (int32_t i = 0; i < n; i++) {
    int32_t r = wtc_detach(h);
    if (r < 0) return r;
    if ((r = wtc_attach(h)) < 0) return r;
  }
  return (host_now_ms() - t0) * 1e6 / n;
}

/* A VM dispatches through function pointers (opcode tables, callbacks): in the
 * position-independent link they index the table the host supplies as
 * env.__indirect_function_table (docs/ABI.md, "Position-independent link"). */
typedef int32_t (*embed_op)(int32_t);
static int32_t op_self(int32_t x) { return x + self; }
static int32_t op_double(int32_t x) { return 2 * x; }
static embed_op const embed_ops[] = { op_self, op_double };

EXPORT(embed_dispatch) int32_t embed_dispatch(int32_t op, int32_t x) {
  if (op < 0 || op > 1) return -1;
  return embed_ops[op](x);
}
