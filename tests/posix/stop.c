/* A stop-the-world from a C thread while the others block in a mutex, a
 * condition variable, a semaphore and a join, one spins through safe
 * points (sched_yield) and one sleeps (nanosleep): the blocked threads wait detached, so each stop
 * completes at once and finds every other thread SUSPENDED; once the world
 * runs again they all finish as if nothing had happened. With the argument
 * "host" the host stops the world instead: this thread prints the address of
 * a word and waits on it (in a condition variable) until the host sets it. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "wasm_threads_core.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int go;
static volatile int32_t spin_quit;
static pthread_t t_mutex;

static void *in_mutex(void *a) {
  (void)a;
  struct timespec at = in_ms(CLOCK_REALTIME, 30000);
  int r = pthread_mutex_timedlock(&m, &at);
  if (r == 0) pthread_mutex_unlock(&m);
  return (void *)(intptr_t)r;
}
static void *in_cond(void *a) {
  (void)a;
  struct timespec at = in_ms(CLOCK_REALTIME, 30000);
  int r = 0;
  pthread_mutex_lock(&cm);
  while (!go && r == 0) r = pthread_cond_timedwait(&cv, &cm, &at);
  pthread_mutex_unlock(&cm);
  return (void *)(intptr_t)r;
}
static void *in_sem(void *a) {
  (void)a;
  struct timespec at = in_ms(CLOCK_REALTIME, 30000);
  return (void *)(intptr_t)(sem_timedwait(&sem, &at) == 0 ? 0 : errno);
}
static void *in_join(void *a) {
  (void)a;
  void *r;
  int j = pthread_join(t_mutex, &r);
  return (void *)(intptr_t)(j ? j : (intptr_t)r);
}
static void *spinner(void *a) {
  (void)a;
  long n = 0;
  while (!__atomic_load_n(&spin_quit, __ATOMIC_SEQ_CST)) {
    n++;
    sched_yield(); /* the layer's safe point */
  }
  return (void *)(intptr_t)(n > 0 ? 0 : -1);
}

static void *sleeper(void *a) {
  (void)a;
  struct timespec d = {0, 20 * 1000000L};
  while (!__atomic_load_n(&spin_quit, __ATOMIC_SEQ_CST)) CHECK_EQ(nanosleep(&d, NULL), 0);
  return NULL;
}

static int32_t handle_of(pthread_t t) { return __atomic_load_n(&((int32_t *)t)[1], __ATOMIC_SEQ_CST); }
static uint32_t state_of(pthread_t t) {
  int32_t h = handle_of(t);
  return h > 0 ? (uint32_t)wtc_slot_word(h & WTC_INDEX_MASK) & WTC_STATE_MASK : 0;
}

static int32_t host_done;

int main(int argc, char **argv) {
  pthread_t t[6];
  CHECK_EQ(sem_init(&sem, 0, 0), 0);
  CHECK_EQ(pthread_mutex_lock(&m), 0);
  CHECK_EQ(pthread_create(&t_mutex, NULL, in_mutex, NULL), 0);
  t[0] = t_mutex;
  CHECK_EQ(pthread_create(&t[1], NULL, in_cond, NULL), 0);
  CHECK_EQ(pthread_create(&t[2], NULL, in_sem, NULL), 0);
  CHECK_EQ(pthread_create(&t[3], NULL, in_join, NULL), 0);
  CHECK_EQ(pthread_create(&t[4], NULL, spinner, NULL), 0);
  CHECK_EQ(pthread_create(&t[5], NULL, sleeper, NULL), 0);

  /* until the four blocked threads wait detached and the spinner runs (deadline 20 s) */
  long long until = now_ms(CLOCK_MONOTONIC) + 20000;
  for (;;) {
    int blocked = 0;
    for (int i = 0; i < 4; i++) blocked += state_of(t[i]) == WTC_ST_DETACHED;
    if (blocked == 4 && state_of(t[4]) == WTC_ST_ATTACHED && handle_of(t[5]) > 0) break;
    CHECK(now_ms(CLOCK_MONOTONIC) < until);
    int32_t w = 0;
    __builtin_wasm_memory_atomic_wait32(&w, 0, 1000000);
  }
  puts("ok blocked");

  int32_t h = wtp_core_handle();
  CHECK(h > 0);
  if (argc > 1 && !strcmp(argv[1], "host")) {
    printf("word %u\n", (unsigned)(uintptr_t)&host_done);
    fflush(stdout);
    /* the host stops the world meanwhile: this thread waits detached too, in a condition variable */
    long long until = now_ms(CLOCK_MONOTONIC) + 60000;
    pthread_mutex_lock(&cm);
    while (!__atomic_load_n(&host_done, __ATOMIC_SEQ_CST)) {
      CHECK(now_ms(CLOCK_MONOTONIC) < until);
      struct timespec at = in_ms(CLOCK_REALTIME, 20);
      int r = pthread_cond_timedwait(&cv, &cm, &at);
      CHECK(r == 0 || r == ETIMEDOUT);
    }
    pthread_mutex_unlock(&cm);
  } else {
    for (int round = 0; round < 20; round++) {
      CHECK_EQ(wtc_stop(h, 5000), WTC_OK);
      CHECK_EQ(wtc_is_stopped(), 1);
      for (int i = 0; i < 6; i++) CHECK_EQ(state_of(t[i]), WTC_ST_SUSPENDED);
      CHECK_EQ(wtc_start(h), WTC_OK);
    }
    puts("ok stopped");
  }

  CHECK_EQ(pthread_mutex_unlock(&m), 0);
  pthread_mutex_lock(&cm);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&cm);
  CHECK_EQ(sem_post(&sem), 0);
  __atomic_store_n(&spin_quit, 1, __ATOMIC_SEQ_CST);
  for (int i = 1; i < 6; i++) {
    void *r;
    CHECK_EQ(pthread_join(t[i], &r), 0);
    CHECK_EQ((intptr_t)r, 0);
  }
  puts("ok resumed");
  puts("done");
  return 0;
}
