/* The pthread layer's shared pieces (docs/EMBEDDING.md, "POSIX threads"):
 * the calling thread's identity, the one detached wait every blocking call
 * goes through, clocks straight from WASI, and the thread record. */
#ifndef WTP_INTERNAL_H
#define WTP_INTERNAL_H
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "wasm_threads_core.h"

#define WTP_EXPORT(n) __attribute__((export_name(#n)))
#define LOAD(p) __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)
#define CAS(p, e, d) __atomic_compare_exchange_n(p, e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define XCHG(p, v) __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST)

/* A thread's join state: who reclaims its record. */
enum { J_JOINABLE, J_DETACHED, J_EXITED, J_RECLAIM };

/* pthread_t points here. The host reads `area` by offset (vms/posix/host/process.ts RECORD_AREA). */
struct __pthread {
  uint32_t area;                /* +0 stack + TLS block (wtp_area_new); 0 for the initial thread */
  int32_t handle;               /* +4 core handle, once the worker runs */
  int32_t join;                 /* +8 J_* */
  int32_t id;                   /* +12 small number, 1 for the initial thread */
  void *(*start)(void *);
  void *arg;
  void *result;
  struct __pthread *next;       /* on the reclaim list */
  int64_t created_ns;           /* monotonic: a worker that never starts is given up on (pthread_join) */
};

/* The pipes' part of a fork (pipe.c, "pipes across fork"), reached through
 * this pointer, which the first pipe() sets: a program that makes no pipe
 * links none of it, nor its host imports. A fork child finds it set in its
 * copy when its parent had made pipes. */
struct wtp_fork_pipes_hooks {
  void (*before_fork)(void);
  void (*after_fork_parent)(void);
  void (*inherit)(void);
};
extern const struct wtp_fork_pipes_hooks *wtp_fork_pipes;

/* The calling thread's record and core handle (0 before the host set it). */
struct __pthread *wtp_self(void);
int32_t wtp_handle(void);

/* The clocks, from WASI (no libc: callable inside the layer's locks). */
enum { WTP_REALTIME = 0, WTP_MONOTONIC = 1 };
int64_t wtp_now_ns(int clock);
/* Nanoseconds from now until `abstime` on `clock` (≤ 0: passed); -1 for none. */
int64_t wtp_remaining_ns(int clock, const struct timespec *abstime);
/* Maps a libc clockid_t to WTP_*; -1 when the layer cannot wait on it. */
int wtp_clock_code(clockid_t c);

/* Waits until *word != expect, a wake-up, or timeout_ns (< 0: none) passes,
 * detached from the core if the thread is attached, so a stop-the-world never
 * waits for it; attached again before it returns. 0: woken or the word
 * differed; ETIMEDOUT. */
int wtp_wait(volatile int32_t *word, int32_t expect, int64_t timeout_ns);
void wtp_wake(volatile int32_t *word, uint32_t count);
/* Detach if attached (1 if it did) / attach again: pthread.h. */
int wtp_blocking_begin(void);
void wtp_blocking_end(int was_attached);

/* A plain lock word for the layer's own state and libc's (0 free, 1 held, 2
 * held with waiters); waits detached. Never held across a safe point. */
void wtp_lock(volatile int32_t *word);
void wtp_unlock(volatile int32_t *word);

/* A condition variable's sequence word (cond.c); a stop's end wakes a guarded one (stop.c). */
#define WTP_COND_SEQ(c) (&(c)->__u.__vi[0])
/* Whether a wait on `c` about to begin would wait for a stop that is over: it
 * returns at once instead, a spurious wake-up (stop.c). After reading the
 * sequence word, before waiting. */
int wtp_cond_stop_skips(pthread_cond_t *c);

/* Key values of the exiting thread: destructors (pthread_key_create). */
void wtp_keys_run_destructors(void);

#endif
