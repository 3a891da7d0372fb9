/* Mutexes of each kind with their error codes, condition variables with
 * timed waits on both clocks, rwlocks and semaphores. Every wait here has a
 * deadline. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

#include "check.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held_check;

static void *try_other(void *a) {
  pthread_mutex_t *m = a;
  int busy = pthread_mutex_trylock(m);
  struct timespec at = in_ms(CLOCK_REALTIME, 30);
  int timed = pthread_mutex_timedlock(m, &at);
  int perm = pthread_mutex_unlock(m);
  return (void *)(intptr_t)(busy * 10000 + timed * 100 + perm);
}

static int counter;
static void *count(void *a) {
  pthread_mutex_t *m = a;
  for (int i = 0; i < 20000; i++) {
    CHECK_EQ(pthread_mutex_lock(m), 0);
    counter++;
    CHECK_EQ(pthread_mutex_unlock(m), 0);
  }
  return NULL;
}

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_real = PTHREAD_COND_INITIALIZER, cv_mono;
static int ready, woken;

static void *cond_waiter(void *a) {
  pthread_cond_t *cv = a;
  clockid_t clk = cv == &cv_mono ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  CHECK_EQ(pthread_mutex_lock(&cm), 0);
  struct timespec at = in_ms(clk, 10000);
  while (!ready) {
    int r = pthread_cond_timedwait(cv, &cm, &at);
    if (r == ETIMEDOUT) break;
    CHECK_EQ(r, 0);
  }
  int got = ready;
  woken++;
  CHECK_EQ(pthread_mutex_unlock(&cm), 0);
  return (void *)(intptr_t)got;
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int rw_value;
static void *rw_writer(void *a) {
  (void)a;
  for (int i = 0; i < 2000; i++) {
    CHECK_EQ(pthread_rwlock_wrlock(&rw), 0);
    int v = rw_value;
    rw_value = v + 1;
    CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
  }
  return NULL;
}
static void *rw_reader(void *a) {
  (void)a;
  for (int i = 0; i < 2000; i++) {
    CHECK_EQ(pthread_rwlock_rdlock(&rw), 0);
    int v1 = rw_value, v2 = rw_value;
    CHECK_EQ(v1, v2);
    CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
  }
  return NULL;
}

static sem_t sem;
static void *sem_taker(void *a) {
  (void)a;
  struct timespec at = in_ms(CLOCK_REALTIME, 10000);
  return (void *)(intptr_t)sem_timedwait(&sem, &at);
}

static void check_timed_wait(clockid_t clk, pthread_cond_t *cv) {
  CHECK_EQ(pthread_mutex_lock(&cm), 0);
  long long t0 = now_ms(clk);
  struct timespec at = in_ms(clk, 50);
  CHECK_EQ(pthread_cond_timedwait(cv, &cm, &at), ETIMEDOUT);
  long long waited = now_ms(clk) - t0;
  CHECK(waited >= 49);
  CHECK_EQ(pthread_mutex_unlock(&cm), 0); /* the mutex was held again on return */
}

