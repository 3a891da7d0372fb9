/* The GIL: one interpreter lock for every Lua thread of the process, with a
 * fair hand-off (docs/LUA.md, "Threads").
 *
 * The lock itself is a core mutex, so a thread that dies holding it is seen
 * (E_OWNER_DEAD) instead of leaving the others asleep, and its waiters sleep
 * detached, so a stop-the-world never waits for them. On top of it, the
 * hand-off of CPython's "new GIL": a waiter sleeps at most one switch interval;
 * if no other thread took the lock in that time it asks the holder to drop
 * it. The holder honours the request at its next safe point: it releases, waits
 * (detached, bounded) until another thread has taken the lock, and queues for
 * it again. Without the wait the releaser would win the lock back at once.
 *
 * Safe points: lvm.c's checkGC (luai_threadyield, lwtc_user.h) and a count hook
 * of one instruction that the waiter installs on the holder's running state
 * (lua_sethook, as lua.c does from its SIGINT handler), so loops that never
 * allocate are reached too and a process with no contention runs no hook. A
 * hook is set from another thread, so the walk over the holder's CallInfo list
 * (lua_sethook's settraps) must not meet a CallInfo being freed: Lua frees them
 * through lwtc_alloc, which waits while a walk is under way, and a state being
 * freed is first removed from the targets (luai_userstatefree). */
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "lua.h"
#include "lstate.h"
#include "wasm_threads_core.h"
#include "gil.h"

#define EXPORT(n) __attribute__((export_name(#n)))

/* The core's capacity when this module is the first to initialise it. */
#define CORE_CAPACITY 64

static _Thread_local int32_t self;

/* Per core slot: the thread's base state and the state it runs. Written by the
 * owner; read by a thread delivering a drop request, inside a walk. */
static struct {
  lua_State *root, *cur;
} targets[WTC_MAX_SLOTS];

static struct {
  int32_t lock;        /* core mutex id; 0 while the process has one thread */
  int32_t holder;      /* handle of the holder (0 while released) */
  int32_t last;        /* handle of the last holder: a switch is a change of holder */
  int32_t switches;    /* bumped at each switch; a dropping holder waits on it */
  int32_t drop;        /* a waiter asked the holder to drop the lock */
  int32_t waiters;     /* threads queued for the lock */
  int32_t interval_ms; /* the switch interval */
  int32_t walker;      /* handle of the thread setting hooks on others' states, or 0 */
  int32_t interrupts;  /* stops in progress (lwtc_interrupt): hooks stay armed */
  int32_t q_head;      /* the queue of waiters: the ticket whose turn it is */
  int32_t q_tail;      /* the next ticket */
  int64_t asked_ns;    /* when the pending drop request was made (0: none) */
  int32_t latency_n;   /* switch latencies recorded (the last LATENCIES kept) */
  int32_t exiting;     /* an orderly exit() is under way on the thread holding the lock */
} gil = {.interval_ms = 5};

/* Ticket t's waiter (0 until it has written itself in), so a dead one is skipped. */
#define QUEUE 256
static int32_t queue_who[QUEUE];

/* Switch latency, drop request to the new holder running, for the figures
 * (scripts/bench-lua-threads.ts): a ring written by the new holder. */
#define LATENCIES 1024
static int32_t latency_us[LATENCIES];

int64_t lwtc_now_ns(void) {
  __wasi_timestamp_t t = 0;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1000, &t);
  return (int64_t)t;
}

#define LOAD(p) __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)

_Noreturn void lwtc_fatal(const char *msg) {
  /* straight to the fd: stdio may be in the state a dead thread left it in */
  __wasi_ciovec_t iov[3] = {
      {(const uint8_t *)"lua: ", 5}, {(const uint8_t *)msg, strlen(msg)}, {(const uint8_t *)"\n", 1}};
  size_t n;
  (void)__wasi_fd_write(2, iov, 3, &n);
  __wasi_proc_exit(70);
}

/* ---- the thread's core handle ------------------------------------------ */

int32_t lwtc_core_register(int32_t tid) {
  int32_t r = wtc_init(CORE_CAPACITY);
  if (r < 0 && r != WTC_E_ALREADY_INIT) return r;
  if ((r = wtc_register(tid)) < 0) return r;
  int32_t a = wtc_attach(r);
  if (a < 0) return a;
  self = r;
  return r;
}

