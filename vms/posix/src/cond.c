/* Condition variables with timed waits on CLOCK_REALTIME (the default) or
 * CLOCK_MONOTONIC (pthread_condattr_setclock, as CPython's GIL uses).
 *
 * A sequence word: a waiter reads it while it still holds the mutex, then
 * sleeps until it changes; signal and broadcast bump it. A signal between the
 * read and the sleep changes the word, so the sleep returns at once: no lost
 * wake-up. pthread_cond_t is musl's (12 ints): [0] sequence, [1] clock,
 * [2] waiters. */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

#define SEQ(c) WTP_COND_SEQ(c)
#define CLOCK(c) ((c)->__u.__i[1])
#define WAITERS(c) (&(c)->__u.__vi[2])

int wtp_mutex_release_all(pthread_mutex_t *m);
void wtp_mutex_reacquire(pthread_mutex_t *m, int depth);

int pthread_condattr_init(pthread_condattr_t *a) { a->__attr = WTP_REALTIME; return 0; }
int pthread_condattr_destroy(pthread_condattr_t *a) { (void)a; return 0; }
int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t c) {
  int code = wtp_clock_code(c);
  if (code < 0) return EINVAL;
  a->__attr = (unsigned)code;
  return 0;
}
int pthread_condattr_getclock(const pthread_condattr_t *a, clockid_t *c) {
  *c = a->__attr == WTP_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  return 0;
}
int pthread_condattr_setpshared(pthread_condattr_t *a, int p) {
  (void)a;
  return p == PTHREAD_PROCESS_PRIVATE || p == PTHREAD_PROCESS_SHARED ? 0 : EINVAL;
}
int pthread_condattr_getpshared(const pthread_condattr_t *a, int *p) { (void)a; *p = PTHREAD_PROCESS_PRIVATE; return 0; }

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) {
  *c = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  CLOCK(c) = a ? (int)a->__attr : WTP_REALTIME;
  return 0;
}

int pthread_cond_destroy(pthread_cond_t *c) { return LOAD(WAITERS(c)) ? EBUSY : 0; }

static int wait(pthread_cond_t *c, pthread_mutex_t *m, int clock, const struct timespec *abstime) {
  if (abstime && (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000)) return EINVAL;
  int32_t seq = LOAD(SEQ(c));
  if (wtp_cond_stop_skips(c)) return 0; /* the mutex was never released */
  __atomic_fetch_add(WAITERS(c), 1, __ATOMIC_SEQ_CST);
  int depth = wtp_mutex_release_all(m);
  if (depth < 0) {
    __atomic_fetch_sub(WAITERS(c), 1, __ATOMIC_SEQ_CST);
    return EPERM;
  }
  int r = 0;
  for (;;) {
    int64_t left = wtp_remaining_ns(clock, abstime);
    if (left == 0) { r = ETIMEDOUT; break; }
    wtp_wait(SEQ(c), seq, left);
    if (LOAD(SEQ(c)) != seq) break; /* else a spurious wake-up: the deadline decides */
  }
  __atomic_fetch_sub(WAITERS(c), 1, __ATOMIC_SEQ_CST);
  wtp_mutex_reacquire(m, depth);
  if (r == ETIMEDOUT && LOAD(SEQ(c)) != seq) r = 0; /* signalled as the deadline passed: not a timeout */
  return r;
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { return wait(c, m, -1, NULL); }
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *at) {
  return wait(c, m, CLOCK(c), at);
}
int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk, const struct timespec *at) {
  int clock = wtp_clock_code(clk);
  return clock < 0 ? EINVAL : wait(c, m, clock, at);
}

int pthread_cond_signal(pthread_cond_t *c) {
  __atomic_fetch_add(SEQ(c), 1, __ATOMIC_SEQ_CST);
  if (LOAD(WAITERS(c))) wtp_wake(SEQ(c), 1);
  return 0;
}

int pthread_cond_broadcast(pthread_cond_t *c) {
  __atomic_fetch_add(SEQ(c), 1, __ATOMIC_SEQ_CST);
  if (LOAD(WAITERS(c))) wtp_wake(SEQ(c), UINT32_MAX);
  return 0;
}
