/* Mutexes: normal, recursive, error-checking, with try, timed and clocked
 * locks. The lock word is Drepper's (0 free, 1 held, 2 held and a waiter may
 * sleep); waits go through wtp_wait, detached.
 *
 * pthread_mutex_t is musl's (6 ints): [0] the word, [1] the type, [2] the
 * owner (its pthread_t), [3] the recursion count. All zero is an unlocked
 * normal mutex (PTHREAD_MUTEX_INITIALIZER). */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

#define WORD(m) (&(m)->__u.__vi[0])
#define TYPE(m) ((m)->__u.__i[1])
#define OWNER(m) (&(m)->__u.__vi[2])
#define COUNT(m) ((m)->__u.__i[3])

int pthread_mutexattr_init(pthread_mutexattr_t *a) { a->__attr = 0; return 0; }
int pthread_mutexattr_destroy(pthread_mutexattr_t *a) { (void)a; return 0; }
int pthread_mutexattr_gettype(const pthread_mutexattr_t *a, int *t) { *t = (int)(a->__attr & 3); return 0; }
int pthread_mutexattr_settype(pthread_mutexattr_t *a, int t) {
  if (t < PTHREAD_MUTEX_NORMAL || t > PTHREAD_MUTEX_ERRORCHECK) return EINVAL;
  a->__attr = (a->__attr & ~3u) | (unsigned)t;
  return 0;
}
int pthread_mutexattr_getpshared(const pthread_mutexattr_t *a, int *p) { (void)a; *p = PTHREAD_PROCESS_PRIVATE; return 0; }
int pthread_mutexattr_setpshared(pthread_mutexattr_t *a, int p) {
  (void)a; /* workers share one memory: every mutex is visible to all of them, none to another process */
  return p == PTHREAD_PROCESS_PRIVATE || p == PTHREAD_PROCESS_SHARED ? 0 : EINVAL;
}

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) {
  *m = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  TYPE(m) = a ? (int)(a->__attr & 3) : PTHREAD_MUTEX_NORMAL;
  return 0;
}

int pthread_mutex_destroy(pthread_mutex_t *m) { return LOAD(WORD(m)) ? EBUSY : 0; }

static int32_t me(void) { return (int32_t)(uintptr_t)wtp_self(); }

/* The word only, for the condition variable's re-lock too: `clock` < 0 and
 * abstime NULL wait for ever; `try` never waits. */
static int take(pthread_mutex_t *m, int try, int clock, const struct timespec *abstime) {
  int32_t c = 0;
  if (CAS(WORD(m), &c, 1)) return 0;
  if (try) return EBUSY;
  while (XCHG(WORD(m), 2) != 0) {
    int64_t left = wtp_remaining_ns(clock, abstime);
    if (left == 0) return ETIMEDOUT;
    wtp_wait(WORD(m), 2, left);
  }
  return 0;
}

static int lock(pthread_mutex_t *m, int try, int clock, const struct timespec *abstime) {
  int type = TYPE(m);
  if (type != PTHREAD_MUTEX_NORMAL && LOAD(OWNER(m)) == me()) {
    if (type == PTHREAD_MUTEX_ERRORCHECK) return EDEADLK;
    if (COUNT(m) == 0x7fffffff) return EAGAIN;
    COUNT(m)++;
    return 0;
  }
  if (abstime && (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000)) {
    int32_t c = 0;
    if (CAS(WORD(m), &c, 1)) goto owned; /* POSIX: an invalid time is checked only if the lock must wait */
    return EINVAL;
  }
  int r = take(m, try, clock, abstime);
  if (r) return r;
owned:
  STORE(OWNER(m), me());
  COUNT(m) = 1;
  return 0;
}

int pthread_mutex_lock(pthread_mutex_t *m) { return lock(m, 0, -1, NULL); }
int pthread_mutex_trylock(pthread_mutex_t *m) { return lock(m, 1, -1, NULL); }
int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *at) { return lock(m, 0, WTP_REALTIME, at); }
int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *at) {
  int clock = wtp_clock_code(c);
  return clock < 0 ? EINVAL : lock(m, 0, clock, at);
}

static void release(pthread_mutex_t *m) {
  STORE(OWNER(m), 0);
  if (XCHG(WORD(m), 0) == 2) wtp_wake(WORD(m), 1);
}

int pthread_mutex_unlock(pthread_mutex_t *m) {
  /* Every kind checks the owner: undefined for a normal mutex in POSIX, and the cheapest answer is the safe one. */
  if (LOAD(OWNER(m)) != me()) return EPERM;
  if (TYPE(m) == PTHREAD_MUTEX_RECURSIVE && --COUNT(m) > 0) return 0;
  release(m);
  return 0;
}

/* For pthread_cond_wait: give the mutex up whatever its depth, and take it
 * back with the depth it had. The re-lock marks the word contended (2), so an
 * unlock after a broadcast wakes the next of the woken waiters. */
int wtp_mutex_release_all(pthread_mutex_t *m) {
  int depth = COUNT(m);
  if (LOAD(OWNER(m)) != me()) return -1;
  release(m);
  return depth;
}

void wtp_mutex_reacquire(pthread_mutex_t *m, int depth) {
  while (XCHG(WORD(m), 2) != 0) wtp_wait(WORD(m), 2, -1);
  STORE(OWNER(m), me());
  COUNT(m) = depth > 0 ? depth : 1;
}