int32_t lwtc_core_self(void) { return self > 0 ? self : lwtc_core_register(1); }

/* The host registered this thread (rt.main, a job's ctx): its handle, before any Lua runs. */
EXPORT(lwtc_set_core_self) void lwtc_set_core_self(int32_t h) { self = h; }

void lwtc_core_unregister(void) {
  if (self <= 0) return;
  wtc_detach(self);
  wtc_unregister(self);
  self = 0;
}

/* The fork child's thread (the only one): its new handle, and the GIL again
 * (after_fork_child unlocked every lock). */
EXPORT(lwtc_core_adopt) void lwtc_core_adopt(int32_t h) {
  self = h;
  for (int i = 0; i < WTC_MAX_SLOTS; i++)
    if (i != (h & 0xff)) targets[i].root = targets[i].cur = NULL;
  STORE(&gil.walker, 0);
  STORE(&gil.waiters, 0);
  STORE(&gil.drop, 0);
  STORE(&gil.q_head, 0);
  STORE(&gil.q_tail, 0);
  for (int i = 0; i < QUEUE; i++) queue_who[i] = 0;
  if (LOAD(&gil.lock) && wtc_lock_acquire(h, gil.lock, 0) < 0) lwtc_fatal("fork child: cannot take the interpreter lock");
  STORE(&gil.holder, h);
  STORE(&gil.last, h);
}

/* ---- waits --------------------------------------------------------------- */

void lwtc_wait_detached(int32_t *word, int32_t value, int64_t ns) {
  int32_t h = self;
  if (h > 0) wtc_detach(h);
  __builtin_wasm_memory_atomic_wait32(word, value, ns < 0 ? -1 : ns);
  if (h > 0) wtc_attach(h);
}

/* ---- walks: hooks set on another thread's states -------------------------- */

int lwtc_handle_gone(int32_t h) {
  uint32_t w = (uint32_t)wtc_slot_word(h & 0xff), st = w & WTC_STATE_MASK;
  return (w & WTC_GEN_MASK) != ((uint32_t)h & WTC_GEN_MASK) || st == WTC_ST_DEAD || st == WTC_ST_FREE;
}

/* Waits (a safe point while it spins) until no walk is under way; a walker
 * that died mid-walk is cleared. */
static void walk_wait(int32_t want) {
  for (;;) {
    int32_t w = LOAD(&gil.walker);
    if (w == 0) {
      if (!want || __atomic_compare_exchange_n(&gil.walker, &w, want, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return;
      continue;
    }
    if (lwtc_handle_gone(w))
      __atomic_compare_exchange_n(&gil.walker, &w, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    else if (self > 0)
      wtc_poll_fast(self);
  }
}
static void walk_begin(int32_t h) { walk_wait(h); }
static void walk_end(void) { STORE(&gil.walker, 0); }

static void drop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!LOAD(&gil.interrupts)) lua_sethook(L, NULL, 0, 0);
  lwtc_safe_point(L);
}

/* Inside a walk. A state with a debug hook of its own keeps it. */
static void arm(lua_State *T) {
  if (!T) return;
  lua_Hook h = lua_gethook(T);
  if (h == NULL || h == drop_hook) lua_sethook(T, drop_hook, LUA_MASKCOUNT, 1);
}

static void arm_thread(int i) {
  lua_State *cur = targets[i].cur, *root = targets[i].root;
  arm(cur);
  if (root != cur) arm(root);
}

void *lwtc_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr && osize == sizeof(CallInfo)) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* our last L->ci store is visible to a walk that starts now */
    if (LOAD(&gil.walker)) walk_wait(0);
  }
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

void lwtc_state_free(lua_State *L1) {
  int32_t n = wtc_capacity();
  walk_begin(self > 0 ? self : -1);
  for (int i = 0; i < n; i++) {
    if (targets[i].root == L1) targets[i].root = NULL;
    if (targets[i].cur == L1) targets[i].cur = NULL;
  }
  walk_end();
}

/* Host: a stop is about to be requested (on = 1) / has returned (on = 0).
 * While on, every Lua thread hooks each instruction, so one in a loop that
 * never allocates reaches a safe point and parks. `h` is the caller's handle. */
