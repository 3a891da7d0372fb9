/* The GIL: one interpreter lock for every Lua thread of the process, with a
 * fair hand-off (docs/LUA.md, "Threads").
 *
 * The lock is a holder word under a pthread mutex and condition variable of
 * the pthread layer (vms/posix), whose waits are detached, so a stop-the-world
 * never waits for a thread queued for it. A waiter that finds the holder's
 * worker gone (its core slot dead or reused) ends the process: the Lua state
 * cannot be trusted. On top of it, the hand-off of CPython's "new GIL": waiters
 * queue in ticket order, and the first of them sleeps at most one switch
 * interval; if no other thread took the lock in that time it asks the holder
 * to drop it. The holder honours the request at its next safe point: it
 * releases, waits (bounded) until another thread has taken the lock, and
 * queues for it again. Without the wait the releaser would win the lock back
 * at once.
 *
 * Safe points: lvm.c's checkGC (luai_threadyield, lwtc_user.h) and a count hook
 * of one instruction that the waiter installs on the holder's running state
 * (lua_sethook, as lua.c does from its SIGINT handler), so loops that never
 * allocate are reached too and a process with no contention runs no hook. A
 * hook is set from another thread, so the walk over the holder's CallInfo list
 * (lua_sethook's settraps) must not meet a CallInfo being freed: Lua frees them
 * through lwtc_alloc, which waits while a walk is under way, and a state being
 * freed is first removed from the targets (luai_userstatefree). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

#include "lua.h"
#include "lstate.h"
#include "wasm_threads_core.h"
#include "gil.h"

#define EXPORT(n) __attribute__((export_name(#n)))

/* The core's capacity when this module is the first to initialise it (a host without a runtime). */
#define CORE_CAPACITY 64

/* The layer's record of this thread's core handle (vms/posix/src/thread.c). */
void wtp_set_self(int32_t h);

/* Per core slot: the thread's base state and the state it runs. Written by the
 * owner; read by a thread delivering a drop request, inside a walk. */
static struct {
  lua_State *root, *cur;
} targets[WTC_MAX_SLOTS];

/* The lock's words: `holder` and the queue change under `mu`; the others are
 * atomics read without it (a safe point reads `drop` and `on`). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv; /* on CLOCK_MONOTONIC: a change of holder, of queue head, a release */

static struct {
  int32_t on;          /* the process has had a second thread: the lock is taken and given */
  int32_t holder;      /* handle of the holder (0 while released) */
  int32_t last;        /* handle of the last holder: a switch is a change of holder */
  int32_t switches;    /* bumped at each switch; a dropping holder waits for it */
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

/* Ticket t's waiter, so a dead one is skipped. */
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

/* The layer's (the host registered every thread it started); a host without a
 * runtime (one instance, no workers) leaves it 0: the first call registers. */
int32_t lwtc_core_self(void) {
  int32_t h = wtp_core_handle();
  if (h > 0) return h;
  int32_t r = wtc_init(CORE_CAPACITY);
  if (r < 0 && r != WTC_E_ALREADY_INIT) return r;
  if ((h = wtc_register(1)) < 0) return h;
  if ((r = wtc_attach(h)) < 0) return r;
  wtp_set_self(h);
  return h;
}

static int32_t self(void) { return wtp_core_handle(); }

static void reset_lock(void) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&cv, &a);
  pthread_condattr_destroy(&a);
  pthread_mutex_init(&mu, NULL);
}

/* A fork child's only thread (the forking one, which held the lock): its new
 * handle holds it, the queue and every other thread's targets are gone. */
void lwtc_gil_after_fork_child(void) {
  int32_t h = self();
  for (int i = 0; i < WTC_MAX_SLOTS; i++)
    if (i != (h & 0xff)) targets[i].root = targets[i].cur = NULL;
  STORE(&gil.walker, 0);
  STORE(&gil.waiters, 0);
  STORE(&gil.drop, 0);
  STORE(&gil.q_head, 0);
  STORE(&gil.q_tail, 0);
  for (int i = 0; i < QUEUE; i++) queue_who[i] = 0;
  reset_lock();
  if (LOAD(&gil.on)) {
    STORE(&gil.holder, h);
    STORE(&gil.last, h);
  }
}

