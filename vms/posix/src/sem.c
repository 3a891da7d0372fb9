/* Unnamed POSIX semaphores. sem_t is musl's (4 ints): [0] the value,
 * [1] waiters. Named semaphores need a file system shared between processes:
 * sem_open fails with ENOSYS. */
#include <errno.h>
#include <semaphore.h>

#include "internal.h"

#define VALUE(s) (&(s)->__val[0])
#define WAITERS(s) (&(s)->__val[1])

int sem_init(sem_t *s, int pshared, unsigned value) {
  (void)pshared;
  if (value > 0x7fffffff) { errno = EINVAL; return -1; }
  STORE(VALUE(s), (int32_t)value);
  STORE(WAITERS(s), 0);
  return 0;
}
int sem_destroy(sem_t *s) { (void)s; return 0; }
int sem_getvalue(sem_t *s, int *v) { *v = LOAD(VALUE(s)); return 0; }

int sem_post(sem_t *s) {
  int32_t v = LOAD(VALUE(s));
  do {
    if (v == 0x7fffffff) { errno = EOVERFLOW; return -1; }
  } while (!CAS(VALUE(s), &v, v + 1));
  if (LOAD(WAITERS(s))) wtp_wake(VALUE(s), 1);
  return 0;
}

static int take(sem_t *s, int try, int clock, const struct timespec *abstime) {
  for (;;) {
    int32_t v = LOAD(VALUE(s));
    if (v > 0) {
      if (CAS(VALUE(s), &v, v - 1)) return 0;
      continue;
    }
    if (try) { errno = EAGAIN; return -1; }
    if (abstime && (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000)) { errno = EINVAL; return -1; }
    int64_t left = wtp_remaining_ns(clock, abstime);
    if (left == 0) { errno = ETIMEDOUT; return -1; }
    __atomic_fetch_add(WAITERS(s), 1, __ATOMIC_SEQ_CST);
    wtp_wait(VALUE(s), 0, left);
    __atomic_fetch_sub(WAITERS(s), 1, __ATOMIC_SEQ_CST);
  }
}

int sem_wait(sem_t *s) { return take(s, 0, -1, NULL); }
int sem_trywait(sem_t *s) { return take(s, 1, -1, NULL); }
int sem_timedwait(sem_t *s, const struct timespec *at) { return take(s, 0, WTP_REALTIME, at); }
int sem_clockwait(sem_t *s, clockid_t c, const struct timespec *at) {
  int clock = wtp_clock_code(c);
  if (clock < 0) { errno = EINVAL; return -1; }
  return take(s, 0, clock, at);
}

sem_t *sem_open(const char *name, int flags, ...) {
  (void)name;
  (void)flags;
  errno = ENOSYS;
  return SEM_FAILED;
}
int sem_close(sem_t *s) { (void)s; errno = EINVAL; return -1; }
int sem_unlink(const char *name) { (void)name; errno = ENOSYS; return -1; }
