/* Reader-writer locks: one state word (0 free, n > 0 readers, -1 a writer)
 * and a waiter count; every waiter sleeps on the state word (detached) and
 * all are woken when it changes to free. Readers do not wait for queued
 * writers: simple, and enough for the VMs here (no writer-preference). */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

#define STATE(l) (&(l)->__u.__vi[0])
#define WAITERS(l) (&(l)->__u.__vi[1])

int pthread_rwlockattr_init(pthread_rwlockattr_t *a) { a->__attr[0] = a->__attr[1] = 0; return 0; }
int pthread_rwlockattr_destroy(pthread_rwlockattr_t *a) { (void)a; return 0; }

int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a) {
  (void)a;
  *l = (pthread_rwlock_t)PTHREAD_RWLOCK_INITIALIZER;
  return 0;
}
int pthread_rwlock_destroy(pthread_rwlock_t *l) { return LOAD(STATE(l)) ? EBUSY : 0; }

static int acquire(pthread_rwlock_t *l, int writer, int try, const struct timespec *abstime) {
  for (;;) {
    int32_t s = LOAD(STATE(l));
    if (writer ? s == 0 : s >= 0 && s < 0x7fffffff) {
      if (CAS(STATE(l), &s, writer ? -1 : s + 1)) return 0;
      continue;
    }
    if (!writer && s == 0x7fffffff) return EAGAIN;
    if (try) return EBUSY;
    int64_t left = wtp_remaining_ns(WTP_REALTIME, abstime);
    if (left == 0) return ETIMEDOUT;
    __atomic_fetch_add(WAITERS(l), 1, __ATOMIC_SEQ_CST);
    wtp_wait(STATE(l), s, left);
    __atomic_fetch_sub(WAITERS(l), 1, __ATOMIC_SEQ_CST);
  }
}

int pthread_rwlock_rdlock(pthread_rwlock_t *l) { return acquire(l, 0, 0, NULL); }
int pthread_rwlock_tryrdlock(pthread_rwlock_t *l) { return acquire(l, 0, 1, NULL); }
int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *at) { return acquire(l, 0, 0, at); }
int pthread_rwlock_wrlock(pthread_rwlock_t *l) { return acquire(l, 1, 0, NULL); }
int pthread_rwlock_trywrlock(pthread_rwlock_t *l) { return acquire(l, 1, 1, NULL); }
int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *at) { return acquire(l, 1, 0, at); }

int pthread_rwlock_unlock(pthread_rwlock_t *l) {
  for (;;) {
    int32_t s = LOAD(STATE(l));
    if (s == 0) return EPERM;
    int32_t next = s == -1 ? 0 : s - 1;
    if (!CAS(STATE(l), &s, next)) continue;
    if (next == 0 && LOAD(WAITERS(l))) wtp_wake(STATE(l), UINT32_MAX);
    return 0;
  }
}