EXPORT(lwtc_interrupt) int32_t lwtc_interrupt(int32_t h, int32_t on) {
  if (!on) {
    __atomic_fetch_sub(&gil.interrupts, 1, __ATOMIC_SEQ_CST);
    return 0;
  }
  __atomic_fetch_add(&gil.interrupts, 1, __ATOMIC_SEQ_CST);
  int32_t n = wtc_capacity();
  walk_begin(h);
  for (int i = 0; i < n; i++) arm_thread(i);
  walk_end();
  return 0;
}

/* ---- safe points ---------------------------------------------------------- */

void lwtc_safe_point(lua_State *L) {
  int32_t h = self;
  if (h <= 0) return;
  int i = h & 0xff;
  if (targets[i].cur != L) STORE(&targets[i].cur, L);
  wtc_poll_fast(h);
  if (LOAD(&gil.drop) && LOAD(&gil.lock)) lwtc_gil_yield(L);
}

void lwtc_state_running(lua_State *L) {
  int32_t h = self;
  if (h <= 0) return;
  STORE(&targets[h & 0xff].cur, L);
  if (LOAD(&gil.drop)) arm(L); /* our own state: no walk needed */
}

void lwtc_thread_root(lua_State *L) {
  int32_t h = self;
  if (h <= 0) return;
  walk_begin(h);
  targets[h & 0xff].root = targets[h & 0xff].cur = L;
  walk_end();
}

/* ---- the lock and its hand-off -------------------------------------------- */

int lwtc_gil_enabled(void) { return LOAD(&gil.lock) != 0; }

/* exit() (os.exit, the end of lua.c's main) runs atexit handlers on the
 * exiting thread, which holds the lock and never gives it back: its worker
 * ends with the lock held, and the threads waiting for it are told the owner
 * died. That is an orderly end, not a death mid-update: they end quietly. */
static void mark_exiting(void) { STORE(&gil.exiting, 1); }

/* This thread's end while the process exits. The status is not the process's:
 * the exiting thread recorded its own before its worker let the lock go (the
 * host keeps the first exit status, vms/lua/host/threads.ts recordExit). */
static _Noreturn void end_with_process(void) { __wasi_proc_exit(0); }

int32_t lwtc_gil_enable(lua_State *L) {
  if (LOAD(&gil.lock)) return 0;
  int32_t h = lwtc_core_self();
  if (h < 0) return h;
  int32_t id = wtc_lock_create(WTC_LOCK_MUTEX);
  if (id < 0) return id;
  int32_t r = wtc_lock_acquire(h, id, 0);
  if (r < 0) return r;
  STORE(&gil.holder, h);
  STORE(&gil.last, h);
  STORE(&targets[h & 0xff].cur, L);
  STORE(&gil.lock, id);
  atexit(mark_exiting);
  return 0;
}