/* ---- waits --------------------------------------------------------------- */

void lwtc_wait_detached(int32_t *word, int32_t value, int64_t ns) {
  int was = wtp_blocking_begin();
  __builtin_wasm_memory_atomic_wait32(word, value, ns < 0 ? -1 : ns);
  wtp_blocking_end(was);
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
    else if (self() > 0)
      wtc_poll_fast(self());
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
  int32_t n = wtc_capacity(), h = self();
  walk_begin(h > 0 ? h : -1);
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
  int32_t h = self();
  if (h <= 0) return;
  int i = h & 0xff;
  if (targets[i].cur != L) STORE(&targets[i].cur, L);
  wtc_poll_fast(h);
  if (LOAD(&gil.drop) && LOAD(&gil.on)) lwtc_gil_yield(L);
}

void lwtc_state_running(lua_State *L) {
  int32_t h = self();
  if (h <= 0) return;
  STORE(&targets[h & 0xff].cur, L);
  if (LOAD(&gil.drop)) arm(L); /* our own state: no walk needed */
}

void lwtc_thread_root(lua_State *L) {
  int32_t h = self();
  if (h <= 0) return;
  walk_begin(h);
  targets[h & 0xff].root = targets[h & 0xff].cur = L;
  walk_end();
}

/* ---- the lock and its hand-off -------------------------------------------- */

int lwtc_gil_enabled(void) { return LOAD(&gil.on) != 0; }

/* exit() (os.exit, the end of lua.c's main) runs atexit handlers on the
 * exiting thread, which holds the lock and never gives it back: its worker
 * ends with the lock held, and the threads waiting for it find its owner
 * gone. That is an orderly end, not a death mid-update: they end quietly. */
static void mark_exiting(void) { STORE(&gil.exiting, 1); }

/* This thread's end while the process exits. The status is not the process's:
 * the exiting thread recorded its own before its worker let the lock go (the
 * host keeps the first exit status). */
static _Noreturn void end_with_process(void) { __wasi_proc_exit(0); }

int32_t lwtc_gil_enable(lua_State *L) {
  if (LOAD(&gil.on)) return 0;
  int32_t h = lwtc_core_self();
  if (h < 0) return h;
  reset_lock();
  STORE(&gil.holder, h);
  STORE(&gil.last, h);
  STORE(&targets[h & 0xff].cur, L);
  STORE(&gil.on, 1);
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

/* Under mu. */
static void took(lua_State *L, int32_t h) {
  STORE(&gil.holder, h);
  STORE(&gil.drop, 0);
  if (LOAD(&gil.last) != h) {
    STORE(&gil.last, h);
    int64_t asked = __atomic_exchange_n(&gil.asked_ns, 0, __ATOMIC_SEQ_CST);
    if (asked) latency_us[__atomic_fetch_add(&gil.latency_n, 1, __ATOMIC_SEQ_CST) % LATENCIES] = (int32_t)((lwtc_now_ns() - asked) / 1000);
    __atomic_fetch_add(&gil.switches, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&cv); /* a dropping holder waits for the switch */
  }
  if (L) STORE(&targets[h & 0xff].cur, L);
}

static struct timespec after_ms(int32_t ms) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (long)(ms % 1000) * 1000000;
  if (t.tv_nsec >= 1000000000) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000;
  }
  return t;
}

/* Under mu: the holder's worker is gone. During an orderly exit this thread
 * ends quietly; otherwise the state cannot be trusted. */
static void check_holder(void) {
  int32_t holder = LOAD(&gil.holder);
  if (holder <= 0 || !lwtc_handle_gone(holder)) return;
  if (LOAD(&gil.exiting)) end_with_process();
  lwtc_fatal("a thread died holding the interpreter lock; the Lua state cannot be trusted (exit 70)");
}

/* Waiters queue in ticket order and only the first of them waits for the
 * lock itself (and asks the holder to drop it), so the lock goes round: a
 * holder that dropped it queues behind every thread that was waiting. */