int main(void) {
  pthread_t t[4];
  void *r;
  pthread_mutexattr_t ma;

  /* normal: try-lock from another thread is EBUSY, a timed lock ETIMEDOUT */
  struct timespec at;
  CHECK_EQ(pthread_mutex_lock(&held), 0);
  CHECK_EQ(pthread_mutex_trylock(&held), EBUSY);
  CHECK_EQ(pthread_create(&t[0], NULL, try_other, &held), 0);
  CHECK_EQ(pthread_join(t[0], &r), 0);
  CHECK_EQ((intptr_t)r, EBUSY * 10000 + ETIMEDOUT * 100 + EPERM);
  at = in_ms(CLOCK_MONOTONIC, 20);
  CHECK_EQ(pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &at), ETIMEDOUT); /* a normal mutex relocked by its owner waits (POSIX: deadlocks) */
  CHECK_EQ(pthread_mutex_unlock(&held), 0);
  CHECK_EQ(pthread_mutex_unlock(&held), EPERM); /* not locked */
  CHECK_EQ(pthread_cond_wait(&cv_real, &held), EPERM); /* a condition wait needs the mutex held */
  puts("ok normal");

  /* error-checking: relock is EDEADLK, unlock by another thread EPERM */
  CHECK_EQ(pthread_mutexattr_init(&ma), 0);
  CHECK_EQ(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK), 0);
  CHECK_EQ(pthread_mutex_init(&held_check, &ma), 0);
  CHECK_EQ(pthread_mutex_lock(&held_check), 0);
  CHECK_EQ(pthread_mutex_lock(&held_check), EDEADLK);
  at = in_ms(CLOCK_REALTIME, 10);
  CHECK_EQ(pthread_mutex_timedlock(&held_check, &at), EDEADLK);
  CHECK_EQ(pthread_create(&t[0], NULL, try_other, &held_check), 0);
  CHECK_EQ(pthread_join(t[0], &r), 0);
  CHECK_EQ((intptr_t)r, EBUSY * 10000 + ETIMEDOUT * 100 + EPERM);
  CHECK_EQ(pthread_mutex_destroy(&held_check), EBUSY);
  CHECK_EQ(pthread_mutex_unlock(&held_check), 0);
  CHECK_EQ(pthread_mutex_unlock(&held_check), EPERM);
  CHECK_EQ(pthread_mutex_destroy(&held_check), 0);
  puts("ok errorcheck");

  /* recursive: nests, another thread stays out until the last unlock */
  pthread_mutex_t rec;
  CHECK_EQ(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE), 0);
  CHECK_EQ(pthread_mutex_init(&rec, &ma), 0);
  CHECK_EQ(pthread_mutex_lock(&rec), 0);
  CHECK_EQ(pthread_mutex_lock(&rec), 0);
  CHECK_EQ(pthread_mutex_trylock(&rec), 0);
  CHECK_EQ(pthread_mutex_unlock(&rec), 0);
  CHECK_EQ(pthread_mutex_unlock(&rec), 0);
  CHECK_EQ(pthread_create(&t[0], NULL, try_other, &rec), 0);
  CHECK_EQ(pthread_join(t[0], &r), 0);
  CHECK_EQ((intptr_t)r, EBUSY * 10000 + ETIMEDOUT * 100 + EPERM);
  CHECK_EQ(pthread_mutex_unlock(&rec), 0);
  CHECK_EQ(pthread_mutex_unlock(&rec), EPERM);
  puts("ok recursive");

  /* contention: 4 threads, exact count */
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, count, &m), 0);
  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_join(t[i], NULL), 0);
  CHECK_EQ(counter, 80000);
  puts("ok contention");

  /* condition variables: timeouts on both clocks, then signal and broadcast wake waiters */
  pthread_condattr_t ca;
  clockid_t clk;
  CHECK_EQ(pthread_condattr_init(&ca), 0);
  CHECK_EQ(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
  CHECK_EQ(pthread_condattr_getclock(&ca, &clk), 0);
  CHECK(clk == CLOCK_MONOTONIC);
  CHECK_EQ(pthread_condattr_setclock(&ca, CLOCK_PROCESS_CPUTIME_ID), EINVAL);
  CHECK_EQ(pthread_cond_init(&cv_mono, &ca), 0);
  check_timed_wait(CLOCK_REALTIME, &cv_real);
  check_timed_wait(CLOCK_MONOTONIC, &cv_mono);
  at = in_ms(CLOCK_MONOTONIC, 0);
  CHECK_EQ(pthread_mutex_lock(&cm), 0);
  CHECK_EQ(pthread_cond_clockwait(&cv_real, &cm, CLOCK_MONOTONIC, &at), ETIMEDOUT);
  CHECK_EQ(pthread_mutex_unlock(&cm), 0);
  puts("ok cond-timeout");

  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, cond_waiter, i % 2 ? &cv_mono : &cv_real), 0);
  for (;;) { /* wait until all four are waiting: they hold the mutex until inside the wait */
    CHECK_EQ(pthread_mutex_lock(&cm), 0);
    int waiting = cv_real.__u.__i[2] + cv_mono.__u.__i[2];
    CHECK_EQ(pthread_mutex_unlock(&cm), 0);
    if (waiting == 4) break;
    sched_yield();
  }
  CHECK_EQ(pthread_mutex_lock(&cm), 0);
  ready = 1;
  CHECK_EQ(pthread_cond_signal(&cv_real), 0);
  CHECK_EQ(pthread_cond_broadcast(&cv_real), 0);
  CHECK_EQ(pthread_cond_broadcast(&cv_mono), 0);
  CHECK_EQ(pthread_mutex_unlock(&cm), 0);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(pthread_join(t[i], &r), 0);
    CHECK_EQ((intptr_t)r, 1);
  }
  CHECK_EQ(woken, 4);
  puts("ok cond-wake");

  /* rwlock: writers exclude readers; try forms */
  CHECK_EQ(pthread_rwlock_rdlock(&rw), 0);
  CHECK_EQ(pthread_rwlock_tryrdlock(&rw), 0);
  CHECK_EQ(pthread_rwlock_trywrlock(&rw), EBUSY);
  at = in_ms(CLOCK_REALTIME, 20);
  CHECK_EQ(pthread_rwlock_timedwrlock(&rw, &at), ETIMEDOUT);
  CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
  CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
  CHECK_EQ(pthread_rwlock_unlock(&rw), EPERM);
  CHECK_EQ(pthread_rwlock_wrlock(&rw), 0);
  at = in_ms(CLOCK_REALTIME, 20);
  CHECK_EQ(pthread_rwlock_timedrdlock(&rw, &at), ETIMEDOUT);
  CHECK_EQ(pthread_rwlock_unlock(&rw), 0);
  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, i < 2 ? rw_writer : rw_reader, NULL), 0);
  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_join(t[i], NULL), 0);
  CHECK_EQ(rw_value, 4000);
  puts("ok rwlock");

  /* semaphores: trywait EAGAIN, timedwait ETIMEDOUT, posts release waiters */
  CHECK_EQ(sem_init(&sem, 0, 0), 0);
  CHECK_EQ(sem_trywait(&sem), -1);
  CHECK_EQ(errno, EAGAIN);
  at = in_ms(CLOCK_REALTIME, 30);
  CHECK_EQ(sem_timedwait(&sem, &at), -1);
  CHECK_EQ(errno, ETIMEDOUT);
  at = in_ms(CLOCK_MONOTONIC, 30);
  CHECK_EQ(sem_clockwait(&sem, CLOCK_MONOTONIC, &at), -1);
  CHECK_EQ(errno, ETIMEDOUT);
  for (int i = 0; i < 3; i++) CHECK_EQ(pthread_create(&t[i], NULL, sem_taker, NULL), 0);
  for (int i = 0; i < 3; i++) CHECK_EQ(sem_post(&sem), 0);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(pthread_join(t[i], &r), 0);
    CHECK_EQ((intptr_t)r, 0);
  }
  int v;
  CHECK_EQ(sem_getvalue(&sem, &v), 0);
  CHECK_EQ(v, 0);
  puts("ok semaphore");
  puts("done");
  return 0;
}