/* A waiter found the holder did not change for a whole interval. */
static void request_drop(int32_t h) {
  int64_t none = 0;
  __atomic_compare_exchange_n(&gil.asked_ns, &none, lwtc_now_ns(), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  STORE(&gil.drop, 1);
  int32_t holder = LOAD(&gil.holder);
  if (holder <= 0) return;
  walk_begin(h);
  arm_thread(holder & 0xff);
  walk_end();
}

static void took(lua_State *L, int32_t h) {
  STORE(&gil.holder, h);
  STORE(&gil.drop, 0);
  if (LOAD(&gil.last) != h) {
    STORE(&gil.last, h);
    int64_t asked = __atomic_exchange_n(&gil.asked_ns, 0, __ATOMIC_SEQ_CST);
    if (asked) latency_us[__atomic_fetch_add(&gil.latency_n, 1, __ATOMIC_SEQ_CST) % LATENCIES] = (int32_t)((lwtc_now_ns() - asked) / 1000);
    __atomic_fetch_add(&gil.switches, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(&gil.switches, UINT32_MAX);
  }
  if (L) STORE(&targets[h & 0xff].cur, L);
}

/* Waiters queue in ticket order and only the first of them waits for the
 * lock itself (and asks the holder to drop it), so the lock goes round: a
 * holder that dropped it queues behind every thread that was waiting. */
void lwtc_gil_acquire(lua_State *L) {
  int32_t id = LOAD(&gil.lock), h = self;
  if (!id) return;
  int32_t r = WTC_E_WOULD_BLOCK;
  if (LOAD(&gil.q_head) == LOAD(&gil.q_tail)) r = wtc_lock_acquire(h, id, 0); /* nobody queued: try once */
  if (r == WTC_E_WOULD_BLOCK) {
    int64_t interval_ns = (int64_t)LOAD(&gil.interval_ms) * 1000000;
    __atomic_fetch_add(&gil.waiters, 1, __ATOMIC_SEQ_CST);
    int32_t t = __atomic_fetch_add(&gil.q_tail, 1, __ATOMIC_SEQ_CST);
    STORE(&queue_who[(uint32_t)t % QUEUE], h);
    for (int32_t head; (head = LOAD(&gil.q_head)) != t;) {
      int32_t w = LOAD(&queue_who[(uint32_t)head % QUEUE]);
      if (w > 0 && lwtc_handle_gone(w)) { /* that waiter died in the queue */
        if (__atomic_compare_exchange_n(&gil.q_head, &head, head + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
          __builtin_wasm_memory_atomic_notify(&gil.q_head, UINT32_MAX);
        continue;
      }
      lwtc_wait_detached(&gil.q_head, head, interval_ns);
    }
    for (;;) {
      int32_t seen = LOAD(&gil.switches);
      r = wtc_lock_acquire(h, id, LOAD(&gil.interval_ms)); /* waits detached */
      if (r != WTC_E_TIMEOUT) break;
      if (LOAD(&gil.switches) == seen) request_drop(h);
    }
    STORE(&queue_who[(uint32_t)t % QUEUE], 0);
    STORE(&gil.q_head, t + 1);
    __builtin_wasm_memory_atomic_notify(&gil.q_head, UINT32_MAX);
    __atomic_fetch_sub(&gil.waiters, 1, __ATOMIC_SEQ_CST);
  }
  if (r < 0 && LOAD(&gil.exiting)) end_with_process();
  if (r == WTC_E_OWNER_DEAD || r == WTC_E_NOT_RECOVERABLE)
    lwtc_fatal("a thread died holding the interpreter lock; the Lua state cannot be trusted (exit 70)");
  if (r < 0) lwtc_fatal("cannot take the interpreter lock");
  took(L, h);
}

void lwtc_gil_release(void) {
  int32_t id = LOAD(&gil.lock);
  if (!id) return;
  STORE(&gil.holder, 0);
  if (wtc_lock_release(self, id) < 0) lwtc_fatal("the interpreter lock is not held by this thread");
}

void lwtc_gil_yield(lua_State *L) {
  if (!LOAD(&gil.lock)) return;
  int32_t seen = LOAD(&gil.switches);
  lwtc_gil_release();
  /* Bounded: the woken waiter may have been parked by a stop, or gone. */
  if (LOAD(&gil.waiters) > 0) lwtc_wait_detached(&gil.switches, seen, (int64_t)LOAD(&gil.interval_ms) * 1000000);
  lwtc_gil_acquire(L);
}

int32_t lwtc_switch_interval(void) { return LOAD(&gil.interval_ms); }
void lwtc_set_switch_interval(int32_t ms) { STORE(&gil.interval_ms, ms < 1 ? 1 : ms); }

/* For the host's figures: how many times the lock changed hands, and the
 * switch latencies (µs) recorded, the last LATENCIES of them at lwtc_gil_latencies(). */
EXPORT(lwtc_gil_switches) int32_t lwtc_gil_switches(void) { return LOAD(&gil.switches); }
EXPORT(lwtc_gil_latency_count) int32_t lwtc_gil_latency_count(void) { return LOAD(&gil.latency_n); }
EXPORT(lwtc_gil_latencies) int32_t *lwtc_gil_latencies(void) { return latency_us; }

/* The host around a blocking WASI call (a read of stdin): the GIL goes to the
 * others and the thread waits detached. Inside stdio, so two threads must not
 * read one FILE at once (docs/LUA.md). */
EXPORT(lwtc_blocking_begin) void lwtc_blocking_begin(void) {
  lwtc_gil_release();
  if (self > 0) wtc_detach(self);
}
EXPORT(lwtc_blocking_end) void lwtc_blocking_end(void) {
  if (self > 0) wtc_attach(self);
  lwtc_gil_acquire(NULL);
}