void lwtc_gil_acquire(lua_State *L) {
  if (!LOAD(&gil.on)) return;
  int32_t h = self();
  pthread_mutex_lock(&mu);
  if (LOAD(&gil.holder) == 0 && LOAD(&gil.q_head) == LOAD(&gil.q_tail)) { /* free, nobody queued */
    took(L, h);
    pthread_mutex_unlock(&mu);
    return;
  }
  __atomic_fetch_add(&gil.waiters, 1, __ATOMIC_SEQ_CST);
  int32_t t = __atomic_fetch_add(&gil.q_tail, 1, __ATOMIC_SEQ_CST);
  STORE(&queue_who[(uint32_t)t % QUEUE], h);
  int32_t seen = LOAD(&gil.switches);
  for (;;) {
    int32_t head = LOAD(&gil.q_head);
    if (head == t && LOAD(&gil.holder) == 0) break;
    check_holder();
    int32_t w = LOAD(&queue_who[(uint32_t)head % QUEUE]);
    if (head != t && w > 0 && lwtc_handle_gone(w)) { /* that waiter died in the queue */
      STORE(&gil.q_head, head + 1);
      pthread_cond_broadcast(&cv);
      continue;
    }
    struct timespec until = after_ms(LOAD(&gil.interval_ms));
    int r = pthread_cond_timedwait(&cv, &mu, &until);
    if (r != ETIMEDOUT || LOAD(&gil.q_head) != t || LOAD(&gil.holder) == 0) continue;
    if (LOAD(&gil.switches) != seen) {
      seen = LOAD(&gil.switches);
      continue;
    }
    /* first in line, and the holder kept it a whole interval: ask (outside mu, the walk may wait) */
    pthread_mutex_unlock(&mu);
    request_drop(h);
    pthread_mutex_lock(&mu);
  }
  STORE(&queue_who[(uint32_t)t % QUEUE], 0);
  STORE(&gil.q_head, t + 1);
  __atomic_fetch_sub(&gil.waiters, 1, __ATOMIC_SEQ_CST);
  took(L, h);
  pthread_cond_broadcast(&cv); /* the next in line is first now */
  pthread_mutex_unlock(&mu);
}

void lwtc_gil_release(void) {
  if (!LOAD(&gil.on)) return;
  pthread_mutex_lock(&mu);
  if (LOAD(&gil.holder) != self()) lwtc_fatal("the interpreter lock is not held by this thread");
  STORE(&gil.holder, 0);
  if (LOAD(&gil.waiters)) pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

void lwtc_gil_yield(lua_State *L) {
  if (!LOAD(&gil.on)) return;
  int32_t seen = LOAD(&gil.switches);
  lwtc_gil_release();
  /* Bounded: the woken waiter may have been parked by a stop, or gone. */
  if (LOAD(&gil.waiters) > 0) {
    struct timespec until = after_ms(LOAD(&gil.interval_ms));
    pthread_mutex_lock(&mu);
    while (LOAD(&gil.switches) == seen && pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT) {}
    pthread_mutex_unlock(&mu);
  }
  lwtc_gil_acquire(L);
}

int32_t lwtc_switch_interval(void) { return LOAD(&gil.interval_ms); }
void lwtc_set_switch_interval(int32_t ms) { STORE(&gil.interval_ms, ms < 1 ? 1 : ms); }

/* For the host's figures: how many times the lock changed hands, and the
 * switch latencies (µs) recorded, the last LATENCIES of them at lwtc_gil_latencies(). */
EXPORT(lwtc_gil_switches) int32_t lwtc_gil_switches(void) { return LOAD(&gil.switches); }
EXPORT(lwtc_gil_latency_count) int32_t lwtc_gil_latency_count(void) { return LOAD(&gil.latency_n); }
EXPORT(lwtc_gil_latencies) int32_t *lwtc_gil_latencies(void) { return latency_us; }

/* The layer's thread job around a blocking host call (a read of stdin, which
 * it makes detached): the GIL goes to the others meanwhile. Inside stdio, so
 * two threads must not read one FILE at once (docs/LUA.md). */
EXPORT(wtp_io_begin) void wtp_io_begin(void) { lwtc_gil_release(); }
EXPORT(wtp_io_end) void wtp_io_end(void) { lwtc_gil_acquire(NULL); }
